"""The checks ``install()`` runs on each fast path, in place, before the daemon uses it.

Each returns what is wrong as a list of short sentences (empty: all is well); an
exception anywhere counts as a problem, since ovs internals that moved can fail in
any way.  The probes are small and in memory: a few milliseconds at start-up.
"""

from __future__ import annotations

import collections
import copy
import errno
import functools
import inspect
import itertools
from collections.abc import Callable
from typing import Any

import ovs.db.custom_index
import ovs.db.idl
import ovs.json
import ovs.jsonrpc
import ovs.timeval

from .. import values
from . import fastjson
from .fastidl import FastInsertIdl, LazyColumns, _Rows

# What fastidl overrides: (ovs's class, the class overriding it, the method).
OVERRIDES = (
    (ovs.db.idl.Idl, FastInsertIdl, "_Idl__add_default"),
    (ovs.db.idl.Idl, FastInsertIdl, "_Idl__row_update"),
    (ovs.db.idl.Idl, FastInsertIdl, "_Idl__apply_diff"),
    (ovs.db.custom_index.IndexedRows, _Rows, "__setitem__"),
    (ovs.db.idl.ColumnDefaultDict, LazyColumns, "__missing__"),
)
CALLED = ("_Idl__add_default", "_Idl__row_update", "_Idl__apply_diff")  # by the probe's updates


def _guarded(check: Callable[[], list[str]]) -> Callable[[], list[str]]:
    @functools.wraps(check)
    def run() -> list[str]:
        try:
            return check()
        except Exception as exc:  # whatever changed in ovs, the path stays off
            return [f"the probe raised {exc!r}"]
    return run


# ------------------------------------------------------------------ fast_json
# A message as ovsdb-server sends them, with what the framing scan must step over.
PROBE_JSON = ('{"id":null,"method":"update3","params":[["mon","Probe"],"0",{"T":{"u":{'
              '"insert":{"s":"é \\"}{[\\\\ \\u00e9\\ud83d\\ude00","n":-1.5e3,"i":'
              '9223372036854775807,"f":0.25,"l":[true,false,null,{},[]],'
              '"m":["map",[["k","v"]]]}}}}]}')
# Inside a string, right after a backslash, inside a \u escape.
PROBE_CUTS = (PROBE_JSON.index("update3") + 3, PROBE_JSON.index("\\") + 1,
              PROBE_JSON.index("\\u00e9") + 4)


@_guarded
def fast_json_problems() -> list[str]:
    """``ovs.json.Parser()`` makes a FastParser, which reads a message fed in pieces as
    ovs's own parser does."""
    fast, original = ovs.json.Parser(), fastjson._new_original_parser()
    if type(fast) is not fastjson.FastParser:
        return ["ovs.json.Parser() does not make a FastParser"]
    bounds = (0, *PROBE_CUTS, len(PROBE_JSON))
    pieces = [PROBE_JSON[start:end] for start, end in itertools.pairwise(bounds)]
    results = [([parser.feed(piece) for piece in pieces], parser.is_done(),
                repr(parser.finish())) for parser in (fast, original)]
    return [] if results[0] == results[1] else [f"read {results[0]}, ovs.json {results[1]}"]


# ------------------------------------------------------------------ utf8_fix
PROBE_MESSAGE = '{"id":1,"result":["zone-é"],"error":null}'.encode()


class _Chunks:
    """The part of ``ovs.stream.Stream`` a Connection reads: ``chunks``, where None
    stands for a moment with nothing to read (EAGAIN)."""

    name = "ovs_compat-probe"

    def __init__(self, chunks: list[bytes | None]) -> None:
        self.chunks = chunks

    def recv(self, n: int) -> tuple[int, bytes]:
        chunk = self.chunks.pop(0) if self.chunks else None
        return (errno.EAGAIN, b"") if chunk is None else (0, chunk)

    def close(self) -> None:
        """Nothing to close."""


