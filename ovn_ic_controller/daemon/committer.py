"""Plans to transactions: one per database, their outcomes counted, retried after a backoff.

Every database a pass writes gets one transaction with the ops of all the
pass's plans, so nothing is half-written inside one database.  After a failed
transaction the replicas may not be what was planned on, so every concern is
recomputed, after a delay that grows while the failure persists (Q8: retry
soon, but never in a hot loop).
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

    def commit(self, dbs: Mapping[str, Database], plans: list[Plan]) -> None:
        counts: dict[str, Counter] = {}  # per database: changes per (concern, effect)
        for plan in plans:
            for (key, effect), count in plan.counts().items():
                counts.setdefault(key, Counter())[plan.concern, effect] += count
        for key, (ops, comments) in split_by_database(plans).items():
            dbs[key].submit(ops, comments, lambda outcome, error, key=key, counts=counts[key]:
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
