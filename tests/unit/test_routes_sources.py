"""Route sources and learning guards of newer OVN: load-balancer VIPs (25.09), discard
routes (26.03), disabled routers (25.09.1); each only where the IC SB's schema has them."""

from __future__ import annotations

import random
import uuid as uuidlib

import pytest
from route_world import DUAL_PORT, World, one_router
from test_routes_incremental import Incremental

from ovn_ic_controller.sync.prefixes import parse_cidr
from ovn_ic_controller.sync.routes import Routes
from ovn_ic_controller.sync.routes import index as routes_index
from ovn_ic_controller.sync.routes.vips import RouterVips, parse_vip

PEER = "169.254.100.2"
ORIGINS_25_09 = {"type": {"key": {"type": "string",
                                  "enum": ["set", ["connected", "static", "loadbalancer"]]}}}
IC_SB_25_09 = {"tables": {"Route": {"columns": {"origin": ORIGINS_25_09}}}}
IC_SB_26_03 = {"tables": {"Route": {"columns": {"origin": ORIGINS_25_09}},
                          "Datapath_Binding": {"columns": {"nb_ic_uuid": {}}}}}


def newer(world, schema=IC_SB_25_09):
    world.schemas = {"ic_sb": schema}
    return world


def lb(world, *vips, router=None, name="lb", lb_uuid=None):
    """A Load_Balancer with ``vips`` (keys), on ``router`` if given."""
    row = world.add("nb", "Load_Balancer", name=name, vips=dict.fromkeys(vips, "192.0.2.1:80"),
                    **({"uuid": lb_uuid} if lb_uuid else {}))
    if router is not None:
        router.load_balancer.append(row)
    return row


def group(world, *lbs, router=None):
    row = world.add("nb", "Load_Balancer_Group", name="lbg", load_balancer=list(lbs))
    if router is not None:
        router.load_balancer_group.append(row)
    return row


def refused(world, direction, reason):
    return world.concern.tally.refused[direction, reason]


# ------------------------------------------------------------------ VIP keys
@pytest.mark.parametrize("key, vip", [
    ("10.0.0.10:80", "10.0.0.10/32"),
    ("10.0.0.10", "10.0.0.10/32"),
    ("10.0.0.10:", "10.0.0.10/32"),          # an empty port is the default one
    ("[fd00::10]:8080", "fd00::10/128"),
    ("[fd00::10]", "fd00::10/128"),
    ("fd00::10", "fd00::10/128"),
    ("fd00::1:80", "fd00::1:80/128"),        # two colons or more: all of it is the host
    ("fe80::1%2", "fe80::1/128"),            # a numeric scope is allowed
    ("10.0.0.10:99999", None),
    ("10.0.0.10:http", None),
    ("010.0.0.10:80", None),                 # inet_pton: no leading zeros
    ("10.0.0/24", None),
    ("fe80::1%eth0", None),
    ("", None),
    (":80", None),
])
def test_vip_keys_parse_as_ovs_parses_them(key, vip):
    assert parse_vip(key) == (parse_cidr(vip) if vip else None)


def test_a_prefix_covers_a_vip_as_ovn_ic_compares_them():
    world = World()
    lr1 = world.router("lr1")
    newer(world)
    lb(world, "10.0.0.10:80", "[fd00::10]:80", router=lr1)
    vips = RouterVips()
    vips.update(world.ctx(), None)
    covers = [text for text in ("10.0.0.10/32", "10.0.0.0/24", "0.0.0.0/0", "10.0.0.11/32",
                                "10.0.0.1/24", "10.0.0.0/29", "fd00::/64", "fd00::10/128",
                                "fd00::1/64", "fd01::/64")
              if vips.covers(lr1.uuid, parse_cidr(text))]
    # The prefix's host bits must be clear: ovn-ic compares VIP & mask with the address.
    assert covers == ["10.0.0.10/32", "10.0.0.0/24", "0.0.0.0/0", "fd00::/64", "fd00::10/128"]
    assert not vips.covers(uuidlib.uuid4(), parse_cidr("10.0.0.0/24"))