@_guarded
def utf8_fix_problems() -> list[str]:
    """A Connection reads a message whose "é" is split across two reads."""
    cut = PROBE_MESSAGE.index("é".encode()) + 1
    connection = ovs.jsonrpc.Connection(_Chunks([PROBE_MESSAGE[:cut], None,
                                                 PROBE_MESSAGE[cut:]]))
    first = connection.recv()
    error, message = connection.recv()
    if first != (errno.EAGAIN, None) or error or message.result != ["zone-é"]:
        return [f"a split character read as {first}, then {(error, message)}"]
    return []


# -------------------------------------------------------------- leader_follow
@_guarded
def leader_follow_problems() -> list[str]:
    """An Idl of two remotes keeps its ovs.jsonrpc.Session in ``_session``, whose
    ``reset_backoff`` lets each remote be tried once without a backoff, after which
    the backoff starts again from its smallest."""
    helper = ovs.db.idl.SchemaHelper(schema_json=copy.deepcopy(PROBE_SCHEMA))
    helper.register_all()
    idl = ovs.db.idl.Idl("unix:ovs_compat-probe-1,unix:ovs_compat-probe-2", helper)
    session = getattr(idl, "_session", None)  # never run: nothing connects
    if not isinstance(session, ovs.jsonrpc.Session) or session.get_num_of_remotes() != 2:
        return ["Idl._session is not an ovs.jsonrpc.Session of its remotes"]
    reconnect, now = session.reconnect, ovs.timeval.msec()
    waits = []
    for attempt in range(5):  # two tries of both remotes, the backoff lifted before the 4th
        if attempt == 3:
            session.reset_backoff()
        reconnect.connect_failed(now, errno.ECONNREFUSED)
        waits.append(round(reconnect.timeout(now)))
    expected = [0, 1000, 2000, 0, 1000]
    return [] if waits == expected else [
        f"backoffs after failed connections were {waits} ms, not {expected}"]


# ------------------------------------------------------------------ fast_idl
ZONE, ROUTE1, ROUTE2, ROUTE3 = (f"{n:08x}-0000-4000-8000-000000000000" for n in range(1, 5))
PROBE_SCHEMA = {
    "name": "Probe", "version": "1.0.0", "tables": {
        "Zone": {"isRoot": True, "columns": {"name": {"type": "string"}}},
        "Route": {"isRoot": True, "columns": {
            "prefix": {"type": "string"},
            "origin": {"type": {"key": {"type": "string", "enum": ["set", ["a", "b"]]}}},
            "priority": {"type": "integer"},
            "zone": {"type": {"key": {"type": "uuid", "refTable": "Zone"}}},
            "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
            "zones": {"type": {"key": {"type": "uuid", "refTable": "Zone"},
                               "min": 0, "max": "unlimited"}},
            "external_ids": {"type": {"key": "string", "value": "string",
                                      "min": 0, "max": "unlimited"}}}}}}
PROBE_UPDATES = [
    {"Zone": {ZONE: {"initial": {"name": "z"}}},
     "Route": {ROUTE1: {"initial": {
         "prefix": "10.0.0.0/24", "origin": "b", "priority": 7, "zone": ["uuid", ZONE],
         "tags": ["set", ["x", "y"]], "external_ids": ["map", [["k", "v"]]]}}}},
    {"Route": {ROUTE2: {"insert": {"prefix": "10.2.0.0/24"}},
               ROUTE3: {"insert": {}}}},  # every column at its default, as servers send it
    {"Route": {ROUTE1: {"modify": {"tags": ["set", ["x", "z"]], "priority": 9,
                                   "zones": ["uuid", ZONE],
                                   "external_ids": ["map", [["k", "w"]]]}}}},
    {"Route": {ROUTE2: {"delete": None}}},
]


