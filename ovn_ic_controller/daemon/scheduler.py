"""Which concern computes when, with which changed rows, and what happens when one raises.

A concern is due when a table it reads changed, its ``recheck_at`` has come or
its last plan left work ``unfinished`` (it then runs once that plan's transactions
are done), and every concern is due in full after anything that may change its plan
without a change notice: a reconnect, a lost lock, a failed commit, a new AZ or a
reload.
One mapping says what is due and how: ``pending[name]`` is None for a full
recomputation or, for an incremental concern, the rows changed since its last
plan(), handed over once.

A concern that raises is isolated: the exception is logged with its traceback
and counted, its plan is dropped whole (none of its ops reach a transaction),
the other concerns' plans go on to be committed, and that concern alone is
retried, in full, after a backoff.  The committer fails a concern the same way
when its plan cannot be written.  A bad row or a bug in one concern thus costs
that concern, not the process.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Set
from typing import Any

from .. import logs
from ..backoff import Backoff
from ..db.plan import Plan
from ..sync.base import Concern, Context

log = logs.get("scheduler")

# A concern that raised is retried after 1 s, then less and less often: a bug or a
# bad row that persists costs one traceback a minute, and a passing one little delay.
CONCERN_RETRY_FIRST_S, CONCERN_RETRY_MAX_S = 1.0, 60.0


class Scheduler:
    """Decides which of ``concerns`` compute on a pass and collects their plans."""

    def __init__(self, concerns: Iterable[Concern], metrics: Any,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.concerns = list(concerns)
        self.metrics = metrics
        self.clock = clock
        # Concern name -> None (recompute in full) or the rows changed since its last
        # plan() (an incremental concern); a concern not in it is up to date.
        self.pending: dict[str, dict[tuple[str, str], set] | None] = {}
        self.failing: set[str] = set()  # concerns whose last plan raised or was unwritable
        # When to retry a concern that failed; kept through its first success, which the
        # committer may yet find unwritable, so that a persistent fault backs off further.
        self._retries: dict[str, Backoff] = {}
        self.mark_all_dirty()

    def mark_all_dirty(self) -> None:
        """Recompute every concern in full: its inputs may have changed unannounced."""
        self.pending = dict.fromkeys(concern.name for concern in self.concerns)

    def note_changes(self, key: str, changed: Mapping[str, Set]) -> None:
        """Rows of database ``key`` changed (table → UUIDs): the concerns reading them are due."""
        for concern in self.concerns:
            inputs = concern.input_tables()
            tables = [table for table in changed if (key, table) in inputs]
            if not tables:
                continue
            rows = self.pending.setdefault(concern.name, {} if concern.incremental else None)
            if rows is not None:
                for table in tables:
                    rows.setdefault((key, table), set()).update(changed[table])

    def compute(self, ctx: Context) -> list[Plan]:
        """The non-empty plans of the concerns due now, in their order."""
        now = self.clock()
        plans = []
        for concern in self.concerns:
            if concern.recheck_at is not None and concern.recheck_at <= now:
                self.pending.setdefault(concern.name, {} if concern.incremental else None)
            if (concern.name not in self.pending or self._waits_for_az(concern, ctx)
                    or self._backing_off(concern, now)):
                continue
            changed = self.pending.pop(concern.name)
            plan = self._plan(concern, dataclasses.replace(ctx, changed_rows=changed))
            if concern.unfinished:
                self.pending.setdefault(concern.name, {} if concern.incremental else None)
            if plan:
                plans.append(plan)
        return plans

    def settled(self, ctx: Context) -> bool:
        """Nothing is due but concerns waiting for this AZ's row or failing."""
        return all(concern.name not in self.pending or concern.name in self.failing
                   or self._waits_for_az(concern, ctx) for concern in self.concerns)

    def wake_at(self, now: float) -> float | None:
        """The next instant after ``now`` at which a concern is due without any change."""
        instants = [concern.recheck_at for concern in self.concerns
                    if concern.recheck_at is not None]
        instants += [retry.retry_at for retry in self._retries.values()]
        return min((instant for instant in instants if instant > now), default=None)

    def fail(self, name: str) -> None:
        """The plan of concern ``name`` raised or cannot be written (called while that
        exception is handled): count and log it, and retry the concern in full later."""
        retry = self._retries.setdefault(name, Backoff(CONCERN_RETRY_FIRST_S,
                                                       CONCERN_RETRY_MAX_S))
        delay = retry.failed(self.clock())
        self.failing.add(name)
        self.pending[name] = None  # what it took in may be half-digested
        self.metrics.concern_errors.labels(concern=name).inc()
        log.exception("concern.failed", concern=name, retry_in_s=round(delay, 2),
                      message="this concern's changes are dropped; the others go on")

    def _plan(self, concern: Concern, ctx: Context) -> Plan | None:
        self.metrics.recomputes.labels(concern=concern.name).inc()
        try:
            plan = concern.plan(ctx)
            concern.report(self.metrics)
        except Exception:
            self.fail(concern.name)
            return None
        if concern.name in self.failing:
            self.failing.discard(concern.name)
            log.info("concern.recovered", concern=concern.name)
        else:
            self._retries.pop(concern.name, None)
        return plan

    def _backing_off(self, concern: Concern, now: float) -> bool:
        retry = self._retries.get(concern.name)
        return retry is not None and retry.waiting(now)

    @staticmethod
    def _waits_for_az(concern: Concern, ctx: Context) -> bool:
        return concern.needs_az and ctx.az is None
