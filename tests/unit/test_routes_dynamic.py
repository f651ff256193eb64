"""Dynamic routing (SB Learned_Route, 26.03; connected-dynamic, 26.09) and IPv4 routes with an
IPv6 next hop (26.09) in route sync, on plain data (docs/behaviour.md §6.8)."""

from __future__ import annotations

import pytest
from route_world import DUAL_PORT, V4_PORT, one_router
from structlog.testing import capture_logs
from test_routes_incremental import Incremental

from ovn_ic_controller.sync.routes.records import ipv4_next_hop_ipv6

SB = {"tables": {"Learned_Route": {"columns": {"datapath": {}, "ip_prefix": {}}},
                 "Datapath_Binding": {"columns": {"nb_uuid": {}}}}}
SB_25_03 = {"tables": {"Learned_Route": {"columns": {"datapath": {}, "ip_prefix": {}}},
                       "Datapath_Binding": {"columns": {}}}}


def ic_sb(*origins, options=False):
    route = {"origin": {"type": {"key": {"type": "string", "enum": ["set", [
        "connected", "static", "loadbalancer", *origins]]}}}}
    if options:
        route["options"] = {}
    return {"tables": {"Datapath_Binding": {"columns": {"nb_ic_uuid": {}}},
                       "Route": {"columns": route}}}


IC_SB_26_03 = ic_sb()
IC_SB_26_09 = ic_sb("connected-dynamic", options=True)
IC_SB_25_09 = {"tables": {"Route": {"columns": ic_sb()["tables"]["Route"]["columns"]}}}


def datapath(world, router):
    """The SB datapath ovn-northd made for ``router``."""
    return world.add("sb", "Datapath_Binding", nb_uuid=[router.uuid])


def bgp(world, dp, ip_prefix, nexthop="172.31.0.1"):
    """A Learned_Route, as ovn-controller writes one for a route BGP learned."""
    return world.add("sb", "Learned_Route", datapath=dp, ip_prefix=ip_prefix, nexthop=nexthop,
                     logical_port=None, external_ids={})


def dynamic_world(ic_schema=IC_SB_26_03, address=V4_PORT, **attach):
    world, lr1 = one_router(address, **attach)
    world.schemas = {"sb": SB, "ic_sb": ic_schema}
    return world, lr1, datapath(world, lr1)


def test_26_03_learned_route_prefixes_are_advertised_as_connected_for_the_router():
    world, lr1, dp = dynamic_world()
    bgp(world, dp, "10.100.0.0/16")
    bgp(world, dp, "10.100.0.0/16", nexthop="172.31.0.2")  # ECMP: one prefix, one row
    bgp(world, dp, "2001:db8:100::/48")                    # no IPv6 on the port
    with capture_logs() as logs:
        world.sync()
    assert world.advertised() == [("ts1", "", "10.100.0.0/16", "169.254.100.1", "connected")]
    assert world.own_route("10.100.0.0/16").external_ids == {
        "nb-id": str(lr1.uuid), "lr-id": str(lr1.uuid)}
    assert not [log for log in logs if log["log_level"] == "warning"]
    assert world.concern.tally.refused["advertise", "no-nexthop"] == 1


def test_26_09_gives_them_origin_connected_dynamic_and_east_west_copies():
    world, lr1, dp = dynamic_world(IC_SB_26_09, route_table="rtb1")
    bgp(world, dp, "10.100.0.0/16")
    world.sync()
    assert world.advertised() == [
        ("ts1", "", "10.100.0.0/16", "169.254.100.1", "connected-dynamic"),
        ("ts1", "rtb1", "10.100.0.0/16", "169.254.100.1", "connected")]
    assert {route.route_table: route.options for route in world.tables["ic_sb"]["Route"]} == {
        "": {}, "rtb1": {"override-connected": "true"}}


@pytest.mark.parametrize("schemas", [{}, {"sb": SB_25_03, "ic_sb": IC_SB_26_03},
                                     {"sb": SB, "ic_sb": IC_SB_25_09}],
                         ids=["23.03", "25.03-sb", "25.09-ic-sb"])
def test_older_schemas_advertise_nothing_of_them_and_learn_as_before(schemas):
    world, lr1, dp = dynamic_world()
    world.schemas = schemas
    bgp(world, dp, "10.100.0.0/16")
    world.remote_route("10.100.0.0/16", "169.254.100.2")
    world.sync()
    assert world.advertised() == []
    assert [route[0] for route in world.learned(lr1)] == ["10.100.0.0/16"]


def test_a_prefix_learned_by_dynamic_routing_is_not_learned_from_another_az():
    """Only by the router that has it, matched as text (as ovn-ic), whatever the table."""
    world, lr1, dp = dynamic_world()
    lr2 = world.router("lr2")
    world.attach(lr2, "ts1", "aa:aa:aa:aa:aa:02 169.254.100.3/24")
    datapath(world, lr2)
    row = bgp(world, dp, "10.50.0.0/24")
    world.remote_route("10.50.0.0/24", "169.254.100.2")
    world.remote_route("10.50.0.1/24", "169.254.100.2")  # another text: learned
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.50.0.1/24"]
    assert [route[0] for route in world.learned(lr2)] == ["10.50.0.0/24", "10.50.0.1/24"]
    assert world.concern.tally.refused["learn", "dynamic"] == 1
    world.tables["sb"]["Learned_Route"].remove(row)
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.50.0.0/24", "10.50.0.1/24"]


