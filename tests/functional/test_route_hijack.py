"""A peer AZ that advertises this AZ's networks (README "Security", docs/behaviour.md §6.8).

The hostile peer is a writer of IC SB rows (``hostile.HostilePeer``) or the C
ovn-ic 23.03 of another AZ whose router claims our subnet.  What this AZ's NB
holds is watched with ``ovsdb-client monitor`` from before the peer acts to the
end, so a route written for a moment and removed again fails the test too.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from automation_setup import ROUTER, add_cluster_router, add_subnet, learned_routes, nb_options
from controller import Controller, run_cli
from hostile import HostilePeer, NbRoutes
from icview import REFERENCE, TIMEOUT, rows, start
from routeview import connect, enable_routes, learned
from testbed import wait_until

from ovn_ic_controller.sync.automation.link_addresses import link_mac

SUBNET = "10.16.0.1/24"            # az1's subnet, behind its cluster router
HIJACKS = ("10.16.0.0/24", "10.16.0.128/25")  # the same, and a more specific
PEER_HOP = "169.254.100.250"       # the hostile peer's next hop on the transit switch
TRIALS = 5


def start_automated(tb, az, **settings):
    """Our daemon with the automation (auto-route=true, deny) on ``az``'s cluster router,
    once its port on ``ts`` is bound."""
    add_cluster_router(az, SUBNET)
    ours = Controller(tb, az, ts_num=1, auto_route="true", log_level="info", **settings).start()
    wait_until(lambda: own_routes(tb, az.name), timeout=TIMEOUT,
               message=f"{az.name} advertises its subnet on ts")
    return ours


def own_routes(tb, az_name):
    """{ip_prefix: IC SB Route UUID} that ``az_name`` advertises."""
    zones = {row["_uuid"] for row in rows(tb.ic_sbctl, "Availability_Zone", "name")
             if row["name"] == az_name}
    return {row["ip_prefix"]: row["_uuid"]
            for row in rows(tb.ic_sbctl, "Route", "availability_zone ip_prefix")
            if row["availability_zone"] in zones}


def show_json(controller):
    result = run_cli("--config", str(controller.config_path), "show", "--format", "json",
                     timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_peer_claiming_our_subnet_is_never_learned_and_ours_stays_advertised(testbed):
    """Issue 15 points 1 and 2: deny-listing both sides withdrew our subnet, and the more
    specific was learned for up to 32 ms before being removed."""
    az1 = testbed.azs[0]
    ours = start_automated(testbed, az1)
    advertised = own_routes(testbed, "az1")
    peer = HostilePeer(testbed)
    watch = NbRoutes(testbed, az1)
    seen_advertised = []
    for trial in range(TRIALS):
        control = f"10.99.{trial}.0/24"
        routes = peer.advertise("ts", PEER_HOP, *HIJACKS, control)
        watch.wait_seen(control)  # the pass that took the peer's routes in is done
        seen_advertised.append(own_routes(testbed, "az1"))
        if trial == TRIALS - 1:
            conflicts = ours.metric("ovn_ic_controller_route_conflicts", local="10.16.0.0/24",
                                    remote="10.16.0.128/25")
            refused = ours.metric("ovn_ic_controller_routes_refused", direction="learn",
                                  reason="conflict")
            shown = show_json(ours)["conflicts"]
        peer.withdraw(*routes)
        wait_until(lambda control=control: control not in dict(learned_routes(az1)),
                   timeout=TIMEOUT, message=f"az1 drops {control}")
    watch.stop()
    assert [watch.count(prefix) for prefix in HIJACKS] == [0, 0]
    assert watch.count("10.99.0.0/24") == 1
    # Never withdrawn, never re-created; and the blacklist holds none of it.
    assert seen_advertised == [advertised] * TRIALS == [own_routes(testbed, "az1")] * TRIALS
    assert 'ic-route-blacklist=""' in nb_options(az1)
    assert (conflicts, refused) == (1, 2)
    assert shown == [{"router": ROUTER, "local": "10.16.0.0/24", "remote": remote,
                      "az": peer.name, "denied": True} for remote in HIJACKS]


def test_a_flapping_peer_forging_our_mac_never_gets_its_more_specific_learned(testbed):
    """Issue 15 point 3 (kube-ovn #7265): the peer's port carries the MAC our automation
    gives its own, and its name sorts after ours; it withdraws and re-advertises a /25 of
    our subnet again and again."""
    az1 = testbed.azs[0]
    start_automated(testbed, az1)
    peer = HostilePeer(testbed, "zz-hostile")
    peer.port("ts", f"{link_mac(peer.name, 'ts')} {PEER_HOP}/24")
    watch = NbRoutes(testbed, az1)
    cycles, deadline = 0, time.monotonic() + 12
    while time.monotonic() < deadline:
        routes = peer.advertise("ts", PEER_HOP, "10.16.0.128/25", "10.99.0.0/24")
        cycles += 1
        watch.wait_seen("10.99.0.0/24", cycles)
        time.sleep(1.0)
        peer.withdraw(*routes)
        time.sleep(0.3)
    watch.stop()
    assert cycles >= 5 and watch.count("10.99.0.0/24") == cycles
    assert watch.count("10.16.0.128/25") == 0


def test_the_c_ovn_ic_claiming_our_subnet_is_refused_and_still_learns_ours(testbed):
    """Issue 15 point 1 with the C ovn-ic 23.03 as the peer: az2's router has a subnet
    inside az1's; both subnets stay advertised, az1 never learns az2's."""
    az1, az2 = testbed.azs
    ours = start_automated(testbed, az1)
    watch = NbRoutes(testbed, az1)
    az2.start_reference_ic()
    wait_until(lambda: "ts" in az2.nbctl("--bare", "--columns=name", "list", "Logical_Switch"),
               timeout=TIMEOUT, message="the C ovn-ic mirrors ts")
    az2.nbctl("lr-add", "lr-az2")
    add_subnet(az2, "lr-az2-claim", "10.16.0.129/25", router="lr-az2")
    add_subnet(az2, "lr-az2-own", "10.17.0.1/24", router="lr-az2")
    connect(az2, "lr-az2", "ts", "0a:00:00:00:02:01", f"{PEER_HOP}/24", lrp="lr-az2-ts",
            lsp="ts-lr-az2")
    enable_routes(az2)
    watch.wait_seen("10.17.0.1/24")
    wait_until(lambda: "10.16.0.0/24" in dict(learned_routes(az2, router="lr-az2")),
               timeout=TIMEOUT, message="the C ovn-ic learns az1's subnet")
    ours.wait_metric("ovn_ic_controller_route_conflicts", 1, local="10.16.0.0/24",
                     remote="10.16.0.128/25")
    watch.stop()
    assert watch.count("10.16.0.129/25") == 0
    assert "10.16.0.1/24" in own_routes(testbed, "az1")


def test_with_the_static_routes_scope_a_more_specific_of_one_is_never_learned(testbed):
    """Issue 15 point 4: conflicts covered router-port subnets only."""
    az1 = testbed.azs[0]
    ours = start_automated(testbed, az1, conflict_scope="subnets+static-routes")
    az1.nbctl("lr-route-add", ROUTER, "10.50.0.0/16", "10.16.0.254")
    peer = HostilePeer(testbed)
    watch = NbRoutes(testbed, az1)
    peer.advertise("ts", PEER_HOP, "10.50.1.0/24", "10.99.0.0/24")
    watch.wait_seen("10.99.0.0/24")
    ours.wait_metric("ovn_ic_controller_route_conflicts", 1, local="10.50.0.0/16",
                     remote="10.50.1.0/24")
    assert watch.count("10.50.1.0/24") == 0

    ours.write_config(conflict_scope="subnets")  # the default: static routes not covered
    ours.send(signal.SIGHUP)
    watch.wait_seen("10.50.1.0/24")
    watch.stop()


def plain_az1(tb, kind):
    """az1 as plain ovn-ic with ``kind`` of daemon: router lr1 on ts1 with the subnet
    10.16.0.1/24, options set by hand, no automation."""
    az1 = tb.azs[0]
    daemon = start(tb, az1, kind, log_level="info")
    tb.ic_nbctl("ts-add", "ts1")
    wait_until(lambda: "ts1" in az1.nbctl("--bare", "--columns=name", "list", "Logical_Switch"),
               timeout=TIMEOUT, message="az1 mirrors ts1")
    enable_routes(az1)
    connect(az1, "lr1", "ts1", "aa:aa:aa:aa:aa:01", "169.254.100.1/24")
    add_subnet(az1, "lrp-lr1-inside", SUBNET, router="lr1")
    return az1, daemon


@pytest.mark.parametrize("kind", ["ours", REFERENCE])
def test_without_automation_an_overlap_is_learned_as_by_23_03_and_ours_reports_it(testbed,
                                                                                 kind):
    """Issue 15 point 5: same as C, but say so (metric, ``show``)."""
    az1, ours = plain_az1(testbed, kind)
    peer = HostilePeer(testbed)
    peer.advertise("ts1", PEER_HOP, "10.16.0.128/25")
    wait_until(lambda: ("10.16.0.128/25", PEER_HOP) in learned_routes(az1, router="lr1"),
               timeout=TIMEOUT, message=f"{kind} learns the overlapping route")
    if ours is None:
        return
    ours.wait_metric("ovn_ic_controller_learned_route_overlaps", 1, local="10.16.0.0/24",
                     remote="10.16.0.128/25")
    doc = show_json(ours)
    assert doc["conflicts"] == [{"router": "lr1", "local": "10.16.0.0/24",
                                 "remote": "10.16.0.128/25", "az": peer.name,
                                 "denied": False}]
    (group,) = [group for group in doc["learned_routes"] if group["prefix"] == "10.16.0.128/25"]
    assert group["overlaps"] == ["10.16.0.0/24"]
    text = run_cli("--config", str(ours.config_path), "show", timeout=TIMEOUT).stdout
    assert "            overlaps local network 10.16.0.0/24" in text
    assert ("lr1: local 10.16.0.0/24 overlaps 10.16.0.128/25 from zz-hostile: "
            "learned (reported only)") in text


@pytest.mark.parametrize("kind", ["ours", REFERENCE])
def test_a_next_hop_of_the_other_family_is_not_learned_by_ours(testbed, kind):
    """Issue 15 point 9: 23.03 learns them and northd refuses them; ours refuses them, and
    learns the IPv4 routes of the same peer."""
    az1, ours = plain_az1(testbed, kind)
    peer = HostilePeer(testbed)
    peer.advertise("ts1", PEER_HOP, "2002:db8::/64", "10.99.0.0/24")
    peer.advertise("ts1", "2001:db8:100::250", "10.60.0.0/24")
    mixed = {("2002:db8::/64", PEER_HOP), ("10.60.0.0/24", "2001:db8:100::250")}
    wait_until(lambda: ("10.99.0.0/24", PEER_HOP) in learned_routes(az1, router="lr1"),
               timeout=TIMEOUT, message=f"{kind} learns the peer's IPv4 route")
    if ours is None:
        wait_until(lambda: mixed <= learned_routes(az1, router="lr1"), timeout=TIMEOUT,
                   message="23.03 learns the routes of the other family too")
        return
    ours.wait_metric("ovn_ic_controller_routes_refused", 2, direction="learn",
                     reason="family")
    assert not mixed & learned_routes(az1, router="lr1")


@pytest.mark.parametrize("release", ["26.09"])
def test_ipv4_over_ipv6_from_a_newer_ovn_ic_is_learned(release_testbed):
    """Issue 15 point 9, the exception: OVN 26.09's ovn-ic with ic-route-ipv4-next-hop-ipv6
    advertises IPv4 prefixes via its port's IPv6 address; our port on that switch has an
    IPv6 network holding it, so ours learns them."""
    tb = release_testbed
    az1, az2 = tb.azs
    Controller(tb, az1, log_level="info").start()
    az2.start_reference_ic()
    tb.ic_nbctl("ts-add", "ts1")
    for i, az in enumerate(tb.azs, 1):
        wait_until(lambda az=az: "ts1" in az.nbctl("--bare", "--columns=name", "list",
                                                   "Logical_Switch"),
                   timeout=TIMEOUT, message=f"{az.name} mirrors ts1")
        enable_routes(az)
        connect(az, f"lr{i}", "ts1", f"aa:aa:aa:aa:aa:0{i}", f"169.254.100.{i}/24",
                f"2001:db8:100::{i}/64")
    az2.nbctl("set", "Logical_Router", "lr2", "options:ic-route-ipv4-next-hop-ipv6=true")
    add_subnet(az2, "lrp-lr2-inside", "192.168.2.1/24", router="lr2")
    wait_until(lambda: ("lr1", "192.168.2.1/24", "2001:db8:100::2", "", "connected")
               in learned(az1), timeout=TIMEOUT, message="az1 learns IPv4 over IPv6")
