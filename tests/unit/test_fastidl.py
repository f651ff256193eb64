"""FastInsertIdl's rows read exactly as the rows ovs's own Idl makes, however read."""

from __future__ import annotations

import copy
import uuid as uuidlib

import ovs.db.idl
import pytest

from ovn_ic_controller.db.ovs_compat.fastidl import FastInsertIdl
from ovn_ic_controller.db.values import plain

SCHEMA = {
    "name": "Test", "version": "1.0.0", "tables": {
        "Zone": {"isRoot": True, "columns": {"name": {"type": "string"}}},
        "Bag": {"isRoot": True, "columns": {  # no column that is a scalar
            "items": {"type": {"key": "string", "min": 0, "max": "unlimited"}}}},
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

ZONE, ZONE2 = str(uuidlib.uuid4()), str(uuidlib.uuid4())
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
    """Per row and column, in this order (fastidl parses a column on first use): the
    plain value (values.plain), the datum the IDL holds (as JSON) and the attribute."""
    found = {}
    for table in idl.tables.values():
        for uuid, row in table.rows.items():
            read = {name: plain(row, name) for name in table.columns}
            stored = {name: row._data[name].to_json() for name in table.columns}
            attributes = {name: getattr(row, name) for name in table.columns}
            found[uuid] = (table.name, read, stored, {
                name: value.uuid if isinstance(value, ovs.db.idl.Row) else value
                for name, value in attributes.items()})
    return found


ROUTES = [str(uuidlib.uuid4()) for _ in range(4)]
# Valid, though servers send a set of one as its element: the readers leave it to the Datum.
AS_SETS = {"prefix": ["set", ["10.3.0.0/24"]], "origin": ["set", ["a"]],
           "zone": ["set", [["uuid", ZONE]]], "external_ids": ["map", [["k", 1]]]}
UPDATES = [
    {"Zone": {ZONE: {"initial": {"name": "z"}}, ZONE2: {"initial": {"name": "z2"}}},
     "Route": {ROUTES[0]: {"initial": FULL}, ROUTES[3]: {"initial": AS_SETS}}},
    {"Route": {ROUTES[1]: {"insert": {"prefix": "10.1.0.0/24"}},  # the rest left to defaults
               ROUTES[2]: {"insert": {"prefix": "10.2.0.0/24", "origin": "c"}}}},  # not in enum
    {"Route": {ROUTES[0]: {"modify": {"tags": ["set", ["x", "z"]], "priority": 9,
                                      "zones": ["set", [["uuid", ZONE2]]]}},
               ROUTES[1]: {"modify": {"origin": "a", "external_ids": ["map", [["k", "w"]]]}}}},
    {"Route": {ROUTES[2]: {"delete": None}}},
]


@pytest.mark.parametrize("steps", range(1, len(UPDATES) + 1))
def test_rows_and_notices_are_the_originals(steps):
    original, fast = replica(Original, UPDATES[:steps]), replica(Fast, UPDATES[:steps])
    assert contents(fast) == contents(original)
    assert fast.notices == original.notices


BAG = str(uuidlib.uuid4())


@pytest.mark.parametrize("update", [
    # ovsdb-server leaves out every column that holds its default: here, all of them.
    {"Route": {ROUTES[0]: {"insert": {}}}},
    {"Zone": {ZONE: {"insert": {}}}, "Bag": {BAG: {"insert": {}}}},
    {"Bag": {BAG: {"insert": {"items": ["set", []]}}}},  # an empty set is its default
    {"Bag": {BAG: {"insert": {"items": ["set", ["x"]]}}}},
], ids=["route", "zone-and-bag", "empty-set", "set"])
def test_an_insert_of_defaults_notifies_as_the_original(update):
    original, fast = replica(Original, [update]), replica(Fast, [update])
    assert fast.notices == original.notices
    assert fast.change_seqno == original.change_seqno
    assert contents(fast) == contents(original)


def test_a_column_not_asked_for_is_dropped_with_a_warning(caplog):
    update = {"Route": {ROUTES[0]: {"initial": {"prefix": "10.0.0.0/24", "color": "red"}}}}
    original, fast = replica(Original, [update]), replica(Fast, [update])
    assert contents(fast) == contents(original)
    [row] = fast.tables["Route"].rows.values()
    assert "color" not in row._data.raw


def test_a_row_read_before_a_diff_reads_the_diffed_value_after_it():
    diff = {"Route": {ROUTES[0]: UPDATES[2]["Route"][ROUTES[0]]}}
    original = replica(Original, [UPDATES[0], diff])
    fast = replica(Fast, UPDATES[:1])
    row = fast.tables["Route"].rows[uuidlib.UUID(ROUTES[0])]
    assert plain(row, "tags") == ["x", "y"] and plain(row, "priority") == 7
    fast._Idl__do_parse_update(copy.deepcopy(diff), ovs.db.idl.OVSDB_UPDATE2, fast.tables)
    assert plain(row, "tags") == ["y", "z"] and plain(row, "priority") == 9  # a set diff toggles
    assert contents(fast) == contents(original)
