"""Ours beside Debian's ovn-ic 23.03: AZs registered side by side, and one ovn_ic lock per AZ."""

from __future__ import annotations

import time

from controller import Controller
from testbed import CommandError, wait_until

M = "ovn_ic_controller_"
TIMEOUT = 30


def az_rows(tb):
    out = tb.ic_sbctl("--format=csv", "--data=bare", "--no-headings",
                      "--columns=_uuid,name", "list", "Availability_Zone")
    return sorted((tuple(line.split(",", 1)) for line in out.splitlines()),
                  key=lambda row: row[1])


def az_names(tb):
    return [name for _uuid, name in az_rows(tb)]


def start_reference_without_waiting(az):
    """Start the reference ovn-ic like AZ.start_reference_ic, but return before it is
    active: that helper waits for the lock, which another instance may hold."""
    tb = az.testbed
    az._ic.start("ovn-ic", f"--ovnnb-db={az.nb}", f"--ovnsb-db={az.sb}",
                 f"--ic-nb-db={tb.ic_nb}", f"--ic-sb-db={tb.ic_sb}")


def reference_status(az):
    """What `ovn-appctl status` of the AZ's reference ovn-ic says: active or standby."""
    try:
        out = az.testbed.run("ovn-appctl", "--timeout=2", "-t", az._ic.ctl, "status")
    except CommandError:
        return None
    return out.removeprefix("Status:").strip()


def test_reference_in_az1_and_ours_in_az2_are_both_registered(testbed):
    az1, az2 = testbed.azs
    az1.start_reference_ic()
    ours = Controller(testbed, az2).start()
    wait_until(lambda: az_names(testbed) == ["az1", "az2"], timeout=TIMEOUT,
               message="az1 (reference) and az2 (ours) registered")
    rows = az_rows(testbed)
    time.sleep(0.5)  # neither daemon touches the other's row: nothing changes
    assert az_rows(testbed) == rows
    assert az2.nbctl("--bare", "--columns=name", "list", "NB_Global") == "az2"
    assert ours.metric(M + "lock_held") == 1.0
    assert reference_status(az1) == "active"


def test_ours_and_the_reference_in_one_az_exclude_each_other(testbed):
    az1 = testbed.azs[0]
    ours = Controller(testbed, az1).start()
    ours.wait_metric(M + "lock_held", 1.0)
    wait_until(lambda: az_names(testbed) == ["az1"], timeout=TIMEOUT, message="az1 registered")
    [(az_uuid, _)] = az_rows(testbed)

    start_reference_without_waiting(az1)
    wait_until(lambda: reference_status(az1) == "standby", timeout=TIMEOUT,
               message="reference ovn-ic on standby")
    assert ours.metric(M + "lock_held") == 1.0

    # Ours stops: the reference takes the lock and keeps the AZ as it is.
    assert ours.stop() == 0
    wait_until(lambda: reference_status(az1) == "active", timeout=TIMEOUT,
               message="reference ovn-ic active")
    assert az_rows(testbed) == [(az_uuid, "az1")]

    # And the other way round: ours, started now, waits on standby.
    again = Controller(testbed, az1, name="ctl-az1-again").start()
    again.wait_metric(M + "lock_held", 0.0)
    status, body = again.http("/readyz")
    assert status == 200 and "standby" in body
    assert reference_status(az1) == "active"
    _, metrics = again.http("/metrics")
    assert M + "transactions_total{" not in metrics
