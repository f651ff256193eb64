"""Values derived from IDL rows, recomputed only for the rows that changed.

Reading a column of an IDL row converts its datum, and at 10,000 routes a
concern that reads and parses every row on each pass spends seconds doing so.
The IDL tells ``TrackingIdl.notify`` about every row it inserts or modifies;
``mark_changed`` stamps such a row, and a row whose stamp is the one seen last
time still holds the values derived from it then.  (Datum identity would not
do: the IDL applies a diff to a set or map column in place.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_STAMP = "_ovn_ic_controller_stamp"
_stamps = itertools.count(1)


def mark_changed(row: Any) -> None:
    """Record that the IDL just inserted or modified ``row``."""
    # Past Row.__setattr__, which would take this for a column write.
    row.__dict__[_STAMP] = next(_stamps)


class RowCache(Generic[T]):
    """``cache(row)`` is ``derive(row)``, reused until the row changes.

    ``derive`` may read only the row itself (its references as UUIDs or rows,
    not the referenced rows' columns).  Rows never stamped (plain test fakes, or
    rows the IDL did not report) are always derived afresh.  Call ``sweep`` once
    per pass: it forgets the rows not looked up since the previous sweep.
    """

    def __init__(self, derive: Callable[[Any], T]) -> None:
        self.derive = derive
        self._previous: dict[Any, tuple[int, T]] = {}
        self._current: dict[Any, tuple[int, T]] = {}

    def __call__(self, row: Any) -> T:
        stamp = vars(row).get(_STAMP)
        if stamp is None:
            return self.derive(row)
        uuid = row.uuid
        entry = self._current.get(uuid) or self._previous.get(uuid)
        if entry is None or entry[0] != stamp:
            entry = (stamp, self.derive(row))
        self._current[uuid] = entry
        return entry[1]

    def sweep(self) -> None:
        self._previous, self._current = self._current, {}
