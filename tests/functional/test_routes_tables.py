"""OVN's tests/ovn-ic.at v23.03.1 route-table tests, with our daemon in every AZ.

"route sync -- route tables", "route sync -- multiple route tables" (IPv4 and
IPv6) and "same routes destination", step by step, polling where the original
waits.
"""

from __future__ import annotations

import pytest
from icview import assert_idle, ours_everywhere
from routeview import (
    add_transit_switches,
    connect,
    enable_routes,
    ic_routes,
    learned,
    learned_prefixes,
    listed,
    routers_on_ts1,
    set_options,
    table,
    wait_for,
)


def learned_lines(az, router, *options):
    """The ``(learned)`` lines of lr-route-list, split into words."""
    return sorted(line.split() for line in listed(az, router, *options).splitlines()
                  if "(learned)" in line)


def test_route_sync_route_tables(testbed):
    ours = ours_everywhere(testbed)
    az1, az2 = testbed.azs
    routers_on_ts1(testbed)
    for i, az in enumerate(testbed.azs, 1):
        az.nbctl("lr-route-add", f"lr{i}", f"10.11.{i}.0/24", "169.254.0.1")
        az.nbctl("--policy=src-ip", "--route-table=rtb1", "lr-route-add", f"lr{i}",
                 f"10.22.{i}.0/24", "169.254.0.2")
    for i, az in enumerate(testbed.azs, 1):
        wait_for(lambda az=az, i=i: learned(az, f"lr{i}"), f"lr{i} learned")
    assert listed(az1, "lr1") == table("""
        IPv4 Routes
        Route Table <main>:
                     10.11.1.0/24               169.254.0.1 dst-ip
                     10.11.2.0/24             169.254.100.2 dst-ip (learned)

        Route Table rtb1:
                     10.22.1.0/24               169.254.0.2 src-ip
        """)

    # Routes moved to rtb1 are not advertised while no TS port uses rtb1.
    for i, az in enumerate(testbed.azs, 1):
        az.nbctl("lr-route-del", f"lr{i}", f"10.11.{i}.0/24", "169.254.0.1")
        az.nbctl("--route-table=rtb1", "lr-route-add", f"lr{i}", f"10.11.{i}.0/24",
                 "169.254.0.1")
    for i, az in enumerate(testbed.azs, 1):
        wait_for(lambda az=az, i=i: not learned(az, f"lr{i}"), f"lr{i} unlearned")
    rtb1_only = table("""
        IPv4 Routes
        Route Table rtb1:
                     10.11.1.0/24               169.254.0.1 dst-ip
                     10.22.1.0/24               169.254.0.2 src-ip
        """)
    assert listed(az1, "lr1") == rtb1_only

    # az2's TS port in rtb1: advertised, but az1's port is not in rtb1: not learned.
    az2.nbctl("lrp-set-options", "lrp-lr2-ts1", "route_table=rtb1")
    wait_for(lambda: ("ts1", "az2", "rtb1", "10.11.2.0/24", "169.254.100.2", "static")
             in ic_routes(testbed), "advertised in rtb1")
    assert listed(az1, "lr1") == rtb1_only
    az1.nbctl("lrp-set-options", "lrp-lr1-ts1", "route_table=rtb1")
    wait_for(lambda: learned(az1, "lr1"), "az1 learned into rtb1")
    assert listed(az1, "lr1") == table("""
        IPv4 Routes
        Route Table rtb1:
                     10.11.1.0/24               169.254.0.1 dst-ip
                     10.11.2.0/24             169.254.100.2 dst-ip (learned)
                     10.22.1.0/24               169.254.0.2 src-ip
        """)

    az1.nbctl("--route-table=rtb1", "lr-route-del", "lr1", "10.11.1.0/24")
    wait_for(lambda: not learned(az2, "lr2"), "az2 unlearned")
    az1.nbctl("--route-table=rtb1", "lr-route-add", "lr1", "10.11.1.0/24", "169.254.0.1")
    wait_for(lambda: learned(az2, "lr2"), "az2 learned again")

    set_options(az1, ic_route_learn="false")
    wait_for(lambda: not learned(az1, "lr1"), "az1 unlearned everything")
    assert listed(az1, "lr1") == rtb1_only
    assert listed(az2, "lr2") == table("""
        IPv4 Routes
        Route Table rtb1:
                     10.11.1.0/24             169.254.100.1 dst-ip (learned)
                     10.11.2.0/24               169.254.0.1 dst-ip
                     10.22.2.0/24               169.254.0.2 src-ip
        """)
    set_options(az1, ic_route_adv="false")
    wait_for(lambda: not learned(az2, "lr2"), "az2 unlearned az1's routes")

    # Default route in rtb1: advertised only with -default, learned only with -default.
    az1.nbctl("--route-table=rtb1", "lr-route-add", "lr1", "0.0.0.0/0", "169.254.0.3")
    set_options(az1, ic_route_adv="true", ic_route_learn="true")
    for i, az in enumerate(testbed.azs, 1):
        wait_for(lambda az=az, i=i: learned(az, f"lr{i}"), f"lr{i} learned again")
    assert not [route for route in ic_routes(testbed) if route[3] == "0.0.0.0/0"]
    set_options(az1, ic_route_adv_default="true")
    wait_for(lambda: ("ts1", "az1", "rtb1", "0.0.0.0/0", "169.254.100.1", "static")
             in ic_routes(testbed), "default route advertised in rtb1")
    assert "0.0.0.0/0" not in learned_prefixes(az2, "lr2")
    set_options(az2, ic_route_learn_default="true")
    wait_for(lambda: "0.0.0.0/0" in learned_prefixes(az2, "lr2"), "default route learned")

    # Connected routes go to <main>.
    az1.nbctl("lrp-add", "lr1", "lrp-lr1-ls1", "aa:aa:aa:aa:bb:01", "192.168.0.1/24")
    wait_for(lambda: ("ts1", "az1", "", "192.168.0.1/24", "169.254.100.1", "connected")
             in ic_routes(testbed), "connected advertised into <main>")
    wait_for(lambda: "192.168.0.1/24" in learned_prefixes(az2, "lr2"), "connected learned")
    assert listed(az2, "lr2") == table("""
        IPv4 Routes
        Route Table <main>:
                   192.168.0.0/24             169.254.100.1 dst-ip (learned)

        Route Table rtb1:
                     10.11.1.0/24             169.254.100.1 dst-ip (learned)
                     10.11.2.0/24               169.254.0.1 dst-ip
                     10.22.2.0/24               169.254.0.2 src-ip
                        0.0.0.0/0             169.254.100.1 dst-ip (learned)
        """)
    az1.nbctl("lrp-del", "lrp-lr1-ls1")
    wait_for(lambda: "192.168.0.1/24" not in learned_prefixes(az2, "lr2"), "connected gone")

    az1.nbctl("lrp-add", "lr1", "lrp-lr1-ls1", "aa:aa:aa:aa:bb:01", "192.168.0.1/24")
    wait_for(lambda: "192.168.0.1/24" in learned_prefixes(az2, "lr2"), "connected learned")
    set_options(az2, ic_route_blacklist="10.11.0.0/16,192.168.0.0/16")
    wait_for(lambda: "192.168.0.1/24" not in learned_prefixes(az2, "lr2"), "az2 denies 192.168")
    wait_for(lambda: "10.11.2.0/24" not in learned_prefixes(az1, "lr1"), "az1 not offered")
    assert listed(az2, "lr2") == table("""
        IPv4 Routes
        Route Table rtb1:
                     10.11.2.0/24               169.254.0.1 dst-ip
                     10.22.2.0/24               169.254.0.2 src-ip
                        0.0.0.0/0             169.254.100.1 dst-ip (learned)
        """)
    assert_idle(ours)