def test_a_connected_network_or_static_route_wins_over_the_same_dynamic_prefix():
    world, lr1, dp = dynamic_world()
    lrp = world.lrp(lr1, "lrp-inside", "192.168.1.0/24")
    static = world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    bgp(world, dp, "192.168.1.0/24")
    bgp(world, dp, "10.1.0.0/24")
    world.sync()
    assert {route.ip_prefix: route.external_ids["nb-id"]
            for route in world.tables["ic_sb"]["Route"]} == {
        "192.168.1.0/24": str(lrp.uuid), "10.1.0.0/24": str(static.uuid)}
    assert world.concern.tally.refused["advertise", "duplicate"] == 2


def test_dynamic_prefixes_obey_the_advertising_rules():
    world, lr1, dp = dynamic_world()
    world.options(ic_route_denylist="10.200.0.0/16")
    for prefix in ("0.0.0.0/0", "169.254.9.0/24", "10.200.1.0/24", "not-a-prefix"):
        bgp(world, dp, prefix)
    with capture_logs() as logs:
        world.sync()
    assert world.advertised() == []
    refused = world.concern.tally.refused
    assert [refused["advertise", reason] for reason in (
        "default", "link-local", "blacklist", "unparsable")] == [1, 1, 1, 1]
    assert [log["event"] for log in logs] == ["routes.dynamic_prefix_unparsable"]
    world.options(ic_route_adv="false")
    world.sync()
    assert not world.concern.tally.refused


def test_learned_routes_of_other_datapaths_are_ignored():
    world, lr1, _ = dynamic_world()
    lr2 = world.router("lr2")  # no transit-switch port
    bgp(world, datapath(world, lr2), "10.100.0.0/16")
    bgp(world, world.add("sb", "Datapath_Binding", nb_uuid=[]), "10.101.0.0/16")
    world.sync()
    assert world.advertised() == []


# ------------------------------------------------------- ic-route-ipv4-next-hop-ipv6
@pytest.mark.parametrize(("router", "port", "expected"), [
    (None, None, False), ("true", None, True), ("TRUE", None, True), ("yes", None, False),
    ("true", "false", False), ("true", "FALSE", False), ("true", "", True),
    ("true", "junk", True), (None, "true", True), ("false", "true", True),
    (None, "junk", False), (None, "", False)])
def test_ipv4_next_hop_ipv6_is_read_as_ovn_ic_reads_it(router, port, expected):
    """smap_get_bool(LRP options, key, smap_get_bool(LR options, key, false))."""
    assert ipv4_next_hop_ipv6(router, port) is expected


def test_26_09_ipv4_routes_get_the_ports_ipv6_next_hop_when_asked():
    world, lr1 = one_router(DUAL_PORT)
    world.schemas = {"ic_sb": IC_SB_26_09}
    world.lrp(lr1, "lrp-inside", "192.168.1.1/24")
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.static(lr1, "fd11::/64", "fd00::1")
    lr1.options["ic-route-ipv4-next-hop-ipv6"] = "true"
    world.sync()
    assert world.advertised() == [
        ("ts1", "", "10.1.0.0/24", "2001:db8:1::1", "static"),
        ("ts1", "", "192.168.1.1/24", "2001:db8:1::1", "connected"),
        ("ts1", "", "fd11::/64", "2001:db8:1::1", "static")]
    lrp = world.named("nb", "Logical_Router_Port", "lrp-lr1-ts1")
    lrp.options["ic-route-ipv4-next-hop-ipv6"] = "false"  # the port's wins
    world.sync()
    assert [route[3] for route in world.advertised()] == [
        "169.254.100.1", "169.254.100.1", "2001:db8:1::1"]


def test_ipv4_next_hop_ipv6_needs_an_ipv6_address_and_26_09s_ic_sb():
    world, lr1 = one_router(V4_PORT)
    world.schemas = {"ic_sb": IC_SB_26_09}
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    lr1.options["ic-route-ipv4-next-hop-ipv6"] = "true"
    world.sync()
    assert [route[3] for route in world.advertised()] == ["169.254.100.1"]
    world, lr1 = one_router(DUAL_PORT)
    world.schemas = {"ic_sb": IC_SB_26_03}
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    lr1.options["ic-route-ipv4-next-hop-ipv6"] = "true"
    world.sync()
    assert [route[3] for route in world.advertised()] == ["169.254.100.1"]


def test_dynamic_prefixes_go_through_the_ports_route_controls_when_they_change():
    """As ovn-ic 26.03, the port's allow-list and tag hold for Learned_Route prefixes too,
    and a change of the controls derives them again (incremental path)."""
    world, lr1, dp = dynamic_world()
    bgp(world, dp, "10.100.0.0/16")
    bgp(world, dp, "10.200.0.0/16")
    incremental = Incremental(world)
    incremental.sync()
    assert [row[2] for row in world.advertised()] == ["10.100.0.0/16", "10.200.0.0/16"]
    (port,) = [row for row in world.tables["nb"]["Logical_Router_Port"]
               if row.name == "lrp-lr1-ts1"]
    port.options.update({"ic-route-tag": "blue", "ic-route-filter-adv": "10.100.0.0/16"})
    incremental.sync()
    assert world.advertised() == [("ts1", "", "10.100.0.0/16", "169.254.100.1", "connected")]
    assert world.own_route("10.100.0.0/16").external_ids["ic-route-tag"] == "blue"
