"""Three AZs, two transit switches, a few hundred routes added and deleted at random.

Acceptance of route sync: whatever the order of changes, once things settle
the learned routes of every AZ equal what follows from the other AZs'
advertisements (a multiset, so a duplicate fails), and an idle minute commits
nothing.  The expected state is computed here from the topology alone.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from icview import OURS, REFERENCE, assert_idle, start
from routeview import add_transit_switches, connect, enable_routes, learned, wait_for

SEED = 20240423
SWITCHES = {"ts1": "", "ts2": "rtb2"}  # transit switch: route table of the ports on it
ROUTES_PER_AZ = 100
CHANGES = 150


class Topology:
    """Routers and their static routes, as built in the AZs, to derive the expected routes."""

    def __init__(self, azs):
        self.azs = azs
        # (az index, router) -> {ts: port address}; az2 has two routers on ts1, which
        # 23.03.1 cannot advertise (Q3), so az2 always runs ours.
        self.ports = {}
        self.subnets = {}
        self.statics = {}  # (az index, router) -> {(prefix, route_table)}

    def build(self):
        for a, az in enumerate(self.azs, 1):
            enable_routes(az)
            self.add_router(a, f"lr{a}", {"ts1": f"169.254.1.{a}", "ts2": f"169.254.2.{a}"})
        self.add_router(2, "lr2b", {"ts1": "169.254.1.20"})

    def add_router(self, a, router, ports):
        az = self.azs[a - 1]
        for n, (ts, ip) in enumerate(ports.items(), 1):
            connect(az, router, ts, f"aa:aa:aa:{a:02x}:{len(self.ports):02x}:{n:02x}",
                    f"{ip}/24", route_table=SWITCHES[ts] or None)
        subnet = f"192.168.{a}{len(self.ports)}.1/24"
        az.nbctl("lrp-add", router, f"lrp-{router}-inside",
                 f"00:00:00:{a:02x}:{len(self.ports):02x}:01", subnet)
        self.ports[a, router] = ports
        self.subnets[a, router] = subnet
        self.statics[a, router] = set()

    def advertised(self):
        """(az index, ts, route_table, ip_prefix, nexthop, origin) of every IC SB route."""
        rows = []
        for (a, router), ports in self.ports.items():
            for ts, ip in ports.items():
                table = SWITCHES[ts]
                rows.append((a, ts, "", self.subnets[a, router], ip, "connected"))
                rows += [(a, ts, table, prefix, ip, "static")
                         for prefix, route_table in self.statics[a, router]
                         if route_table == table]
        return rows

    def expected(self, a):
        """The learned routes of AZ ``a``, as ``routeview.learned`` gives them."""
        found = []
        for (learner_az, router), ports in self.ports.items():
            if learner_az != a:
                continue
            local = {(route_table, prefix) for prefix, route_table in self.statics[a, router]}
            for peer, ts, table, prefix, nexthop, origin in self.advertised():
                if (peer != a and ts in ports and table in ("", SWITCHES[ts])
                        and (table, prefix) not in local):
                    found.append((router, prefix, nexthop, table, origin))
        return sorted(found)


def random_changes(rng, topology):
    """(az index, nbctl args) changes: add a route (maybe in rtb2) or delete one."""
    routers = list(topology.statics)
    for _ in range(CHANGES):
        a, router = rng.choice(routers)
        routes = topology.statics[a, router]
        if routes and rng.random() < 0.4:
            prefix, table = rng.choice(sorted(routes))
            routes.discard((prefix, table))
            yield a, (f"--route-table={table}", "lr-route-del", router, prefix)
        else:
            prefix = f"10.{a}{len(router)}.{rng.randrange(256)}.0/24"
            table = rng.choice(["", "", "rtb2"])
            if any(existing == prefix for existing, _ in routes):
                continue
            routes.add((prefix, table))
            yield a, (f"--route-table={table}", "lr-route-add", router, prefix, "192.0.2.1")


def apply_each(azs, changes):
    """One nbctl call per change, without waiting for the daemons in between.

    (Batching them into one transaction does not work: ovn-nbctl does not see a
    route that an earlier command of the same transaction added.)
    """
    for a, args in changes:
        azs[a - 1].nbctl(*args)


def assert_learned(az, expected):
    """Wait until ``az`` learned exactly ``expected``; on timeout, say what differs."""
    try:
        wait_for(lambda: learned(az) == expected, f"{az.name} learned the expected routes")
    except AssertionError:
        found = learned(az)
        missing = Counter(expected) - Counter(found)
        extra = Counter(found) - Counter(expected)
        raise AssertionError(f"{az.name}: missing {sorted(missing.elements())[:10]}, "
                             f"unexpected {sorted(extra.elements())[:10]}") from None


VARIANTS = {"ours": (OURS, OURS, OURS), "reference-in-az3": (OURS, OURS, REFERENCE)}


@pytest.mark.parametrize("kinds", VARIANTS.values(), ids=VARIANTS.keys())
def test_random_changes_converge_to_the_advertised_routes(testbed3, kinds):
    azs = testbed3.azs
    ours = [ctl for ctl in (start(testbed3, az, kind) for az, kind in zip(azs, kinds,
                                                                          strict=True)) if ctl]
    add_transit_switches(testbed3, *SWITCHES)
    topology = Topology(azs)
    topology.build()
    rng = random.Random(SEED)
    initial = [(a, ("lr-route-add", router, f"10.{a}{len(router)}.{n}.0/24", "192.0.2.1"))
               for (a, router) in topology.statics for n in range(ROUTES_PER_AZ // 2)]
    for a, (_, router, prefix, _) in initial:
        topology.statics[a, router].add((prefix, ""))
    for a, az in enumerate(azs, 1):
        batch = [arg for change, args in initial if change == a for arg in ("--", *args)]
        az.nbctl(*batch[1:])
    apply_each(azs, random_changes(rng, topology))
    assert sum(len(routes) for routes in topology.statics.values()) > 200

    for a, az in enumerate(azs, 1):
        if kinds[a - 1] == OURS:
            assert_learned(az, topology.expected(a))
    assert_idle(ours, seconds=60 if set(kinds) == {OURS} else 1)
