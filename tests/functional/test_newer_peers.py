"""Ours beside the C ovn-ic of a newer release, on that release's databases: the rows of the
shared IC contract that release added (spec: ovn-ic-newer-releases.md §2).

The whole scenario matrix, compared row for row with the all-C run, is in
test_release_matrix.py; these are the contract rules one at a time.
"""

from __future__ import annotations

import time

import pytest
from icview import DEPLOYMENTS, OURS, TIMEOUT, rows, start_deployment
from testbed import wait_until

MIXED = [name for name, kinds in DEPLOYMENTS.items() if kinds != (OURS, OURS)]


def zones(tb):
    return {row["name"]: row["_uuid"] for row in rows(tb.ic_sbctl, "Availability_Zone", "name")}


def registered(tb):
    return wait_until(lambda: len(zones(tb)) == 2 and zones(tb), timeout=TIMEOUT,
                      message="both AZs registered")


def ours_of(daemons):
    return next(daemon for daemon in daemons if daemon is not None)


def router_bindings(tb):
    """(uuid, tunnel key) of each IC SB datapath binding of a transit router."""
    return sorted((row["_uuid"], row["tunnel_key"])
                  for row in rows(tb.ic_sbctl, "Datapath_Binding", "type tunnel_key")
                  if row["type"] == ["transit-router"] or row["type"] == "transit-router")


@pytest.mark.parametrize("release", ["26.03", "26.09"])
@pytest.mark.parametrize("deployment", MIXED)
def test_a_peers_transit_router_is_left_alone(release_testbed, deployment):
    """A transit router's datapath binding (type=transit-router, no transit_switch) and a
    transit-router port's binding are not ours: never deleted nor rewritten."""
    tb = release_testbed
    daemons = start_deployment(tb, deployment)
    ours = ours_of(daemons)
    own_az = registered(tb)[ours.az.name]
    tb.ic_nbctl("tr-add", "tr1")
    # A transit-router port of our AZ, as a 26.x ovn-ic of this AZ would have left it.
    tb.ic_sbctl("create", "Port_Binding", f"availability_zone={own_az}", "transit_switch=tr1",
                "logical_port=trp1", "tunnel_key=1", "type=transit-router-port")
    before = wait_until(lambda: router_bindings(tb), timeout=TIMEOUT,
                        message="the peer created the transit router's binding")
    time.sleep(2)
    assert router_bindings(tb) == before
    assert [row["logical_port"] for row in rows(tb.ic_sbctl, "Port_Binding", "logical_port")
            ] == ["trp1"]
    assert not ours.events("transit_switch.binding_deleted")
    assert not ours.events("port.withdrawn")


def sequence_numbers(tb):
    """(IC NB nb_ic_cfg, IC NB sb_ic_cfg, IC SB nb_ic_cfg, {AZ: nb_ic_cfg})."""
    [inb] = rows(tb.ic_nbctl, "IC_NB_Global", "nb_ic_cfg sb_ic_cfg")
    [isb] = rows(tb.ic_sbctl, "IC_SB_Global", "nb_ic_cfg")
    azs = {row["name"]: row["nb_ic_cfg"]
           for row in rows(tb.ic_sbctl, "Availability_Zone", "name nb_ic_cfg")}
    return inb["nb_ic_cfg"], inb["sb_ic_cfg"], isb["nb_ic_cfg"], azs


@pytest.mark.parametrize("release", ["25.03", "26.03", "26.09"])
@pytest.mark.parametrize("deployment", MIXED)
def test_wait_sb_returns(release_testbed, deployment):
    """`ovn-ic-nbctl --wait=sb` returns once every AZ, ours too, has taken the change in."""
    tb = release_testbed
    start_deployment(tb, deployment)
    registered(tb)
    tb.ic_nbctl("--wait=sb", "ts-add", "ts1")
    assert sequence_numbers(tb) == (1, 1, 1, {"az1": 1, "az2": 1})
    wait_until(lambda: [row["transit_switch"] for row in rows(
        tb.ic_sbctl, "Datapath_Binding", "transit_switch")] == ["ts1"], timeout=TIMEOUT,
        message="ts1 bound")
    tb.ic_nbctl("--wait=sb", "sync")
    tb.ic_nbctl("--wait=sb", "sync")
    assert sequence_numbers(tb) == (3, 3, 3, {"az1": 3, "az2": 3})
