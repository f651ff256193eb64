"""A faster way for the ovs IDL to take in the rows an update inserts.

``Idl.__process_update2`` (ovs/db/idl.py) makes a new row in two private
steps.  ``__add_default`` writes the JSON default of each non-optional scalar
column the update leaves out into the update; then ``__row_update`` parses
every column into a Datum of Atoms and compares it with a default datum made
up anew for the occasion.  For 10,000 inserted routes that is two thirds of
the quarter second the IDL takes, twice on the path from one AZ's routes to
another AZ learning them; and route sync then reads every column back out of
those Datums as plain values.

``FastInsertIdl`` overrides both, for rows being created only: a new row keeps
the column values of the update as they came (``LazyColumns``; a single UUID
as its UUID and a map of strings as ``StringPairs``, smaller), and a column
becomes a Datum the first time the IDL or ``Row.__getattr__`` asks for it; a
column left out gets its default then.  ``values.plain`` reads unconstrained
strings, maps of them and single UUIDs, most columns of a route, straight from
that JSON (``LazyColumns.read``).  What any reader sees, and which rows the IDL
reports changed, is what the original makes (tests/unit/test_fastidl.py
compares every column of every row, and the notices); rows
already present take the original path, except that ``__apply_diff`` parses a
modification with this module's parsers too (adding 10,000 routes to a router
is a diff of 10,000 UUIDs).

All of this rests on ovs's private call order in ``Idl.__process_update2`` and
on the storage of ``IndexedRows``, which ovs changes without notice: a renamed
method would silently go unused, a changed signature would raise inside
``Idl.run()``.  So the daemon uses ``FastInsertIdl`` only once
``ovs_compat.install()`` has checked, at start-up, that the methods are there as
written for, that ovs calls them, and that a probe update reads as with ovs's
own ``Idl`` (selfcheck.py); otherwise it runs on stock ovs and warns once.

Each table's rows also get a ``get`` and a ``__setitem__`` that look a row up
without raising: the IDL calls both for every row an update inserts, and the
inherited ones raise and catch a KeyError for each.
"""

from __future__ import annotations

import collections
import functools
import sys
import types
import uuid
from collections.abc import Callable
from typing import Any

import ovs.db.custom_index
import ovs.db.data
import ovs.db.error
import ovs.db.idl
import ovs.db.types
import ovs.ovsuuid

_vlog = ovs.db.idl.vlog
_STRING = ovs.db.types.StringType
_UUID = ovs.db.types.UuidType

Parser = Callable[[ovs.db.types.Type, Any], ovs.db.data.Datum]
Reader = Callable[[ovs.db.types.Type, Any], Any]

NOT_READ = object()  # LazyColumns.read: the column must be read through its Datum
# A new row's pending changes, in place of the three empty dicts of Row.__init__: only a
# write through the Row (Row.__setattr__, verify, addvalue...) fills them, and the daemon
# never writes so (db/apply.py sends operations), so one read-only mapping serves every
# row (4 MB at 20,000 rows), and a write through a Row would raise, not go astray.
_UNCHANGED = dict.fromkeys(("_changes", "_mutations", "_prereqs"), types.MappingProxyType({}))
_EMPTY = (["set", []], ["map", []])  # a column's JSON that equals its default


