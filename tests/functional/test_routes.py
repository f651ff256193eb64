"""OVN's tests/ovn-ic.at v23.03.1 route tests, with our daemon in every AZ.

Each test follows its ovn-ic.at namesake step by step on real ovsdb-servers
and ovn-northd, polling where the original waits.  The gateway chassis of the
DB* tests only made the reference bind ports; routes do not depend on them, so
they are left out.
"""

from __future__ import annotations

from icview import assert_idle, ours_everywhere, warnings
from routeview import (
    add_transit_switches,
    connect,
    enable_routes,
    exchange_withdraw_and_readd,
    ic_routes,
    learned,
    learned_prefixes,
    listed,
    routers_on_ts1,
    set_options,
    table,
    wait_for,
)


def test_route_deletion_upon_ts_deletion(testbed):
    ours = ours_everywhere(testbed)
    for az in testbed.azs:
        enable_routes(az, ic_route_adv_default="true", ic_route_learn_default="true")
    switches = {(1, 1): "az1", (1, 2): "az1", (2, 1): "az2"}
    add_transit_switches(testbed, *(f"ts{a}-{t}" for a, t in switches))
    for (a, t), az_name in switches.items():
        az = testbed.az(az_name)
        connect(az, f"lr{a}-{t}", f"ts{a}-{t}", f"00:00:00:00:00:0{a}", f"10.0.{a}.1/24",
                lrp=f"lrp{a}-{t}", lsp=f"lsp{a}-{t}")
        az.nbctl("lr-route-add", f"lr{a}-{t}", "192.168.0.0/16", f"10.0.{a}.10")

    def advertised():
        return [route for route in ic_routes(testbed) if route[3] == "192.168.0.0/16"]

    wait_for(lambda: len(advertised()) == 3, "three 192.168.0.0/16 routes in IC SB")
    testbed.ic_nbctl("ts-del", "ts1-1")
    wait_for(lambda: len(advertised()) == 2, "the route of ts1-1 deleted with it")
    assert {route[0] for route in advertised()} == {"ts1-2", "ts2-1"}
    assert_idle(ours)


def test_duplicate_nb_route_adv_learn(testbed):
    ours_everywhere(testbed)
    for az in testbed.azs:
        enable_routes(az, ic_route_adv_default="true", ic_route_learn_default="true")
    add_transit_switches(testbed, "ts1")
    for i, az in enumerate(testbed.azs, 1):
        connect(az, "lr1", "ts1", f"00:00:00:00:0{i}:01", f"10.0.{i}.1/24", lrp=f"lrp{i}",
                lsp=f"lsp{i}")
    az1, az2 = testbed.azs
    for _ in range(2):
        az1.nbctl("--id=@id", "create", "logical-router-static-route", "ip_prefix=1.1.1.1/32",
                  "nexthop=10.0.1.10", "--", "add", "logical-router", "lr1", "static_routes",
                  "@id")
    wait_for(lambda: [route[3] for route in ic_routes(testbed)] == ["1.1.1.1/32"],
             "one IC SB route for the two identical NB routes")
    wait_for(lambda: learned_prefixes(az2, "lr1") == ["1.1.1.1/32"], "learned once")


def test_route_sync(testbed):
    ours = ours_everywhere(testbed)
    az1, az2 = testbed.azs
    exchange_withdraw_and_readd(testbed)

    # Learning off in az1: its learned routes go, az1 still advertises.
    set_options(az1, ic_route_learn="false")
    wait_for(lambda: not learned(az1, "lr1"), "az1 unlearned everything")
    assert listed(az1, "lr1") == table("""
        IPv4 Routes
        Route Table <main>:
                     10.11.1.0/24               169.254.0.1 dst-ip
                     10.22.1.0/24               169.254.0.2 src-ip
        """)
    assert learned(az2, "lr2")

    # Advertising off in az1: az2 unlearns.
    set_options(az1, ic_route_adv="false")
    wait_for(lambda: not learned(az2, "lr2"), "az2 unlearned az1's routes")
    assert listed(az2, "lr2") == table("""
        IPv4 Routes
        Route Table <main>:
                     10.11.2.0/24               169.254.0.1 dst-ip
                     10.22.2.0/24               169.254.0.2 src-ip
        """)

    # A default route is neither advertised nor learned by default.
    az1.nbctl("lr-route-add", "lr1", "0.0.0.0/0", "169.254.0.3")
    set_options(az1, ic_route_adv="true", ic_route_learn="true")
    for i, az in enumerate(testbed.azs, 1):
        wait_for(lambda az=az, i=i: learned(az, f"lr{i}"), f"lr{i} learned again")
    assert listed(az2, "lr2") == table("""
        IPv4 Routes
        Route Table <main>:
                     10.11.1.0/24             169.254.100.1 dst-ip (learned)
                     10.11.2.0/24               169.254.0.1 dst-ip
                     10.22.2.0/24               169.254.0.2 src-ip
        """)
    set_options(az1, ic_route_adv_default="true")
    wait_for(lambda: any(route[3] == "0.0.0.0/0" for route in ic_routes(testbed)),
             "default route advertised")
    set_options(az2, ic_route_learn_default="true")
    wait_for(lambda: "0.0.0.0/0" in learned_prefixes(az2, "lr2"), "default route learned")

    # Connected subnets are advertised and withdrawn with their port.
    az1.nbctl("lrp-add", "lr1", "lrp-lr1-ls1", "aa:aa:aa:aa:bb:01", "192.168.0.1/24")
    wait_for(lambda: "192.168.0.1/24" in learned_prefixes(az2, "lr2"), "connected learned")
    az1.nbctl("lrp-del", "lrp-lr1-ls1")
    wait_for(lambda: "192.168.0.1/24" not in learned_prefixes(az2, "lr2"), "connected gone")

    # Blacklist.
    az1.nbctl("lrp-add", "lr1", "lrp-lr1-ls1", "aa:aa:aa:aa:bb:01", "192.168.0.1/24")
    wait_for(lambda: "192.168.0.1/24" in learned_prefixes(az2, "lr2"), "connected learned")
    wait_for(lambda: "10.11.2.0/24" in learned_prefixes(az1, "lr1"), "az1 learned 10.11.2")
    set_options(az2, ic_route_blacklist="10.11.0.0/16,192.168.0.0/16")
    wait_for(lambda: "192.168.0.1/24" not in learned_prefixes(az2, "lr2"), "az2 denies 192.168")
    wait_for(lambda: "10.11.2.0/24" not in learned_prefixes(az1, "lr1"), "az1 not offered 10.11")
    assert_idle(ours)


