"""Plans to transactions: one per database, their outcomes counted, retried after a backoff.

Every database a pass writes gets one transaction with the ops of all the
pass's plans, so nothing is half-written inside one database.  A plan that
cannot be written at all (a value OVSDB has no type for, a column the schema
lacks: a concern's bug) is dropped whole, in every database, before anything
is submitted, and its concern is failed like one that raised; the others' plans
go on.  After a failed transaction the replicas may not be what was planned on,
so every concern is recomputed, after a delay that grows while the failure
persists (Q8: retry soon, but never in a hot loop).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import ovs.db.idl

from .. import logs
from ..backoff import Backoff
from ..db.apply import split_by_database
from ..db.connection import Database
from ..db.plan import Plan

log = logs.get("committer")

Txn = ovs.db.idl.Transaction
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 5.0


class Committer:
    """Submits plans and follows what became of them."""

    def __init__(self, metrics: Any, on_failure: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics
        self.on_failure = on_failure  # a transaction failed: recompute everything
        self.clock = clock
        self.retry = Backoff(RETRY_FIRST_S, RETRY_MAX_S)

    def waiting(self) -> bool:
        """A transaction failed a moment ago: no new one yet."""
        return self.retry.waiting(self.clock())

    def wake_at(self, now: float) -> float | None:
        return self.retry.retry_at if self.retry.retry_at > now else None

    def commit(self, dbs: Mapping[str, Database], plans: list[Plan],
               unwritable: Callable[[str], None]) -> None:
        """Submit ``plans``; ``unwritable(concern)`` is called, while its exception is
        handled, for each concern whose plan cannot be written."""
        plans, written = _operations(dbs, plans, unwritable)
        counts: dict[str, Counter] = {}  # per database: changes per (concern, effect)
        for plan in plans:
            for (key, effect), count in plan.counts().items():
                counts.setdefault(key, Counter())[plan.concern, effect] += count
        for key, (operations, comments) in written.items():
            dbs[key].submit(operations, comments,
                            lambda outcome, error, key=key, counts=counts[key]:
                            self._committed(key, outcome, error, counts))

    def _committed(self, key: str, outcome: str, error: str, counts: Counter) -> None:
        self.metrics.transactions.labels(db=key, outcome=outcome).inc()
        if outcome in (Txn.SUCCESS, Txn.UNCHANGED):
            self.retry.reset()
            for (concern, effect), n in counts.items():
                self.metrics.rows_changed.labels(concern=concern, op=effect).inc(n)
            return
        self.on_failure()
        if outcome == Txn.NOT_LOCKED:
            log.info("txn.not_locked", db=key)
            return
        delay = self.retry.failed(self.clock())
        log.warning("txn.failed", db=key, outcome=outcome, error=error,
                    retry_in_s=round(delay, 2))


def _operations(dbs: Mapping[str, Database], plans: list[Plan],
                unwritable: Callable[[str], None]) -> tuple[list[Plan], dict[str, tuple]]:
    """The plans that can be written, and per database their operations and comments."""
    try:
        return plans, _per_database(dbs, plans)
    except Exception:
        kept = []
        for plan in plans:  # which plan is it?  Only on this rare path is each built alone.
            try:
                _per_database(dbs, [plan])
            except Exception:
                unwritable(plan.concern)
            else:
                kept.append(plan)
        if len(kept) == len(plans):
            raise  # each plan can be written alone: the fault is not a concern's
        return kept, _per_database(dbs, kept)


def _per_database(dbs: Mapping[str, Database], plans: list[Plan]) -> dict[str, tuple]:
    return {key: (dbs[key].operations(ops), comments)
            for key, (ops, comments) in split_by_database(plans).items()}
