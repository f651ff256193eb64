"""Turn plans into transactions: one per database, all of a database's ops in it.

A target row that vanished from the replica since the plan was computed is
skipped: the loop is level-triggered, so the next computation sees the new
state and plans again.  Nothing is half-written inside one database because
each database gets exactly one transaction, committed or failed as a whole.

The operations are written as OVSDB JSON and handed to ``Transaction.add_op``
(ovs >= 3.4) instead of going through the IDL's Row objects: written through
them, a change of 10,000 rows took over a second of Row.__setattr__, Datum
conversions and the IDL's UUID substitution.  The changes to a row
are grouped as the IDL groups them: one insert, update or delete op, then one
mutate op with the removals before the insertions (so 10,000 routes added to a
router are one mutation, not 10,000).  Like the IDL, a row of a non-root table
is never deleted explicitly: the server collects it once nothing refers to it.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import ovs.db.idl

from .. import logs
from .plan import NewRow, Op, Plan, Target

log = logs.get("apply")

Json = Any


class _RowChange:
    """Everything one transaction does to one row."""

    __slots__ = ("table", "kind", "columns", "removes", "inserts")

    def __init__(self, table: str, kind: str) -> None:
        self.table = table
        self.kind = kind                    # insert, update or delete
        self.columns: dict[str, Json] = {}  # values written whole
        # Per column, as ordered sets: the keys or values to remove; the values to
        # insert into a set, or the key -> value pairs to insert into a map.
        self.removes: dict[str, dict[Any, None]] = {}
        self.inserts: dict[str, dict[Any, Any]] = {}


class _Builder:
    """Gathers plan ops per row, then writes them as OVSDB operations."""

    def __init__(self, idl: ovs.db.idl.Idl) -> None:
        self.idl = idl
        self.rows: dict[Target, _RowChange] = {}  # in the order rows are first changed
        self._converters: dict[str, dict[str, Any]] = {}  # see _converters_of

    def add(self, op: Op) -> None:
        if op.kind == "insert":
            change = self.rows[op.target] = _RowChange(op.table, "insert")
            converters = self._converters_of(op.table)
            change.columns = {name: converters[name](value) for name, value in op.value.items()}
            return
        change = self._change(op)
        if change is None:
            log.debug("apply.row_gone", table=op.table, row=str(op.target), op=op.kind)
            return
        if op.kind == "set":  # overrides earlier mutations of the column, as in the IDL
            change.removes.pop(op.column, None)
            change.inserts.pop(op.column, None)
            change.columns[op.column] = self._datum(op.table, op.column, op.value)
        elif op.kind == "setkey":
            change.removes.setdefault(op.column, {})[op.key] = None
            change.inserts.setdefault(op.column, {})[op.key] = op.value
        elif op.kind == "delkey":
            change.removes.setdefault(op.column, {})[op.key] = None
        elif op.kind == "delvalue":
            change.removes.setdefault(op.column, {})[op.value] = None
        elif op.kind == "addvalue":
            change.inserts.setdefault(op.column, {})[op.value] = None
        elif op.kind == "delete":
            if isinstance(op.target, NewRow):
                del self.rows[op.target]
            else:
                self.rows[op.target] = _RowChange(op.table, "delete")
        else:
            raise ValueError(f"unknown plan operation {op.kind!r}")

    def _change(self, op: Op) -> _RowChange | None:
        """The change record of the op's target; None if the row is gone or deleted."""
        change = self.rows.get(op.target)
        if change is None:
            if isinstance(op.target, NewRow) or op.target not in self.idl.tables[op.table].rows:
                return None
            change = self.rows[op.target] = _RowChange(op.table, "update")
        return None if change.kind == "delete" else change

    def operations(self) -> list[dict[str, Json]]:
        ops = []
        for target, change in self.rows.items():
            table = change.table
            if change.kind == "insert":
                ops.append({"op": "insert", "table": table, "row": change.columns,
                            "uuid-name": _name(target)})
            elif change.kind == "delete":
                if self.idl.tables[table].is_root:
                    ops.append({"op": "delete", "table": table, "where": _where(target)})
                continue
            elif change.columns:
                ops.append({"op": "update", "table": table, "where": _where(target),
                            "row": change.columns})
            if change.removes or change.inserts:
                mutations = [[name, "delete", ["set", [_atom(item) for item in items]]]
                             for name, items in change.removes.items()]
                mutations += [[name, "insert", self._elements(table, name, items)]
                              for name, items in change.inserts.items()]
                ops.append({"op": "mutate", "table": table, "where": _where(target),
                            "mutations": mutations})
        return ops

    def _datum(self, table: str, column: str, value: Any) -> Json:
        """A whole column value as OVSDB JSON: a map, a set, or a single atom."""
        return self._converters_of(table)[column](value)

    def _converters_of(self, table: str) -> dict[str, Any]:
        """Per column of ``table``: the function writing a whole value of it as JSON."""
        found = self._converters.get(table)
        if found is None:
            found = self._converters[table] = {
                name: _map_json if column.type.is_map() else
                _atom if column.type.is_scalar() else _set_json
                for name, column in self.idl.tables[table].columns.items()}
        return found

    def _elements(self, table: str, column: str, items: dict[Any, Any]) -> Json:
        """Elements to insert into a map (``items`` maps keys to values) or a set column."""
        if self._converters_of(table)[column] is _map_json:
            return _map_json(items)
        return ["set", [_atom(item) for item in items]]


