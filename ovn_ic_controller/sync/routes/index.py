"""Route sync's state between passes: the routes read so far and what each wants.

For one topology (records.py), the index holds a record of every
static route on a router and of every IC SB route that matters here (this
AZ's own, and other AZs' on transit switches it learns from), each router's
static_routes as last seen, two ledgers (ledger.py) of the wanted rows:
advertised IC SB rows and learned NB routes, and each router's local networks
that other AZs' routes may conflict with (overlaps.py), and the prefixes each
learned by dynamic routing (dynamic.py).

``update`` takes the rows the IDL reported changed and re-derives only those,
and only the keys they touch are compared with the database afterwards; a
single route added costs work for that route, whatever the number of others.
``update`` with no list of changes feeds every row to the empty index: the
full recompute, by the same path.
"""

from __future__ import annotations

import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from ...constants import IC_SB, LR, LRSR, NB, SB
from ...db.values import Members
from ..base import ChangedRows, Context
from ..prefixes import Prefix, parse_cidr
from .advertise import (
    AdKey,
    Advertisement,
    connected_contributions,
    duplicates,
    static_contribution,
    vip_contribution,
    winner,
)
from .dynamic import LEARNED_ROUTE, LearnedPrefixes, dynamic_contribution
from .learn import LearnKey, learners_of, remote_contribution, unparsable_learned
from .ledger import Ledger, Problems
from .overlaps import Conflict, Neighbourhoods, ProtectedNetworks
from .reasons import ADVERTISE, CONFLICT, LEARN, LEARNED
from .records import (
    IcRoute,
    LearnedRoute,
    LocalRoute,
    RouteTopology,
    Tally,
    ic_route,
    static_route,
)
from .vips import RouterVips

ROUTE = "Route"
_NONE: tuple = ()