def test_route_sync_no_leak_to_a_router_on_another_ts(testbed):
    """The second part of ovn-ic.at "route sync"."""
    ours_everywhere(testbed)
    add_transit_switches(testbed, "ts11", "ts22")
    for i, az in enumerate(testbed.azs, 1):
        enable_routes(az)
        for j in (1, 2):
            connect(az, f"lr{j}{i}", f"ts{j}{j}", f"aa:aa:aa:aa:aa:0{j}", f"169.254.100.{i}/24")
    az1, az2 = testbed.azs
    az2.nbctl("lrp-add", "lr12", "lrp-lr12-ls2", "aa:aa:aa:aa:bb:01", "192.168.0.1/24")
    az2.nbctl("lr-route-add", "lr12", "10.10.10.0/24", "192.168.0.10")
    wait_for(lambda: [(r[1], r[2]) for r in learned(az1, "lr11")] == [
        ("10.10.10.0/24", "169.254.100.2"), ("192.168.0.1/24", "169.254.100.2")],
        "lr11 learned lr12's routes")
    assert learned(az1, "lr21") == []


def test_route_sync_origin(testbed):
    """The third part of ovn-ic.at "route sync": origin in IC SB and in the NB."""
    ours_everywhere(testbed)
    routers_on_ts1(testbed)
    for i, az in enumerate(testbed.azs, 1):
        az.nbctl("lrp-add", f"lr{i}", f"lrp-lr{i}-p{i}", f"00:00:00:00:00:0{i}",
                 f"192.168.{i}.1/24")
        az.nbctl("lr-route-add", f"lr{i}", f"10.11.{i}.0/24", "169.254.0.1")
        az.nbctl("--policy=src-ip", "lr-route-add", f"lr{i}", f"10.22.{i}.0/24", "169.254.0.2")
    wait_for(lambda: sorted((r[3], r[5]) for r in ic_routes(testbed)) == [
        ("10.11.1.0/24", "static"), ("10.11.2.0/24", "static"),
        ("192.168.1.1/24", "connected"), ("192.168.2.1/24", "connected")],
        "advertised with their origin")
    az1, az2 = testbed.azs
    wait_for(lambda: [(r[1], r[4]) for r in learned(az1)] == [
        ("10.11.2.0/24", "static"), ("192.168.2.1/24", "connected")], "az1 learned origins")
    wait_for(lambda: [(r[1], r[4]) for r in learned(az2)] == [
        ("10.11.1.0/24", "static"), ("192.168.1.1/24", "connected")], "az2 learned origins")


def test_route_sync_ipv6_route_tables(testbed):
    ours = ours_everywhere(testbed)
    routers_on_ts1(testbed, network="2001:db8:1::{i}/64")
    for i, az in enumerate(testbed.azs, 1):
        az.nbctl("lrp-add", f"lr{i}", f"lrp-lr{i}-p{i}", f"00:00:00:00:00:0{i}",
                 f"2002:db8:1::{i}/64")
    az1 = testbed.az("az1")
    wait_for(lambda: [(r[1], r[2]) for r in learned(az1, "lr1")] == [
        ("2002:db8:1::2/64", "2001:db8:1::2")], "IPv6 connected route learned")
    assert [line.split()[:2] for line in listed(az1, "lr1").splitlines()
            if "learned" in line] == [["2002:db8:1::/64", "2001:db8:1::2"]]

    # IPv4-only TS ports: nothing is learned (23.03: via link-local next hops, which
    # every ovn-ic refuses; ours does not even advertise them, Q2).
    for i, az in enumerate(testbed.azs, 1):
        az.nbctl("lrp-del", f"lrp-lr{i}-ts1", "--", "lrp-add", f"lr{i}", f"lrp-lr{i}-ts1",
                 f"aa:aa:aa:aa:aa:0{i}", f"169.254.100.{i}/24")
    wait_for(lambda: not learned(az1, "lr1"), "nothing learned over IPv4-only ports")
    assert not [route for route in ic_routes(testbed) if route[4].startswith("fe80")]
    assert_idle(ours)
    for ctl in ours:
        assert ctl.metric("ovn_ic_controller_routes_refused", direction="advertise",
                          reason="no-nexthop") == 1
        assert not warnings(ctl, "routes.ic_route_unparsable")
