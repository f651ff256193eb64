"""Route sync told which rows changed: work for those rows only, same result as in full.

The daemon passes a concern the rows the IDL reported changed since its last
plan.  Here a snapshot of the fake tables before and after each change stands
in for the IDL's reports.
"""

from __future__ import annotations

import dataclasses
import random
import types

import pytest
from route_world import World

from ovn_ic_controller.sync import routes
from ovn_ic_controller.sync.routes import Routes
from ovn_ic_controller.sync.routes import index as routes_index

PEER_ADDRESS = "169.254.100.2"


def _fingerprint(value):
    if isinstance(value, list):
        return tuple(_fingerprint(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _fingerprint(item)) for key, item in value.items()))
    if isinstance(value, types.SimpleNamespace):  # a referenced row
        return value.uuid
    return value


def snapshot(world):
    """Every row's content, by (db, table) and UUID."""
    return {(db, table): {row.uuid: tuple((name, _fingerprint(value))
                                          for name, value in sorted(vars(row).items()))
                          for row in rows}
            for db, tables in world.tables.items() for table, rows in tables.items()}


class Incremental:
    """Runs a Routes concern over a World as the daemon does: told which rows changed."""

    def __init__(self, world):
        self.world = world
        self.concern = Routes()
        self.seen = None

    def plan(self):
        now = snapshot(self.world)
        changed = None
        if self.seen is not None:
            changed = {key: {uuid for uuid in rows.keys() | self.seen[key].keys()
                             if rows.get(uuid) != self.seen[key].get(uuid)}
                       for key, rows in now.items()}
        self.seen = now
        return self.concern.plan(dataclasses.replace(self.world.ctx(), changed_rows=changed))

    def sync(self, passes=3):
        for _ in range(passes):
            plan = self.plan()
            if not plan:
                return
            self.world.apply(plan)
        raise AssertionError(f"no fixed point after {passes} passes: {plan.ops}")


def prefix(i):
    return f"10.{i // 256}.{i % 256}.0/24"


def test_one_route_added_to_a_1000_route_router_is_one_route_of_work(monkeypatch):
    world = World()
    world.transit_switch("ts1")
    lr1 = world.router("lr1")
    world.attach(lr1, "ts1")
    for i in range(1000):
        world.static(lr1, prefix(i), "169.254.0.1")
        world.remote_route(f"172.16.{i // 256}.{i % 256}/32", PEER_ADDRESS)
    incremental = Incremental(world)
    incremental.sync()
    assert len(world.advertised()) == 1000 and len(world.learned(lr1)) == 1000

    work = {"derived": 0, "filtered": 0, "compared": 0}

    def counting(name, function):
        def count(*args, **kwargs):
            work[name] += 1
            return function(*args, **kwargs)
        return count

    monkeypatch.setattr(routes_index, "static_route",
                        counting("derived", routes_index.static_route))
    monkeypatch.setattr(routes_index, "static_contribution",
                        counting("filtered", routes_index.static_contribution))
    monkeypatch.setattr(routes, "plan_advertisement",
                        counting("compared", routes.plan_advertisement))
    world.static(lr1, prefix(1000), "169.254.0.1")
    incremental.sync()
    assert len(world.advertised()) == 1001
    # Derived and filtered once, when it appears; its key is compared when wanted and
    # again when its IC SB row appears.
    assert work == {"derived": 1, "filtered": 1, "compared": 2}


def test_a_local_network_appearing_re_judges_only_the_routes_within_it(monkeypatch):
    """Static routes as local networks (conflict-scope), under deny: 1000 other AZs' routes;
    a static route appearing is checked against the few routes near it, not all of them."""
    world = World()
    world.settings.update(auto_route="true", cluster_router="lr1",
                          conflict_scope="subnets+static-routes")
    world.transit_switch("ts1")
    lr1 = world.router("lr1")
    world.attach(lr1, "ts1")
    for i in range(1000):
        world.static(lr1, f"10.{i // 256}.{i % 256}.0/24", "169.254.0.1")
        world.remote_route(f"172.{16 + i // 256}.{i % 256}.0/24", PEER_ADDRESS)
    incremental = Incremental(world)
    incremental.sync()
    assert len(world.learned(lr1)) == 1000

    judged = []

    def counting(route, *args):
        judged.append(route.ip_prefix)
        return contribution(route, *args)

    contribution = routes_index.remote_contribution
    monkeypatch.setattr(routes_index, "remote_contribution", counting)
    world.static(lr1, "172.16.4.0/23", "169.254.0.1")
    incremental.sync()
    assert sorted(judged) == ["172.16.4.0/24", "172.16.5.0/24"]
    assert len(world.learned(lr1)) == 998
    judged.clear()
    world.remote_route("172.16.4.128/25", PEER_ADDRESS)
    world.remote_route("172.20.0.0/24", PEER_ADDRESS)
    incremental.sync()
    assert sorted(judged) == ["172.16.4.128/25", "172.20.0.0/24"]
    assert len(world.learned(lr1)) == 999
    assert incremental.concern.tally.refused["learn", "conflict"] == 3


