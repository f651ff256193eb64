"""One OVSDB database: its IDL replica, change tracking and transaction slot.

The loop thread calls ``run``/``wait`` each iteration.  Until the schema has
been fetched from a server there is no IDL; fetching is retried with an
exponential backoff, so a database that is down at start-up is simply waited
for, like a database that goes away later (the IDL then reconnects by itself).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ovs.db.idl
import ovs.poller
import ovs.stream
import tenacity

from .. import logs
from ..constants import DB_NAMES
from . import ovs_compat, rowcache, schema
from .ovs_compat.fastidl import FastInsertIdl

log = logs.get("db")

Outcome = str  # one of ovs.db.idl.Transaction's status strings
DEFAULT_PROBE_INTERVAL_MS = 5000  # ovs's, when none is set


class TrackingIdl(ovs.db.idl.Idl):
    """An Idl that remembers which rows changed and when it (re)connected."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.changed_rows: dict[str, set] = {}  # table -> UUIDs inserted, modified or deleted
        self.resynced = False

    def notify(self, event, row, updates=None) -> None:
        self.changed_rows.setdefault(row._table.name, set()).add(row.uuid)
        rowcache.mark_changed(row)

    def restart_fsm(self) -> None:
        # A new session replaces the replica wholesale, without delete notices.
        self.resynced = True
        super().restart_fsm()


class FastTrackingIdl(FastInsertIdl, TrackingIdl):
    """TrackingIdl with fastidl's inserts, once ovs_compat.install() has found them sound."""


class Database:
    """A replica of one database plus at most one transaction in flight."""

    def __init__(self, key: str, remote: str, wanted: dict[str, set[str]], *,
                 probe_interval: int | None = None, lock: str | None = None) -> None:
        self.key = key
        self.db_name = DB_NAMES[key]
        self.remote = remote
        self.wanted = wanted
        self.probe_interval = probe_interval
        self.lock = lock
        self.idl: TrackingIdl | None = None
        self.schema: dict | None = None  # the server's schema, once fetched
        self.txn: ovs.db.idl.Transaction | None = None
        self._txn_done: Callable[[Outcome, str], None] | None = None
        self._attempt = 0
        self._next_attempt = 0.0
        self._backoff = tenacity.wait_exponential(multiplier=0.5, min=0.5, max=8)
        self._last_problem = ""

    # ------------------------------------------------------------ connection
    @property
    def tables(self) -> dict:
        return self.idl.tables if self.idl else {}

    @property
    def connected(self) -> bool:
        """The session is up and the replica is being kept current."""
        # The Idl has no public "is connected": its session knows.
        return (self.idl is not None and self.idl._session.is_connected()
                and self.idl.state == self.idl.IDL_S_MONITORING)

    @property
    def synced(self) -> bool:
        return self.idl is not None and self.idl.has_ever_connected()

    @property
    def has_lock(self) -> bool:
        return bool(self.idl and self.idl.has_lock)

    @property
    def is_lock_contended(self) -> bool:
        return bool(self.idl and self.idl.is_lock_contended)

    def run(self) -> None:
        """Process what the server sent; create the IDL once a schema is available."""
        if self.idl is None:
            self._try_connect()
            return
        self.idl.run()
        if self.txn is not None:
            self._poll_txn()

    def wait(self, poller: ovs.poller.Poller) -> None:
        if self.idl is None:
            poller.timer_wait_until(int(self._next_attempt * 1000))
            return
        self.idl.wait(poller)
        if self.txn is not None:
            self.txn.wait(poller)

    def set_probe_interval(self, interval: int | None) -> None:
        """Change the inactivity probe (ms; None: the ovs default) now and for reconnects;
        a unix remote is never probed, as when the ovs library opens it."""
        if interval == self.probe_interval:
            return
        self.probe_interval = interval
        if self.idl is not None and ovs.stream.stream_or_pstream_needs_probes(self.remote):
            self.idl._session.reconnect.set_probe_interval(
                DEFAULT_PROBE_INTERVAL_MS if interval is None else interval)

    def take_changes(self) -> tuple[dict[str, set], bool]:
        """Rows changed since the last call by table, and whether the replica was reloaded."""
        if self.idl is None:
            return {}, False
        changed, resynced = self.idl.changed_rows, self.idl.resynced
        self.idl.changed_rows, self.idl.resynced = {}, False
        return changed, resynced

    def close(self) -> None:
        if self.idl is not None:
            if self.txn is not None:
                self.txn.abort()
                self.txn = None
            self.idl.close()
            self.idl = None

    def _try_connect(self) -> None:
        now = time.monotonic()
        if now < self._next_attempt:
            return
        try:
            schema_json = schema.fetch_schema(self.remote, self.db_name)
        except (schema.SchemaUnavailable, OSError) as exc:
            self._attempt += 1
            delay = self._backoff(_RetryState(self._attempt))
            self._next_attempt = now + delay
            if str(exc) != self._last_problem:
                log.warning("db.unreachable", db=self.key, remote=self.remote,
                            problem=str(exc), retry_in_s=round(delay, 1))
                self._last_problem = str(exc)
            return
        self.schema = schema_json
        helper = schema.build_helper(schema_json, self.wanted)
        idl_class = FastTrackingIdl if ovs_compat.fast_idl_active() else TrackingIdl
        self.idl = idl_class(self.remote, helper, probe_interval=self.probe_interval)
        if self.lock:
            self.idl.set_lock(self.lock)
        self._attempt, self._last_problem = 0, ""
        log.info("db.schema_loaded", db=self.key, remote=self.remote,
                 version=schema_json.get("version"), idl=idl_class.__name__)

    # ----------------------------------------------------------- transactions
    @property
    def busy(self) -> bool:
        return self.txn is not None

    def begin(self) -> ovs.db.idl.Transaction:
        assert self.idl is not None and self.txn is None
        return ovs.db.idl.Transaction(self.idl)

    def submit(self, txn: ovs.db.idl.Transaction,
               done: Callable[[Outcome, str], None]) -> None:
        """Start committing ``txn``; ``done(outcome, error)`` is called once it resolves."""
        self.txn, self._txn_done = txn, done
        self._poll_txn()

    def _poll_txn(self) -> None:
        status = self.txn.commit()
        if status == ovs.db.idl.Transaction.INCOMPLETE:
            return
        error = self.txn.get_error() or "" if status == ovs.db.idl.Transaction.ERROR else ""
        done, self.txn, self._txn_done = self._txn_done, None, None
        done(status, error)


class _RetryState:
    """The minimum of tenacity's RetryCallState that its wait strategies read."""

    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number
