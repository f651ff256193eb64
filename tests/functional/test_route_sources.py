"""Route sources and learning guards of newer OVN, with 26.03 and 26.09 as peers, row for row.

Load-balancer VIP routes (25.09: ``ic-route-adv-lb`` / ``ic-route-learn-lb``, no
learning over a local VIP) and discard routes (26.03): a short scenario of their
own runs once with the release's ovn-ic in both AZs (26.03 is the first cached
release that has them all), recording the rows after each step, and then with
ours in az1, in az2 and in both; after each step the rows must become those of
the all-C run, so ours advertises what the release learns and learns what it
advertises.  Disabled routers (25.09.1) are tested apart: what ovn-ic does with
one depends on timing (see that test).
"""

from __future__ import annotations

import time

import pytest
from icview import DEPLOYMENTS, OURS, REFERENCE, TIMEOUT, assert_idle
from releaseview import (
    Step,
    add_ports,
    all_c_run,
    first_on_one_side,
    learned_prefixes,
    mirrors_keyed,
    registered,
    remote_ports,
    run_compared,
    start_all,
)
from routeview import enable_routes
from testbed import wait_until

RELEASES = ("26.03", "26.09")


def vips(tb, sides):
    """In AZ i: a load balancer with an IPv4 and an IPv6 VIP on lr<i>, and one more in a
    load-balancer group; VIP routes advertised and learned."""
    for i, az in enumerate(tb.azs, 1):
        enable_routes(az, ic_route_adv_lb="true", ic_route_learn_lb="true")
        az.nbctl("lb-add", f"lb{i}", f"10.5{i}.0.5:80", "192.0.2.1:8080", "--",
                 "lr-lb-add", f"lr{i}", f"lb{i}")
        az.nbctl("lb-add", f"lb{i}v6", f"[fd5{i}::5]:80", "[fd99::1]:8080", "--",
                 "lr-lb-add", f"lr{i}", f"lb{i}v6")
        az.nbctl("lb-add", f"lb{i}g", f"10.6{i}.0.6", "192.0.2.2")
        lb = az.nbctl("--bare", "--columns=_uuid", "find", "Load_Balancer", f"name=lb{i}g")
        group = az.nbctl("create", "Load_Balancer_Group", f"name=lbg{i}", f"load_balancer={lb}")
        az.nbctl("add", "Logical_Router", f"lr{i}", "load_balancer_group", group)


def vips_learned(tb):
    return all({(f"10.5{j}.0.5/32", ""), (f"fd5{j}::5/128", ""), (f"10.6{j}.0.6/32", "")}
               <= learned_prefixes(az) for az, j in zip(tb.azs, (2, 1), strict=True))


def over_vips(tb, sides):
    """In AZ i: routes to 10.7<i>.0.0/16 and 10.8<i>.0.0/16, and a VIP inside the other AZ's
    10.7<j>.0.0/16: that one is not learned."""
    for i, az in enumerate(tb.azs, 1):
        j = 3 - i
        az.nbctl("lr-route-add", f"lr{i}", f"10.7{i}.0.0/16", f"169.254.100.{i}0")
        az.nbctl("lr-route-add", f"lr{i}", f"10.8{i}.0.0/16", f"169.254.100.{i}0")
        az.nbctl("lb-add", f"lb{i}over", f"10.7{j}.1.1:80", "192.0.2.3:80", "--",
                 "lr-lb-add", f"lr{i}", f"lb{i}over")


def over_vips_refused(tb):
    return all((f"10.8{j}.0.0/16", "") in learned_prefixes(az)
               and (f"10.7{j}.0.0/16", "") not in learned_prefixes(az)
               for az, j in zip(tb.azs, (2, 1), strict=True))


def vip_gone(tb, sides):
    """The VIP over az2's route goes from az1: az1 learns the route; az1's LB group goes."""
    az1 = tb.azs[0]
    az1.nbctl("lb-del", "lb1over")
    az1.nbctl("clear", "Logical_Router", "lr1", "load_balancer_group")


def vip_gone_done(tb):
    return (("10.72.0.0/16", "") in learned_prefixes(tb.azs[0])
            and ("10.61.0.6/32", "") not in learned_prefixes(tb.azs[1]))


def discard(tb, sides):
    for i, az in enumerate(tb.azs, 1):
        az.nbctl("lr-route-add", f"lr{i}", f"10.9{i}.0.0/16", "discard")


def discard_learned(tb):
    return all((f"10.9{j}.0.0/16", "") in learned_prefixes(az)
               for az, j in zip(tb.azs, (2, 1), strict=True))


def disable(tb, sides):
    tb.azs[0].nbctl("set", "Logical_Router", "lr1", "enabled=false")


def disabled_learns_nothing(tb):
    return not learned_prefixes(tb.azs[0])


STEPS = [
    Step("AZ registration", start_all, registered),
    Step("transit switch", first_on_one_side("ts1", 0), lambda tb: mirrors_keyed(tb, "ts1")),
    Step("ports", add_ports, lambda tb: all(remote_ports(az) for az in tb.azs)),
    Step("load-balancer VIP routes", vips, vips_learned),
    Step("no learning over a local VIP", over_vips, over_vips_refused),
    Step("a VIP and a group gone", vip_gone, vip_gone_done),
    Step("discard routes", discard, discard_learned),
]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_route_sources_are_those_of_the_all_c_run(release_testbed, release, deployment):
    sides = run_compared(release_testbed, DEPLOYMENTS[deployment], all_c_run(release, STEPS), STEPS)
    assert_idle([side.controller for side in sides])


@pytest.mark.parametrize("release", RELEASES)
def test_the_all_c_run_did_what_the_steps_say(release_testbed, release):
    """The reference itself shows each rule (else the comparison would prove little)."""
    found = all_c_run(release, STEPS)
    routes = found["load-balancer VIP routes"]["ic_sb.Route"]
    assert ("az1", "ts1", "", "10.51.0.5/32", "169.254.100.1", "loadbalancer",
            [("lr-id", "az1/lr:lr1"), ("nb-id", "az1/lb:lb1")]) in routes
    assert any(route[3] == "10.61.0.6/32" for route in routes)
    routes = found["discard routes"]["ic_sb.Route"]
    assert any(route[3:6] == ("10.91.0.0/16", "169.254.100.1", "static") for route in routes)


@pytest.mark.parametrize("release", ["26.09"])
def test_a_disabled_router_of_ours_learns_nothing_beside_the_release(release_testbed, release):
    """Not compared with the all-C run: ovn-northd drops a disabled router's datapath, and
    ovn-ic removes the router's learned routes only if it sees enabled=false first; once
    the datapath is gone the router's binding has no router-id and ovn-ic no longer visits
    the router, so under load its learned routes stay.  Ours removes them either way."""
    tb = release_testbed
    sides = run_compared(tb, (OURS, REFERENCE), all_c_run(release, STEPS), STEPS)
    assert learned_prefixes(tb.azs[0])
    disable(tb, sides)
    wait_until(lambda: disabled_learns_nothing(tb), timeout=TIMEOUT,
               message="the disabled router's learned routes removed")
    time.sleep(2)  # and not learned again
    assert disabled_learns_nothing(tb)
    assert_idle([sides[0].controller])
