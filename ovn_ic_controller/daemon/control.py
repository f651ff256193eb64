"""The ``ovn-appctl`` control socket: the ovs library's unixctl server and its verbs.

The verbs ``ovn-ic`` answers, with its replies (23.03, and 23.06 for the
connection statuses): ``exit``, ``pause``, ``resume``, ``is-paused``,
``status``, ``nb-connection-status``, ``sb-connection-status``,
``ic-nb-connection-status``, ``ic-sb-connection-status``; and ours:
``recompute`` (every concern in full), ``show`` (what ``ovn-ic-controller
show`` prints, from this daemon's replicas), ``vlog/set LEVEL`` and
``vlog/list``.

Paused, the daemon keeps its replicas current and its lock, and writes
nothing: unlike ``ovn-ic``, whose pause releases the lock so that a standby
takes over, a paused AZ stays frozen, and /readyz says so (503).  To hand over
to a standby, stop the daemon.

By default the socket is ``<rundir>/ovn-ic-controller.<pid>.ctl`` beside a
locked ``<rundir>/ovn-ic-controller.pid``, as OVS daemons name them, so that
``ovn-appctl -t ovn-ic-controller`` finds it; rundir is ``$OVN_RUNDIR``, else
``/var/run/ovn``, as for ``ovn-appctl``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import ovs.daemon
import ovs.unixctl
import ovs.unixctl.server
import ovs.util

from .. import __version__, logs, sdnotify, show
from ..config import Config, ConfigError
from ..constants import IC_NB, IC_SB, NB, SB
from ..db.connection import tables_of
from ..logs import quote
from ..sync.base import Context

log = logs.get("control")

PROGRAM = "ovn-ic-controller"
DEFAULT_RUNDIR = "/var/run/ovn"
CONNECTION_VERBS = {"nb-connection-status": NB, "sb-connection-status": SB,
                    "ic-nb-connection-status": IC_NB, "ic-sb-connection-status": IC_SB}
# vlog/set accepts OVS's level names as well as ours.
VLOG_LEVELS = {"dbg": "debug", "debug": "debug", "info": "info", "warn": "warning",
               "warning": "warning", "err": "error", "error": "error", "emer": "error"}


def rundir() -> str:
    return os.environ.get("OVN_RUNDIR") or DEFAULT_RUNDIR


def socket_path(configured: str) -> tuple[str, str | None]:
    """The control socket's path and the pidfile to write with it (None: none)."""
    if not configured:
        return f"{rundir()}/{PROGRAM}.{os.getpid()}.ctl", f"{rundir()}/{PROGRAM}.pid"
    return ovs.util.abs_file_name(rundir(), configured), None


