"""The daemon: one thread, one ovs Poller loop over the four databases.

Each iteration: process what the servers sent, note which tables changed, and,
when this instance may write (it holds the ``ovn_ic`` lock on the local SB,
every database is connected and none has a transaction in flight), recompute
the concerns whose inputs changed and commit their plans, one transaction per
database; an incremental concern (route sync) is also told which rows changed.
After a reconnect, a lost lock or a failed commit every concern is recomputed
in full (level-triggered).  Signal handlers only record intent; a wakeup fd
makes the Poller return at once.  With enable-ic=false no concern runs: the
leave planner (sync/leave.py) withdraws this AZ instead, needing only the local
NB and SB, and the daemon then stays idle until enable-ic is true again.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable

import ovs.db.idl
import ovs.poller
import ovs.stream

from . import logs, sdnotify
from .config import Config, ConfigError
from .constants import DATABASE_ORDER, IC_SB, IC_SB_LOCKED, LOCK_NAME
from .db import probes
from .db.apply import build_transaction, split_by_database
from .db.connection import Database
from .db.ic_sb_lock import GlobalWriter
from .db.plan import Plan
from .metrics import Health, Metrics, MetricsServer
from .sync import az as az_sync
from .sync import build_concerns
from .sync.base import Concern, Context, merge_columns
from .sync.leave import Leave

log = logs.get("daemon")

LEAVING_NEEDS = ("nb", "sb")  # leaving cleans up locally even with the IC databases gone
Txn = ovs.db.idl.Transaction
RETRY_MIN_S, RETRY_MAX_S = 0.1, 5.0


class Daemon:
    def __init__(self, config: Config, reload_config: Callable[[], Config]) -> None:
        self.config = config
        self.reload_config = reload_config
        self.metrics = Metrics()
        self.health = Health()
        self.concerns: list[Concern] = build_concerns()
        self.leaving = Leave()
        self.wanted = merge_columns([*self.concerns, self.leaving])
        self.dbs: dict[str, Database] = {}
        self.global_writer = GlobalWriter()
        self.metrics_server: MetricsServer | None = None
        self.changed: set[tuple[str, str]] = set()
        self.dirty: set[str] = {concern.name for concern in self.concerns}
        # Per incremental concern, the rows changed since its last plan(); None: unknown.
        self.changed_rows: dict[str, dict[tuple[str, str], set] | None] = {}
        self._forget_changed_rows()
        self.active: bool | None = None
        self.identity: tuple | None = None
        self.idle_reason: str | None = "starting"
        self.converged_once = False
        self.retry_at = 0.0
        self.retry_delay = RETRY_MIN_S
        self.exiting = False
        self.reload_requested = False
        self._wakeup_r: socket.socket | None = None

    # ---------------------------------------------------------------- set-up
    def open_databases(self, only: set[str] | None = None) -> None:
        self._apply_ssl()
        if only is None or IC_SB in only:
            self.global_writer.close(self.dbs)
        for key in DATABASE_ORDER:
            if only is not None and key not in only:
                continue
            if key in self.dbs:
                self.dbs[key].close()
            self.dbs[key] = Database(key, self.config.remotes[key], self.wanted.get(key, {}),
                                     probe_interval=self.config.probe_interval_ms,
                                     lock=LOCK_NAME if key == "sb" else None)
        self.mark_all_dirty()

    def _apply_ssl(self) -> None:
        """TLS settings are process-wide in the ovs library: one key, cert and CA for all."""
        if self.config.ssl_private_key:
            ovs.stream.Stream.ssl_set_private_key_file(self.config.ssl_private_key)
            ovs.stream.Stream.ssl_set_certificate_file(self.config.ssl_certificate)
            ovs.stream.Stream.ssl_set_ca_cert_file(self.config.ssl_ca_cert)

    def start_metrics(self) -> None:
        """ConfigError (exit 78) when metrics-address cannot be listened on."""
        self.metrics_server = MetricsServer(self.metrics, self.health)
        self.metrics_server.serve(self.config)

    def install_signals(self) -> None:
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._wakeup_r, self._wakeup_w = reader, writer
        signal.set_wakeup_fd(writer.fileno())
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum, _frame) -> None:
        self.exiting = True

    def _on_reload(self, signum, _frame) -> None:
        self.reload_requested = True

    # ------------------------------------------------------------------ loop
    def run(self) -> int:
        _tune_gc()
        self.install_signals()
        self.start_metrics()
        self.open_databases()
        log.info("daemon.started", config=self.config.path, pid=os.getpid(),
                 remotes=self.config.remotes)
        sdnotify.notify("STATUS=connecting to the databases")
        try:
            while not self.exiting:
                self.iterate()
                if self.exiting:
                    break
                self._block()
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        """Stop without writing more: a transaction in flight commits whole or not at all."""
        sdnotify.notify("STOPPING=1")
        for db in self.dbs.values():
            db.close()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        log.info("daemon.stopped")

    def _block(self) -> None:
        poller = ovs.poller.Poller()
        for db in self.dbs.values():
            db.wait(poller)
        poller.fd_wait(self._wakeup_r.fileno(), ovs.poller.POLLIN)
        if self.retry_at:
            poller.timer_wait_until(int(self.retry_at * 1000))
        now = time.monotonic()
        rechecks = [concern.recheck_at for concern in self.concerns
                    if concern.recheck_at is not None and concern.recheck_at > now]
        if rechecks:
            poller.timer_wait_until(math.ceil(min(rechecks) * 1000))
        poller.block()
        try:
            while self._wakeup_r.recv(64):
                pass
        except BlockingIOError:
            pass

    def iterate(self) -> None:
        started = time.monotonic()
        self.metrics.iterations.inc()
        if self.reload_requested:
            self.reload_requested = False
            self.reload()
        for key in DATABASE_ORDER:
            db = self.dbs[key]
            db.run()
            changed, resynced = db.take_changes()
            self.changed.update((key, table) for table in changed)
            self._track_rows(key, changed)
            if resynced:
                self.mark_all_dirty()
            self.metrics.db_connected.labels(db=key).set(1 if db.connected else 0)
        self._track_lock()
        if self.global_writer.run(self.dbs, self.wanted.get(IC_SB_LOCKED, {}),
                                  active=bool(self.active) and self.config.enable_ic,
                                  probe_interval=self.config.probe_interval_ms):
            self.mark_all_dirty()
        probes.apply(self.dbs, self.config.probe_interval_ms)
        self._sync()
        self.metrics.iteration_seconds.observe(time.monotonic() - started)

    def _track_lock(self) -> None:
        sb = self.dbs["sb"]
        if not sb.synced:
            return
        active = sb.has_lock
        if active != self.active:
            if active:
                log.info("lock.acquired", lock=LOCK_NAME, state="active",
                         message="ovn-ic lock acquired. This instance is now active.")
                self.mark_all_dirty()
            elif self.active is not None or sb.is_lock_contended:
                log.info("lock.lost" if self.active else "lock.standby", lock=LOCK_NAME,
                         state="standby",
                         message="This instance is on standby: another holds the ovn_ic lock.")
            self.active = active
            self.metrics.lock_held.set(1 if active else 0)

    def _sync(self) -> None:
        needed = DATABASE_ORDER if self.config.enable_ic else LEAVING_NEEDS
        waiting = [key for key in needed if not self.dbs[key].connected]
        if waiting:
            self.health.set(False, "waiting for databases: " + ", ".join(waiting))
            return
        if not self.active:
            if self.dbs["sb"].is_lock_contended:
                self.health.set(True, "standby: another instance holds the ovn_ic lock")
                self._notify_ready("standby")
            return
        if any(db.busy for db in self.dbs.values()) or time.monotonic() < self.retry_at:
            return
        self.retry_at = 0.0
        ctx = self._context()
        if not self._update_identity(ctx):
            return
        plans = self._compute(ctx)
        if plans:
            self._commit(plans)
        elif not self.dirty - self._waiting_for_az(ctx):
            self._converged()

    def _context(self) -> Context:
        tables = {key: {name: table.rows for name, table in db.tables.items()}
                  for key, db in self.dbs.items()}
        ctx = Context(config=self.config, tables=tables,
                      schemas={key: db.schema for key, db in self.dbs.items() if db.schema},
                      global_writer=self.global_writer.database(self.dbs))
        identity = az_sync.resolve(ctx)
        ctx.az_name, ctx.az = identity.name, identity.row
        self._identity_now = identity
        return ctx

    def _update_identity(self, ctx: Context) -> bool:
        """Track the AZ; everything is recomputed when it changes.  False: stay idle."""
        identity = self._identity_now
        key = (identity.name, identity.row.uuid if identity.row is not None else None)
        if key != self.identity:
            self.identity = key
            self.mark_all_dirty()
        if identity.idle_reason != self.idle_reason:
            self.idle_reason = identity.idle_reason
            self.metrics.set_idle_reason(identity.idle_reason)
            if identity.idle_reason:
                log.warning("daemon.idle", reason=identity.idle_reason,
                            message=_IDLE_MESSAGES[identity.idle_reason])
        if identity.idle_reason == "ic-disabled":
            self._leave(ctx)
            return False
        if identity.idle_reason == "no-nb-global":
            self.changed.clear()
            self.dirty.clear()
            self._forget_changed_rows()
            self._converged()
            return False
        return True

    def _leave(self, ctx: Context) -> None:
        """enable-ic=false: take the next step of leaving (sync/leave.py), then stay idle."""
        recompute = bool(self.dirty) or bool(self.leaving.input_tables() & self.changed)
        self.changed.clear()
        self.dirty.clear()
        self._forget_changed_rows()
        plan = None
        if recompute:
            self.metrics.recomputes.labels(concern=self.leaving.name).inc()
            reachable = {key: tables for key, tables in ctx.tables.items()
                         if self.dbs[key].connected}
            plan = self.leaving.plan(dataclasses.replace(ctx, tables=reachable))
        if plan:
            self._commit([plan])
        else:
            self._converged()

    def _waiting_for_az(self, ctx: Context) -> set[str]:
        if ctx.az is not None:
            return set()
        return {concern.name for concern in self.concerns if concern.needs_az}

    def _compute(self, ctx: Context) -> list[Plan]:
        now = time.monotonic()
        for concern in self.concerns:
            due = concern.recheck_at is not None and concern.recheck_at <= now
            if due or concern.input_tables() & self.changed:
                self.dirty.add(concern.name)
        self.changed.clear()
        blocked = self._waiting_for_az(ctx)
        plans = []
        for concern in self.concerns:
            if concern.name not in self.dirty or concern.name in blocked:
                continue
            self.dirty.discard(concern.name)
            self.metrics.recomputes.labels(concern=concern.name).inc()
            plan = concern.plan(self._context_for(concern, ctx))
            concern.report(self.metrics)
            if plan:
                plans.append(plan)
        return plans

    def _commit(self, plans: list[Plan]) -> None:
        counts: dict[str, Counter] = {}  # per database: changes per (concern, effect)
        for plan in plans:
            for (key, effect), count in plan.counts().items():
                counts.setdefault(key, Counter())[plan.concern, effect] += count
        for key, (ops, comments) in split_by_database(plans).items():
            db = self.dbs[key]
            txn = build_transaction(db.idl, ops, ["ovn-ic-controller", *comments])
            db.submit(txn, lambda outcome, error, key=key, counts=counts[key]:
                      self._committed(key, outcome, error, counts))

    def _committed(self, key: str, outcome: str, error: str, counts) -> None:
        self.metrics.transactions.labels(db=key, outcome=outcome).inc()
        if outcome in (Txn.SUCCESS, Txn.UNCHANGED):
            self.retry_delay = RETRY_MIN_S
            for (concern, effect), n in counts.items():
                self.metrics.rows_changed.labels(concern=concern, op=effect).inc(n)
            return
        self.mark_all_dirty()
        if outcome == Txn.NOT_LOCKED:
            log.info("txn.not_locked", db=key)
            return
        # Q8: retry soon, but back off so a persistent error is not a hot loop.
        self.retry_at = time.monotonic() + self.retry_delay
        log.warning("txn.failed", db=key, outcome=outcome, error=error,
                    retry_in_s=round(self.retry_delay, 2))
        self.retry_delay = min(self.retry_delay * 2, RETRY_MAX_S)

    def _converged(self) -> None:
        if any(db.busy for db in self.dbs.values()):
            return
        self.metrics.last_sync.set_to_current_time()
        if not self.converged_once:
            self.converged_once = True
            log.info("daemon.synced", az=self.identity[0] if self.identity else "",
                     idle_reason=self.idle_reason)
        self.health.set(True, "active: in sync" if not self.idle_reason
                        else f"active, idle: {self.idle_reason}")
        self._notify_ready("active")

    def _notify_ready(self, state: str) -> None:
        sdnotify.notify(f"READY=1\nSTATUS={state}")

    def mark_all_dirty(self) -> None:
        self.dirty = {concern.name for concern in self.concerns}
        self._forget_changed_rows()

    # ----------------------------------------------------------- changed rows
    def _forget_changed_rows(self) -> None:
        """Stop tracking rows until each incremental concern has recomputed in full."""
        self.changed_rows = {concern.name: None for concern in self.concerns
                             if concern.incremental}

    def _track_rows(self, key: str, changed: dict[str, set]) -> None:
        """Add the rows changed in database ``key`` to what each incremental concern has
        pending, for the tables it reads."""
        for concern in self.concerns:
            pending = self.changed_rows.get(concern.name)
            if pending is None:
                continue
            inputs = concern.input_tables()
            for table, uuids in changed.items():
                if (key, table) in inputs:
                    pending.setdefault((key, table), set()).update(uuids)

    def _context_for(self, concern: Concern, ctx: Context) -> Context:
        """``ctx`` with, for an incremental concern, the rows changed since its last plan()."""
        if not concern.incremental:
            return ctx
        changed, self.changed_rows[concern.name] = self.changed_rows[concern.name], {}
        return dataclasses.replace(ctx, changed_rows=changed)

    # ---------------------------------------------------------------- reload
    def reload(self) -> None:
        """SIGHUP: adopt a valid new file with the smallest change; keep the old otherwise."""
        try:
            new = self.reload_config()
            self.metrics_server.serve(new)  # moves only when it can: else refused, as a whole
        except ConfigError as exc:
            self.metrics.config_reloads.labels(outcome="rejected").inc()
            log.error("config.reload_rejected", error=str(exc),
                      message="keeping the configuration in force")
            return
        old, self.config = self.config, new
        self.metrics.config_reloads.labels(outcome="applied").inc()
        reconnect = {key for key in DATABASE_ORDER if old.remotes[key] != new.remotes[key]}
        if (old.probe_interval_ms != new.probe_interval_ms
                or (old.ssl_private_key, old.ssl_certificate, old.ssl_ca_cert)
                != (new.ssl_private_key, new.ssl_certificate, new.ssl_ca_cert)):
            reconnect = set(DATABASE_ORDER)
        if reconnect:
            self.open_databases(only=reconnect)
            if "sb" in reconnect:
                self.active = None
        self.mark_all_dirty()
        log.info("config.reloaded", path=new.path, reconnected=sorted(reconnect))


def _tune_gc() -> None:
    """Make full garbage collections rare.

    The replicas are millions of long-lived objects.  With CPython's default
    thresholds every growth of the heap by a quarter re-traverses all of them:
    loading 10,000 routes ran a dozen full collections of up to 150 ms each, on
    the critical path, finding nothing.  Young objects are still collected
    often (most garbage dies young), and reference counting frees the rest.
    """
    gc.set_threshold(50_000, 20, 100)


_IDLE_MESSAGES = {
    "ic-disabled": "enable-ic is false: leaving the interconnection, then idle",
    "no-nb-global": "the local NB has no NB_Global row yet (is ovn-northd running?)",
    "no-az-name": "neither az-name in the configuration nor NB_Global.name is set",
}