class RouteIndex:
    """What one topology's routes want, kept current from changed rows.

    Its interface is ``update`` (rows in), then ``dirty_advertisements`` and
    ``dirty_learned`` (what planning compares with the database) and ``tally``
    (for the metrics); the rest is its own state.
    """

    def __init__(self, topology: RouteTopology, problems: Problems) -> None:
        self.topology = topology
        self._problems = problems
        self._learners = topology.learners()
        # Transit switches where routers of this AZ may learn each other's routes (23.09):
        # only there are this AZ's own IC SB routes parsed.
        self._same_az_switches = frozenset(
            ts for ts, learners in self._learners.items()
            if topology.same_az and len({router.uuid for router, _ in learners}) > 1)
        # NB: each router's static_routes as last seen, each route's record and routers.
        self._members: dict[uuidlib.UUID, Members] = {}
        self._nb_routes: dict[uuidlib.UUID, LocalRoute | LearnedRoute] = {}
        self._routers_of: dict[uuidlib.UUID, tuple[uuidlib.UUID, ...]] = {}
        # Per router, how many local routes it has per (route_table, prefix): "local wins".
        self._local_prefixes: dict[uuidlib.UUID, Counter[tuple[str, Prefix]]] = {}
        self._learned: dict[LearnKey, list[LearnedRoute]] = {}
        # IC SB: the routes indexed here; this AZ's by key; the others' by (table, prefix).
        self._ic_routes: dict[uuidlib.UUID, IcRoute] = {}
        self._own: dict[AdKey, list[IcRoute]] = {}
        self._remote_by_prefix: dict[tuple[str, Prefix], list[uuidlib.UUID]] = {}
        self._remote_by_ts: dict[str, set[uuidlib.UUID]] = {}  # for RouteIndex.refilter
        self._advertised: Ledger[AdKey, Advertisement] = Ledger(
            ADVERTISE, problems, group_of=lambda key: key[0], contested=duplicates)
        self._wanted_learned: Ledger[LearnKey, IcRoute] = Ledger(LEARN, problems)
        self._stale_remotes: dict[uuidlib.UUID, None] = {}
        # Local networks, and (when static routes are among them) the remote routes by
        # neighbourhood, to re-check those a static route appearing or going concerns.
        self._protected = ProtectedNetworks(topology.conflicts, topology.routers)
        self._near = Neighbourhoods() if topology.conflicts.static_routes else None
        # The routers' load-balancer VIPs, where the IC SB knows routes of them (25.09).
        self._vips = RouterVips() if topology.options.load_balancers else None
        self._dynamic = (LearnedPrefixes(topology.datapaths)
                         if topology.datapaths is not None else None)

    # ---------------------------------------------------------------- update
    def update(self, ctx: Context, changed: ChangedRows | None) -> None:
        """Take in the rows changed since the last update (None: every row, into a new index)."""
        if changed is None:
            for router in self.topology.routers.values():
                for source, contribution in connected_contributions(router,
                                                                    self.topology.options):
                    self._advertised.put(source, contribution)
            routers = [row.uuid for row in ctx.rows(NB, LR)]
            routes = [row.uuid for row in ctx.rows(IC_SB, ROUTE)]
            dynamic = [row.uuid for row in ctx.rows(SB, LEARNED_ROUTE)]
        else:
            # Routes modified in place first: those just added are derived when linked.
            for uuid in changed.get((NB, LRSR), ()):
                if uuid in self._nb_routes:
                    self._rederive_static_route(ctx, uuid)
            routers = changed.get((NB, LR), ())
            routes = changed.get((IC_SB, ROUTE), ())
            dynamic = changed.get((SB, LEARNED_ROUTE), ())
        for uuid in routers:
            self._update_members(ctx, uuid)
        for uuid in routes:
            self._update_ic_route(ctx, uuid)
        if self._vips is not None:
            for router, vip in self._vips.update(ctx, changed):
                self._put_vip(router, vip)
        if self._dynamic is not None:
            for uuid in dynamic:
                self._update_dynamic(ctx, uuid)
        stale, self._stale_remotes = self._stale_remotes, {}
        for uuid in stale:
            self._put_remote(uuid)

    def refilter(self, ctx: Context, topology: RouteTopology) -> None:
        """Take in ``topology``, the same as the index's but for the ports' route controls
        (filters.py): derive again only what routers with a changed port advertise, and the
        routes they may learn (those on their transit switches).  Before ``update``."""
        before, after = self.topology.options.filters, topology.options.filters
        ports = {port for port in before.keys() | after.keys()
                 if before.get(port) != after.get(port)}
        self.topology = topology
        self._learners = topology.learners()
        for router in topology.routers.values():
            if ports.isdisjoint(port.logical_port for port in router.ts_ports):
                continue
            for source, contribution in connected_contributions(router, topology.options):
                self._advertised.put(source, contribution)
            row = ctx.row(NB, LR, router.uuid)
            for route in row.static_routes if row is not None else ():
                record = self._nb_routes.get(route.uuid)
                if (isinstance(record, LocalRoute)
                        and router.uuid in self._routers_of.get(route.uuid, ())):
                    self._advertised.put((router.uuid, route.uuid),
                                         static_contribution(router, record, topology.options))
            for vip in self._vips.of_router(router.uuid) if self._vips is not None else ():
                self._put_vip(router.uuid, vip)
            dynamic = self._dynamic.by_router if self._dynamic is not None else {}
            for ip_prefix in dynamic.get(router.uuid, ()):
                self._advertised.put((LEARNED_ROUTE, router.uuid, ip_prefix),
                                     dynamic_contribution(router, ip_prefix, topology.options))
            for port in router.usable_ports:
                self._stale_remotes.update(
                    dict.fromkeys(self._remote_by_ts.get(port.transit_switch, ())))

    def _update_members(self, ctx: Context, router: uuidlib.UUID) -> None:
        members = self._members.get(router)
        if members is None:
            members = self._members[router] = Members()
        added, removed = members.update(ctx.row(NB, LR, router), "static_routes")
        if not members:
            del self._members[router]
        for route in removed:
            self._unlink(router, route)
        for route in added:
            self._link(ctx, router, route)

    def _link(self, ctx: Context, router: uuidlib.UUID, route: uuidlib.UUID) -> None:
        record = self._nb_routes.get(route)
        if record is None:
            row = ctx.row(NB, LRSR, route)
            if row is None:
                return
            record = self._nb_routes[route] = static_route(row)
        self._routers_of[route] = (*self._routers_of.get(route, ()), router)
        self._add_route(router, record)

    def _unlink(self, router: uuidlib.UUID, route: uuidlib.UUID) -> None:
        record = self._nb_routes.get(route)
        if record is None:
            return
        self._remove_route(router, record)
        others = tuple(other for other in self._routers_of.pop(route) if other != router)
        if others:
            self._routers_of[route] = others
        else:
            del self._nb_routes[route]

    def _rederive_static_route(self, ctx: Context, uuid: uuidlib.UUID) -> None:
        row = ctx.row(NB, LRSR, uuid)
        if row is None:  # deleted: its routers' static_routes changed too
            return
        before, now = self._nb_routes[uuid], static_route(row)
        if now == before:
            return
        for router in self._routers_of[uuid]:
            self._remove_route(router, before)
        self._nb_routes[uuid] = now
        for router in self._routers_of[uuid]:
            self._add_route(router, now)

    def _add_route(self, router_uuid: uuidlib.UUID, record: LocalRoute | LearnedRoute) -> None:
        router = self.topology.routers[router_uuid]
        if isinstance(record, LearnedRoute):
            key = (router_uuid, record.identity)
            self._learned.setdefault(key, []).append(record)
            self._wanted_learned.touch(key)
            if record.identity is None:
                self._problems.set(("learned", record.uuid), (unparsable_learned(router, record),))
            return
        self._advertised.put((router_uuid, record.uuid),
                            static_contribution(router, record, self.topology.options))
        if record.prefix is not None:
            self._count_local_prefix(router_uuid, (record.route_table, record.prefix), 1)
            self._count_protected(router_uuid, record, 1)

    def _remove_route(self, router: uuidlib.UUID, record: LocalRoute | LearnedRoute) -> None:
        if isinstance(record, LearnedRoute):
            key = (router, record.identity)
            _remove(self._learned, key, record)
            self._wanted_learned.touch(key)
            if record.identity is None:
                self._problems.set(("learned", record.uuid), ())
            return
        self._advertised.drop((router, record.uuid))
        if record.prefix is not None:
            self._count_local_prefix(router, (record.route_table, record.prefix), -1)
            self._count_protected(router, record, -1)

    def _count_local_prefix(self, router: uuidlib.UUID, key: tuple[str, Prefix],
                            delta: int) -> None:
        """Count a local route in or out; when the first comes or the last goes, the
        remote routes to that prefix are learned differently (local wins)."""
        counts = self._local_prefixes.get(router)
        if counts is None:
            counts = self._local_prefixes[router] = Counter()
        before = counts.get(key, 0)  # not counts[key]: Counter's __missing__ is Python code
        after = before + delta
        if after:
            counts[key] = after
        else:
            del counts[key]
        if not before or not after:
            remotes = self._remote_by_prefix.get(key)
            if remotes:
                self._stale_remotes.update(dict.fromkeys(remotes))

    def _count_protected(self, router: uuidlib.UUID, record: LocalRoute, delta: int) -> None:
        """Under the static-routes scope, count a destination route's prefix in or out of the
        router's local networks; when that network comes or goes, the remote routes within
        it are judged again."""
        if self._near is None or record.policy == "src-ip":
            return
        changed = self._protected.count_static(router, record.prefix, delta)
        if changed is not None:
            self._stale_remotes.update(dict.fromkeys(self._near.within(changed)))

    def _put_vip(self, router_uuid: uuidlib.UUID, vip: Prefix) -> None:
        """Advertise the VIP as its lowest load balancer now says, and judge again the remote
        routes that hold it (vips.py)."""
        router = self.topology.routers.get(router_uuid)
        if router is None:
            return
        lbs = self._vips.lbs(router_uuid, vip)
        source = (router_uuid, vip)
        if lbs:
            self._advertised.put(source, vip_contribution(router, vip, str(min(lbs)),
                                                          self.topology.options))
        else:
            self._advertised.drop(source)
        if not self.topology.options.learn or not router.usable_ports:
            return
        width = 32 if vip.family == 4 else 128
        for table in {"", *(port.route_table for port in router.usable_ports)}:
            for plen in range(width + 1):
                shift = width - plen
                key = (table, Prefix(vip.family, vip.value >> shift << shift, plen))
                remotes = self._remote_by_prefix.get(key)
                if remotes:
                    self._stale_remotes.update(dict.fromkeys(remotes))

    def _update_dynamic(self, ctx: Context, uuid: uuidlib.UUID) -> None:
        """Take in a changed Learned_Route: a prefix that came or went for its router is
        advertised or withdrawn, and the remote routes to it that the router may learn are
        judged again."""
        for (router_uuid, ip_prefix), came in self._dynamic.update(ctx, uuid):
            router = self.topology.routers[router_uuid]
            source = (LEARNED_ROUTE, router_uuid, ip_prefix)
            if came:
                self._advertised.put(source, dynamic_contribution(router, ip_prefix,
                                                                  self.topology.options))
            else:
                self._advertised.drop(source)
            prefix = parse_cidr(ip_prefix)
            if prefix is not None:
                for table in {"", *(port.route_table for port in router.usable_ports)}:
                    self._stale_remotes.update(
                        dict.fromkeys(self._remote_by_prefix.get((table, prefix), ())))

    def _update_ic_route(self, ctx: Context, uuid: uuidlib.UUID) -> None:
        before = self._ic_routes.pop(uuid, None)
        if before is not None:
            self._unindex_ic_route(before)
        row = ctx.row(IC_SB, ROUTE, uuid)
        if row is None:
            return
        route = ic_route(row, own_az=self.topology.az, parse_own=self._same_az_switches,
                         with_options=self.topology.options.east_west)
        own = route.availability_zone == self.topology.az
        if own:
            self._ic_routes[uuid] = route
            self._own.setdefault(route.key, []).append(route)
            self._advertised.touch(route.key)
        if route.transit_switch in self._learners and (not own or route.identity is not None):
            self._ic_routes[uuid] = route
            self._remote_by_ts.setdefault(route.transit_switch, set()).add(uuid)
            if route.prefix is not None:
                self._remote_by_prefix.setdefault((route.route_table, route.prefix),
                                                 []).append(uuid)
                if self._near is not None:
                    self._near.add(uuid, route.prefix)
            self._stale_remotes[uuid] = None

    def _unindex_ic_route(self, route: IcRoute) -> None:
        if route.availability_zone == self.topology.az:
            _remove(self._own, route.key, route)
            self._advertised.touch(route.key)
            if route.identity is None:
                return
        _discard(self._remote_by_ts, route.transit_switch, route.uuid)
        if route.prefix is not None:
            _remove(self._remote_by_prefix, (route.route_table, route.prefix), route.uuid)
            if self._near is not None:
                self._near.remove(route.uuid, route.prefix)
        self._stale_remotes[route.uuid] = None

    def _put_remote(self, uuid: uuidlib.UUID) -> None:
        route = self._ic_routes.get(uuid)
        if route is None:
            self._wanted_learned.drop(uuid)
            return
        learners = learners_of(route, self._learners.get(route.transit_switch, ()),
                               self.topology.az)
        self._wanted_learned.put(uuid, remote_contribution(
            route, learners, self._local_prefixes, self.topology.options, self._protected,
            self._vips, self._dynamic.by_router if self._dynamic is not None else None))

    # ---------------------------------------------------------------- read
    def dirty_advertisements(self, full: Callable[[], bool]) -> Iterator[
            tuple[AdKey, Advertisement | None, Sequence[IcRoute]]]:
        """Each advertised key that may have changed since the last call: the source
        that wins it (None: nothing wants it any more) and this AZ's IC SB rows under it.
        Once ``full()`` says the pass has enough changes, the rest wait for the next."""
        ledger, own = self._advertised, self._own
        for key in ledger.take_dirty_until(full):
            yield key, winner(ledger.wanted(key).values()), own.get(key, _NONE)

    def dirty_learned(self, full: Callable[[], bool]) -> Iterator[
            tuple[LearnKey, Collection[IcRoute], Sequence[LearnedRoute]]]:
        """Each learned key (router, identity) that may have changed since the last call:
        the remote routes it should be learned from and the router's learned routes.
        Once ``full()`` says the pass has enough changes, the rest wait for the next."""
        ledger, learned = self._wanted_learned, self._learned
        for key in ledger.take_dirty_until(full):
            yield key, ledger.wanted(key).values(), learned.get(key, _NONE)

    @property
    def work_left(self) -> bool:
        """Some advertised or learned key was left for a later pass."""
        return self._advertised.dirty or self._wanted_learned.dirty

    def conflicts(self) -> set[Conflict]:
        """The conflicts of the routes as they stand (overlaps.py)."""
        return {detail for kind, detail in self._wanted_learned.counts if kind == CONFLICT}

    def tally(self) -> Tally:
        tally = Tally(advertised=Counter(self._advertised.keys_per_group),
                      refused=Counter(self._advertised.counts),
                      transit_switches=self.topology.transit_switches())
        for (kind, detail), count in self._wanted_learned.counts.items():
            if kind == LEARNED:
                tally.learned[detail] = count
            elif kind == CONFLICT:
                tally.conflicts[detail] = count
            else:
                tally.refused[kind, detail] += count
        return tally


def _discard(index: dict[Any, set], key: Any, item: Any) -> None:
    """Take ``item`` out of ``index[key]``, and the key out once its set is empty."""
    items = index[key]
    items.discard(item)
    if not items:
        del index[key]


def _remove(index: dict[Any, list], key: Any, item: Any) -> None:
    """Take ``item`` out of ``index[key]``, and the key out once its list is empty."""
    items = index[key]
    items.remove(item)
    if not items:
        del index[key]
