"""The ovn-appctl control socket (daemon/control.py), driven by Debian's real ``ovn-appctl``.

Every verb, with the replies ``ovn-ic`` gives; pause keeps the replicas current
and the lock but writes nothing until resume; exit stops the process cleanly;
recompute recomputes every concern; the connection statuses follow a database
going away and coming back; vlog/set changes what is logged.
"""

from __future__ import annotations

import os
import time

import pytest
from controller import Controller, run_cli
from icview import ours_everywhere
from routeview import ic_routes, learned, routers_on_ts1, wait_for
from testbed import HOST_RELEASE, wait_until

M = "ovn_ic_controller_"
VERBS = ("exit", "pause", "resume", "is-paused", "status", "nb-connection-status",
         "sb-connection-status", "ic-nb-connection-status", "ic-sb-connection-status",
         "recompute", "show", "vlog/set", "vlog/list", "list-commands", "version")


def reply(ctl, *args, **kwargs):
    """The stdout of a successful ``ovn-appctl`` call."""
    result = ctl.appctl(*args, **kwargs)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def test_the_default_socket_is_found_by_name_and_answers_as_ovn_ic(testbed):
    az1 = testbed.azs[0]
    ctl = Controller(testbed, az1, unixctl=None).start()  # the default: in OVN_RUNDIR
    rundir = testbed.env["OVN_RUNDIR"]
    assert open(f"{rundir}/ovn-ic-controller.pid").read().strip() == str(ctl.process.pid)
    socket = f"{rundir}/ovn-ic-controller.{ctl.process.pid}.ctl"
    assert reply(ctl, "status", target="ovn-ic-controller") == "Status: active\n"
    assert reply(ctl, "status", target=socket) == "Status: active\n"
    assert reply(ctl, "is-paused", target=socket) == "false\n"
    for verb in ("nb-connection-status", "sb-connection-status", "ic-nb-connection-status",
                 "ic-sb-connection-status"):
        assert reply(ctl, verb, target=socket) == "connected\n"
    listed = reply(ctl, "list-commands", target=socket)
    assert all(f"  {verb}" in listed for verb in VERBS), listed
    assert "ovn-ic-controller" in reply(ctl, "version", target=socket)
    show = reply(ctl, "show", target=socket)
    assert "availability-zone az1 (this AZ)" in show
    assert "ovn_ic lock: held" in show
    unknown = ctl.appctl("no-such-verb", target=socket)
    assert unknown.returncode != 0 and "not a valid command" in unknown.stderr

    assert reply(ctl, "exit", target=socket) == ""
    assert ctl.process.wait(10) == 0
    assert ctl.events("control.exit") and ctl.events("daemon.stopped")
    assert not os.path.exists(socket)
    assert not os.path.exists(f"{rundir}/ovn-ic-controller.pid")


def test_a_second_instance_with_the_default_socket_is_refused(testbed):
    first = Controller(testbed, testbed.azs[0], unixctl=None).start()
    second = Controller(testbed, testbed.azs[0], name="second", unixctl=None)
    second.start(wait_ready=False)
    assert second.process.wait(30) == 78
    assert (f"{second.config_path}: key 'unixctl' = '': {testbed.env['OVN_RUNDIR']}/"
            f"ovn-ic-controller.pid: pid {first.process.pid} runs with the default control "
            f"socket") in second.log_path.read_text()
    assert reply(first, "status", target="ovn-ic-controller") == "Status: active\n"


def test_paused_the_daemon_writes_nothing_keeps_the_lock_and_its_replicas_current(testbed):
    ctl1, ctl2 = ours_everywhere(testbed)
    az1, az2 = testbed.azs
    routers_on_ts1(testbed)
    az1.nbctl("lr-route-add", "lr1", "10.11.1.0/24", "169.254.0.1")
    wait_for(lambda: learned(az2, "lr2"), "az2 learned az1's route")

    assert reply(ctl1, "pause") == ""
    assert reply(ctl1, "is-paused") == "true\n"
    assert reply(ctl1, "status") == "Status: paused\n"
    ctl1.wait_metric(M + "paused", 1)
    status, body = ctl1.http("/readyz")
    assert status == 503 and "paused" in body
    az1.nbctl("lr-route-add", "lr1", "10.11.9.0/24", "169.254.0.1")
    az2.nbctl("lr-route-add", "lr2", "10.12.2.0/24", "169.254.0.2")
    # The replicas stay current: show, from az1's own replica of the IC SB, lists the
    # route az2 advertised meanwhile.
    wait_until(lambda: "10.12.2.0/24" in reply(ctl1, "show"), timeout=30,
               message="az1's replica shows az2's new route")
    time.sleep(2)  # what a running daemon writes within moments
    assert not [r for r in ic_routes(testbed, "az1") if r[3] == "10.11.9.0/24"]
    assert [r[1] for r in learned(az1, "lr1")] == []  # not learned either
    assert ctl1.metric(M + "lock_held") == 1  # the lock is kept: no standby takes over
    assert reply(ctl1, "status") == "Status: paused\n"
    standby = Controller(testbed, az1, name="ctl-az1-b").start()
    assert reply(standby, "status") == "Status: standby\n"
    time.sleep(1)
    assert reply(standby, "status") == "Status: standby\n"
    assert not [r for r in ic_routes(testbed, "az1") if r[3] == "10.11.9.0/24"]
    doctor = run_cli("--config", str(ctl1.config_path), "doctor", timeout=30)
    assert doctor.returncode == 1 and "is paused" in doctor.stdout, doctor.stdout

    assert reply(ctl1, "resume") == ""
    assert reply(ctl1, "is-paused") == "false\n"
    assert reply(ctl1, "status") == "Status: active\n"
    wait_for(lambda: [r for r in ic_routes(testbed, "az1") if r[3] == "10.11.9.0/24"],
             "az1 advertises its new route after resume")
    wait_for(lambda: "10.12.2.0/24" in [r[1] for r in learned(az1, "lr1")],
             "az1 learns az2's new route after resume")
    ctl1.wait_metric(M + "paused", 0)
    ctl1.wait_ready()