def test_a_changed_port_option_re_derives_only_that_routers_routes(monkeypatch):
    """Two routers on two transit switches, 500 routes each way on each: a filter set on
    one router's port derives again what it advertises and what its switch brings."""
    world = World()
    routers = {}
    for n in (1, 2):
        world.transit_switch(f"ts{n}")
        routers[n] = world.router(f"lr{n}")
        world.attach(routers[n], f"ts{n}", f"aa:aa:aa:aa:aa:0{n} 169.254.10{n}.1/24")
        for i in range(500):
            world.static(routers[n], f"10.{n}{i // 256}.{i % 256}.0/24", "169.254.0.1")
            world.remote_route(f"172.{n}{i // 256}.{i % 256}.0/24", f"169.254.10{n}.2",
                               ts=f"ts{n}")
    incremental = Incremental(world)
    incremental.sync()
    assert len(world.advertised()) == 1000

    advertised, judged = [], []

    def counting(seen, function):
        def count(*args, **kwargs):
            seen.append(args[0].name if seen is advertised else args[0].transit_switch)
            return function(*args, **kwargs)
        return count

    monkeypatch.setattr(routes_index, "static_contribution",
                        counting(advertised, routes_index.static_contribution))
    monkeypatch.setattr(routes_index, "remote_contribution",
                        counting(judged, routes_index.remote_contribution))
    (port,) = [lrp for lrp in routers[2].ports]
    port.options["ic-route-deny-adv"] = "10.20.0.0/16"
    port.options["ic-route-filter-learn"] = "172.20.0.0/16"
    incremental.sync()
    assert len(world.advertised("ts2")) == 500 - 256 and len(world.advertised("ts1")) == 500
    assert len(world.learned(routers[2])) == 256 and len(world.learned(routers[1])) == 500
    # Once each, in the pass that saw the change; the next passes find nothing to do.
    assert (len(advertised), set(advertised)) == (500, {"lr2"})
    assert (len(judged), set(judged)) == (500, {"ts2"})


class RandomWorld:
    """Random changes to an AZ with two routers and a peer; each step must converge."""

    def __init__(self, seed, settings=None):
        self.random = random.Random(seed)
        self.world = world = World()
        world.settings.update(settings or {})
        world.options(ic_route_blacklist="10.9.0.0/16")
        world.transit_switch("ts1")
        world.transit_switch("ts2")
        self.routers = [world.router("lr1"), world.router("lr2")]
        world.attach(self.routers[0], "ts1")
        world.attach(self.routers[0], "ts2", "aa:aa:aa:aa:aa:02 169.254.200.1/24",
                     route_table="rtb1")
        self.binding = world.attach(self.routers[1], "ts1", "aa:aa:aa:aa:aa:03 169.254.100.3/24")
        world.lrp(self.routers[1], "lrp-lr2-inside", "10.2.0.1/23")  # a local network

    def step(self):
        pick = self.random.choice
        world = self.world
        ic_routes = world.tables["ic_sb"]["Route"]
        remote = [route for route in ic_routes if route.availability_zone is world.peer]
        own = [route for route in ic_routes if route.availability_zone is world.az]
        statics = [(router, route) for router in self.routers
                   for route in router.static_routes]
        learned = [route for router in self.routers for route in world.learned_rows(router)]
        prefixes = [f"10.{self.random.randint(1, 4)}.{i}.0/24" for i in range(4)]
        action = pick(["static"] * 3 + ["remote"] * 3 + [
            "drop-static", "drop-remote", "edit-static", "edit-remote", "tamper-own",
            "tamper-learned", "options", "port", "controls"])
        if action == "static":
            world.static(pick(self.routers), pick([*prefixes, *prefixes, "bad"]),
                         pick(["169.254.0.1"] * 4 + ["169.254.0.2", "discard"]),
                         route_table=pick(["", "rtb1"]), policy=pick([None] * 5 + ["src-ip"]))
        elif action == "remote":
            world.remote_route(pick(prefixes), pick([PEER_ADDRESS] * 4 + ["169.254.100.9",
                                                                       "fe80::1"]),
                               ts=pick(["ts1", "ts2"]), route_table=pick(["", "rtb1", "rtb2"]),
                               origin=pick(["connected", "static"]),
                               **pick([{}, {}, {"ic-route-tag": "blue"}]))
        elif action == "drop-static" and statics:
            router, route = pick(statics)
            router.static_routes.remove(route)
            world.tables["nb"]["Logical_Router_Static_Route"].remove(route)
        elif action == "drop-remote" and remote:
            ic_routes.remove(pick(remote))
        elif action == "edit-static" and statics:
            pick(statics)[1].nexthop = pick(["169.254.0.3", "169.254.0.4", "discard"])
        elif action == "edit-remote" and remote:
            pick(remote).ip_prefix = pick(prefixes)
        elif action == "tamper-own" and own:
            route = pick(own)
            if self.random.random() < 0.5:
                ic_routes.remove(route)
            else:
                route.external_ids["nb-id"] = "someone else"
        elif action == "tamper-learned" and learned:
            pick(learned).external_ids["ic-learned-route"] = "bogus"
        elif action == "options":
            world.options(ic_route_blacklist=pick(["10.9.0.0/16", "10.1.0.0/16", None]))
        elif action == "controls":  # a route control on a router or one of its ports
            target = pick([*self.routers, *world.tables["nb"]["Logical_Router_Port"]])
            key = pick(["ic-route-filter-adv", "ic-route-filter-learn", "ic-route-deny-adv",
                        "ic-route-deny-learn", "ic-route-tag", "ic-route-filter-tag"])
            value = pick([None, "10.1.0.0/16", "10.2.0.0/16,10.3.1.0/24", "blue"])
            if value is None:
                target.options.pop(key, None)
            else:
                target.options[key] = value
        elif action == "port":  # lr2 leaves ts1, or comes back
            bindings = world.tables["ic_sb"]["Port_Binding"]
            if self.binding in bindings:
                bindings.remove(self.binding)
            else:
                bindings.append(self.binding)


