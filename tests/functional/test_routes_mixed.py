"""Route sync in a mixed deployment: the reference ovn-ic 23.03.1 in one AZ, ours in the other.

The main scenario runs in every deployment, the reference-only one included, so
that the expected routes are the reference's own: every route the reference
learns from ours, ours learns from the reference, and the other way round.
Where we deliberately differ (fixes of 23.03.1 bugs), a test says so and why.
"""

from __future__ import annotations

import pytest
from icview import DEPLOYMENTS, OURS, REFERENCE, assert_idle, rows, start, warnings
from routeview import (
    add_transit_switches,
    connect,
    enable_routes,
    ic_routes,
    learned,
    set_options,
    wait_for,
)

ALL_DEPLOYMENTS = {**DEPLOYMENTS, "reference-reference": (REFERENCE, REFERENCE)}
MIXED = {name: kinds for name, kinds in DEPLOYMENTS.items() if len(set(kinds)) == 2}


def build(az, i):
    """lr{i}: dual-stack ports on ts1 (<main>) and ts2 (rtb2), a subnet, static routes.

    Both AZs route 10.50.0.0/24 themselves, so neither learns the other's (local wins);
    only az1 has a default route.
    """
    enable_routes(az, ic_route_adv_default="true", ic_route_learn_default="true")
    connect(az, f"lr{i}", "ts1", f"aa:aa:aa:aa:01:0{i}", f"169.254.100.{i}/24",
            f"2001:db8:100::{i}/64")
    connect(az, f"lr{i}", "ts2", f"aa:aa:aa:aa:02:0{i}", f"169.254.200.{i}/24",
            f"2001:db8:200::{i}/64", route_table="rtb2")
    az.nbctl("lrp-add", f"lr{i}", f"lrp-lr{i}-inside", f"00:00:00:00:00:0{i}",
             f"192.168.{i}.1/24", f"2002:db8:{i}::1/64")
    for command in (("lr-route-add", f"lr{i}", f"10.1{i}.0.0/24", f"192.168.{i}.254"),
                    ("lr-route-add", f"lr{i}", f"10.99.{i}.5", f"192.168.{i}.254"),
                    ("lr-route-add", f"lr{i}", f"2001:db8:5{i}::/64", f"2002:db8:{i}::fe"),
                    ("lr-route-add", f"lr{i}", "10.50.0.0/24", f"192.168.{i}.254"),
                    ("--route-table=rtb2", "lr-route-add", f"lr{i}", f"10.2{i}.0.0/24",
                     f"192.168.{i}.254"),
                    ("--policy=src-ip", "lr-route-add", f"lr{i}", f"10.3{i}.0.0/24",
                     f"192.168.{i}.254")):
        az.nbctl(*command)
    if i == 1:
        az.nbctl("lr-route-add", "lr1", "0.0.0.0/0", "192.168.1.254")


def expected_learned(learner, peer):
    """What lr{learner} learns from lr{peer}: (ip_prefix, nexthop, route_table, origin)."""
    v4 = {1: f"169.254.100.{peer}", 2: f"169.254.200.{peer}"}
    v6 = {1: f"2001:db8:100::{peer}", 2: f"2001:db8:200::{peer}"}
    routes = [(f"10.1{peer}.0.0/24", v4[1], "", "static"),
              (f"10.99.{peer}.5/32", v4[1], "", "static"),
              (f"2001:db8:5{peer}::/64", v6[1], "", "static"),
              (f"10.2{peer}.0.0/24", v4[2], "rtb2", "static")]
    if peer == 1:
        routes.append(("0.0.0.0/0", v4[1], "", "static"))
    for ts in (1, 2):  # connected subnets: through both switches, so ECMP
        routes += [(f"192.168.{peer}.1/24", v4[ts], "", "connected"),
                   (f"2002:db8:{peer}::1/64", v6[ts], "", "connected")]
    return sorted((f"lr{learner}", *route) for route in routes)


def learned_everywhere(tb):
    return [learned(az) for az in tb.azs]


@pytest.mark.parametrize("kinds", ALL_DEPLOYMENTS.values(), ids=ALL_DEPLOYMENTS.keys())
def test_every_route_learned_both_ways(testbed, kinds):
    ours = [ctl for ctl in (start(testbed, az, kind) for az, kind in zip(testbed.azs, kinds,
                                                                         strict=True)) if ctl]
    add_transit_switches(testbed, "ts1", "ts2")
    az1, az2 = testbed.azs
    for i, az in enumerate(testbed.azs, 1):
        build(az, i)
    wanted = [expected_learned(1, 2), expected_learned(2, 1)]
    wait_for(lambda: learned_everywhere(testbed) == wanted, "both AZs learned everything")

    # Ours also writes external_ids:lr-id (for 23.09+ peers); the reference does not.
    zones = {zone["_uuid"]: zone["name"]
             for zone in rows(testbed.ic_sbctl, "Availability_Zone", "name")}
    routes = rows(testbed.ic_sbctl, "Route", "availability_zone external_ids")
    for az, kind in zip(testbed.azs, kinds, strict=True):
        ids = [route["external_ids"] for route in routes
               if zones[route["availability_zone"]] == az.name]
        assert ids and all(("lr-id" in found) == (kind == OURS) for found in ids)

    # Withdrawal and toggles propagate both ways.
    az1.nbctl("lr-route-del", "lr1", "10.11.0.0/24")
    wanted[1] = [route for route in wanted[1] if route[1] != "10.11.0.0/24"]
    wait_for(lambda: learned_everywhere(testbed) == wanted, "az2 unlearned 10.11.0.0/24")
    set_options(az2, ic_route_learn_default="false")
    wanted[1] = [route for route in wanted[1] if route[1] != "0.0.0.0/0"]
    wait_for(lambda: learned_everywhere(testbed) == wanted, "az2 unlearned the default route")
    set_options(az2, ic_route_adv="false")
    wanted[0] = []
    wait_for(lambda: learned_everywhere(testbed) == wanted, "az1 unlearned az2's routes")
    set_options(az1, ic_route_learn="false")
    wait_for(lambda: learned_everywhere(testbed) == [[], wanted[1]], "az1 learns nothing")
    assert_idle(ours)


