"""Two instances for one AZ: the ovn_ic lock makes one active, and the other takes over."""

from __future__ import annotations

import time

from controller import Controller
from testbed import wait_until

M = "ovn_ic_controller_"
TIMEOUT = 30


def az_rows(tb):
    out = tb.ic_sbctl("--format=csv", "--data=bare", "--no-headings",
                      "--columns=_uuid,name", "list", "Availability_Zone")
    return sorted(tuple(line.split(",", 1)) for line in out.splitlines())


def test_one_of_two_instances_is_active_and_the_other_takes_over_within_5s(testbed):
    az1 = testbed.azs[0]
    pair = [Controller(testbed, az1, name="ctl-a").start(),
            Controller(testbed, az1, name="ctl-b").start()]
    wait_until(lambda: all(ctl.metric(M + "lock_held") is not None for ctl in pair),
               timeout=TIMEOUT, message="both instances report lock_held")
    held = [ctl.metric(M + "lock_held") for ctl in pair]
    assert sorted(held) == [0.0, 1.0]
    active, standby = pair if held[0] == 1.0 else pair[::-1]
    wait_until(lambda: [name for _, name in az_rows(testbed)] == ["az1"], timeout=TIMEOUT,
               message="az1 registered")
    [(az_uuid, _)] = az_rows(testbed)

    # The standby is ready (it is doing its job: waiting) but writes nothing.
    status, body = standby.http("/readyz")
    assert status == 200 and "standby" in body
    assert standby.events("lock.standby")
    _, metrics = standby.http("/metrics")
    assert M + "transactions_total{" not in metrics
    assert active.metric(M + "transactions_total", db="ic_sb", outcome="success") >= 1

    killed = time.monotonic()
    active.kill()
    # Something for the new active instance to repair.
    testbed.ic_sbctl("destroy", "Availability_Zone", az_uuid)
    wait_until(lambda: [name for uuid, name in az_rows(testbed) if uuid != az_uuid] == ["az1"],
               timeout=TIMEOUT, message="az1 registered again by the survivor")
    took = time.monotonic() - killed
    assert took < 5.0, f"the standby took {took:.1f}s to take over"
    assert standby.metric(M + "lock_held") == 1.0
    assert standby.events("lock.acquired")
    assert standby.metric(M + "transactions_total", db="ic_sb", outcome="success") >= 1
    assert len(az_rows(testbed)) == 1