class Recording:
    """Keeps the IDL's notices: event, row UUID and, for a modification, the old values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notices: list[tuple] = []

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        old = None if updates is None else {
            name: datum.to_json() for name, datum in sorted(updates._data.items())}
        self.notices.append((event, row.uuid, old))


def replica(idl_class: type, schema_json: dict, updates: list[dict]) -> Any:
    """An IDL of ``idl_class`` fed ``updates`` (update2 table-updates), as if from a server;
    it never connects, so there is nothing to close."""
    helper = ovs.db.idl.SchemaHelper(schema_json=copy.deepcopy(schema_json))
    helper.register_all()
    idl = idl_class("unix:ovs_compat-probe", helper)
    for update in copy.deepcopy(updates):  # the original writes defaults into them
        idl._Idl__do_parse_update(update, ovs.db.idl.OVSDB_UPDATE2, idl.tables)
    return idl


def contents(idl: Any) -> dict:
    """Per row and column, in this order (fastidl parses a column on first use): the
    plain value (values.plain), the datum the IDL holds (as JSON) and the attribute."""
    found = {}
    for table in idl.tables.values():
        for uuid, row in table.rows.items():
            read = {name: values.plain(row, name) for name in table.columns}
            stored = {name: row._data[name].to_json() for name in table.columns}
            attributes = {name: getattr(row, name) for name in table.columns}  # rows: by UUID
            found[uuid] = (table.name, read, stored, attributes)
    return found


@_guarded
def fast_idl_problems() -> list[str]:
    """The overridden methods are as fastidl expects, ovs calls them, and FastInsertIdl
    makes of the probe updates what ovs's own Idl makes: rows, values and notices."""
    problems = [problem for stock, ours, name in OVERRIDES
                if (problem := _signature_problem(stock, ours, name))]
    if problems:
        return problems
    calls: collections.Counter = collections.Counter()
    stock = replica(type("Stock", (Recording, ovs.db.idl.Idl), {}), PROBE_SCHEMA, PROBE_UPDATES)
    fast = replica(counting(type("Fast", (Recording, FastInsertIdl), {}), CALLED, calls),
                   PROBE_SCHEMA, PROBE_UPDATES)
    if any(type(table.rows) is not ovs.db.custom_index.IndexedRows
           or type(table.rows.data) is not dict for table in stock.tables.values()):
        return ["IndexedRows does not keep its rows in a dictionary by UUID"]  # as _Rows does
    problems += [f"ovs did not call FastInsertIdl.{name}" for name in CALLED
                 if not calls[name]]
    if any(type(table.rows) is not _Rows for table in fast.tables.values()):
        problems.append("the tables of FastInsertIdl do not have its rows class")
    if any(type(row._data) is not LazyColumns for row in fast.tables["Route"].rows.values()):
        problems.append("new rows do not keep their JSON (LazyColumns)")
    if problems:  # the comparison below would not mean much
        return problems
    if contents(fast) != contents(stock):
        problems.append("rows or values differ from ovs's Idl")
    if (fast.notices, fast.change_seqno) != (stock.notices, stock.change_seqno):
        problems.append(f"notices differ from ovs's Idl: {fast.notices} != {stock.notices}")
    return problems


def _signature_problem(stock: type, ours: type, name: str) -> str:
    """Why ``ours.name`` cannot stand in for ``stock.name`` as ovs calls it, or ''."""
    original = getattr(stock, name, None)
    if original is None:
        return f"{stock.__module__}.{stock.__qualname__}.{name} is missing"
    shapes = [[(parameter.kind, parameter.default)
               for parameter in inspect.signature(method).parameters.values()]
              for method in (original, getattr(ours, name))]
    if shapes[0] != shapes[1]:
        return (f"{stock.__qualname__}.{name}{inspect.signature(original)} differs from "
                f"{ours.__qualname__}.{name}{inspect.signature(getattr(ours, name))}")
    return ""


def counting(cls: type, names: tuple[str, ...], calls: collections.Counter) -> type:
    """A subclass of ``cls`` that counts the calls of its methods ``names`` in ``calls``."""
    def counted(name: str) -> Callable:
        method = getattr(cls, name)

        def call(self: Any, *args: Any) -> Any:
            calls[name] += 1
            return method(self, *args)
        return call
    return type(cls.__name__, (cls,), {name: counted(name) for name in names})