class FastInsertIdl(ovs.db.idl.Idl):
    """An Idl that keeps the columns of a new row as JSON until they are used."""

    old_values = True  # a modification's notice carries the old values of its columns

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._specs: dict[str, _TableSpec] = {}
        for table in self.tables.values():
            if type(table.rows) is ovs.db.custom_index.IndexedRows:
                table.rows.__class__ = _Rows

    def _Idl__add_default(self, table: Any, row_update: dict) -> None:
        """Nothing: a new row's LazyColumns give left-out columns their defaults."""

    def _Idl__row_update(self, table: Any, row: Any, row_json: dict) -> bool:
        """For a new row: keep its JSON (LazyColumns), and report it changed when the
        original would, judged from the JSON; only a value the original fails to parse
        counts as a change here (a notice too many, never one too few)."""
        data = row._data
        if data.__class__ is not ovs.db.idl.ColumnDefaultDict or data:
            return super()._Idl__row_update(table, row, row_json)  # a row that exists
        spec = self._spec_of(table)
        if not row_json.keys() <= spec.alerts.keys():  # a column not asked for: warn, drop it
            row_json = spec.known_columns(row_json)
        changed = spec.defaults_alert or any(
            spec.alerts[name] and json not in _EMPTY for name, json in row_json.items())
        raw, index, compactors = [None] * len(spec.index), spec.index, spec.compactors
        for name, json in row_json.items():
            raw[index[name]] = compactors[name](json)
        row_json.clear()  # the message keeps every row's dictionary until all are in
        row.__dict__.update(_UNCHANGED, _data=LazyColumns(spec, raw))
        return changed

    def _Idl__apply_diff(self, table: Any, row: Any, row_diff: dict) -> dict:
        """The original's, with the diff parsed by this module's parsers: adding 10,000
        routes to a router is a diff of 10,000 UUIDs to its static_routes.

        A set column's Datum, which the diff changes in place, becomes a JournaledDatum
        that remembers the diff.  The old values of the notice cost a copy of the whole
        column (100,000 routes on a router: milliseconds per route learned): an Idl whose
        ``notify`` does not read them sets ``old_values`` false and gets none."""
        spec = self._spec_of(table)
        old_row = {}
        for name, diff_json in row_diff.items():
            if name not in spec.alerts:
                _vlog.warn(f"unknown column {name} updating table {table.name}")
                continue
            diff = spec.parse(name, diff_json)
            if diff is None:
                continue
            current = row._data[name]
            if self.old_values:
                old_row[name] = current.copy()
            if name in spec.sets:
                if current.__class__ is not JournaledDatum:
                    current = row._data[name] = JournaledDatum(current.type, current.values)
                current.diff(diff)  # in place, for a set
                current.note(diff.values)
                continue
            datum = current.diff(diff)
            if datum is current or datum != current:  # in place, maybe on a fresh default
                row._data[name] = datum
        return old_row

    def _spec_of(self, table: Any) -> _TableSpec:
        found = self._specs.get(table.name)
        if found is None:
            found = self._specs[table.name] = _TableSpec(table, self.readonly.get(table.name, ()))
        return found


# The rows a daemon keeps repeat a few strings many times (external_ids keys, switch
# names, next hops): one shared copy of each saves a tenth of the memory at 10,000
# learned routes.  A bounded cache, not sys.intern: interning the strings found once
# (prefixes, UUIDs) would grow the interpreter's table by 2 MB per 20,000 rows for good.
_shared = functools.lru_cache(maxsize=4096)(str)


def _shared_json(json: Any) -> Any:
    """``json`` with each string replaced by its shared copy, lists changed in place."""
    if json.__class__ is str:
        return _shared(json)
    if json.__class__ is list:
        for i, item in enumerate(json):
            json[i] = _shared_json(item)
    return json


class StringPairs(tuple):
    """A new row's map of strings, kept as its keys and values in turn (k1, v1, k2, v2...):
    a fifth of the memory of its JSON, four lists for a map of two pairs."""

    __slots__ = ()


