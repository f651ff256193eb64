"""Turn plans into transactions: one per database, all of a database's ops in it.

A target row that vanished from the replica since the plan was computed is
skipped: the loop is level-triggered, so the next computation sees the new
state and plans again.  Nothing is half-written inside one database because
each database gets exactly one transaction, committed or failed as a whole.
"""

from __future__ import annotations

from typing import Any

import ovs.db.idl

from .. import logs
from .plan import NewRow, Op, Plan

log = logs.get("apply")


class _Resolver:
    """Maps plan handles to IDL rows inside one transaction."""

    def __init__(self, idl: ovs.db.idl.Idl, txn: ovs.db.idl.Transaction) -> None:
        self.idl, self.txn = idl, txn
        self.inserted: dict[NewRow, Any] = {}

    def row(self, op: Op):
        if isinstance(op.target, NewRow):
            return self.inserted.get(op.target)
        return self.idl.tables[op.table].rows.get(op.target)

    def value(self, value: Any) -> Any:
        if isinstance(value, NewRow):
            return self.inserted[value]
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value


def build_transaction(idl: ovs.db.idl.Idl, ops: list[Op],
                      comments: list[str]) -> ovs.db.idl.Transaction:
    """A transaction carrying ``ops`` (of one database), ready to commit."""
    txn = ovs.db.idl.Transaction(idl)
    for text in comments:
        txn.add_comment(text)
    resolver = _Resolver(idl, txn)
    for op in ops:
        _apply(resolver, op)
    return txn


def _apply(resolver: _Resolver, op: Op) -> None:
    if op.kind == "insert":
        row = resolver.txn.insert(resolver.idl.tables[op.table])
        resolver.inserted[op.target] = row
        for column, value in op.value.items():
            setattr(row, column, resolver.value(value))
        return
    row = resolver.row(op)
    if row is None:
        log.debug("apply.row_gone", table=op.table, row=str(op.target), op=op.kind)
        return
    if op.kind == "set":
        setattr(row, op.column, resolver.value(op.value))
    elif op.kind == "setkey":
        row.setkey(op.column, op.key, resolver.value(op.value))
    elif op.kind == "delkey":
        row.delkey(op.column, op.key)
    elif op.kind == "addvalue":
        row.addvalue(op.column, resolver.value(op.value))
    elif op.kind == "delvalue":
        row.delvalue(op.column, resolver.value(op.value))
    elif op.kind == "delete":
        row.delete()
    else:
        raise ValueError(f"unknown plan operation {op.kind!r}")


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

