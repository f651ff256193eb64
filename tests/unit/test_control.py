"""The ovn-appctl verbs (daemon/control.py) on a stand-in daemon: replies as ovn-ic gives them."""

import types

import pytest
import structlog

from ovn_ic_controller import logs
from ovn_ic_controller.daemon import control
from ovn_ic_controller.metrics import Health, Metrics


def daemon(active=True, connected=("nb", "sb", "ic_nb", "ic_sb")):
    world = types.SimpleNamespace(
        metrics=Metrics(), health=Health(), exiting=False, dirty=0,
        status=types.SimpleNamespace(active=active),
        dbs={key: types.SimpleNamespace(connected=key in connected)
             for key in ("nb", "sb", "ic_nb", "ic_sb")})
    world.mark_all_dirty = lambda: setattr(world, "dirty", world.dirty + 1)
    return world


def paused(world):
    return world.metrics.registry.get_sample_value("ovn_ic_controller_paused")


def test_status_is_paused_then_active_or_standby_as_ovn_ic_prints_it():
    ctl = control.Control(daemon(active=True))
    assert ctl.status([]) == "Status: active\n"
    assert control.Control(daemon(active=False)).status([]) == "Status: standby\n"
    assert control.Control(daemon(active=None)).status([]) == "Status: standby\n"
    assert ctl.pause([]) == "" and ctl.status([]) == "Status: paused\n"


def test_pause_holds_the_loop_says_so_and_resume_recomputes_everything(monkeypatch):
    told = []
    monkeypatch.setattr(control.sdnotify, "notify", told.append)
    world = daemon()
    ctl = control.Control(world)
    assert not ctl.holds() and ctl.is_paused([]) == "false\n" and paused(world) == 0
    ctl.pause([])
    assert ctl.holds() and ctl.is_paused([]) == "true\n" and paused(world) == 1
    ready, why = world.health.get()
    assert not ready and why.startswith("paused")
    assert told == ["STATUS=paused: writing nothing until resumed"]  # what systemctl shows
    ctl.resume([])
    assert not ctl.holds() and paused(world) == 0 and world.dirty == 1
    ctl.resume([])  # resuming a running daemon changes nothing
    assert world.dirty == 1


def test_connection_statuses_name_each_database():
    ctl = control.Control(daemon(connected=("nb", "ic_nb")))
    replies = {verb: ctl.connection_status(key) for verb, key in control.CONNECTION_VERBS.items()}
    assert replies == {"nb-connection-status": "connected\n",
                       "sb-connection-status": "not connected\n",
                       "ic-nb-connection-status": "connected\n",
                       "ic-sb-connection-status": "not connected\n"}


def test_exit_and_recompute():
    world = daemon()
    ctl = control.Control(world)
    assert ctl.recompute([]) == "" and world.dirty == 1
    assert ctl.exit([]) == "" and world.exiting


def test_vlog_set_takes_ours_and_ovs_level_names(monkeypatch):
    ctl = control.Control(daemon())
    monkeypatch.setattr(logs, "_level", logs.level())  # restored after the test, as is
    saved = structlog.get_config()
    try:
        for spec, level in (("debug", "debug"), ("ANY:console:warn", "warning"), ("err", "error"),
                            ("INFO", "info")):
            assert ctl.vlog_set([spec]) == ""
            assert logs.level() == level
            assert ctl.vlog_list([]).split()[-1] == level.upper()
        with pytest.raises(ValueError, match="unknown level 'loud'"):
            ctl.vlog_set(["loud"])
    finally:
        structlog.configure(**saved)  # ... structlog's configuration


def test_the_default_socket_is_named_as_ovs_daemons_name_theirs(monkeypatch):
    monkeypatch.setenv("OVN_RUNDIR", "/run/x")
    monkeypatch.setattr(control.os, "getpid", lambda: 42)
    assert control.socket_path("") == ("/run/x/ovn-ic-controller.42.ctl",
                                       "/run/x/ovn-ic-controller.pid")
    assert control.socket_path("my.ctl") == ("/run/x/my.ctl", None)
    assert control.socket_path("/tmp/a.ctl") == ("/tmp/a.ctl", None)
    monkeypatch.delenv("OVN_RUNDIR")
    assert control.socket_path("")[1] == "/var/run/ovn/ovn-ic-controller.pid"


class Connection:
    """What a unixctl callback answers on, as ovs.unixctl.server.UnixctlConnection."""

    def __init__(self):
        self.replies = []

    def reply(self, text):
        self.replies.append(("ok", text))

    def reply_error(self, text):
        self.replies.append(("error", text))


def test_a_verb_that_fails_answers_an_error_and_the_daemon_goes_on():
    def broken(_argv):
        raise KeyError("no such table")
    conn = Connection()
    control._reply(broken)(conn, [], None)
    control._reply(control.Control(daemon()).status)(conn, [], None)
    control._reply(control.Control(daemon()).vlog_set)(conn, ["loud"], None)
    assert conn.replies[0] == ("error", "failed: KeyError('no such table')\n")
    assert conn.replies[1] == ("ok", "Status: active\n")
    assert conn.replies[2][0] == "error" and "unknown level 'loud'" in conn.replies[2][1]
