"""Reading OVSDB column values the way ovn-ic does (docs/behaviour.md §11).

The IDL returns optional references as lists, maps as dicts; options are
strings whose parsing rules ovn-ic fixes: booleans are true only for "true"
(any case), integers are whole base-10 strings, UUIDs are canonical.

``plain`` and ``Members`` read an IDL row's committed datums directly
(``Row._data``: column -> Datum, whose ``values`` map Atoms to Atoms or None,
the layout of every ovs release since 2.x), or, for a column fastidl has not
parsed yet, its JSON, for the rows that are many: a column read through
``Row.__getattr__`` converts the datum anew, 2 µs for a string and 6 µs for a
map, most of the cost of reading 10,000 routes.  Both read fake rows (plain
attributes, referenced rows as objects with a ``uuid``) too, for unit tests.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import ovs.db.data

from .ovs_compat.fastidl import NOT_READ, JournaledDatum, LazyColumns


def column(row: Any, name: str, default: Any = None) -> Any:
    """``row.name``, or ``default`` when this schema (or a fresh row) lacks the column."""
    try:
        return getattr(row, name)
    except AttributeError:
        return default


def optional_ref(value: Any) -> Any:
    """The single element of an optional (min 0, max 1) column, or None."""
    return value[0] if value else None


def is_true(value: str | None) -> bool:
    return value is not None and value.lower() == "true"


def parse_int(value: str | None, default: int = 0) -> int:
    """C-style strtol on the whole string, base 10, within int32; else ``default``."""
    if value is None or not value.strip() or value != value.strip():
        return default
    try:
        number = int(value, 10)
    except ValueError:
        return default
    return number if -2**31 <= number < 2**31 else default


def parse_uuid(value: str | None) -> uuidlib.UUID | None:
    """A canonical 36-character UUID string, or None."""
    if value is None or len(value) != 36:
        return None
    try:
        return uuidlib.UUID(value)
    except ValueError:
        return None


def plain(row: Any, name: str) -> Any:
    """``row.name`` as plain data: references as UUIDs, sets as lists, maps as dicts.

    AttributeError when the row's table has no such column, as with getattr.
    """
    return plain_columns(row, (name,))[0]


def plain_columns(row: Any, names: tuple[str, ...]) -> list[Any]:
    """``[plain(row, name) for name in names]`` in one call, for the rows that are many."""
    data = vars(row).get("_data")  # an IDL row's committed datums, by column
    if not isinstance(data, dict):
        return [_plain_fake(getattr(row, name)) for name in names]
    if isinstance(data, LazyColumns):
        values = data.read(names)
        for index, value in enumerate(values):
            if value is NOT_READ:
                values[index] = _plain_datum(row, data, names[index])
        return values
    return [_plain_datum(row, data, name) for name in names]


def _plain_datum(row: Any, data: dict, name: str) -> Any:
    """Column ``name`` of an IDL row, read from its Datum."""
    datum = dict.get(data, name)  # not data.get(): that would make up a default
    if datum is None:  # not parsed yet (fastidl), left out by the server, or no such column
        column = row._table.columns.get(name)
        if column is None:
            raise AttributeError(name)
        if column.type.n_min == 0 and not isinstance(data, LazyColumns):
            return {} if column.type.is_map() else []  # optional, a set or a map: empty
        datum = data[name]
    kind = datum.type  # its attributes rather than is_map()/is_scalar(): called per column
    if kind.value is not None:  # a map
        return {key.value: value.value for key, value in datum.values.items()}
    if kind.n_min == kind.n_max == 1:  # a scalar
        return next(iter(datum.values)).value
    return [key.value for key in datum.values]


def _plain_fake(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain_fake(item) for item in value]
    return getattr(value, "uuid", value)  # a referenced fake row stands for its UUID


class Members:
    """The rows one reference-set column of one row points to, as last seen, and what
    changed since: ``update``.

    ``router.static_routes`` on an IDL row turns every UUID into a Row and sorts them,
    and even comparing the column's keys with the last ones costs milliseconds at
    100,000 routes, for each route learned.  When fastidl's JournaledDatum still
    remembers the diffs since the last look, only the elements they name are checked;
    otherwise (first look, a new row after a reconnect, stock ovs, fake rows) every
    element is.  Keys are the datum's Atoms, which hash like their UUIDs; only the
    differences are turned into UUIDs.
    """

    __slots__ = ("keys", "_datum", "_version")

    def __init__(self) -> None:
        self.keys: set[Any] = set()
        self._datum: Any = None  # the JournaledDatum last looked at, and its version then
        self._version = 0

    def __len__(self) -> int:
        return len(self.keys)

    def update(self, row: Any, column: str) -> tuple[list[uuidlib.UUID], list[uuidlib.UUID]]:
        """Look at ``row.column`` again (``row`` None: gone): the UUIDs (added, removed)."""
        keys = self.keys
        data = vars(row).get("_data") if row is not None else None
        if row is None:
            now: Any = {}
        elif isinstance(data, dict):
            datum = data[column]
            now = datum.values
            if datum.__class__ is JournaledDatum:
                changed = datum.changed_since(self._version) if datum is self._datum else None
                self._datum, self._version = datum, datum.version
                if changed is not None:
                    changed = dict.fromkeys(changed)  # an element may have come and gone
                    return self._apply([key for key in changed if key in now],
                                       [key for key in changed if key not in now])
            else:
                self._datum = None
        else:
            now = dict.fromkeys(ref.uuid for ref in getattr(row, column))
        return self._apply([key for key in now if key not in keys],
                           [key for key in keys if key not in now])

    def _apply(self, present: list[Any], absent: list[Any]) -> tuple[list[uuidlib.UUID],
                                                                    list[uuidlib.UUID]]:
        keys = self.keys
        added = [key for key in present if key not in keys]
        removed = [key for key in absent if key in keys]
        keys.update(added)
        keys.difference_update(removed)
        return [_uuid_of(key) for key in added], [_uuid_of(key) for key in removed]


def _uuid_of(key: Any) -> uuidlib.UUID:
    return key.value if isinstance(key, ovs.db.data.Atom) else key