@pytest.mark.parametrize("kinds", MIXED.values(), ids=MIXED.keys())
def test_q13_routes_of_a_transit_switch_left_by_the_advertiser(testbed, kinds):
    """Deliberate difference (Q13): ours withdraws its routes from a transit switch where
    it has no port left; 23.03.1 leaves them in IC SB, and every AZ keeps learning them."""
    advertiser_kind = kinds[0]
    [start(testbed, az, kind) for az, kind in zip(testbed.azs, kinds, strict=True)]
    add_transit_switches(testbed, "ts1")
    az1, az2 = testbed.azs
    for i, az in enumerate(testbed.azs, 1):
        enable_routes(az)
        connect(az, f"lr{i}", "ts1", f"aa:aa:aa:aa:01:0{i}", f"169.254.100.{i}/24")
    az1.nbctl("lr-route-add", "lr1", "10.11.0.0/24", "169.254.100.254")
    wait_for(lambda: [route[1] for route in learned(az2)] == ["10.11.0.0/24"], "learned")

    az1.nbctl("lsp-del", "lsp-ts1-lr1")
    wait_for(lambda: not [route for route in ic_routes(testbed) if route[1] == "az1"]
             if advertiser_kind == OURS else
             "lsp-ts1-lr1" not in az2.nbctl("--bare", "--columns=name", "list",
                                            "Logical_Switch_Port").split(),
             "az1's port gone from ts1")
    if advertiser_kind == OURS:
        wait_for(lambda: not learned(az2), "az2 unlearned the withdrawn route")
    else:  # the reference's stale route stays in IC SB, and ours learns it as it would
        assert [route[3] for route in ic_routes(testbed, "az1")] == ["10.11.0.0/24"]
        assert [route[1] for route in learned(az2)] == ["10.11.0.0/24"]


@pytest.mark.parametrize("kinds", MIXED.values(), ids=MIXED.keys())
def test_q2_ipv6_routes_over_an_ipv4_only_transit_switch(testbed, kinds):
    """Deliberate difference (Q2): 23.03.1 advertises such a route with a link-local next
    hop that no ovn-ic accepts, and deletes and re-inserts it forever; ours does not
    advertise it.  Neither side learns it, so the routes in the NBs are the same."""
    ours = [ctl for ctl in (start(testbed, az, kind) for az, kind in zip(testbed.azs, kinds,
                                                                         strict=True)) if ctl]
    add_transit_switches(testbed, "ts1")
    for i, az in enumerate(testbed.azs, 1):
        enable_routes(az)
        connect(az, f"lr{i}", "ts1", f"aa:aa:aa:aa:01:0{i}", f"169.254.100.{i}/24")
        az.nbctl("lrp-add", f"lr{i}", f"lrp-lr{i}-inside", f"00:00:00:00:00:0{i}",
                 f"192.168.{i}.1/24", f"2002:db8:{i}::1/64")
    wanted = [[("lr1", "192.168.2.1/24", "169.254.100.2", "", "connected")],
              [("lr2", "192.168.1.1/24", "169.254.100.1", "", "connected")]]
    wait_for(lambda: learned_everywhere(testbed) == wanted, "only the IPv4 subnets learned")
    (ctl,) = ours
    ours_az = testbed.azs[kinds.index(OURS)].name
    assert not [route for route in ic_routes(testbed, ours_az) if ":" in route[3]]
    reference_az = testbed.azs[kinds.index(REFERENCE)].name
    wait_for(lambda: [route[4] for route in ic_routes(testbed, reference_az)
                      if ":" in route[3]], "the reference advertised via a link-local next hop")
    assert ctl.metric("ovn_ic_controller_routes_refused", direction="advertise",
                      reason="no-nexthop") == 1
    # The reference's rows churn, but ours reports the problem once, not on every pass.
    wait_for(lambda: warnings(ctl, "routes.ic_route_unparsable"), "reported")
    assert learned_everywhere(testbed) == wanted
    assert len(warnings(ctl, "routes.ic_route_unparsable")) == 1
