"""Dynamic routing (SB Learned_Route, 26.03; connected-dynamic, 26.09) and IPv4 routes with an
IPv6 next hop (26.09): ours beside the release's ovn-ic, both ways round, row for row
against the all-C run (releaseview).

Each AZ's router learns prefixes "by BGP": the Learned_Route rows are made with
ovn-sbctl as ovn-controller makes them.  lr1 has 10.100/16 and 10.101/16, lr2 10.101/16
and 10.102/16: each advertises its own, and neither learns the other's 10.101/16 until
lr2's goes; with 26.09, lr2's northd then re-advertises by BGP (hub-and-spoke) what lr2
learned with origin connected-dynamic; last, az1 advertises IPv4 with IPv6 next hops.
With 25.03 (no Datapath_Binding.nb_uuid in its SB) nothing of it happens,
and ours must not make anything happen either.
"""

from __future__ import annotations

import pytest
from icview import DEPLOYMENTS, assert_idle, rows
from releaseview import (
    TIMEOUT,
    Step,
    add_gateways,
    advertised_routes,
    all_c_run,
    connect_in_turn,
    gateways_mirrored,
    has,
    learned_prefixes,
    mirrors_keyed,
    registered,
    remote_ports,
    run_compared,
    start_all,
    tables_of,
)
from routeview import enable_routes
from testbed import wait_until

BGP = {1: ("10.100.0.0/16", "10.101.0.0/16"), 2: ("10.101.0.0/16", "10.102.0.0/16")}


def add_switch_and_ports(tb, sides):
    tb.ic_nbctl("ts-add", "ts1")
    wait_until(lambda: mirrors_keyed(tb, "ts1"), timeout=TIMEOUT, message="ts1 mirrored")
    connect_in_turn(tb, "ts1", lambda i: (f"169.254.100.{i}/24", f"fd00::{i}/64"))
    for i, az in enumerate(tb.azs, 1):
        enable_routes(az)
        az.nbctl("lrp-add", f"lr{i}", f"lr{i}-bgp", f"00:00:00:00:0{i}:01", f"172.31.{i}.1/24")


def datapath_and_port(az, router):
    """The SB datapath northd made for ``router`` and the binding of its BGP-facing port."""
    def found():
        datapaths = [row["_uuid"] for row in rows(az.sbctl, "Datapath_Binding", "external_ids")
                     if row["external_ids"].get("name") == router]
        ports = [row["_uuid"] for row in rows(az.sbctl, "Port_Binding", "logical_port")
                 if row["logical_port"] == f"{router}-bgp"]
        return datapaths and ports and (datapaths[0], ports[0])
    return wait_until(found, timeout=TIMEOUT, message=f"{az.name}: northd bound {router}")


def learn_by_bgp(tb, sides):
    for i, az in enumerate(tb.azs, 1):
        # Else northd deletes the Learned_Route rows.
        az.nbctl("set", "Logical_Router", f"lr{i}", "options:dynamic-routing=true")
        datapath, port = datapath_and_port(az, f"lr{i}")
        for prefix in BGP[i]:
            az.sbctl("create", "Learned_Route", f"datapath={datapath}", f"logical_port={port}",
                     f'ip_prefix="{prefix}"', f'nexthop="172.31.{i}.254"')


def learned_by_bgp_elsewhere(tb):
    az1, az2 = (learned_prefixes(az) for az in tb.azs)
    return (("10.102.0.0/16", "") in az1 and ("10.100.0.0/16", "") in az2
            and ("10.101.0.0/16", "") not in az1 | az2)


def lr2_forgets_one(tb, sides):
    az2 = tb.azs[1]
    [row] = [row for row in rows(az2.sbctl, "Learned_Route", "ip_prefix")
             if row["ip_prefix"] == "10.101.0.0/16"]
    az2.sbctl("destroy", "Learned_Route", row["_uuid"])


def lr2_learns_it_from_az1(tb):
    az1, az2 = (learned_prefixes(az) for az in tb.azs)
    return ("10.101.0.0/16", "") in az2 and ("10.101.0.0/16", "") not in az1


def hub_and_spoke(tb, sides):
    """26.09's northd re-advertises by BGP what lr2 learned over IC with origin
    connected-dynamic: the learner must have copied that origin."""
    tb.azs[1].nbctl("set", "Logical_Router", "lr2",
                    'options:dynamic-routing-redistribute="connected,static,hub-spoke"')


def lr2_re_advertises(tb):
    return ("lr2", "10.100.0.0/16") in advertised_routes(tb.azs[1])


def has_origin(origin):
    return lambda tb: origin in (tables_of(tb, "ic_sb") and tb._schemas["ic_sb.origins"])


def ipv4_over_ipv6(tb, sides):
    az1, az2 = tb.azs
    az1.nbctl("set", "Logical_Router", "lr1", "options:ic-route-ipv4-next-hop-ipv6=true")
    az2.nbctl("set", "Logical_Router", "lr2", "options:ic-route-ipv4-next-hop-ipv6=true")
    az2.nbctl("set", "Logical_Router_Port", "lrp-lr2-ts1",
              "options:ic-route-ipv4-next-hop-ipv6=false")


def az1_advertises_ipv4_via_ipv6(tb):
    nexthops = {(row["ip_prefix"], row["nexthop"])
                for row in rows(tb.ic_sbctl, "Route", "ip_prefix nexthop")}
    return ("172.31.1.1/24", "fd00::1") in nexthops and ("172.31.2.1/24", "169.254.100.2") in (
        nexthops)


STEPS = [
    Step("AZ registration", start_all, registered),
    Step("gateways", add_gateways, gateways_mirrored),
    Step("transit switch and ports", add_switch_and_ports,
         lambda tb: all(remote_ports(az) for az in tb.azs)),
    Step("prefixes learned by BGP", learn_by_bgp, learned_by_bgp_elsewhere,
         has("sb", "Datapath_Binding", "nb_uuid")),
    Step("a BGP prefix gone", lr2_forgets_one, lr2_learns_it_from_az1,
         has("sb", "Datapath_Binding", "nb_uuid")),
    Step("hub and spoke", hub_and_spoke, lr2_re_advertises, has_origin("connected-dynamic")),
    Step("IPv4 routes with an IPv6 next hop", ipv4_over_ipv6, az1_advertises_ipv4_via_ipv6,
         has("ic_sb", "Route", "options")),
]


@pytest.mark.parametrize("release", ["25.03", "26.03", "26.09"])
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_dynamic_routes_are_those_of_the_all_c_run(release_testbed, release, deployment):
    sides = run_compared(release_testbed, DEPLOYMENTS[deployment], all_c_run(release, STEPS), STEPS)
    assert_idle([side.controller for side in sides])
