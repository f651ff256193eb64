"""FastInsertIdl's rows read exactly as the rows ovs's own Idl makes, however read."""

from __future__ import annotations

import collections
import copy
import json
import uuid as uuidlib

import ovs.db.idl
import pytest

from ovn_ic_controller.db.ovs_compat import selfcheck
from ovn_ic_controller.db.ovs_compat.fastidl import (
    FastInsertIdl,
    JournaledDatum,
    LazyColumns,
    StringPairs,
    _Rows,
)
from ovn_ic_controller.db.ovs_compat.selfcheck import contents
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


class Original(selfcheck.Recording, ovs.db.idl.Idl):
    pass


class Fast(selfcheck.Recording, FastInsertIdl):
    pass


def replica(cls, updates):
    return selfcheck.replica(cls, SCHEMA, updates)


def fast_replica(updates):
    """A Fast replica fed ``updates``, and how often ovs called each of its overrides."""
    calls = collections.Counter()
    return replica(selfcheck.counting(Fast, selfcheck.CALLED, calls), updates), calls


def assert_engaged(fast):
    """The fast path is in effect: every row keeps its JSON, every table has fastidl's rows."""
    for table in fast.tables.values():
        assert type(table.rows) is _Rows
        assert all(type(row._data) is LazyColumns for row in table.rows.values())


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
    original, (fast, calls) = replica(Original, UPDATES[:steps]), fast_replica(UPDATES[:steps])
    assert_engaged(fast)
    assert calls["_Idl__add_default"] and calls["_Idl__row_update"]
    assert bool(calls["_Idl__apply_diff"]) == (steps >= 3)  # UPDATES[2] modifies
    assert contents(fast) == contents(original)
    assert (fast.notices, fast.change_seqno) == (original.notices, original.change_seqno)


def test_without_old_values_the_rows_are_the_same_and_set_diffs_are_journaled():
    """The daemon's Idl reads no old values: it skips their copy, and the rows stay the
    originals; a set column diffed in place remembers the diff (Members reads it)."""
    quiet = type("Quiet", (Fast,), {"old_values": False})
    original, fast = replica(Original, UPDATES[:3]), replica(quiet, UPDATES[:3])
    assert contents(fast) == contents(original)
    assert [(event, uuid) for event, uuid, _ in fast.notices] == [
        (event, uuid) for event, uuid, _ in original.notices]
    assert all(old in (None, {}) for _, _, old in fast.notices)
    tags = fast.tables["Route"].rows[uuidlib.UUID(ROUTES[0])]._data["tags"]
    assert isinstance(tags, JournaledDatum) and tags.version == 1
    assert sorted(atom.value for atom in tags.changed_since(0)) == ["x", "z"]
    assert tags.changed_since(1) == [] and tags.changed_since(-1) is None


@pytest.mark.parametrize("name", selfcheck.CALLED)
def test_ovs_calls_each_override(name):
    """Fails when an ovs release stops calling one (renamed, inlined): the speed-up and,
    for the all-defaults insert, the notices would silently be the original's."""
    _, calls = fast_replica(UPDATES)
    assert calls[name] > 0


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
    assert_engaged(fast)
    assert fast.notices == original.notices
    assert fast.change_seqno == original.change_seqno
    assert contents(fast) == contents(original)


def test_a_column_not_asked_for_is_dropped_with_a_warning(caplog):
    update = {"Route": {ROUTES[0]: {"initial": {"prefix": "10.0.0.0/24", "color": "red"}}}}
    original, fast = replica(Original, [update]), replica(Fast, [update])
    assert contents(fast) == contents(original)
    [row] = fast.tables["Route"].rows.values()
    assert row._data.raw_json("color") is None and "red" not in row._data.raw


def test_a_row_read_before_a_diff_reads_the_diffed_value_after_it():
    diff = {"Route": {ROUTES[0]: UPDATES[2]["Route"][ROUTES[0]]}}
    original = replica(Original, [UPDATES[0], diff])
    fast = replica(Fast, UPDATES[:1])
    row = fast.tables["Route"].rows[uuidlib.UUID(ROUTES[0])]
    assert_engaged(fast)
    assert plain(row, "tags") == ["x", "y"] and plain(row, "priority") == 7
    fast._Idl__do_parse_update(copy.deepcopy(diff), ovs.db.idl.OVSDB_UPDATE2, fast.tables)
    assert plain(row, "tags") == ["y", "z"] and plain(row, "priority") == 9  # a set diff toggles
    assert contents(fast) == contents(original)


def test_the_strings_rows_repeat_are_kept_once():
    """Two rows from two messages, with one zone, one external_ids key and one tag: one
    copy each; the zone kept as a UUID, the map as StringPairs, read as the original."""
    def message(prefix):
        row = {"prefix": prefix, "zone": ["uuid", ZONE], "external_ids": ["map", [["k", "v"]]],
               "tags": ["set", ["x", "y"]]}
        return json.loads(json.dumps({"Route": {str(uuidlib.uuid4()): {"insert": row}}}))
    updates = [message("10.0.0.0/24"), message("10.1.0.0/24")]
    fast, _ = fast_replica(copy.deepcopy(updates))
    first, second = (row._data.raw_json for row in fast.tables["Route"].rows.values())
    assert first("zone") == uuidlib.UUID(ZONE) and first("zone") is second("zone")
    assert first("external_ids") == StringPairs(["k", "v"])
    assert first("external_ids")[0] is second("external_ids")[0]
    assert first("tags")[1][0] is second("tags")[1][0]
    assert first("prefix") != second("prefix")
    assert contents(fast) == contents(replica(Original, updates))


def test_new_rows_share_one_read_only_mapping_of_pending_changes():
    """One empty mapping for every new row, instead of three dicts each; read-only, so a
    write through a Row raises instead of reaching every other row."""
    fast, _ = fast_replica(UPDATES[:2])
    first, second = list(fast.tables["Route"].rows.values())[:2]
    for name in ("_changes", "_mutations", "_prereqs"):
        assert getattr(first, name) is getattr(second, name) and not getattr(first, name)
    with pytest.raises(TypeError):
        first._changes["prefix"] = None
    assert plain(first, "prefix") == "10.0.0.0/24"