def test_recompute_recomputes_every_concern(testbed):
    ctl = Controller(testbed, testbed.azs[0]).start()
    before = ctl.metric(M + "recomputes_total", concern="routes")
    assert reply(ctl, "recompute") == ""
    wait_until(lambda: ctl.metric(M + "recomputes_total", concern="routes") > before,
               timeout=10, message="routes recomputed")
    for concern in ("az", "transit_switches", "gateways", "ports"):
        assert ctl.metric(M + "recomputes_total", concern=concern) is not None


def test_connection_statuses_follow_a_database_going_away(testbed):
    ctl = Controller(testbed, testbed.azs[0]).start()
    testbed.kill_ic_sb()
    wait_until(lambda: reply(ctl, "ic-sb-connection-status") == "not connected\n",
               timeout=30, message="the IC SB is seen as gone")
    assert reply(ctl, "ic-nb-connection-status") == "connected\n"
    assert reply(ctl, "nb-connection-status") == "connected\n"
    assert reply(ctl, "sb-connection-status") == "connected\n"
    testbed.start_ic_sb()
    wait_until(lambda: reply(ctl, "ic-sb-connection-status") == "connected\n",
               timeout=30, message="the IC SB is seen again")


def test_vlog_set_changes_what_is_logged(testbed):
    ctl = Controller(testbed, testbed.azs[0], log_level="info").start()
    assert reply(ctl, "vlog/list").split()[-2:] == ["ovn-ic-controller", "INFO"]
    assert reply(ctl, "vlog/set", "warn") == ""
    assert reply(ctl, "vlog/list").split()[-1] == "WARNING"
    reply(ctl, "recompute")  # logged at info: not any more
    assert reply(ctl, "vlog/set", "ANY:console:dbg") == ""  # OVS's spelling is understood
    reply(ctl, "recompute")
    wait_until(lambda: len(ctl.events("control.recompute")) == 1, timeout=10)
    assert ctl.events("control.log_level", log_level="debug")
    bad = ctl.appctl("vlog/set", "loud")
    assert bad.returncode != 0 and "unknown level 'loud'" in bad.stderr


def test_a_socket_that_cannot_be_made_stops_the_start(testbed, tmp_path):
    path = tmp_path / "missing" / "x.ctl"
    ctl = Controller(testbed, testbed.azs[0], unixctl=str(path))
    ctl.start(wait_ready=False)
    assert ctl.process.wait(30) == 78
    assert (f"configuration error: {ctl.config_path}: key 'unixctl' = '{path}': cannot listen "
            f"on '{path}': No such file or directory") in ctl.log_path.read_text()


@pytest.mark.parametrize("release", [HOST_RELEASE, "25.03"])
def test_the_replies_are_those_of_the_release_ovn_ic(release_testbed, release):
    """Ours in az1, that release's ovn-ic in az2: each verb answers the same (compared
    without the final newline, which the testbed strips from the chroot's ovn-appctl)."""
    tb = release_testbed
    az1, az2 = tb.azs
    ours = Controller(tb, az1).start()
    az2.start_reference_ic()

    def both(*args):
        return reply(ours, *args).strip(), tb.run("ovn-appctl", "-t", az2.dir / "ic.ctl", *args)
    verbs = [["status"], ["is-paused"], ["pause"], ["status"], ["is-paused"], ["resume"],
             ["status"]]
    if release != HOST_RELEASE:  # 23.06 added them
        verbs += [[verb] for verb in ("nb-connection-status", "sb-connection-status",
                                      "ic-nb-connection-status", "ic-sb-connection-status")]
    for verb in verbs:
        if verb == ["status"]:  # the C daemon takes its lock a moment after start or resume
            wait_until(lambda: len(set(both("status"))) == 1, timeout=10,
                       message="both say the same status")
        mine, theirs = both(*verb)
        assert mine == theirs, (verb, mine, theirs)
    if release != HOST_RELEASE:
        tb.kill_ic_sb()
        wait_until(lambda: both("ic-sb-connection-status") == ("not connected",) * 2,
                   timeout=30, message="both see the IC SB gone")
