"""Other AZs' routes overlapping local networks (docs/behaviour.md §6.8), and next hops of
the other family (§6.5), on plain data."""

from __future__ import annotations

import pytest
from route_world import DUAL_PORT, one_router
from structlog.testing import capture_logs

from ovn_ic_controller.metrics import Metrics
from ovn_ic_controller.sync.prefixes import parse_cidr
from ovn_ic_controller.sync.routes.overlaps import Conflict, Neighbourhoods, network

PEER = "169.254.100.2"
DENY = {"auto_route": "true", "cluster_router": "lr1"}


def world_with_subnet(settings=DENY, address=None):
    """lr1 on ts1 with the subnet 10.16.0.0/24 behind it, under ``settings``."""
    world, lr1 = one_router(address) if address else one_router()
    world.lrp(lr1, "lrp-inside", "10.16.0.1/24")
    world.settings.update(settings)
    return world, lr1


def learned_prefixes(world, router):
    return [route[0] for route in world.learned(router)]


def never_learns(world, router, prefixes):
    """Sync, checking after each plan applied that ``router`` learned none of ``prefixes``."""
    for _ in range(3):
        plan = world.plan()
        world.apply(plan)
        assert not set(learned_prefixes(world, router)) & set(prefixes)
        if not plan:
            return
    raise AssertionError("no fixed point")


@pytest.mark.parametrize("prefix", ["10.16.0.0/24", "10.16.0.128/25", "10.16.0.7/32",
                                    "10.16.0.0/16"])
def test_deny_never_learns_a_route_equal_to_within_or_covering_a_subnet(prefix):
    world, lr1 = world_with_subnet()
    world.remote_route(prefix, PEER)
    world.remote_route("10.17.0.0/24", PEER)
    never_learns(world, lr1, [prefix])
    assert learned_prefixes(world, lr1) == ["10.17.0.0/24"]
    tally = world.concern.tally
    assert tally.refused["learn", "conflict"] == 1
    remote = str(network(parse_cidr(prefix)))
    assert tally.conflicts == {Conflict("lr1", "10.16.0.0/24", remote, world.peer.uuid,
                                        learned=False): 1}


def test_the_local_subnet_stays_advertised_and_nothing_goes_into_the_blacklist():
    world, lr1 = world_with_subnet()
    world.remote_route("10.16.0.0/24", PEER)
    world.remote_route("10.16.0.0/25", PEER)
    world.sync()
    assert ("ts1", "", "10.16.0.1/24", "169.254.100.1", "connected") in world.advertised()
    assert "ic-route-blacklist" not in world.nb_global.options


@pytest.mark.parametrize("settings", [
    {"auto_route": "true", "cluster_router": "lr1", "conflict_policy": "report"},
    {"cluster_router": "lr1"},                    # auto-route absent: the operator's options
    {"auto_route": "false", "cluster_router": "lr1"},
    {"auto_route": "true", "cluster_router": "elsewhere"},  # the automation is not engaged
])
def test_without_deny_a_conflicting_route_is_learned_as_23_03_does_and_reported(settings):
    world, lr1 = world_with_subnet(settings)
    world.remote_route("10.16.0.128/25", PEER)
    world.sync()
    assert learned_prefixes(world, lr1) == ["10.16.0.128/25"]
    tally = world.concern.tally
    assert tally.refused["learn", "conflict"] == 0
    assert tally.conflicts == {Conflict("lr1", "10.16.0.0/24", "10.16.0.128/25",
                                        world.peer.uuid, learned=True): 1}


def test_conflicts_and_learned_overlaps_are_published_and_withdrawn():
    world, lr1 = world_with_subnet({"cluster_router": "lr1"})
    world.transit_switch("ts2")
    world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:02 169.254.200.1/24")
    routes = [world.remote_route("10.16.0.128/25", PEER),
              world.remote_route("10.16.0.128/25", "169.254.200.2", ts="ts2")]
    metrics = Metrics()
    world.sync()
    world.concern.report(metrics)
    labels = {"local": "10.16.0.0/24", "remote": "10.16.0.128/25"}
    sample = metrics.registry.get_sample_value
    assert sample("ovn_ic_controller_route_conflicts", labels) == 1
    assert sample("ovn_ic_controller_learned_route_overlaps", labels) == 2
    world.settings.update(DENY)
    world.sync()
    world.concern.report(metrics)
    assert sample("ovn_ic_controller_route_conflicts", labels) == 1
    assert sample("ovn_ic_controller_learned_route_overlaps", labels) is None
    assert sample("ovn_ic_controller_routes_refused",
                  {"direction": "learn", "reason": "conflict"}) == 2
    for route in routes:
        world.tables["ic_sb"]["Route"].remove(route)
    world.sync()
    world.concern.report(metrics)
    assert sample("ovn_ic_controller_route_conflicts", labels) is None


def test_a_conflict_is_logged_when_it_appears_changes_and_goes():
    world, lr1 = world_with_subnet({"cluster_router": "lr1"})
    route = world.remote_route("10.16.0.128/25", PEER)
    with capture_logs() as logs:
        world.sync()
        world.settings.update(DENY)
        world.sync()
        world.tables["ic_sb"]["Route"].remove(route)
        world.sync()
    events = [(entry["event"], entry.get("action")) for entry in logs
              if entry["event"].startswith("routes.conflict")]
    assert events == [("routes.conflict", "learned (reported only)"),
                      ("routes.conflict", "refused (conflict-policy=deny)"),
                      ("routes.conflict_gone", None)]
    first = next(entry for entry in logs if entry["event"] == "routes.conflict")
    assert (first["router"], first["local"], first["remote"], first["availability_zone"]) == (
        "lr1", "10.16.0.0/24", "10.16.0.128/25", "az2")


