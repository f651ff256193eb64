"""FastParser and FastInsertIdl on real OVSDB traffic: an OVN NB replica loaded
through either equals one loaded by ovs's own parser and Idl, table by table,
column by column."""

from __future__ import annotations

import json
import time

import ovs.db.idl
import ovs.json
import ovs.poller

from ovn_ic_controller.db import schema
from ovn_ic_controller.db.ovs_compat import fastjson
from ovn_ic_controller.db.ovs_compat.fastidl import FastInsertIdl, LazyColumns

ROUTES = 2000
LOAD_TIMEOUT = 60.0
# Names and values that exercise the scanner: quotes, braces and brackets inside
# strings, backslashes, text that looks like escapes, control characters,
# non-ASCII and astral characters.  ovsdb-server sends non-ASCII as raw UTF-8.
TRICKY_NAME = 'sw-é-ü-€-日本-😀 "{[x]}"'
TRICKY_IDS = {
    'q"uote': 'br{ace}s [and] "quotes" \\ back\\slash',
    "looks-escaped": "\\u00e9 \\n \\\" not escapes",
    "controls": "tab\tnewline\nbell\x07",
    "ключ": "значение ✓",
    # Longer than one 4096-byte read: splits land inside strings and escapes.
    "long": '"\\{}[]:,' * 1000,
}


def create_traffic(az) -> None:
    """One router with ROUTES static routes (one ovn-nbctl call), plus a switch
    with TRICKY_NAME and TRICKY_IDS (written as JSON, so they are exact)."""
    routes = []
    for i in range(ROUTES):
        routes += ["--", "lr-route-add", "lr0", f"10.{i // 256}.{i % 256}.0/24", "192.168.0.1"]
    az.nbctl("lr-add", "lr0", *routes)
    insert = {"op": "insert", "table": "Logical_Switch",
              "row": {"name": TRICKY_NAME, "external_ids": ["map", sorted(TRICKY_IDS.items())]}}
    az.testbed.run("ovsdb-client", "transact", az.nb, json.dumps(["OVN_Northbound", insert]))
    az.nbctl("--wait=sb", "sync")  # northd done: the NB stays as it is while we read it


def load_replica(remote: str, schema_json: dict,
                 idl_class: type = ovs.db.idl.Idl) -> tuple[dict, float, set[type]]:
    """Every row of every table, as JSON (uuid -> column -> value), the seconds the IDL
    took to connect and load them, and the classes of its rows' column dictionaries."""
    helper = ovs.db.idl.SchemaHelper(schema_json=schema_json)
    helper.register_all()
    idl = idl_class(remote, helper)
    try:
        started = time.perf_counter()
        while True:
            idl.run()
            if idl.has_ever_connected():
                break
            assert time.perf_counter() - started < LOAD_TIMEOUT, "the IDL did not load"
            poller = ovs.poller.Poller()
            idl.wait(poller)
            poller.block()
        elapsed = time.perf_counter() - started
        replica = {
            table_name: {
                str(uuid): {column: row._data[column].to_json() for column in table.columns}
                for uuid, row in table.rows.items()
            }
            for table_name, table in idl.tables.items()
        }
        kinds = {type(row._data) for table in idl.tables.values() for row in table.rows.values()}
        return replica, elapsed, kinds
    finally:
        idl.close()


def test_replica_loaded_through_fastjson_equals_the_original(testbed, monkeypatch):
    az = testbed.az("az1")
    create_traffic(az)
    schema_json = schema.fetch_schema(az.nb, "OVN_Northbound")

    original, original_seconds, _ = load_replica(az.nb, schema_json)
    finished = []  # the messages FastParsers read
    finish = fastjson.FastParser.finish
    monkeypatch.setattr(fastjson.FastParser, "finish",
                        lambda self: finished.append(self) or finish(self))
    assert fastjson.install()
    try:
        fast, fast_seconds, _ = load_replica(az.nb, schema_json)
    finally:
        fastjson.uninstall()

    assert len(finished) >= 2  # the IDL's monitor replies at least: the fast path engaged
    assert fast == original
    assert len(fast["Logical_Router_Static_Route"]) == ROUTES
    [switch] = [row for row in fast["Logical_Switch"].values() if row["name"] == TRICKY_NAME]
    assert dict(switch["external_ids"][1]) == TRICKY_IDS
    print(f"\nIDL load of {ROUTES} static routes: ovs.json {original_seconds:.3f} s, "
          f"fastjson {fast_seconds:.3f} s, speedup x{original_seconds / fast_seconds:.1f}")


def test_replica_loaded_through_fast_inserts_equals_the_original(testbed):
    az = testbed.az("az1")
    create_traffic(az)
    schema_json = schema.fetch_schema(az.nb, "OVN_Northbound")
    original, original_seconds, _ = load_replica(az.nb, schema_json)
    fast, fast_seconds, kinds = load_replica(az.nb, schema_json, FastInsertIdl)
    assert kinds == {LazyColumns}  # every row kept its JSON: the fast path engaged
    assert fast == original
    print(f"\nIDL load of {ROUTES} static routes: ovs.db.idl {original_seconds:.3f} s, "
          f"FastInsertIdl {fast_seconds:.3f} s")