class LazyColumns(ovs.db.idl.ColumnDefaultDict):
    """A row's committed columns: Datums, parsed from the update's JSON on first use.

    The dictionary holds the Datums made so far (the IDL applies later diffs to
    them); ``raw`` the JSON of the columns not parsed yet, None for the others, in
    the order of ``_TableSpec.index`` (a list: half the memory of a dictionary).  A
    committed row has every column, so it is never empty, even before any column
    is parsed.
    """

    __slots__ = ("raw", "_spec")

    def __init__(self, spec: _TableSpec, raw: list[Any]) -> None:
        self._table = spec.table
        self._spec = spec
        self.raw = raw

    def __bool__(self) -> bool:
        return True

    def __missing__(self, name: str) -> ovs.db.data.Datum:
        json = self.raw_json(name)
        if json is not None:
            self.raw[self._spec.index[name]] = None
            datum = self._spec.parse(name, json)
            if datum is None:  # invalid: unset, as the original leaves it
                return super().__missing__(name)
            self[name] = datum
            return datum
        default = self._spec.scalar_defaults.get(name)
        if default is not None:
            datum = self[name] = default.copy()
            return datum
        return super().__missing__(name)  # a fresh default, as ColumnDefaultDict gives

    def get(self, name: str, default: Any = None) -> Any:
        """What the original's committed dictionary holds: every column the update had,
        and the defaults it wrote for non-optional scalars."""
        if dict.__contains__(self, name) or self.raw_json(name) is not None \
                or name in self._spec.scalar_defaults:
            return self[name]
        return default

    def raw_json(self, name: str) -> Any:
        """The JSON of column ``name`` while it is not parsed, else None."""
        index = self._spec.index.get(name)
        return None if index is None else self.raw[index]

    def read(self, names: tuple[str, ...]) -> list[Any]:
        """Columns ``names`` as plain data, each straight from the JSON while it is
        unparsed and of a simple type (or left out); NOT_READ for the others."""
        raw, index = self.raw, self._spec.index
        readers, defaults = self._spec.readers, self._spec.plain_defaults
        values = []
        for name in names:
            if dict.__contains__(self, name):  # parsed: its Datum holds the value
                values.append(NOT_READ)
                continue
            at = index.get(name)
            json = None if at is None else raw[at]
            if json is None:
                value = defaults.get(name, NOT_READ)
                values.append(value.copy() if isinstance(value, (list, dict)) else value)
                continue
            found = readers.get(name)
            values.append(found[1](found[0], json) if found is not None else NOT_READ)
        return values


class JournaledDatum(ovs.db.data.Datum):
    """A set column's Datum that remembers the last diffs applied to it in place, so that
    a reader who saw it ``version`` diffs ago learns which elements may have changed
    without comparing every element (``changed_since``)."""

    __slots__ = ("version", "_recent")
    KEPT = 16  # diffs remembered; a reader further behind compares every element

    def __init__(self, type_: ovs.db.types.Type, values: dict) -> None:
        super().__init__(type_, values)
        self.version = 0
        self._recent: collections.deque = collections.deque(maxlen=self.KEPT)

    def note(self, diff: dict) -> None:
        """``diff`` (its keys: elements added or removed) was just applied."""
        self.version += 1
        self._recent.append(diff)

    def changed_since(self, version: int) -> list[Any] | None:
        """The elements that may have been added or removed since ``version``; None when
        that is further back than is remembered."""
        behind = self.version - version
        if behind > len(self._recent) or behind < 0:
            return None
        changed: list[Any] = []
        for index in range(len(self._recent) - behind, len(self._recent)):
            changed += self._recent[index]
        return changed


class _TableSpec:
    """How the columns of one table's rows are parsed and read, chosen once per column
    rather than per row, since the type checks cost as much as the parsing."""

    def __init__(self, table: Any, readonly: Any) -> None:
        self.table = table
        self.alerts = {name: column.alert for name, column in table.columns.items()}
        self.index = {name: at for at, name in enumerate(table.columns)}  # of LazyColumns.raw
        self.sets = {name for name, column in table.columns.items()  # diffed in place
                     if column.type.value is None and column.type.n_max > 1}
        self.parsers: dict[str, tuple[Any, Parser]] = {
            name: (column.type, _parser_for(column.type)) for name, column in table.columns.items()}
        self.compactors = {name: _compactor_for(column.type)
                           for name, column in table.columns.items()}
        self.readers: dict[str, tuple[Any, Reader]] = {}
        for name, column in table.columns.items():
            reader = _reader_for(column.type)
            if reader is not None:
                self.readers[name] = (column.type, reader)
        # What the original's __add_default writes for a left-out column and then keeps.
        self.scalar_defaults: dict[str, ovs.db.data.Datum] = {}
        # What reading a left-out column gives: those defaults, and empty sets and maps.
        self.plain_defaults: dict[str, Any] = {}
        for name, column in table.columns.items():
            kind = column.type
            if kind.n_min == 0:
                self.plain_defaults[name] = {} if kind.is_map() else []
            elif not kind.is_map() and name not in readonly:
                default = _default_datum(column)
                if default is not None:
                    self.scalar_defaults[name] = default
                    self.plain_defaults[name] = next(iter(default.values)).value
        # Whether the original reports a new row as changed for the defaults it writes in:
        # it compares each with ``Datum.default``, whose atom holds an Atom, not a value, so
        # never equal; the empty set or map of an optional column it does find equal.
        self.defaults_alert = any(self.alerts[name] for name in self.scalar_defaults)

    def known_columns(self, row_json: dict[str, Any]) -> dict[str, Any]:
        """``row_json`` without the columns this table lacks, each one warned about."""
        for name in row_json:
            if name not in self.alerts:
                _vlog.warn(f"unknown column {name} updating table {self.table.name}")
        return {name: json for name, json in row_json.items() if name in self.alerts}

    def parse(self, name: str, json: Any) -> ovs.db.data.Datum | None:
        """The Datum of column ``name``, or None (with the original's warning) if invalid."""
        kind, parser = self.parsers[name]
        try:
            return parser(kind, json)
        except ovs.db.error.Error as e:
            _vlog.warn(f"error parsing column {name} in table {self.table.name}: {e}")
            return None


