"""A concern that raises costs that concern only, in the real daemon on real databases.

The daemon runs through tests/functional/faulty_daemon.py, which makes a concern
raise while a local SB Chassis carries other_config:test-fault=<its name>.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from controller import Controller

FAULTY = [sys.executable, str(Path(__file__).with_name("faulty_daemon.py"))]
M = "ovn_ic_controller_"
TIMEOUT = 30


def add_gateway(az, name, ip):
    az.sbctl("chassis-add", name, "geneve", ip)
    az.sbctl("set", "Chassis", name, f"hostname={name}-host", "other_config:is-interconn=true")


def gateways(tb):
    return sorted(tb.ic_sbctl("--bare", "--columns=name", "list", "Gateway").split())


def switches(az):
    return az.nbctl("--bare", "--columns=name", "list", "Logical_Switch").split()


def test_a_raising_concern_leaves_the_others_syncing_and_is_retried_until_it_recovers(
        testbed):
    az1 = testbed.azs[0]
    ctl = Controller(testbed, az1, command=FAULTY).start()
    add_gateway(az1, "gw1", "192.0.2.1")
    ctl.wait_until(lambda: gateways(testbed) == ["gw1"], timeout=TIMEOUT,
                   message="gw1 published")

    az1.sbctl("set", "Chassis", "gw1", "other_config:test-fault=gateways")
    ctl.wait_until(lambda: ctl.http("/readyz") == (200, "active, failing: gateways\n"),
                   timeout=TIMEOUT, message="/readyz names the failing concern")
    assert ctl.metric(M + "concern_errors_total", concern="gateways") >= 1
    failed = ctl.events("concern.failed", concern="gateways")
    assert "RuntimeError: fault injected into gateways" in failed[0]["exception"]
    assert failed[0]["level"] == "error"

    # The other concerns keep syncing: a new transit switch gets its NB mirror.
    testbed.ic_nbctl("ts-add", "ts1")
    ctl.wait_until(lambda: "ts1" in switches(az1), timeout=TIMEOUT,
                   message="ts1 mirrored while gateways fails")
    # The failing one writes nothing, not even what is unrelated to the bad row.
    add_gateway(az1, "gw2", "192.0.2.2")
    time.sleep(1.0)  # long enough for a recomputation of gateways to publish gw2
    assert gateways(testbed) == ["gw1"]
    errors = ctl.metric(M + "concern_errors_total", concern="gateways")

    # Switched off, it is retried (alone, after its backoff) and catches up.
    az1.sbctl("remove", "Chassis", "gw1", "other_config", "test-fault")
    ctl.wait_until(lambda: gateways(testbed) == ["gw1", "gw2"], timeout=TIMEOUT,
                   message="gw2 published once gateways recovered")
    ctl.wait_until(lambda: ctl.http("/readyz") == (200, "active: in sync\n"),
                   timeout=TIMEOUT, message="in sync again")
    assert ctl.events("concern.recovered", concern="gateways")
    assert ctl.metric(M + "concern_errors_total", concern="gateways") >= errors
    assert ctl.metric(M + "concern_errors_total", concern="transit_switches") is None
    assert ctl.process.poll() is None
