"""Blocking database access for the one-shot commands (reset, leave, clean, show).

The daemon's ``Database`` does the connecting and committing; this drives a few
of them with one Poller until a condition holds or a deadline passes, so a
command either finishes or fails naming the database it could not reach.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ovs.db.idl
import ovs.poller

from .apply import split_by_database
from .connection import Database, tables_of
from .plan import Plan

Txn = ovs.db.idl.Transaction


class Unreachable(Exception):
    """A database did not answer, or did not answer in time; the text names its remote."""


class CommitFailed(Exception):
    """A transaction was refused; nothing of it was written."""


class Databases:
    """Replicas of some of the four databases, read and written synchronously."""

    def __init__(self, remotes: dict[str, str], wanted: dict[str, dict[str, set[str]]], *,
                 timeout: float, lock: tuple[str, str] | None = None) -> None:
        """``wanted``: db key → table → columns; ``lock``: (db key, lock name) to request.

        Only the databases of ``remotes``: a key the concerns also write through (the
        daemon's ovn_ic_sb connection) has no remote of its own, and nothing to read."""
        self.timeout = timeout
        lock_db, lock_name = lock or (None, None)
        self.dbs = {key: Database(key, remotes[key], tables,
                                  lock=lock_name if key == lock_db else None)
                    for key, tables in wanted.items() if key in remotes}

    def __enter__(self) -> Databases:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Closing the connections also releases the lock."""
        for db in self.dbs.values():
            db.close()

    def connect(self) -> None:
        """Wait until every replica is current, or raise Unreachable."""
        if not self._run_until(lambda: all(db.connected for db in self.dbs.values())):
            key, db = next((key, db) for key, db in self.dbs.items() if not db.connected)
            raise Unreachable(f"the {key} database at {db.remote} did not answer within "
                              f"{self.timeout:g} s")

    def lock_is_free(self, key: str) -> bool:
        """Whether the lock requested on ``key`` was granted (no other instance holds it)."""
        db = self.dbs[key]
        if not self._run_until(lambda: db.has_lock or db.is_lock_contended):
            raise Unreachable(f"the {key} database at {db.remote} did not answer the lock "
                              f"request within {self.timeout:g} s")
        return db.has_lock

    def tables(self) -> dict:
        """db key → table name → {uuid: row}, as a sync Context reads them."""
        return tables_of(self.dbs)

    def commit(self, plan: Plan) -> None:
        """Commit ``plan``, one transaction per database in turn; raise CommitFailed."""
        for key, (ops, comments) in split_by_database([plan]).items():
            self._commit_one(key, ops, comments)

    def _commit_one(self, key: str, ops: list, comments: list[str]) -> None:
        db = self.dbs[key]
        outcome: list[tuple[str, str]] = []
        db.submit(db.operations(ops), comments,
                  lambda status, error: outcome.append((status, error)))
        if not self._run_until(lambda: bool(outcome)):
            raise Unreachable(f"the {key} database at {db.remote} did not confirm the "
                              f"transaction within {self.timeout:g} s")
        status, error = outcome[0]
        if status not in (Txn.SUCCESS, Txn.UNCHANGED):
            raise CommitFailed(f"{key} transaction {status}: {error or 'no detail'}")

    def _run_until(self, done: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + self.timeout
        while True:
            for db in self.dbs.values():
                db.run()
            if done():
                return True
            if time.monotonic() >= deadline:
                return False
            poller = ovs.poller.Poller()
            for db in self.dbs.values():
                db.wait(poller)
            poller.timer_wait_until(int(deadline * 1000) + 1)
            poller.block()