# ---------------------------------------------------------- advertising VIPs
def test_vips_of_the_routers_load_balancers_and_groups_are_advertised():
    world, lr1 = one_router(DUAL_PORT, route_table="rtb1")
    newer(world)
    world.options(ic_route_adv_lb="true")
    direct = lb(world, "10.0.0.10:80", "10.0.0.10:443", "[fd00::10]:80", router=lr1)
    grouped = lb(world, "10.0.0.20")
    group(world, grouped, router=lr1)
    lb(world, "10.0.0.30:80")  # on no router
    world.sync()
    # Into <main> whatever the port's route table, next hop the port's address.
    assert world.advertised() == [
        ("ts1", "", "10.0.0.10/32", "169.254.100.1", "loadbalancer"),
        ("ts1", "", "10.0.0.20/32", "169.254.100.1", "loadbalancer"),
        ("ts1", "", "fd00::10/128", "2001:db8:1::1", "loadbalancer"),
    ]
    row = world.own_route("10.0.0.10/32")
    assert row.external_ids == {"nb-id": str(direct.uuid), "lr-id": str(lr1.uuid)}
    assert world.own_route("10.0.0.20/32").external_ids["nb-id"] == str(grouped.uuid)
    assert refused(world, "advertise", "duplicate") == 0

    world.options(ic_route_adv_lb=None)
    world.sync()
    assert world.advertised() == []


def test_vip_routes_obey_the_rules_of_every_advertised_prefix():
    world, lr1 = one_router()
    newer(world)
    world.options(ic_route_adv_lb="true", ic_route_denylist="10.9.0.0/16")
    lb(world, "169.254.5.5:80", "10.9.0.1:80", "[fd00::10]:80", "10.0.0.10:80", router=lr1)
    world.sync()
    assert [row[2] for row in world.advertised()] == ["10.0.0.10/32"]
    assert refused(world, "advertise", "link-local") == 1
    assert refused(world, "advertise", "blacklist") == 1
    assert refused(world, "advertise", "no-nexthop") == 1  # IPv6 over an IPv4-only port


def test_vips_are_not_advertised_with_an_ic_sb_that_has_no_origin_for_them():
    world, lr1 = one_router()
    world.options(ic_route_adv_lb="true")
    lr1.load_balancer = []
    lb(world, "10.0.0.10:80", router=lr1)
    world.sync()
    assert world.advertised() == []


def test_one_vip_of_several_load_balancers_is_one_route_naming_the_lowest():
    world, lr1 = one_router()
    newer(world)
    world.options(ic_route_adv_lb="true")
    high = uuidlib.UUID("ffffffff-0000-0000-0000-000000000000")
    low = uuidlib.UUID("00000000-0000-0000-0000-000000000001")
    lb(world, "10.0.0.10:80", router=lr1, lb_uuid=high)
    lb(world, "10.0.0.10:53", router=lr1, lb_uuid=low, name="udp")
    world.sync()
    assert world.own_route("10.0.0.10/32").external_ids["nb-id"] == str(low)
    assert refused(world, "advertise", "duplicate") == 0


def test_a_static_route_to_a_vip_wins_over_the_vip():
    world, lr1 = one_router()
    newer(world)
    world.options(ic_route_adv_lb="true")
    lb(world, "10.0.0.10:80", router=lr1)
    static = world.static(lr1, "10.0.0.10/32", "10.1.0.1")
    world.sync()
    route = world.own_route("10.0.0.10/32")
    assert (route.origin, route.external_ids["nb-id"]) == ("static", str(static.uuid))
    assert refused(world, "advertise", "duplicate") == 1


# ------------------------------------------------------- learning over a VIP
def test_a_router_never_learns_a_prefix_holding_one_of_its_vips():
    world, lr1 = one_router(DUAL_PORT)
    newer(world)
    lb(world, "10.0.0.10:80", router=lr1)
    group(world, lb(world, "[2001:db8:9::5]:80"), router=lr1)
    world.remote_route("10.0.0.0/24", PEER)
    world.remote_route("10.0.0.1/24", PEER)     # host bits set: ovn-ic learns it
    world.remote_route("10.0.1.0/24", PEER)
    world.remote_route("2001:db8:9::/48", "2001:db8:1::2")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.0.0.1/24", "10.0.1.0/24"]
    assert refused(world, "learn", "lb") == 2

    lr1.load_balancer.clear()
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.0.0.0/24", "10.0.0.1/24",
                                                          "10.0.1.0/24"]
    assert refused(world, "learn", "lb") == 1


