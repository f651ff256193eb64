"""Learning: other AZs' IC SB Route rows → NB Logical_Router_Static_Route rows.

A learned route is identified by its identity tuple *and* the IC SB row it
comes from (main's fix of Q6: keyed by tuple alone, two IC SB rows with one
tuple made 23.03 insert another NB route on every pass).  The wanted set of a
router is computed from its usable ports only, independently of advertisement
(Q14), and every learned route not wanted is removed, also from a router that
lost all its transit-switch ports (Q7).

"Local route wins": a remote route is not learned when the router has a static
route of its own (any policy) in the same route table to the same prefix.  The
prefixes are compared parsed (address with host bits, and length) rather than
as strings as 23.03 does, so ``10.0.0.5`` and ``10.0.0.5/32`` are one prefix.

A route whose next hop is of the other address family is learned only as IPv4
over IPv6 through a port whose IPv6 network holds the next hop (northd refuses
anything else).  A route to a prefix the router learned by dynamic routing is not learned
(dynamic.py).  A route overlapping a local network is a conflict
(overlaps.py), refused here under ``conflict-policy=deny``: decided in the same
computation that would learn it, it is never written, not even for a moment.

Each remote route is a source in a Ledger (ledger.py) keyed by (router,
identity); ``plan_learned`` compares one such key with the router's learned
routes of that identity.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Collection, Mapping, Sequence

from ...constants import (
    LEARNED_ROUTE_KEY,
    LR,
    LRSR,
    NB,
    ORIGIN,
    ORIGIN_LOADBALANCER,
    OVERRIDE_CONNECTED,
)
from ...db.plan import Plan
from ...db.values import parse_uuid
from ..prefixes import Prefix
from .filters import NO_FILTERS, PortFilters
from .ledger import Contribution, Problem
from .overlaps import ProtectedNetworks
from .reasons import (
    LEARN,
    LEARNED,
    REFUSED_DYNAMIC,
    REFUSED_FAMILY,
    REFUSED_LB,
    REFUSED_LOADBALANCER,
    REFUSED_LOCAL_WINS,
    REFUSED_TAG,
    REFUSED_UNPARSABLE,
    refusal_reason,
)
from .records import IcRoute, Identity, LearnedRoute, RouteOptions, RouterView, TsPort
from .vips import RouterVips

LearnKey = tuple[uuidlib.UUID, Identity | None]  # router, identity of its learned routes
LocalPrefixes = Mapping[uuidlib.UUID, Collection[tuple[str, Prefix]]]  # router -> (table, prefix)
DynamicPrefixes = Mapping[uuidlib.UUID, Collection[str]]  # router -> Learned_Route ip_prefix


def learners_of(route: IcRoute, learners: Collection[tuple[RouterView, TsPort]],
                own_az: uuidlib.UUID) -> Collection[tuple[RouterView, TsPort]]:
    """Which of the (router, port) pairs on the route's transit switch may learn it.

    Another AZ's route: all (23.03's rule, which 26.03 restored for routes without
    ``lr-id``).  One of this AZ's own (23.09's same-AZ learning): all but the router
    its ``lr-id`` names, and none when it has no valid ``lr-id``.
    """
    if route.availability_zone != own_az:
        return learners
    source = parse_uuid(route.lr_id) if route.lr_id is not None else None
    if source is None:
        return ()
    return [(router, port) for router, port in learners if router.uuid != source]


def remote_contribution(route: IcRoute, learners: Collection[tuple[RouterView, TsPort]],
                        local_prefixes: LocalPrefixes, options: RouteOptions,
                        protected: ProtectedNetworks | None = None,
                        vips: RouterVips | None = None,
                        dynamic: DynamicPrefixes | None = None) -> Contribution:
    """What a route makes the routers learning through its transit switch learn.

    ``learners`` are the (router, usable port) pairs on that transit switch that may
    learn it (``learners_of``); ``protected`` judges conflicts with their local networks
    (overlaps.py); ``vips`` holds their load-balancer VIPs, which no route they learn may
    hold (vips.py); ``dynamic`` has the prefixes each learned by dynamic routing.
    """
    if route.identity is None:
        return Contribution(counts=(((LEARN, REFUSED_UNPARSABLE), 1),), problems=(
            Problem(("ic-route", route.transit_switch, route.ip_prefix, route.nexthop),
                    "routes.ic_route_unparsable",
                    {"route": route.source_id, "transit_switch": route.transit_switch,
                     "ip_prefix": route.ip_prefix, "nexthop": route.nexthop,
                     "message": "IC SB route not learned: its prefix or next hop does not "
                                "parse or is link-local"}),))
    mixed = route.prefix.family != route.identity[3]
    if mixed and route.prefix.family == 6:  # no OVN advertises IPv6 over IPv4
        return Contribution(counts=(((LEARN, REFUSED_FAMILY), 1),))
    reason = refusal_reason(route.prefix, allow_default=options.learn_default,
                            matcher=options.denylist)
    if reason is None and route.origin == ORIGIN_LOADBALANCER and not options.learn_lb:
        reason = REFUSED_LOADBALANCER  # as ovn-ic 25.09+: only with ic-route-learn-lb
    if reason is not None:
        return Contribution(counts=(((LEARN, reason), 1),))
    entries: dict[LearnKey, IcRoute] = {}
    local_wins = family = over_vip = by_dynamic = 0
    counts = []
    route_table, identity, filters = route.route_table, route.identity, options.filters
    for router, port in learners:
        if route_table and route_table != port.route_table:
            continue
        if filters or route.tag is not None:
            reason = _filtered(route, filters.get(port.logical_port, NO_FILTERS))
            if reason is not None:
                counts.append(((LEARN, reason), 1))
                continue
        prefixes = local_prefixes.get(router.uuid) if local_prefixes else None
        if prefixes and (route_table, route.prefix) in prefixes:
            local_wins += 1
            continue
        if mixed and not _ipv6_neighbour(route.identity[4], port):
            family += 1
            continue
        if vips is not None and vips.covers(router.uuid, route.prefix):
            over_vip += 1
            continue
        if dynamic and route.ip_prefix in dynamic.get(router.uuid, ()):
            by_dynamic += 1
            continue
        if protected is not None:
            refused, noted = protected.judge(router, route)
            counts += noted
            if refused:
                continue
        entries[router.uuid, identity] = route
    if entries:
        counts.append(((LEARNED, route.transit_switch), len(entries)))
    if local_wins:
        counts.append(((LEARN, REFUSED_LOCAL_WINS), local_wins))
    if family:
        counts.append(((LEARN, REFUSED_FAMILY), family))
    if over_vip:
        counts.append(((LEARN, REFUSED_LB), over_vip))
    if by_dynamic:
        counts.append(((LEARN, REFUSED_DYNAMIC), by_dynamic))
    return Contribution(tuple(entries.items()), tuple(counts))


def _filtered(route: IcRoute, port_filters: PortFilters) -> str | None:
    """Why the learning port's controls (filters.py) refuse ``route``, or None."""
    if port_filters.refuses_tag(route.tag):
        return REFUSED_TAG
    return port_filters.learn.refusal(route.prefix)


