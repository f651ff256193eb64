"""One OVSDB database: its IDL replica, change tracking and transaction slot.

The loop thread calls ``run``/``wait`` each iteration.  Until the schema has
been fetched from a server there is no IDL; fetching is retried with an
exponential backoff, so a database that is down at start-up is simply waited
for, like a database that goes away later (the IDL then reconnects by itself).

A clustered database (several remotes) follows its leader closely: the ovs
library backs off 1, 2, 4 then 8 s between members while none of them leads
(each answers "not leader" during an election), so after a leader was killed
it found the new one up to 8 s late.  Instead, for LEADER_SEARCH_S after the
connection was lost, every member is tried at once each second: the new leader
is found at most about a second after its election.  A cluster still without
leader after that is down, and gets the library's backoff (and its quieter log).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import ovs.db.idl
import ovs.poller
import ovs.stream

from .. import logs
from ..backoff import Backoff
from ..constants import DB_NAMES
from . import ovs_compat, rowcache, schema
from .apply import Json, build_transaction, ovsdb_operations
from .ovs_compat.fastidl import FastInsertIdl
from .plan import Op

log = logs.get("db")

Outcome = str  # one of ovs.db.idl.Transaction's status strings
#: The first comment of every transaction: who wrote it, for ovsdb-tool show-log.
WRITER = "ovn-ic-controller"
#: How long after losing a clustered database every member is tried each second: more
#: than a Raft election takes, even with a raised election timer.
LEADER_SEARCH_S = 60.0
DEFAULT_PROBE_INTERVAL_MS = 5000  # ovs's, when none is set


def apply_ssl(private_key: str, certificate: str, ca_cert: str) -> None:
    """Set the ssl-* keys, for ssl: remotes.  TLS settings are process-wide in the ovs
    library: one key, certificate and CA for every database."""
    if private_key:
        ovs.stream.Stream.ssl_set_private_key_file(private_key)
        ovs.stream.Stream.ssl_set_certificate_file(certificate)
        ovs.stream.Stream.ssl_set_ca_cert_file(ca_cert)


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

    old_values = False  # notify reads no old values


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
        self._fetch_retry = Backoff(0.5, 8.0)  # fetching the schema
        self._last_problem = ""
        self._lost_at: float | None = None  # when the connection to a cluster was lost
        self._members_tried_at = 0.0  # when every cluster member was last let be tried

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
        self._follow_leader()  # before run(), which may try (and fail) them all at once
        self.idl.run()
        if self.txn is not None:
            self._poll_txn()

    def wait(self, poller: ovs.poller.Poller) -> None:
        if self.idl is None:
            poller.timer_wait_until(int(self._fetch_retry.retry_at * 1000))
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
        if self._fetch_retry.waiting(now):
            return
        try:
            schema_json = schema.fetch_schema(self.remote, self.db_name)
        except (schema.SchemaUnavailable, OSError) as exc:
            delay = self._fetch_retry.failed(now)
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
        self._fetch_retry.reset()
        self._last_problem = ""
        log.info("db.schema_loaded", db=self.key, remote=self.remote,
                 version=schema_json.get("version"), idl=idl_class.__name__)

    @property
    def _clustered(self) -> bool:
        return (ovs_compat.leader_follow_active()
                and self.idl._session.get_num_of_remotes() > 1)

    def _follow_leader(self) -> None:
        """While a clustered database has been lost for less than LEADER_SEARCH_S, let
        the session try each member without a backoff (Session.reset_backoff) each
        second: its next backoff, after the last member, is the library's smallest (1 s)."""
        if self.connected or not self._clustered:
            self._lost_at = None
            return
        now = time.monotonic()
        if self._lost_at is None:
            self._lost_at = now
        if now - self._lost_at < LEADER_SEARCH_S and now - self._members_tried_at >= 1.0:
            self._members_tried_at = now
            self.idl._session.reset_backoff()

    # ----------------------------------------------------------- transactions
    @property
    def busy(self) -> bool:
        return self.txn is not None

    def operations(self, ops: list[Op]) -> list[dict[str, Json]]:
        """The OVSDB operations carrying ``ops`` out on this replica; raises on an op
        that cannot be written (a value OVSDB has no type for, an unknown column)."""
        return ovsdb_operations(self.idl, ops)

    def submit(self, operations: list[dict[str, Json]], comments: list[str],
               done: Callable[[Outcome, str], None]) -> None:
        """Start committing ``operations`` in one transaction; ``done(outcome, error)`` is
        called once it resolves."""
        self.txn = build_transaction(self.idl, operations, [WRITER, *comments])
        self._txn_done = done
        self._poll_txn()

    def _poll_txn(self) -> None:
        status = self.txn.commit()
        if status == ovs.db.idl.Transaction.INCOMPLETE:
            return
        error = self.txn.get_error() or "" if status == ovs.db.idl.Transaction.ERROR else ""
        done, self.txn, self._txn_done = self._txn_done, None, None
        done(status, error)


def tables_of(dbs: Mapping[str, Database]) -> dict:
    """db key → table name → {uuid: row}: the replicas as a sync Context reads them."""
    return {key: {name: table.rows for name, table in db.tables.items()}
            for key, db in dbs.items()}
