"""Plans become OVSDB operations grouped per row, as the IDL would group them."""

from __future__ import annotations

import types
import uuid as uuidlib

import ovs.db.schema

from ovn_ic_controller.db.apply import ovsdb_operations
from ovn_ic_controller.db.plan import Plan

SCHEMA = ovs.db.schema.DbSchema.from_json({
    "name": "Test", "version": "1.0.0", "tables": {
        "Router": {"isRoot": True, "columns": {
            "name": {"type": "string"},
            "routes": {"type": {"key": {"type": "uuid", "refTable": "Route"},
                                "min": 0, "max": "unlimited"}},
            "options": {"type": {"key": "string", "value": "string",
                                 "min": 0, "max": "unlimited"}}}},
        "Route": {"columns": {
            "prefix": {"type": "string"},
            "external_ids": {"type": {"key": "string", "value": "string",
                                      "min": 0, "max": "unlimited"}}}},
        "Zone": {"isRoot": True, "columns": {"name": {"type": "string"}}},
        "Advert": {"isRoot": True, "columns": {
            "zone": {"type": {"key": {"type": "uuid", "refTable": "Zone"}}},
            "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}}}}}})


def replica(**rows):
    """A stand-in for an IDL: the schema's tables, with the given row UUIDs present."""
    return types.SimpleNamespace(tables={
        name: types.SimpleNamespace(columns=table.columns, is_root=table.is_root,
                                    rows=dict.fromkeys(rows.get(name, ())))
        for name, table in SCHEMA.tables.items()})


def where(uuid):
    return [["_uuid", "==", ["uuid", str(uuid)]]]


def test_many_routes_added_to_a_router_are_one_mutation_after_their_inserts():
    router = uuidlib.uuid4()
    plan = Plan("test")
    new = [plan.insert("nb", "Route", prefix=f"10.0.{i}.0/24", external_ids={"k": "v"})
           for i in range(3)]
    for row in new:
        plan.addvalue("nb", "Router", router, "routes", row)
    ops = ovsdb_operations(replica(Router=[router]), plan.ops)
    names = [op["uuid-name"] for op in ops[:3]]
    assert ops[0] == {"op": "insert", "table": "Route", "uuid-name": names[0],
                      "row": {"prefix": "10.0.0.0/24", "external_ids": ["map", [["k", "v"]]]}}
    assert ops[3:] == [{"op": "mutate", "table": "Router", "where": where(router),
                        "mutations": [["routes", "insert",
                                       ["set", [["named-uuid", name] for name in names]]]]}]


def test_changes_to_one_row_become_an_update_then_one_mutate_removals_first():
    router = uuidlib.uuid4()
    gone = uuidlib.uuid4()
    plan = Plan("test")
    plan.setkey("nb", "Router", router, "options", "a", "1")
    plan.setkey("nb", "Router", router, "options", "a", "2")  # the last write wins
    plan.delkey("nb", "Router", router, "options", "b")
    plan.delvalue("nb", "Router", router, "routes", gone)
    plan.set("nb", "Router", router, name="lr1")
    assert ovsdb_operations(replica(Router=[router]), plan.ops) == [
        {"op": "update", "table": "Router", "where": where(router), "row": {"name": "lr1"}},
        {"op": "mutate", "table": "Router", "where": where(router), "mutations": [
            ["options", "delete", ["set", ["a", "b"]]],
            ["routes", "delete", ["set", [["uuid", str(gone)]]]],
            ["options", "insert", ["map", [["a", "2"]]]]]}]


def test_references_scalars_and_sets_are_written_by_column_type():
    zone = uuidlib.uuid4()
    plan = Plan("test")
    plan.insert("ic_sb", "Advert", zone=zone, tags="one")
    (op,) = ovsdb_operations(replica(), plan.ops)
    assert op["row"] == {"zone": ["uuid", str(zone)], "tags": ["set", ["one"]]}


def test_rows_gone_from_the_replica_and_deleted_rows_are_left_alone():
    zone, vanished, route = uuidlib.uuid4(), uuidlib.uuid4(), uuidlib.uuid4()
    plan = Plan("test")
    plan.set("ic_sb", "Zone", vanished, name="x")
    plan.delete("ic_sb", "Zone", zone)
    plan.set("ic_sb", "Zone", zone, name="y")  # after its delete: dropped
    plan.delete("nb", "Route", route)  # not a root table: the server collects it
    new = plan.insert("ic_sb", "Zone", name="z")
    plan.delete("ic_sb", "Zone", new)
    assert ovsdb_operations(replica(Zone=[zone], Route=[route]), plan.ops) == [
        {"op": "delete", "table": "Zone", "where": where(zone)}]


def test_plan_counts_rows_changed_per_database_and_effect():
    router, route = uuidlib.uuid4(), uuidlib.uuid4()
    plan = Plan("test")
    new = plan.insert("nb", "Route", prefix="10.0.0.0/24")
    plan.addvalue("nb", "Router", router, "routes", new)
    plan.setkey("nb", "Router", router, "options", "a", "1")
    plan.delete("nb", "Route", route)
    plan.insert("ic_sb", "Route", prefix="10.0.1.0/24")
    assert plan.counts() == {("nb", "create"): 1, ("nb", "update"): 2, ("nb", "delete"): 1,
                             ("ic_sb", "create"): 1}