FAMILIES = {
    "ipv4": {"ts": lambda j, i: f"169.254.10{j}.{i}/24", "subnet": "192.168.0.1/24",
             "static": "10.10.10.0/24", "via": lambda n: f"192.168.0.{n}",
             "nexthop": lambda j: f"169.254.10{j}.2", "shown": "192.168.0.0/24"},
    "ipv6": {"ts": lambda j, i: f"2001:db8:{j}::{i}/64", "subnet": "2001:db8:200::1/64",
             "static": "2001:db8:aaaa::/64", "via": lambda n: f"2001:db8:200::{n}",
             "nexthop": lambda j: f"2001:db8:{j}::2", "shown": "2001:db8:200::/64"},
}


@pytest.mark.parametrize("family", FAMILIES)
def test_route_sync_multiple_route_tables(testbed, family):
    """Two VPCs: lr11/lr12 over ts11..ts13 (rtb1..3), lr21/lr22 over ts21, ts22."""
    spec = FAMILIES[family]
    ours_everywhere(testbed)
    az1, az2 = testbed.azs
    for az in testbed.azs:
        enable_routes(az)
    add_transit_switches(testbed, "ts11", "ts12", "ts13", "ts21", "ts22")
    for vpc, switches in ((1, (1, 2, 3)), (2, (1, 2))):
        for i, az in enumerate(testbed.azs, 1):
            for j in switches:
                connect(az, f"lr{vpc}{i}", f"ts{vpc}{j}", f"aa:aa:aa:aa:a{j}:0{i}",
                        spec["ts"](j, i), route_table=f"rtb{j}")
    az2.nbctl("lrp-add", "lr12", "lrp-lr12", "aa:aa:aa:aa:bb:01", spec["subnet"])
    for j in (1, 2, 3):
        az2.nbctl(f"--route-table=rtb{j}", "lr-route-add", "lr12", spec["static"],
                  spec["via"](9 + j))
    az2.nbctl("lrp-add", "lr22", "lrp-lr22", "aa:aa:aa:aa:bb:01", spec["subnet"])

    def connected_lines(switches):
        return [[spec["shown"], spec["nexthop"](j), "dst-ip", "(learned)", "ecmp"]
                for j in switches]

    wait_for(lambda: [line for line in learned_lines(az1, "lr11") if line[0] == spec["shown"]]
             == connected_lines((1, 2, 3)), "lr11 learned connected ECMP")
    for j in (1, 2, 3):
        wait_for(lambda j=j: learned_lines(az1, "lr11", f"--route-table=rtb{j}") == [
            [spec["static"], spec["nexthop"](j), "dst-ip", "(learned)"]],
            f"lr11 learned the static route of rtb{j}")
    wait_for(lambda: learned_lines(az1, "lr21") == connected_lines((1, 2)),
             "lr21 learned only VPC2's connected route")