def _ipv6_neighbour(nexthop: int, port: TsPort) -> bool:
    """IPv4 over IPv6 (newer OVN's ``ic-route-ipv4-next-hop-ipv6``) is learned only through
    a port with an IPv6 network that holds the next hop, as newer OVN learns it."""
    return any(nexthop >> (128 - network.plen) == network.value >> (128 - network.plen)
               for network in port.addresses.ipv6)


def unparsable_learned(router: RouterView, route: LearnedRoute) -> Problem:
    return Problem(("learned", route.uuid), "routes.learned_route_unparsable",
                   {"router": router.name, "route": str(route.uuid),
                    "ip_prefix": route.ip_prefix, "nexthop": route.nexthop,
                    "message": "learned route does not parse: removed"})


def plan_learned(plan: Plan, key: LearnKey, wanted_routes: Collection[IcRoute],
                 learned: Sequence[LearnedRoute]) -> None:
    """Make the router's ``learned`` routes of one identity exactly the wanted ones.

    A learned route matches by source; one left over is re-pointed at a new
    source (as 23.03 does) rather than deleted and inserted; any other is removed.
    An unparsable learned route (identity None) is never wanted.
    """
    router_uuid, _ = key
    wanted = {remote.source_id: remote for remote in wanted_routes}
    kept: set[str] = set()
    spare: list[LearnedRoute] = []
    for route in learned:
        if route.source in wanted and route.source not in kept:
            kept.add(route.source)
        else:
            spare.append(route)
    for source_id, remote in wanted.items():
        if source_id in kept:
            continue
        if spare:
            plan.setkey(NB, LRSR, spare.pop().uuid,
                        "external_ids", LEARNED_ROUTE_KEY, source_id)
            continue
        options = {ORIGIN: remote.origin}
        if remote.override:  # 26.09: the peer's route takes precedence over connected ones
            options[OVERRIDE_CONNECTED] = "true"
        new = plan.insert(NB, LRSR, ip_prefix=remote.ip_prefix,
                          nexthop=remote.nexthop, route_table=remote.route_table,
                          external_ids={LEARNED_ROUTE_KEY: source_id}, options=options)
        plan.addvalue(NB, LR, router_uuid, "static_routes", new)
    for route in spare:
        plan.delvalue(NB, LR, router_uuid, "static_routes", route.uuid)