def test_without_the_newer_schema_routes_over_a_vip_are_learned():
    world, lr1 = one_router()
    lr1.load_balancer, lr1.load_balancer_group = [], []
    lb(world, "10.0.0.10:80", router=lr1)
    world.remote_route("10.0.0.0/24", PEER)
    world.sync()
    assert len(world.learned(lr1)) == 1


# ------------------------------------------------------------ disabled routers
def test_a_disabled_router_learns_nothing_and_forgets_what_it_learned():
    world, lr1 = one_router()
    newer(world)
    world.remote_route("10.0.0.0/24", PEER)
    world.sync()
    assert len(world.learned(lr1)) == 1
    lr1.enabled = [False]
    world.sync()
    assert world.learned(lr1) == []
    lr1.enabled = [True]
    world.sync()
    assert len(world.learned(lr1)) == 1


def test_a_disabled_router_learns_as_before_without_the_newer_schema():
    world, lr1 = one_router()
    lr1.enabled = [False]
    world.remote_route("10.0.0.0/24", PEER)
    world.sync()
    assert len(world.learned(lr1)) == 1


# ------------------------------------------------------------- discard routes
def test_discard_routes_are_advertised_with_the_ports_address():
    world = World()
    world.transit_switch("ts1")
    world.transit_switch("ts2")
    lr1 = world.router("lr1")
    newer(world, IC_SB_26_03)
    world.attach(lr1, "ts1")
    world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:02 169.254.200.1/24", route_table="rtb1")
    world.static(lr1, "10.5.0.0/16", "discard")
    world.static(lr1, "10.6.0.0/16", "discard", route_table="rtb1")
    world.static(lr1, "10.7.0.0/16", "discard", policy="src-ip")
    world.sync()
    assert world.advertised() == [
        ("ts1", "", "10.5.0.0/16", "169.254.100.1", "static"),
        ("ts2", "rtb1", "10.6.0.0/16", "169.254.200.1", "static"),
    ]


def test_discard_routes_are_not_advertised_before_the_26_03_schema():
    world, lr1 = one_router()
    newer(world)
    world.static(lr1, "10.5.0.0/16", "discard")
    world.sync()
    assert world.advertised() == []
    assert refused(world, "advertise", "unparsable") == 0


# ------------------------------------------------------------- incrementally
def test_a_load_balancer_change_re_derives_only_its_routers_vips(monkeypatch):
    world = World()
    world.transit_switch("ts1")
    busy, quiet = world.router("lr1"), world.router("lr2")
    world.attach(busy, "ts1")
    world.attach(quiet, "ts1", "aa:aa:aa:aa:aa:03 169.254.100.3/24")
    newer(world)
    world.options(ic_route_adv_lb="true")
    for i in range(1000):
        lb(world, f"10.{i // 256}.{i % 256}.1:80", router=busy)
        world.remote_route(f"172.{16 + i // 256}.{i % 256}.0/24", PEER)
    incremental = Incremental(world)
    incremental.sync()
    assert len(world.advertised()) == 1000

    work = {"vips": 0, "judged": []}

    def vip(*args):
        work["vips"] += 1
        return vip_contribution(*args)

    def judged(route, *args):
        work["judged"].append(route.ip_prefix)
        return remote_contribution(route, *args)

    vip_contribution, remote_contribution = (routes_index.vip_contribution,
                                             routes_index.remote_contribution)
    monkeypatch.setattr(routes_index, "vip_contribution", vip)
    monkeypatch.setattr(routes_index, "remote_contribution", judged)
    new = lb(world, "172.16.0.7:80", "172.16.1.7:80", router=quiet)
    incremental.sync()
    assert work == {"vips": 2, "judged": ["172.16.0.0/24", "172.16.1.0/24"]}
    assert len(world.learned(quiet)) == 998 and len(world.learned(busy)) == 1000

    work.update(vips=0, judged=[])
    new.vips = {"172.16.1.7:80": ""}
    incremental.sync()
    assert work == {"vips": 0, "judged": ["172.16.0.0/24"]}  # a VIP gone: dropped
    assert len(world.learned(quiet)) == 999

    work.update(vips=0, judged=[])
    quiet.load_balancer.remove(new)
    world.tables["nb"]["Load_Balancer"].remove(new)
    incremental.sync()
    assert work == {"vips": 0, "judged": ["172.16.1.0/24"]}
    assert len(world.learned(quiet)) == 1000
    assert len(world.advertised()) == 1000


