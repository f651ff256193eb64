"""FastInsertIdl makes the rows of an update exactly as ovs's own Idl makes them."""

from __future__ import annotations

import copy
import uuid as uuidlib

import ovs.db.idl
import pytest

from ovn_ic_controller.db.fastidl import FastInsertIdl

SCHEMA = {
    "name": "Test", "version": "1.0.0", "tables": {
        "Zone": {"isRoot": True, "columns": {"name": {"type": "string"}}},
        "Route": {"isRoot": True, "columns": {
            "prefix": {"type": "string"},
            "origin": {"type": {"key": {"type": "string", "enum": ["set", ["a", "b"]]}}},
            "priority": {"type": "integer"},
            "enabled": {"type": "boolean"},
            "weight": {"type": "real"},
            "zone": {"type": {"key": {"type": "uuid", "refTable": "Zone"}}},
            "peer": {"type": {"key": {"type": "uuid", "refTable": "Zone"}, "min": 0, "max": 1}},
            "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
            "zones": {"type": {"key": {"type": "uuid", "refTable": "Zone"},
                               "min": 0, "max": "unlimited"}},
            "external_ids": {"type": {"key": "string", "value": "string",
                                      "min": 0, "max": "unlimited"}}}}}}

ZONE = str(uuidlib.uuid4())
FULL = {"prefix": "10.0.0.0/24", "origin": "b", "priority": 7, "enabled": True, "weight": 0.5,
        "zone": ["uuid", ZONE], "peer": ["uuid", ZONE], "tags": ["set", ["x", "y"]],
        "zones": ["uuid", ZONE], "external_ids": ["map", [["k", "v"]]]}


class Recording:
    """Counts the IDL's notices, as TrackingIdl.notify would see them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notices = []

    def notify(self, event, row, updates=None):
        self.notices.append((event, row.uuid))


class Original(Recording, ovs.db.idl.Idl):
    pass


class Fast(Recording, FastInsertIdl):
    pass


def replica(cls, updates):
    helper = ovs.db.idl.SchemaHelper(schema_json=copy.deepcopy(SCHEMA))
    helper.register_all()
    idl = cls("unix:/nonexistent", helper)
    for update in copy.deepcopy(updates):  # the original writes defaults into them
        idl._Idl__do_parse_update(update, ovs.db.idl.OVSDB_UPDATE2, idl.tables)
    return idl


def contents(idl):
    """Per row, the datums the IDL stored (as JSON) and what reading each stored column gives."""
    found = {}
    for table in idl.tables.values():
        for uuid, row in table.rows.items():
            stored = {name: datum.to_json() for name, datum in dict.items(row._data)}
            read = {name: getattr(row, name) for name in stored}
            found[uuid] = (table.name, stored, {
                name: value.uuid if isinstance(value, ovs.db.idl.Row) else value
                for name, value in read.items()})
    return found


ROUTES = [str(uuidlib.uuid4()) for _ in range(3)]
UPDATES = [
    {"Zone": {ZONE: {"initial": {"name": "z"}}},
     "Route": {ROUTES[0]: {"initial": FULL}}},
    {"Route": {ROUTES[1]: {"insert": {"prefix": "10.1.0.0/24"}},  # the rest left to defaults
               ROUTES[2]: {"insert": {"prefix": "10.2.0.0/24", "origin": "c"}}}},  # not in enum
    {"Route": {ROUTES[0]: {"modify": {"tags": ["set", ["x", "z"]], "priority": 9}},
               ROUTES[1]: {"modify": {"origin": "a", "external_ids": ["map", [["k", "w"]]]}}}},
    {"Route": {ROUTES[2]: {"delete": None}}},
]


@pytest.mark.parametrize("steps", range(1, len(UPDATES) + 1))
def test_rows_and_notices_are_the_originals(steps):
    original, fast = replica(Original, UPDATES[:steps]), replica(Fast, UPDATES[:steps])
    assert contents(fast) == contents(original)
    assert fast.notices == original.notices
