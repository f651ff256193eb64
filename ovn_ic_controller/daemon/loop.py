"""The daemon: one thread, one ovs Poller loop over the four databases.

Each iteration: process what the servers sent and tell the scheduler which rows
changed; then, when this instance may write (it holds the ``ovn_ic`` lock on
the local SB, every database is connected, none has a transaction in flight and
no failed one is being backed off from), let the scheduler compute the due
concerns and the committer write their plans, one transaction per database.
Signal handlers only record intent; a wakeup fd makes the Poller return at
once.  With enable-ic=false no concern runs: the leave planner (sync/leave.py)
withdraws this AZ instead, needing only the local NB and SB, and the daemon
then stays idle until enable-ic is true again.

The ovn-appctl socket (control.py) is served on the same Poller, at the top of
each iteration; paused, the loop keeps the replicas and the lock, writes nothing.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import os
import signal
import socket
import time
from collections.abc import Callable

import ovs.poller
import ovs.stream

from .. import logs, sdnotify, show
from ..config import Config, ConfigError
from ..constants import DATABASE_ORDER, IC_SB, IC_SB_LOCKED, LOCK_NAME, NB, SB
from ..db import ovs_compat, probes
from ..db.connection import Database, apply_ssl, tables_of
from ..db.ic_sb_lock import GlobalWriter
from ..metrics import LAST_SYNC_REFRESH_MS, Health, Metrics, MetricsServer
from ..sync import az as az_sync
from ..sync import build_concerns
from ..sync.base import Concern, Context, merge_columns
from ..sync.leave import Leave
from .committer import Committer
from .control import Control
from .scheduler import Scheduler
from .status import Status

log = logs.get("daemon")

LEAVING_NEEDS = (NB, SB)  # leaving cleans up locally even with the IC databases gone


class Daemon:
    def __init__(self, config: Config, reload_config: Callable[[], Config], *,
                 concerns: list[Concern] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``concerns`` (default: all, in ovn-ic order) and ``clock`` are for unit tests."""
        self.config = config
        self.reload_config = reload_config
        self.clock = clock
        self.metrics = Metrics()
        self.health = Health()
        self.concerns: list[Concern] = build_concerns() if concerns is None else concerns
        self.leaving = Leave()
        self.wanted = merge_columns([*self.concerns, self.leaving, show.READER])
        self.dbs: dict[str, Database] = {}
        self.global_writer = GlobalWriter()  # the ovn_ic_sb connection, on 26.03+ IC SBs
        self.metrics_server: MetricsServer | None = None
        self.scheduler = Scheduler(self.concerns, self.metrics, clock)
        self.leave_scheduler = Scheduler([self.leaving], self.metrics, clock)
        self.committer = Committer(self.metrics, self.mark_all_dirty, clock)
        self.status = Status(self.metrics, self.health)
        self.watchdog = sdnotify.Watchdog.from_environment(clock)
        self.control = Control(self)  # ovn-appctl verbs (daemon/control.py)
        self.exiting = False
        self.reload_requested = False
        self._wakeup_r: socket.socket | None = None
        self._wakeup_w: socket.socket | None = None

    # ---------------------------------------------------------------- set-up
    def open_databases(self, only: set[str] | None = None) -> None:
        apply_ssl(self.config.ssl_private_key, self.config.ssl_certificate,
                  self.config.ssl_ca_cert)
        if only is None or IC_SB in only:
            self.global_writer.close(self.dbs)
        for key in DATABASE_ORDER:
            if only is not None and key not in only:
                continue
            if key in self.dbs:
                self.dbs[key].close()
            self.dbs[key] = Database(key, self.config.remotes[key], self.wanted.get(key, {}),
                                     probe_interval=self.config.probe_interval_ms,
                                     lock=LOCK_NAME if key == SB else None)
        self.mark_all_dirty()

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
        self.control.open(self.config)
        ovs_compat.install()  # after the listeners: their errors are the one line at start
        self.metrics.publish_ovs_compat()
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
        self.control.close()
        log.info("daemon.stopped")

    def _block(self) -> None:
        poller = ovs.poller.Poller()
        for db in self.dbs.values():
            db.wait(poller)
        poller.fd_wait(self._wakeup_r.fileno(), ovs.poller.POLLIN)
        self.control.wait(poller)
        poller.timer_wait(LAST_SYNC_REFRESH_MS)
        now = self.clock()
        wake = [instant for instant in (self.committer.wake_at(now),
                                        self.scheduler.wake_at(now),
                                        self.leave_scheduler.wake_at(now),
                                        self.watchdog.wake_at())
                if instant is not None]
        if wake:
            poller.timer_wait_until(math.ceil(min(wake) * 1000))
        poller.block()
        try:
            while self._wakeup_r.recv(64):
                pass
        except BlockingIOError:
            pass

    def iterate(self) -> None:
        started = time.monotonic()
        self.watchdog.kick()  # from the loop itself: a hung loop stops pinging systemd
        self.metrics.iterations.inc()
        if self.reload_requested:
            self.reload_requested = False
            self.reload()
        self.control.run()
        for key in DATABASE_ORDER:
            db = self.dbs[key]
            db.run()
            changed, resynced = db.take_changes()
            self.scheduler.note_changes(key, changed)
            self.leave_scheduler.note_changes(key, changed)
            if resynced:
                self.mark_all_dirty()
            self.metrics.db_connected.labels(db=key).set(1 if db.connected else 0)
        if self.status.track_lock(self.dbs[SB]):
            self.mark_all_dirty()
        if self.global_writer.run(self.dbs, self.wanted.get(IC_SB_LOCKED, {}),
                                  active=bool(self.status.active) and self.config.enable_ic,
                                  probe_interval=self.config.probe_interval_ms):
            self.mark_all_dirty()
        if IC_SB_LOCKED in self.dbs:
            # The global rows are read from the replica they are written through
            # (sync/transit_switches.py): its changes are the IC SB's.
            self.scheduler.note_changes(IC_SB, self.dbs[IC_SB_LOCKED].take_changes()[0])
        probes.apply(self.dbs, self.config.probe_interval_ms)
        self._sync()
        self.metrics.iteration_seconds.observe(time.monotonic() - started)

    def _sync(self) -> None:
        if self.control.holds():
            return
        needed = DATABASE_ORDER if self.config.enable_ic else LEAVING_NEEDS
        waiting = [key for key in needed if not self.dbs[key].connected]
        if waiting:
            self.status.waiting_for(waiting)
            return
        if not self.status.active:
            self.status.standby(self.dbs[SB])
            return
        if any(db.busy for db in self.dbs.values()) or self.committer.waiting():
            return
        ctx, identity = self._context()
        if self.status.track_identity(identity):
            self.mark_all_dirty()
        if identity.idle_reason == "no-nb-global":
            self.status.converged(())
            return
        scheduler = self.scheduler
        if identity.idle_reason == "ic-disabled":
            # Leaving: the next step of it (sync/leave.py), on what is reachable.
            scheduler = self.leave_scheduler
            ctx = dataclasses.replace(ctx, tables={
                key: tables for key, tables in ctx.tables.items() if self.dbs[key].connected})
        plans = scheduler.compute(ctx)
        if plans:
            self.committer.commit(self.dbs, plans, scheduler.fail)
        elif scheduler.settled(ctx):
            self.status.converged(scheduler.failing)

    def _context(self) -> tuple[Context, az_sync.AzIdentity]:
        """The replicas to compute on, with this AZ as they name it."""
        ctx = Context(config=self.config, tables=tables_of(self.dbs),
                      schemas={key: db.schema for key, db in self.dbs.items() if db.schema},
                      global_writer=self.global_writer.database(self.dbs))
        identity = az_sync.resolve(ctx)
        return dataclasses.replace(ctx, az_name=identity.name, az=identity.row), identity

    def mark_all_dirty(self) -> None:
        self.scheduler.mark_all_dirty()
        self.leave_scheduler.mark_all_dirty()

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
            if SB in reconnect:
                self.status.forget_lock()
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
