"""A plan: the row changes a sync concern wants, as plain data.

Concerns compute plans from read-only replicas and never touch a transaction;
``db.apply`` turns a plan into at most one transaction per database.  A row
inserted by the plan is named by a ``NewRow`` handle, which other operations of
the same plan may reference (in values or as their target).
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import uuid as uuidlib
from collections import Counter
from typing import Any

_handles = itertools.count(1)


class NewRow:
    """A row this plan inserts; resolved to the real row when the plan is applied.

    Each handle is a row of its own: compared and hashed by identity (which is
    also quicker than a dataclass's, for one per route inserted).
    """

    __slots__ = ("db", "table", "handle")

    def __init__(self, db: str, table: str) -> None:
        self.db, self.table, self.handle = db, table, next(_handles)

    def __repr__(self) -> str:
        return f"NewRow({self.db}, {self.table}, #{self.handle})"


Target = uuidlib.UUID | NewRow

_DB_AND_KIND = operator.attrgetter("db", "kind")
_EFFECTS = {"insert": "create", "delete": "delete"}


@dataclasses.dataclass(slots=True)  # not frozen, for speed (one per row changed); never changed
class Op:
    """One change.  ``kind`` is insert, set, setkey, delkey, addvalue, delvalue or delete."""

    kind: str
    db: str
    table: str
    target: Target
    column: str = ""
    key: Any = None
    value: Any = None



class Plan:
    """Ordered row changes of one concern, across the four databases."""

    def __init__(self, concern: str) -> None:
        self.concern = concern
        self.ops: list[Op] = []
        self.comments: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __repr__(self) -> str:
        return f"Plan({self.concern}, {len(self.ops)} ops)"

    def insert(self, db: str, table: str, **values: Any) -> NewRow:
        row = NewRow(db, table)
        self.ops.append(Op("insert", db, table, row, value=values))
        return row

    def set(self, db: str, table: str, target: Target, **values: Any) -> None:
        for column, value in values.items():
            self.ops.append(Op("set", db, table, target, column, value=value))

    def setkey(self, db: str, table: str, target: Target, column: str, key: str,
               value: Any) -> None:
        self.ops.append(Op("setkey", db, table, target, column, key, value))

    def delkey(self, db: str, table: str, target: Target, column: str, key: str) -> None:
        self.ops.append(Op("delkey", db, table, target, column, key))

    def addvalue(self, db: str, table: str, target: Target, column: str, value: Any) -> None:
        self.ops.append(Op("addvalue", db, table, target, column, value=value))

    def delvalue(self, db: str, table: str, target: Target, column: str, value: Any) -> None:
        self.ops.append(Op("delvalue", db, table, target, column, value=value))

    def delete(self, db: str, table: str, target: Target) -> None:
        self.ops.append(Op("delete", db, table, target))

    def comment(self, db: str, text: str) -> None:
        """A transaction comment (shown by ovsdb-tool show-log) for this plan's changes."""
        self.comments[db] = text

    def counts(self) -> Counter[tuple[str, str]]:
        """Its operations per (database, effect), the effect being what the rows_changed
        metric says: create, update or delete."""
        counts: Counter[tuple[str, str]] = Counter()
        for (db, kind), count in Counter(map(_DB_AND_KIND, self.ops)).items():
            counts[db, _EFFECTS.get(kind, "update")] += count
        return counts

    def databases(self) -> set[str]:
        return {op.db for op in self.ops}