@pytest.mark.parametrize("settings", [
    {}, {"auto_route": "true", "cluster_router": "lr1", "conflict_scope": "subnets+static-routes"}])
@pytest.mark.parametrize("seed", range(6))
def test_incremental_passes_reach_what_a_full_computation_wants(seed, settings):
    scenario = RandomWorld(seed, settings)
    incremental = Incremental(scenario.world)
    for _ in range(80):
        scenario.step()
        incremental.sync()
        full = Routes()
        assert not full.plan(scenario.world.ctx()), "a full computation would change more"
        assert incremental.concern.tally == full.tally


def test_a_changed_learned_route_re_derives_only_its_routers_prefix(monkeypatch):
    """SB Learned_Route (26.03): 20 routers with 50 dynamic prefixes each, 1000 other AZs'
    routes; one Learned_Route changing its prefix costs the advertisement of that prefix and
    a judgement of the remote routes to the old and new prefix, nothing of the others."""
    world = World()
    world.schemas = {"sb": {"tables": {"Learned_Route": {"columns": {"ip_prefix": {}}},
                                       "Datapath_Binding": {"columns": {"nb_uuid": {}}}}},
                     "ic_sb": {"tables": {"Datapath_Binding": {"columns": {"nb_ic_uuid": {}}}}}}
    world.transit_switch("ts1")
    rows = []
    for r in range(20):
        router = world.router(f"lr{r}")
        world.attach(router, "ts1", f"aa:aa:aa:aa:aa:{r:02x} 169.254.100.{r + 1}/24")
        dp = world.add("sb", "Datapath_Binding", nb_uuid=[router.uuid])
        rows += [world.add("sb", "Learned_Route", datapath=dp, ip_prefix=f"10.{r}.{i}.0/24")
                 for i in range(50)]
    for i in range(1000):
        world.remote_route(f"172.16.{i // 256}.{i % 256}/32", PEER_ADDRESS)
    world.remote_route("10.7.99.0/24", PEER_ADDRESS)
    incremental = Incremental(world)
    incremental.sync()
    assert len(world.advertised()) == 1000
    lr7 = world.named("nb", "Logical_Router", "lr7")
    assert ("10.7.99.0/24", PEER_ADDRESS, "", "connected") in world.learned(lr7)

    advertised, judged, filtered = [], [], []
    dynamic_contribution = routes_index.dynamic_contribution
    remote_contribution = routes_index.remote_contribution
    static_contribution = routes_index.static_contribution
    monkeypatch.setattr(routes_index, "dynamic_contribution", lambda router, prefix, options: (
        advertised.append((router.name, prefix)) or dynamic_contribution(router, prefix, options)))
    monkeypatch.setattr(routes_index, "remote_contribution", lambda route, *args: (
        judged.append(route.ip_prefix) or remote_contribution(route, *args)))
    monkeypatch.setattr(routes_index, "static_contribution", lambda *args: (
        filtered.append(args) or static_contribution(*args)))
    rows[7 * 50 + 3].ip_prefix = "10.7.99.0/24"
    incremental.sync()
    assert advertised == [("lr7", "10.7.99.0/24")]
    assert judged == ["10.7.99.0/24"]
    assert not filtered
    assert ("10.7.99.0/24", PEER_ADDRESS, "", "connected") not in world.learned(lr7)
    assert ("ts1", "", "10.7.3.0/24", "169.254.100.8", "connected") not in world.advertised()
    assert ("ts1", "", "10.7.99.0/24", "169.254.100.8", "connected") in world.advertised()