@pytest.mark.parametrize("seed", range(4))
def test_load_balancer_changes_reach_what_a_full_computation_wants(seed):
    pick = random.Random(seed).choice
    world = World()
    world.transit_switch("ts1")
    routers = [world.router("lr1"), world.router("lr2")]
    world.attach(routers[0], "ts1")
    world.attach(routers[1], "ts1", "aa:aa:aa:aa:aa:03 169.254.100.3/24")
    newer(world)
    world.options(ic_route_adv_lb="true")
    lbs = [lb(world, name=f"lb{i}") for i in range(4)]
    groups = [group(world), group(world)]
    vips = ["10.1.0.1:80", "10.1.0.1:53", "10.1.0.2", "[fd00::1]:80", "bad"]
    for prefix in ("10.1.0.0/24", "10.1.0.0/30", "10.1.0.2/32", "10.2.0.0/16"):
        world.remote_route(prefix, PEER)
    incremental = Incremental(world)
    seen = set()
    for _ in range(60):
        action = pick(["vips", "attach", "detach", "group", "ungroup", "delete"])
        router, row, lbg = pick(routers), pick(lbs), pick(groups)
        if action == "vips":
            row.vips = {pick(vips): "" for _ in range(2)}
        elif action == "attach":
            target = pick([router.load_balancer, lbg.load_balancer])
            if row not in target:
                target.append(row)
        elif action == "detach":
            for target in (router.load_balancer, lbg.load_balancer):
                if row in target:
                    target.remove(row)
        elif action == "group" and lbg not in router.load_balancer_group:
            router.load_balancer_group.append(lbg)
        elif action == "ungroup" and lbg in router.load_balancer_group:
            router.load_balancer_group.remove(lbg)
        elif action == "delete" and row in world.tables["nb"]["Load_Balancer"]:
            for owner in (*routers, *groups):
                if row in owner.load_balancer:
                    owner.load_balancer.remove(row)
            world.tables["nb"]["Load_Balancer"].remove(row)
            lbs.remove(row)
            lbs.append(lb(world, name="again"))
        incremental.sync()
        full = Routes()
        assert not full.plan(world.ctx()), "a full computation would change more"
        assert incremental.concern.tally == full.tally
        seen.update(route[4] for route in world.advertised())
        seen.add(full.tally.refused["learn", "lb"] > 0)
    assert seen == {"loadbalancer", True, False}  # the scenario did exercise both rules


def test_vip_routes_go_through_the_ports_route_controls_and_carry_its_tag():
    """As ovn-ic 26.03: a VIP route is one more prefix through the port's allow-list and
    deny lists, tagged with the port's tag; changing the controls redoes the VIPs too."""
    world, lr1 = one_router()
    newer(world)
    world.options(ic_route_adv_lb="true")
    lb(world, "10.0.0.10:80", "10.5.0.10:80", router=lr1)
    incremental = Incremental(world)
    incremental.sync()
    assert [row[2] for row in world.advertised()] == ["10.0.0.10/32", "10.5.0.10/32"]
    (port,) = [row for row in world.tables["nb"]["Logical_Router_Port"]
               if row.name == "lrp-lr1-ts1"]
    port.options.update({"ic-route-tag": "blue", "ic-route-filter-adv": "10.0.0.0/16"})
    incremental.sync()
    assert world.advertised() == [("ts1", "", "10.0.0.10/32", "169.254.100.1", "loadbalancer")]
    assert world.own_route("10.0.0.10/32").external_ids["ic-route-tag"] == "blue"
    assert incremental.concern.tally.refused["advertise", "filter"] == 1
