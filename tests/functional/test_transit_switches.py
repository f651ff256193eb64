"""Transit switches (docs/behaviour.md §3) on real ovsdb-servers and ovn-northd.

A port of OVN's tests/ovn-ic.at v23.03.1 "transit switch handling", with ours in
every AZ and in a mixed deployment both ways round, plus concurrent creation of
several transit switches by three AZs whose key-allocation hints differ.
"""

from __future__ import annotations

import pytest
from icview import (
    DEPLOYMENTS,
    OURS,
    REFERENCE,
    TIMEOUT,
    assert_idle,
    consistent_keys,
    datapath_keys,
    ic_sb_frozen,
    nb_transit_switches,
    northd_key,
    rows,
    start,
    start_deployment,
)
from testbed import wait_until

TS_KEY_MIN, TS_KEY_MAX = 16711681, 16777215


def converged(tb, switches):
    return wait_until(lambda: consistent_keys(tb, switches), timeout=TIMEOUT,
                      message=f"one binding per transit switch {sorted(switches)}, "
                              f"its key requested by every NB")


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_transit_switch_handling(testbed, deployment):
    tb = testbed
    daemons = start_deployment(tb, deployment)
    # A vxlan chassis: northd must still honour the requested key of a transit switch.
    tb.azs[0].sbctl("chassis-add", "fakechassis", "vxlan", "192.168.0.2")
    tb.ic_nbctl("ts-add", "ts1")
    tb.ic_nbctl("ts-add", "ts2")

    keys = converged(tb, {"ts1", "ts2"})
    assert all(TS_KEY_MIN < key <= TS_KEY_MAX for key in keys.values())
    assert len(set(keys.values())) == 2
    for az in tb.azs:
        wait_until(lambda az=az: northd_key(az, "ts1") == keys["ts1"], timeout=TIMEOUT,
                   message=f"northd in {az.name} used the requested key of ts1")
    assert_idle(daemons)

    tb.ic_nbctl("ts-del", "ts1")
    assert converged(tb, {"ts2"}) == {"ts2": keys["ts2"]}
    for az in tb.azs:
        names = {row["name"] for row in rows(az.nbctl, "Logical_Switch", "name")}
        assert names == {"ts2"}


def test_first_key_and_switches_of_deleted_transit_switches(testbed):
    """The first key is 16711682; a stale switch or binding left by anyone is removed."""
    tb = testbed
    az1 = tb.azs[0]
    az1.nbctl("ls-add", "stale", "--", "set", "Logical_Switch", "stale",
              "other_config:interconn-ts=gone")
    az1.nbctl("ls-add", "ts1")  # same name, no interconn-ts: an operator's switch, left alone
    tb.ic_sbctl("create", "Datapath_Binding", "transit_switch=gone", "tunnel_key=16711690")
    start(tb, az1, OURS)
    tb.ic_nbctl("ts-add", "ts1")
    wait_until(lambda: datapath_keys(tb) == {"ts1": [16711682]}, timeout=TIMEOUT,
               message="only ts1 bound, with the first key")
    wait_until(lambda: nb_transit_switches(az1) == {"ts1": ["16711682"]}, timeout=TIMEOUT,
               message="the stale switch deleted, ts1 created with its key")
    names = sorted(row["name"] for row in rows(az1.nbctl, "Logical_Switch", "name"))
    assert names == ["ts1", "ts1"]


SWITCHES = [f"ts{i}" for i in range(1, 5)]


def _add_all_at_once(tb, switches):
    args = []
    for ts in switches:
        args += ["--", "ts-add", ts]
    tb.ic_nbctl(*args[1:])


def _advance_hint(tb, az, kind):
    """Start ``kind`` in ``az`` and let it allocate as many keys as SWITCHES needs, so
    that it picks keys none of the others picks: every new switch then gets duplicates."""
    daemon = start(tb, az, kind)
    warmups = [f"warmup{i}" for i in range(len(SWITCHES))]
    _add_all_at_once(tb, warmups)
    wait_until(lambda: set(datapath_keys(tb)) == set(warmups), timeout=TIMEOUT,
               message="warm-up transit switches bound")
    for ts in warmups:
        tb.ic_nbctl("ts-del", ts)
    wait_until(lambda: datapath_keys(tb) == {}, timeout=TIMEOUT,
               message="warm-up bindings deleted")
    return daemon


def _race_to_bind(tb):
    """Add SWITCHES while IC SB is frozen; thaw it once every AZ has reacted."""
    # An AZ still registering would wait for the frozen IC SB and do nothing else.
    wait_until(lambda: {row["name"] for row in rows(tb.ic_sbctl, "Availability_Zone", "name")}
               == {az.name for az in tb.azs}, timeout=TIMEOUT, message="every AZ registered")
    with ic_sb_frozen(tb):
        _add_all_at_once(tb, SWITCHES)
        # Each daemon creates the NB switches in the pass that plans the bindings.
        for az in tb.azs:
            wait_until(lambda az=az: set(nb_transit_switches(az)) == set(SWITCHES),
                       timeout=TIMEOUT, message=f"{az.name} reacted to the new switches")


def test_concurrent_creation_by_three_azs(testbed3):
    """Three AZs bind new switches at once, one of them with a hint ahead of the others:
    two pick the same keys (one transaction fails), the third different keys
    (duplicates, settled to the lowest key); each switch ends with one binding."""
    tb = testbed3
    daemons = [_advance_hint(tb, tb.azs[0], OURS)]
    daemons += [start(tb, az, OURS) for az in tb.azs[1:]]
    _race_to_bind(tb)
    keys = converged(tb, set(SWITCHES))
    assert sorted(keys.values()) == list(range(16711682, 16711682 + len(SWITCHES)))
    events = {record.get("event") for daemon in daemons for record in daemon.logs()}
    assert {"transit_switch.duplicates_deleted", "txn.failed"} <= events
    assert_idle(daemons)


@pytest.mark.parametrize("ahead", [REFERENCE, OURS])
def test_concurrent_creation_with_a_reference_peer(testbed, ahead):
    """ovn-ic settles duplicates by a choice of its own; we must agree with it, not fight."""
    tb = testbed
    behind = OURS if ahead == REFERENCE else REFERENCE
    daemons = [_advance_hint(tb, tb.azs[0], ahead), start(tb, tb.azs[1], behind)]
    _race_to_bind(tb)
    keys = converged(tb, set(SWITCHES))
    assert len(set(keys.values())) == len(SWITCHES)
    assert_idle(daemons)
    assert consistent_keys(tb, set(SWITCHES)) == keys