class _Rows(ovs.db.custom_index.IndexedRows):
    """IndexedRows that keeps each UUID's row itself, not in a list (1.3 MB at 20,000
    rows), and looks a row up without raising and catching a KeyError for a new one.

    IndexedRows stacks the rows set for one UUID, a deletion uncovering the one
    before; the IDL deletes a row before it sets it again, so here a UUID has one
    row, the last set."""

    def __getitem__(self, key: Any) -> Any:
        return self.data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __setitem__(self, key: Any, item: Any) -> None:
        self.data[key] = item
        for index in self.indexes.values():
            index.add(item)

    def __delitem__(self, key: Any) -> None:
        item = self.data.pop(key)
        for index in self.indexes.values():
            index.remove(item)


# ------------------------------------------------------------------ parsers
def _parser_for(kind: ovs.db.types.Type) -> Parser:
    """The quickest parser that is right for every value of ``kind``."""
    if _single_uuid(kind):
        return _uuid_datum
    if kind.value is None and kind.key.type == _UUID and kind.key.enum is None:
        return _uuid_set_datum
    if not _plain_string(kind.key) or not (kind.value is None or _plain_string(kind.value)):
        return ovs.db.data.Datum.from_json
    if kind.value is None:
        return _string_datum if kind.n_min == kind.n_max == 1 else ovs.db.data.Datum.from_json
    return _string_map_datum