def _map_json(value: dict[Any, Any]) -> Json:
    return ["map", [[_atom(key), _atom(item)] for key, item in value.items()]]


def _set_json(value: Any) -> Json:
    items = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
    return ["set", [_atom(item) for item in items]]


def _where(target: Target) -> Json:
    return [["_uuid", "==", _atom(target)]]


def _name(row: NewRow) -> str:
    return f"new{row.handle}"


def _atom(value: Any) -> Json:
    if isinstance(value, (str, int, float)):  # bool is an int; first: most atoms are strings
        return value
    if isinstance(value, NewRow):
        return ["named-uuid", _name(value)]
    if isinstance(value, uuidlib.UUID):
        return ["uuid", str(value)]
    raise TypeError(f"not an OVSDB atom: {value!r}")


class _Transaction(ovs.db.idl.Transaction):
    """A Transaction that lets go of its operations once it has sent them.

    The IDL keeps them until the server replies, and the server sends its
    updates for the rows just written before that reply: for 10,000 rows,
    10 MB of operations alive while the IDL parses 10,000 new rows.
    """

    def commit(self) -> str:
        status = super().commit()
        self._operations = []  # what add_op() filled; sent (or failed) by now
        return status


def build_transaction(idl: ovs.db.idl.Idl, operations: list[dict[str, Json]],
                      comments: list[str]) -> ovs.db.idl.Transaction:
    """A transaction carrying ``operations`` (from ovsdb_operations), ready to commit.

    The operations are built first, apart: building them is where a bad plan fails,
    and a Transaction, once created, must be committed or aborted.
    """
    txn = _Transaction(idl)
    for text in comments:
        txn.add_comment(text)
    for operation in operations:
        txn.add_op(operation)
    return txn


def ovsdb_operations(idl: ovs.db.idl.Idl, ops: list[Op]) -> list[dict[str, Json]]:
    """The OVSDB operations (RFC 7047 §5.2) that carry ``ops`` out on ``idl``'s replica."""
    builder = _Builder(idl)
    for op in ops:
        builder.add(op)
    return builder.operations()


def split_by_database(plans: list[Plan]) -> dict[str, tuple[list[Op], list[str]]]:
    """Group the ops of several plans per database, keeping plan order."""
    grouped: dict[str, tuple[list[Op], list[str]]] = {}
    for plan in plans:
        for op in plan.ops:
            ops, comments = grouped.setdefault(op.db, ([], []))
            ops.append(op)
        for db, text in plan.comments.items():
            if db in grouped:
                grouped[db][1].append(text)
    return grouped
