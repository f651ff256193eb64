"""plain() and Members read IDL rows' committed datums, and fake rows alike."""

from __future__ import annotations

import types
import uuid as uuidlib

import ovs.db.data
import ovs.db.idl
import ovs.db.schema
import pytest
from fakes import row as fake_row

from ovn_ic_controller.db.ovs_compat.fastidl import JournaledDatum
from ovn_ic_controller.db.values import Members, plain

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


def _diff(router, *uuids):
    """What the IDL does with an update2 "modify": toggle the listed elements in place
    (fastidl also notes the diff when the datum is a JournaledDatum)."""
    column = SCHEMA.tables["Router"].columns["routes"]
    diff = ovs.db.data.Datum.from_json(column.type, ["set", [["uuid", u] for u in uuids]])
    datum = router._data["routes"]
    datum.diff(diff)
    if isinstance(datum, JournaledDatum):
        datum.note(diff.values)


def _uuids(*texts):
    return [uuidlib.UUID(text) for text in texts]


def test_members_follow_a_datum_the_idl_changes_in_place():
    kept, gone, new = (str(uuidlib.uuid4()) for _ in range(3))
    router = idl_row("Router", routes=["set", [["uuid", kept], ["uuid", gone]]])
    members = Members()
    added, removed = members.update(router, "routes")
    assert sorted(added) == sorted(_uuids(kept, gone)) and removed == []
    _diff(router, gone, new)
    assert members.update(router, "routes") == (_uuids(new), _uuids(gone))
    assert len(members) == 2
    assert sorted(members.update(None, "routes")[1]) == sorted(_uuids(kept, new))
    assert not members


@pytest.mark.parametrize("diffs", [1, 2, JournaledDatum.KEPT + 3])
def test_members_from_the_journal_or_behind_it_give_the_same_changes(diffs):
    first = [str(uuidlib.uuid4()) for _ in range(3)]
    router = idl_row("Router", routes=["set", [["uuid", u] for u in first]])
    datum = router._data["routes"]
    router._data["routes"] = JournaledDatum(datum.type, datum.values)
    members = Members()
    members.update(router, "routes")
    came_and_went = str(uuidlib.uuid4())
    new = [str(uuidlib.uuid4()) for _ in range(diffs)]
    _diff(router, first[0], came_and_went)
    _diff(router, came_and_went)
    for u in new:
        _diff(router, u)
    added, removed = members.update(router, "routes")
    assert sorted(added) == sorted(_uuids(*new)) and removed == _uuids(first[0])
    assert members.keys == {ovs.db.data.Atom(ovs.db.types.UuidType, u)
                            for u in _uuids(*first[1:], *new)}
    assert members.update(router, "routes") == ([], [])
    removed = members.update(None, "routes")[1]
    assert sorted(removed) == sorted(_uuids(*first[1:], *new)) and not members


def test_members_of_a_fake_row():
    first, second = fake_row(), fake_row()
    router = fake_row(routes=[first, second])
    members = Members()
    assert sorted(members.update(router, "routes")[0]) == sorted([first.uuid, second.uuid])
    router.routes = [second]
    assert members.update(router, "routes") == ([], [first.uuid])
