"""plain() and references() read IDL rows' committed datums, and fake rows alike."""

from __future__ import annotations

import types
import uuid as uuidlib

import ovs.db.data
import ovs.db.idl
import ovs.db.schema
import pytest
from fakes import row as fake_row

from ovn_ic_controller.db.values import NO_REFERENCES, plain, references

SCHEMA = ovs.db.schema.DbSchema.from_json({
    "name": "Test", "version": "1.0.0", "tables": {
        "Router": {"isRoot": True, "columns": {
            "name": {"type": "string"},
            "routes": {"type": {"key": {"type": "uuid", "refTable": "Route"},
                                "min": 0, "max": "unlimited"}}}},
        "Route": {"columns": {
            "prefix": {"type": "string"},
            "router": {"type": {"key": {"type": "uuid", "refTable": "Router",
                                        "refType": "weak"}}},
            "policy": {"type": {"key": "string", "min": 0, "max": 1}},
            "external_ids": {"type": {"key": "string", "value": "string",
                                      "min": 0, "max": "unlimited"}}}}}})


def idl_row(table, **columns):
    """An ovs.db.idl.Row as the IDL makes it from an update: datums parsed from JSON."""
    schema = SCHEMA.tables[table]
    data = ovs.db.idl.ColumnDefaultDict(schema)
    for name, value in columns.items():
        data[name] = ovs.db.data.Datum.from_json(schema.columns[name].type, value)
    return ovs.db.idl.Row(types.SimpleNamespace(), schema, uuidlib.uuid4(), data)


def test_plain_reads_idl_rows_as_plain_data():
    router = uuidlib.uuid4()
    route = idl_row("Route", prefix="10.0.0.0/24", router=["uuid", str(router)],
                    policy=["set", ["src-ip"]], external_ids=["map", [["a", "1"]]])
    assert plain(route, "prefix") == "10.0.0.0/24"
    assert plain(route, "router") == router
    assert plain(route, "policy") == ["src-ip"]
    assert plain(route, "external_ids") == {"a": "1"}
    assert plain(idl_row("Route"), "external_ids") == {}  # a column the update left out
    with pytest.raises(AttributeError):
        plain(route, "no_such_column")


def test_plain_reads_fake_rows_with_referenced_rows_as_uuids():
    router = fake_row(name="lr1")
    route = fake_row(prefix="10.0.0.0/24", router=router, policy=[], external_ids={"a": "1"})
    assert plain(route, "router") == router.uuid
    assert plain(route, "policy") == [] and plain(route, "external_ids") == {"a": "1"}
    with pytest.raises(AttributeError):
        plain(route, "no_such_column")


def test_references_diff_snapshots_even_when_the_idl_changes_the_datum_in_place():
    kept, gone, new = (str(uuidlib.uuid4()) for _ in range(3))
    router = idl_row("Router", routes=["set", [["uuid", kept], ["uuid", gone]]])
    before = references(router, "routes")
    column = SCHEMA.tables["Router"].columns["routes"]
    # What the IDL does with an update2 "modify": toggle the listed elements in place.
    router._data["routes"].diff(ovs.db.data.Datum.from_json(
        column.type, ["set", [["uuid", gone], ["uuid", new]]]))
    now = references(router, "routes")
    assert now.minus(before) == [uuidlib.UUID(new)]
    assert before.minus(now) == [uuidlib.UUID(gone)]
    assert len(now) == 2 and NO_REFERENCES.minus(now) == []


def test_references_of_a_fake_row():
    first, second = fake_row(), fake_row()
    router = fake_row(routes=[first, second])
    assert sorted(references(router, "routes").minus(NO_REFERENCES)) == sorted(
        [first.uuid, second.uuid])