def _string_datum(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """A column holding exactly one unconstrained string."""
    if isinstance(json, str):
        return ovs.db.data.Datum(kind, {ovs.db.data.Atom(_STRING, json): None})
    return ovs.db.data.Datum.from_json(kind, json)  # anything else, errors included


def _uuid_datum(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """A column holding exactly one UUID, e.g. a reference (whose target the IDL
    does not check either)."""
    value = _read_uuid(kind, json)
    if value is not NOT_READ:
        return ovs.db.data.Datum(kind, {ovs.db.data.Atom(_UUID, value): None})
    return ovs.db.data.Datum.from_json(kind, json)  # anything else, errors included


def _uuid_set_datum(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """A set of UUIDs, e.g. references to a router's routes."""
    if isinstance(json, list) and len(json) == 2 and json[0] == "set" \
            and isinstance(json[1], list):
        elements = json[1]
        atom, valid = ovs.db.data.Atom, ovs.ovsuuid.is_valid_string
        values = {}
        for element in elements:
            if not (isinstance(element, list) and len(element) == 2 and element[0] == "uuid"
                    and isinstance(element[1], str) and valid(element[1])):
                break
            values[atom(_UUID, uuid.UUID(element[1]))] = None
        else:
            if len(values) == len(elements) and kind.n_min <= len(values) <= kind.n_max:
                return ovs.db.data.Datum(kind, values)
    return ovs.db.data.Datum.from_json(kind, json)  # anything else, errors included


def _string_map_datum(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """A map of unconstrained strings to unconstrained strings."""
    pairs = _read_string_map(kind, json)
    if pairs is not NOT_READ:
        atom, string = ovs.db.data.Atom, _STRING
        return ovs.db.data.Datum(kind, {atom(string, key): atom(string, value)
                                        for key, value in pairs.items()})
    return ovs.db.data.Datum.from_json(kind, json)  # anything else, errors included


# ------------------------------------------------------------------ readers
def _reader_for(kind: ovs.db.types.Type) -> Reader | None:
    """A reader of plain values from JSON for ``kind``, if it has one of the simple types."""
    if _single_uuid(kind):
        return _read_uuid
    if kind.value is None:
        if kind.n_min == kind.n_max == 1 and _plain_string(kind.key):
            return _read_string
        if kind.n_min == kind.n_max == 1 and _enum_string(kind.key):
            allowed = frozenset(atom.value for atom in kind.key.enum.values)
            return lambda kind, json: json if isinstance(json, str) and json in allowed \
                else NOT_READ
        return None
    if _plain_string(kind.key) and _plain_string(kind.value):
        return _read_string_map
    return None


def _compactor_for(kind: ovs.db.types.Type) -> Callable[[Any], Any]:
    """How a new row keeps a column's JSON: a valid single UUID as its UUID, a valid map
    of strings as StringPairs (which the readers and parsers take as they take the JSON),
    anything else as it came; strings shared."""
    if _single_uuid(kind):
        def compact(json: Any) -> Any:
            value = _read_uuid(kind, json)
            return _shared_json(json) if value is NOT_READ else value
        return compact
    if kind.value is not None and _plain_string(kind.key) and _plain_string(kind.value):
        def compact(json: Any) -> Any:
            pairs = _read_string_map(kind, json)
            if pairs is NOT_READ:
                return _shared_json(json)
            shared = _shared
            return StringPairs([shared(text) for pair in pairs.items() for text in pair])
        return compact
    return _shared_json


def _read_string(kind: ovs.db.types.Type, json: Any) -> Any:
    return json if isinstance(json, str) else NOT_READ


def _read_uuid(kind: ovs.db.types.Type, json: Any) -> Any:
    if json.__class__ is uuid.UUID:  # kept so by _compactor_for
        return json
    if isinstance(json, list) and len(json) == 2 and json[0] == "uuid" \
            and isinstance(json[1], str):
        return _uuid_of(json[1])
    return NOT_READ


@functools.lru_cache(maxsize=4096)
def _uuid_of(text: str) -> Any:
    """The UUID of a canonical UUID string, else NOT_READ; cached, because a reference
    column often holds the same few UUIDs in row after row (a route's AZ)."""
    return uuid.UUID(text) if ovs.ovsuuid.is_valid_string(text) else NOT_READ


def _read_string_map(kind: ovs.db.types.Type, json: Any) -> Any:
    if json.__class__ is StringPairs:  # kept so, once read valid, by _compactor_for
        return dict(zip(json[::2], json[1::2], strict=True))
    if isinstance(json, list) and len(json) == 2 and json[0] == "map" \
            and isinstance(json[1], list):
        pairs = json[1]
        values = {}
        for pair in pairs:  # a loop, not all() and a comprehension: most maps have 1 or 2 pairs
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                    and isinstance(pair[1], str)):
                return NOT_READ
            values[pair[0]] = pair[1]
        if len(values) == len(pairs) and kind.n_min <= len(values) <= kind.n_max:
            return values
    return NOT_READ


# ------------------------------------------------------------------ types
def _single_uuid(kind: ovs.db.types.Type) -> bool:
    return (kind.value is None and kind.n_min == kind.n_max == 1
            and kind.key.type == _UUID and kind.key.enum is None)


def _enum_string(base: ovs.db.types.BaseType) -> bool:
    """A string type whose only constraint is its enum (e.g. a route's origin)."""
    return (base.type == _STRING and base.enum is not None
            and base.min_length == 0 and base.max_length == sys.maxsize)


def _plain_string(base: ovs.db.types.BaseType) -> bool:
    """A string type with no enum and no length limits: every string is valid."""
    return (base.type == _STRING and base.enum is None
            and base.min_length == 0 and base.max_length == sys.maxsize)


def _default_datum(column: Any) -> ovs.db.data.Datum | None:
    """The column's default, or None if it breaks the column's own constraints (e.g. ""
    for an enum): the original fails to parse it, and leaves the column unset."""
    atomic = column.type.key.type
    json = ovs.ovsuuid.to_json(atomic.default) if atomic == _UUID else atomic.default
    try:
        return ovs.db.data.Datum.from_json(column.type, json)
    except ovs.db.error.Error:
        return None
