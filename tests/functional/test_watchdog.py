"""systemd's watchdog, with the test in systemd's place: it owns NOTIFY_SOCKET, sets
WATCHDOG_USEC, and kills the daemon when the pings stop.

A frozen active instance on a unix socket keeps the ovn_ic lock (ovsdb-server does
not probe unix clients), so the standby never takes over by itself; the watchdog
is what ends it, and the standby must then be writing within 5 s of the kill.
"""

from __future__ import annotations

import itertools
import signal
import socket
import sys
import time
from pathlib import Path

from controller import Controller
from testbed import wait_until

WATCHDOG_S = 2.0  # WatchdogSec=2s: the daemon pings every second
M = "ovn_ic_controller_"
FAULTY = [sys.executable, str(Path(__file__).with_name("faulty_daemon.py"))]
TAKEOVER_S = 5.0


def az_rows(tb):
    out = tb.ic_sbctl("--format=csv", "--data=bare", "--no-headings",
                      "--columns=_uuid,name", "list", "Availability_Zone")
    return sorted(tuple(line.split(",", 1)) for line in out.splitlines())


def watched(testbed, sock, **kwargs):
    """A Controller of az1 that systemd (``sock``) watches."""
    env = {"NOTIFY_SOCKET": sock.getsockname(), "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))}
    return Controller(testbed, testbed.azs[0], env=env, **kwargs)


def pings(sock, seconds):
    """When WATCHDOG=1 arrived on ``sock`` in the next ``seconds``."""
    arrived = []
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            break
        if "WATCHDOG=1" in message.splitlines():
            arrived.append(time.monotonic())
    return arrived


def drain(sock):
    sock.setblocking(False)
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        pass


def assert_periodic(arrived, seconds):
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrived)]
    assert len(arrived) >= seconds / (WATCHDOG_S / 2) - 1, arrived
    assert max(gaps) < WATCHDOG_S, f"gaps between pings: {gaps}"


def process_state(ctl):
    """The kernel's one-letter state of the daemon (T: stopped)."""
    stat = Path(f"/proc/{ctl.process.pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0]


def notify_socket(testbed):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(testbed.workdir / "notify.sock"))
    return sock


def test_a_frozen_active_stops_pinging_and_the_standby_writes_within_5s_of_its_kill(testbed):
    with notify_socket(testbed) as sock:
        active = watched(testbed, sock, name="ctl-a").start()
        standby = Controller(testbed, testbed.azs[0], name="ctl-b").start()
        active.wait_metric(M + "lock_held", 1.0)
        standby.wait_metric(M + "lock_held", 0.0)
        standby.wait_until(lambda: [name for _, name in az_rows(testbed)] == ["az1"],
                           message="az1 registered")
        [(az_uuid, _)] = az_rows(testbed)
        assert_periodic(pings(sock, 4.0), 4.0)

        active.send(signal.SIGSTOP)
        wait_until(lambda: process_state(active) == "T", message="the active is stopped")
        drain(sock)  # sent before it stopped
        assert pings(sock, WATCHDOG_S) == [], "a stopped daemon kept pinging"
        # The lock stays with the frozen instance: nothing but its death frees it.
        assert standby.metric(M + "lock_held") == 0.0
        testbed.ic_sbctl("destroy", "Availability_Zone", az_uuid)  # for the survivor to redo

        # Systemd's part: no ping for WatchdogSec, so the daemon is killed.
        killed = time.monotonic()
        active.kill()
        wait_until(lambda: [name for uuid, name in az_rows(testbed) if uuid != az_uuid]
                   == ["az1"], timeout=30, interval=0.02,
                   message="az1 registered again by the standby")
        took = time.monotonic() - killed
        print(f"\nstandby writing {took:.2f} s after the frozen active was killed")
        assert took <= TAKEOVER_S, f"the standby took {took:.2f} s to take over"
        assert standby.metric(M + "lock_held") == 1.0
        assert standby.events("lock.acquired")


def test_a_hung_loop_stops_pinging_though_the_process_runs(testbed):
    """The pings come from the loop, not from a thread that outlives it."""
    az1 = testbed.azs[0]
    with notify_socket(testbed) as sock:
        ctl = watched(testbed, sock, command=FAULTY).start()
        assert_periodic(pings(sock, 3.0), 3.0)
        az1.sbctl("chassis-add", "gw1", "geneve", "192.0.2.1")
        az1.sbctl("set", "Chassis", "gw1", "other_config:is-interconn=true",
                  "other_config:test-hang=gateways")
        wait_until(lambda: pings(sock, WATCHDOG_S) == [], timeout=30, interval=0,
                   message="pings stop once the loop hangs")
        assert pings(sock, WATCHDOG_S) == []
        assert process_state(ctl) in ("R", "S")  # running, not stopped
        assert ctl.http("/healthz")[0] is not None  # its metrics thread still answers
        ctl.kill()  # as systemd would; SIGTERM cannot reach a loop that never returns