def test_link_local_transit_facing_and_other_routers_networks_are_not_local_here():
    world, lr1 = world_with_subnet()
    world.lrp(lr1, "lrp-link-local", "169.254.9.1/24")
    lr2 = world.router("lr2")
    world.lrp(lr2, "lrp-lr2", "10.99.0.1/24")
    world.attach(lr2, "ts1", "aa:aa:aa:aa:aa:03 169.254.100.3/24")
    for prefix in ("169.254.100.128/25", "10.99.0.0/25"):
        world.remote_route(prefix, PEER)
    world.sync()
    # lr1 learns lr2's overlap (not lr1's network); lr2 refuses it; nobody refuses the
    # transit switch's own network (link-local anyway) nor another link-local one.
    assert learned_prefixes(world, lr1) == ["10.99.0.0/25"]
    assert learned_prefixes(world, lr2) == []
    assert [(c.router, c.local) for c in world.concern.tally.conflicts] == [
        ("lr2", "10.99.0.0/24")]


def test_static_routes_are_local_networks_only_in_their_scope_and_only_for_routes_within():
    world, lr1 = world_with_subnet()
    world.static(lr1, "10.50.0.0/16", "192.168.1.10")
    world.static(lr1, "10.60.0.0/16", "192.168.1.10", policy="src-ip")  # a source: not local
    world.remote_route("10.50.1.0/24", PEER)     # within the static route
    world.remote_route("10.50.0.0/15", PEER)     # covering it: takes none of its traffic
    world.remote_route("10.60.1.0/24", PEER)
    world.sync()
    assert learned_prefixes(world, lr1) == ["10.50.0.0/15", "10.50.1.0/24", "10.60.1.0/24"]
    world.settings["conflict_scope"] = "subnets+static-routes"
    never_learns(world, lr1, ["10.50.1.0/24"])
    assert learned_prefixes(world, lr1) == ["10.50.0.0/15", "10.60.1.0/24"]
    assert world.concern.tally.conflicts == {Conflict(
        "lr1", "10.50.0.0/16", "10.50.1.0/24", world.peer.uuid, learned=False): 1}


def test_a_static_route_appearing_or_going_re_judges_the_routes_within_it():
    world, lr1 = world_with_subnet({**DENY, "conflict_scope": "subnets+static-routes"})
    world.remote_route("10.50.1.0/24", PEER)
    world.remote_route("10.51.1.0/24", PEER)
    world.sync()
    assert learned_prefixes(world, lr1) == ["10.50.1.0/24", "10.51.1.0/24"]
    static = world.static(lr1, "10.50.0.0/16", "192.168.1.10")
    world.sync()
    assert learned_prefixes(world, lr1) == ["10.51.1.0/24"]
    lr1.static_routes.remove(static)
    world.tables["nb"]["Logical_Router_Static_Route"].remove(static)
    world.sync()
    assert learned_prefixes(world, lr1) == ["10.50.1.0/24", "10.51.1.0/24"]


def test_neighbourhoods_find_exactly_the_routes_within_a_network():
    near = Neighbourhoods()
    routes = {name: parse_cidr(name) for name in (
        "10.50.1.0/24", "10.50.0.0/16", "10.51.0.0/24", "10.0.0.0/8", "10.50.1.7/32",
        "11.0.0.0/24", "2001:db8::/64", "2001:db8:0:1::/64", "2001::/16")}
    for name, prefix in routes.items():
        near.add(name, prefix)

    def within(text):
        return sorted(near.within(parse_cidr(text)))

    assert within("10.50.0.0/16") == ["10.50.0.0/16", "10.50.1.0/24", "10.50.1.7/32"]
    assert within("10.50.1.0/24") == ["10.50.1.0/24", "10.50.1.7/32"]
    assert within("10.0.0.0/8") == ["10.0.0.0/8", "10.50.0.0/16", "10.50.1.0/24",
                                    "10.50.1.7/32", "10.51.0.0/24"]
    assert within("0.0.0.0/1") == within("10.0.0.0/8") + ["11.0.0.0/24"]
    assert within("2001:db8::/32") == ["2001:db8:0:1::/64", "2001:db8::/64"]
    assert within("2001:db8::/64") == ["2001:db8::/64"]
    near.remove("10.50.1.0/24", routes["10.50.1.0/24"])
    assert within("10.50.1.0/24") == ["10.50.1.7/32"]


# ------------------------------------------------------------------ address families
def test_ipv6_over_an_ipv4_next_hop_is_refused():
    world, lr1 = one_router(DUAL_PORT)
    world.remote_route("2002:db8:5::/64", PEER)
    world.remote_route("2002:db8:6::/64", "2001:db8:1::2")
    world.sync()
    assert learned_prefixes(world, lr1) == ["2002:db8:6::/64"]
    assert world.concern.tally.refused["learn", "family"] == 1


def test_ipv4_over_ipv6_is_learned_only_through_a_port_whose_ipv6_network_holds_it():
    world, lr1 = one_router(DUAL_PORT)
    world.remote_route("10.5.0.0/24", "2001:db8:1::2")   # IPv4 over IPv6, as newer OVN's
    world.remote_route("10.6.0.0/24", "2001:db8:9::2")   # not a neighbour on the switch
    world.remote_route("10.7.0.0/24", PEER)
    v4only = world.router("lr2")
    world.attach(v4only, "ts1", "aa:aa:aa:aa:aa:03 169.254.100.3/24")
    world.sync()
    assert learned_prefixes(world, lr1) == ["10.5.0.0/24", "10.7.0.0/24"]
    assert learned_prefixes(world, v4only) == ["10.7.0.0/24"]
    assert world.concern.tally.refused["learn", "family"] == 3