def test_same_routes_destination(testbed):
    """A local route to the same prefix and table wins over a remote one."""
    ours_everywhere(testbed)
    routers_on_ts1(testbed, router="lr1{i}", ic_route_adv_default="true",
                   ic_route_learn_default="true")
    for i, az in enumerate(testbed.azs, 1):
        az.nbctl("lrp-add", f"lr1{i}", "lrp-local-subnet", f"00:00:00:00:00:0{i}",
                 f"192.168.{i}.1/24")
        az.nbctl("lr-route-add", f"lr1{i}", "10.0.0.0/24", f"192.168.{i}.10")
        az.nbctl("lr-route-add", f"lr1{i}", "0.0.0.0/0", f"192.168.{i}.11")
    for i, az in enumerate(testbed.azs, 1):
        other = 3 - i
        wait_for(lambda az=az, i=i, other=other: sorted(
            line.split() for line in listed(az, f"lr1{i}").splitlines() if "dst-ip" in line)
            == sorted([["0.0.0.0/0", f"192.168.{i}.11", "dst-ip"],
                       ["10.0.0.0/24", f"192.168.{i}.10", "dst-ip"],
                       [f"192.168.{other}.0/24", f"169.254.100.{other}", "dst-ip", "(learned)"]]),
            f"lr1{i} learned only the other AZ's subnet")