class Control:
    """Serves the verbs for ``daemon`` (a loop.Daemon) on the loop's own Poller."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self.paused = False
        self.server: ovs.unixctl.server.UnixctlServer | None = None
        daemon.metrics.paused.set(0)

    def open(self, config: Config) -> None:
        """Listen; ConfigError (exit 78) when the socket cannot be created."""
        path, pidfile = socket_path(config.unixctl)
        ovs.util.PROGRAM_NAME = PROGRAM  # what the "version" verb names
        running = ovs.daemon.read_pidfile(pidfile) if pidfile else 0  # > 0: a live holder
        if running > 0:
            raise ConfigError(f"{config.path}: key 'unixctl' = '': {pidfile}: pid {running} "
                              f"runs with the default control socket; give each instance "
                              f"on this host its own unixctl")
        error, self.server = ovs.unixctl.server.UnixctlServer.create(path, __version__)
        if error:
            raise ConfigError(f"{config.path}: key 'unixctl' = {quote(config.unixctl)}: "
                              f"cannot listen on {quote(path)}: {os.strerror(error)}")
        if pidfile:  # written once the socket it names is there
            ovs.daemon.set_pidfile(pidfile)
            ovs.daemon.daemonize_start()  # no fork: only the locked pidfile, gone at exit
        for name, usage, args, handler in self._verbs():
            ovs.unixctl.command_register(name, usage, args, args, _reply(handler), None)
        # ovn-appctl's errors point to list-commands: the library's "help" under that name
        ovs.unixctl.command_register("list-commands", "", 0, 0,
                                     ovs.unixctl.commands["help"].callback, None)
        log.info("control.listening", path=path,
                 target=PROGRAM if pidfile else path)

    def _verbs(self) -> list[tuple[str, str, int, Callable[[list[str]], str]]]:
        verbs = [("exit", "", 0, self.exit), ("pause", "", 0, self.pause),
                 ("resume", "", 0, self.resume), ("is-paused", "", 0, self.is_paused),
                 ("status", "", 0, self.status), ("recompute", "", 0, self.recompute),
                 ("show", "", 0, self.show), ("vlog/set", "LEVEL", 1, self.vlog_set),
                 ("vlog/list", "", 0, self.vlog_list)]
        verbs += [(name, "", 0, lambda _argv, key=key: self.connection_status(key))
                  for name, key in CONNECTION_VERBS.items()]
        return verbs

    def wait(self, poller: Any) -> None:
        if self.server is not None:
            self.server.wait(poller)

    def run(self) -> None:
        if self.server is not None:
            self.server.run()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def holds(self) -> bool:
        """Paused: nothing is written this pass, and /readyz says why."""
        if self.paused:
            self.daemon.health.set(False, "paused: writing nothing until "
                                          f"'ovn-appctl -t {PROGRAM} resume'")
        return self.paused

    # ----------------------------------------------------------------- verbs
    # Each returns the reply's text; ValueError is replied as an error.
    def exit(self, _argv: list[str]) -> str:
        log.info("control.exit", message="exiting, as asked by ovn-appctl")
        self.daemon.exiting = True
        return ""

    def pause(self, _argv: list[str]) -> str:
        if not self.paused:
            log.warning("control.paused", message="paused: replicas kept current, lock kept, "
                                                  "nothing written")
        self.paused = True
        self.daemon.metrics.paused.set(1)
        sdnotify.notify("STATUS=paused: writing nothing until resumed")
        return ""

    def resume(self, _argv: list[str]) -> str:
        if self.paused:
            log.info("control.resumed")
            self.daemon.mark_all_dirty()  # level-triggered: everything is looked at again
        self.paused = False
        self.daemon.metrics.paused.set(0)
        return ""

    def is_paused(self, _argv: list[str]) -> str:
        return "true\n" if self.paused else "false\n"

    def status(self, _argv: list[str]) -> str:
        """As ovn-ic: paused, else active while this instance holds the lock, else standby."""
        if self.paused:
            return "Status: paused\n"
        return "Status: active\n" if self.daemon.status.active else "Status: standby\n"

    def connection_status(self, key: str) -> str:
        db = self.daemon.dbs.get(key)
        return "connected\n" if db is not None and db.connected else "not connected\n"

    def recompute(self, _argv: list[str]) -> str:
        log.info("control.recompute")
        self.daemon.mark_all_dirty()
        return ""

    def show(self, _argv: list[str]) -> str:
        daemon = self.daemon
        sb = daemon.dbs[SB]
        held = daemon.status.active or sb.is_lock_contended
        ctx = Context(config=daemon.config, tables=tables_of(daemon.dbs))
        return show.render(show.gather(ctx, "held" if held else "free")) + "\n"

    def vlog_set(self, argv: list[str]) -> str:
        """``vlog/set LEVEL``, or OVS's ``[module:][destination:]level`` form."""
        level = VLOG_LEVELS.get(argv[0].rpartition(":")[2].lower())
        if level is None:
            raise ValueError(f"unknown level {argv[0]!r}: one of "
                             + ", ".join(sorted(set(VLOG_LEVELS))))
        logs.set_level(level)
        log.info("control.log_level", log_level=level)
        return ""

    def vlog_list(self, _argv: list[str]) -> str:
        return f"{'':20s}console\n{'':20s}-------\n{PROGRAM:20s}{logs.level().upper()}\n"


def _reply(handler: Callable[[list[str]], str]) -> Callable:
    """The unixctl callback of ``handler``: a verb that fails answers an error, and the
    daemon goes on (a bug in ``show`` must not stop the interconnection)."""
    def callback(conn: Any, argv: list[str], _aux: Any) -> None:
        try:
            text = handler(argv)
        except ValueError as exc:
            conn.reply_error(f"{exc}\n")
            return
        except Exception as exc:
            log.exception("control.verb_failed", verb=handler.__name__)
            conn.reply_error(f"failed: {exc!r}\n")
            return
        conn.reply(text)
    return callback
