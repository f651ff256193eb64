"""A faster way for the ovs IDL to take in the rows an update inserts.

``Idl.__process_update2`` (ovs/db/idl.py) makes a new row in two private
steps.  ``__add_default`` writes the JSON default of each non-optional scalar
column the update leaves out into the update; then ``__row_update`` parses
every column and compares it with a default datum that ColumnDefaultDict makes
up anew for the occasion (wrongly for scalars, an Atom inside an Atom, which
is why the defaults are written out at all).  For 10,000 inserted routes that
is a quarter of a second of the half second the IDL takes, twice on the path
from one AZ's routes to another AZ learning them.

``FastInsertIdl`` overrides both, for rows being created only: the columns the
update has are parsed and stored, and each missing non-optional scalar gets a
copy of its default datum, built once per column.  Strings and maps of strings
without constraints, and single UUIDs, most columns of a route, are parsed here
directly; the rest by ``Datum.from_json``, which checks every atom against
constraints that these types do not have.  The rows are those the original makes
(tests/unit/test_fastidl.py compares them column by column); rows already
present take the original path.  Should a later ovs rename these private
methods, the overrides are merely unused: the IDL works as before.

Each table's rows also get a ``get`` that looks a row up without raising: the
IDL calls it for every row of an update, and the inherited ``Mapping.get``
raises and catches a KeyError for each new row.
"""

from __future__ import annotations

import sys
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


class FastInsertIdl(ovs.db.idl.Idl):
    """An Idl that creates the rows of an update without comparing them to defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per table: (column name, default datum) of its non-optional scalar columns.
        self._scalar_defaults: dict[str, list[tuple[str, ovs.db.data.Datum]]] = {}
        self._parsers: dict[str, dict[str, tuple[Any, Parser]]] = {}  # see _parsers_of
        for table in self.tables.values():
            if type(table.rows) is ovs.db.custom_index.IndexedRows:
                table.rows.__class__ = _Rows

    def _Idl__add_default(self, table: Any, row_update: dict) -> None:
        """Nothing: ``_Idl__row_update`` gives a new row its defaults itself."""

    def _Idl__row_update(self, table: Any, row: Any, row_json: dict) -> bool:
        if row._data:  # a row that exists: the original, which keeps unchanged columns
            return super()._Idl__row_update(table, row, row_json)
        changed = False
        data = row._data
        parsers = self._parsers_of(table)
        for name, datum_json in row_json.items():
            found = parsers.get(name)
            if found is None:
                _vlog.warn(f"unknown column {name} updating table {table.name}")
                continue
            column, parse = found
            try:
                data[name] = parse(column.type, datum_json)
            except ovs.db.error.Error as e:
                _vlog.warn(f"error parsing column {name} in table {table.name}: {e}")
                continue
            changed = changed or column.alert
        for name, default in self._defaults_of(table):
            if name not in row_json:
                data[name] = default.copy()
        return changed

    def _parsers_of(self, table: Any) -> dict[str, tuple[Any, Parser]]:
        """Per column of ``table``: the column and its parser, chosen once per column
        rather than per row, since the type checks cost as much as the parsing."""
        found = self._parsers.get(table.name)
        if found is None:
            found = self._parsers[table.name] = {
                name: (column, _parser_for(column.type)) for name, column in table.columns.items()}
        return found

    def _defaults_of(self, table: Any) -> list[tuple[str, ovs.db.data.Datum]]:
        """What the original's ``__add_default`` writes and ``__row_update`` then keeps."""
        found = self._scalar_defaults.get(table.name)
        if found is None:
            readonly = self.readonly.get(table.name, ())
            found = self._scalar_defaults[table.name] = []
            for column in table.columns.values():
                if column.type.n_min != 0 and not column.type.is_map() \
                        and column.name not in readonly:
                    default = _default_datum(column)
                    if default is not None:
                        found.append((column.name, default))
        return found


class _Rows(ovs.db.custom_index.IndexedRows):
    """IndexedRows (one row per UUID, the last) with a ``get`` that raises nothing."""

    def get(self, key: Any, default: Any = None) -> Any:
        found = self.data.get(key)
        return found[-1] if found else default


def _parser_for(kind: ovs.db.types.Type) -> Parser:
    """The quickest parser that is right for every value of ``kind``."""
    if kind.value is None and kind.n_min == kind.n_max == 1 \
            and kind.key.type == ovs.db.types.UuidType and kind.key.enum is None:
        return _uuid_datum
    if not _plain_string(kind.key) or not (kind.value is None or _plain_string(kind.value)):
        return ovs.db.data.Datum.from_json
    if kind.value is None:
        return _string_datum if kind.n_min == kind.n_max == 1 else ovs.db.data.Datum.from_json
    return _string_map_datum


def _datum_from_json(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """``Datum.from_json(kind, json)``, quicker for a string or a map of strings."""
    return _parser_for(kind)(kind, json)


def _string_datum(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """A column holding exactly one unconstrained string."""
    if isinstance(json, str):
        return ovs.db.data.Datum(kind, {ovs.db.data.Atom(_STRING, json): None})
    return ovs.db.data.Datum.from_json(kind, json)  # anything else, errors included


def _uuid_datum(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """A column holding exactly one UUID, e.g. a reference (whose target the IDL
    does not check either)."""
    if isinstance(json, list) and len(json) == 2 and json[0] == "uuid" \
            and isinstance(json[1], str) and ovs.ovsuuid.is_valid_string(json[1]):
        return ovs.db.data.Datum(kind, {ovs.db.data.Atom(_UUID, uuid.UUID(json[1])): None})
    return ovs.db.data.Datum.from_json(kind, json)  # anything else, errors included


def _string_map_datum(kind: ovs.db.types.Type, json: Any) -> ovs.db.data.Datum:
    """A map of unconstrained strings to unconstrained strings."""
    if isinstance(json, list) and len(json) == 2 and json[0] == "map" \
            and isinstance(json[1], list):
        pairs = json[1]
        atom, string = ovs.db.data.Atom, _STRING
        values = {}
        for pair in pairs:  # a loop, not all() and a comprehension: most maps have 1 or 2 pairs
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                    and isinstance(pair[1], str)):
                break
            values[atom(string, pair[0])] = atom(string, pair[1])
        else:
            if len(values) == len(pairs) and kind.n_min <= len(values) <= kind.n_max:
                return ovs.db.data.Datum(kind, values)
    return ovs.db.data.Datum.from_json(kind, json)  # anything else, errors included


def _plain_string(base: ovs.db.types.BaseType) -> bool:
    """A string type with no enum and no length limits: every string is valid."""
    return (base.type == ovs.db.types.StringType and base.enum is None
            and base.min_length == 0 and base.max_length == sys.maxsize)


def _default_datum(column: Any) -> ovs.db.data.Datum | None:
    """The column's default, or None if it breaks the column's own constraints (e.g. ""
    for an enum): the original fails to parse it, and leaves the column unset."""
    atomic = column.type.key.type
    json = ovs.ovsuuid.to_json(atomic.default) if atomic == ovs.db.types.UuidType \
        else atomic.default
    try:
        return ovs.db.data.Datum.from_json(column.type, json)
    except ovs.db.error.Error:
        return None
