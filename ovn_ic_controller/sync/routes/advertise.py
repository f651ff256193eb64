"""Advertisement: this AZ's static routes and connected networks → IC SB Route rows.

Routes are collected per transit switch across all routers of the AZ and then
synced once per transit switch (23.09's fix of Q3: 23.03 synced per router and
port, so two routers on one switch deleted each other's rows).  The wanted rows
are keyed by the IC SB unique index (transit_switch, route_table, ip_prefix,
nexthop) within this AZ, so a static route and a connected network with the
same prefix never make the transaction fail (23.03 keyed them apart by origin).
Every own row not wanted is withdrawn, wherever it is: on a transit switch where
this AZ has no port left, and everywhere once ``ic-route-adv`` is off (Q13).

Each static route (once per router holding it), each connected network and
each load-balancer VIP of a router (vips.py) is a source in a Ledger
(ledger.py) under those keys; of several sources of one key the lowest
``Advertisement.rank`` wins (``winner``), the others are reported as
duplicates (``duplicates``, Q1).  ``plan_advertisement`` compares
one key's winner with this AZ's rows under that key.
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib
from collections.abc import Collection, Hashable, Iterator, Sequence

from ...constants import IC_SB, LR_ID, NB_ID, ORIGIN_LOADBALANCER, OVERRIDE_CONNECTED
from ...db.plan import Plan
from ..prefixes import Prefix, parse_cidr
from .filters import ROUTE_TAG, FilterMap
from .ledger import NOTHING, Contribution, Problem
from .reasons import (
    ADVERTISE,
    REFUSED_DUPLICATE,
    REFUSED_LINK_LOCAL,
    REFUSED_NO_NEXTHOP,
    REFUSED_UNPARSABLE,
    refusal_reason,
)
from .records import IcRoute, LocalRoute, RouteOptions, RouterView, TsPort

ORIGIN_CONNECTED, ORIGIN_STATIC = "connected", "static"

AdKey = tuple[str, str, str, str]  # transit_switch, route_table, ip_prefix, nexthop


@dataclasses.dataclass(slots=True)  # not frozen, for speed (one per route); never changed
class Advertisement:
    """What an own IC SB Route row must say besides its key."""

    origin: str
    nb_id: str  # the UUID of the static route or LRP it comes from
    lr_id: str  # the UUID of the advertising router, for 23.09+ peers
    override: bool = False  # options:override-connected (26.09)
    tag: str = ""  # external_ids:ic-route-tag, the port's ic-route-tag (25.03)
    dynamic: bool = False   # a prefix the router learned by dynamic routing (dynamic.py)

    def rank(self) -> tuple[bool, bool, str]:
        """The lowest wins among the sources of one row, deterministically so nothing flaps.

        What is configured before what was learned by dynamic routing (ovn-ic
        collects it last), connected first (northd looks connected routes up
        first anyway), a load-balancer VIP last (a static route to it says more),
        then the lower NB UUID (canonical UUID strings sort as the UUIDs do).
        """
        return (self.dynamic, self.origin != ORIGIN_CONNECTED,
                self.origin == ORIGIN_LOADBALANCER, self.nb_id)


def static_contribution(router: RouterView, route: LocalRoute,
                        options: RouteOptions) -> Contribution:
    """What a static route of ``router`` advertises, through the usable ports of its
    route table (docs/behaviour.md §6.4 step 5)."""
    ports = router.usable_by_table.get(route.route_table)
    if not options.advertise or not ports or route.policy == "src-ip":
        return NOTHING
    if not route.parses and not (route.nexthop == "discard" and options.discard
                                 and route.prefix is not None):
        return _unadvertisable(router, route)
    refused = _refusal(route.prefix, options)
    if refused:
        return refused
    return _through_ports(ports, route.route_table, route.prefix, route.prefix_text,
                          Advertisement(ORIGIN_STATIC, route.id_text, router.id_text,
                                        route.override and options.east_west), options.filters)


def connected_contributions(router: RouterView,
                            options: RouteOptions) -> Iterator[tuple[Hashable, Contribution]]:
    """(source, contribution) of each network of the router's other ports, always into
    <main> through every usable port (docs/behaviour.md §6.4 step 6); with 26.09's
    east-west routing also into the route table of each port that has one, marked
    override-connected."""
    if not options.advertise or not router.usable_ports:
        return
    for lrp_uuid, network in router.connected:
        source = (router.uuid, lrp_uuid, network)
        prefix = parse_cidr(network)
        if prefix is None:
            yield source, Contribution(counts=(((ADVERTISE, REFUSED_UNPARSABLE), 1),), problems=(
                Problem(("lrp-network", lrp_uuid, network), "routes.lrp_network_unparsable",
                        {"router": router.name, "lrp": str(lrp_uuid), "network": network,
                         "message": "connected network not advertised: it does not parse"}),))
            continue
        yield source, network_contribution(
            router, prefix, Advertisement(ORIGIN_CONNECTED, str(lrp_uuid), router.id_text),
            options)


def network_contribution(router: RouterView, prefix: Prefix, advertisement: Advertisement,
                         options: RouteOptions) -> Contribution:
    """A network of the router (an LRP's, or one learned by dynamic routing) into <main>
    through every usable port; with 26.09's east-west routing also into the route table of
    each port that has one, as connected and marked override-connected."""
    contribution = _refusal(prefix, options) or _through_ports(
        router.usable_ports, "", prefix, str(prefix), advertisement, options.filters)
    if options.east_west and contribution.entries:
        override = dataclasses.replace(advertisement, origin=ORIGIN_CONNECTED, override=True)
        for table, ports in router.usable_by_table.items():
            if table:
                extra = _through_ports(ports, table, prefix, str(prefix), override,
                                       options.filters)
                contribution = Contribution(contribution.entries + extra.entries,
                                            contribution.counts)
    return contribution


def vip_contribution(router: RouterView, vip: Prefix, lb_id: str,
                     options: RouteOptions) -> Contribution:
    """What a load-balancer VIP of ``router`` advertises with ``ic-route-adv-lb`` (25.09):
    a host route into <main> through every usable port, ``nb-id`` the load balancer."""
    if not (options.advertise and options.advertise_lb) or not router.usable_ports:
        return NOTHING
    return _refusal(vip, options) or _through_ports(
        router.usable_ports, "", vip, str(vip),
        Advertisement(ORIGIN_LOADBALANCER, lb_id, router.id_text), options.filters)


def _through_ports(ports: Collection[TsPort], route_table: str, prefix: Prefix,
                   prefix_text: str, advertisement: Advertisement,
                   filters: FilterMap) -> Contribution:
    """One row per port whose filters (filters.py) pass the prefix, tagged with its tag."""
    entries: dict[AdKey, Advertisement] = {}
    refused: dict[str, int] = {}
    for port in ports:
        port_filters = filters.get(port.logical_port) if filters else None
        wanted = advertisement
        if port_filters is not None:
            reason = port_filters.advertise.refusal(prefix)
            if reason is not None:
                refused[reason] = refused.get(reason, 0) + 1
                continue
            if port_filters.tag:
                wanted = dataclasses.replace(advertisement, tag=port_filters.tag)
        nexthop = port.nexthop(prefix.family)
        if nexthop is None:  # e.g. IPv6 over an IPv4-only port: never link-local (Q2)
            refused[REFUSED_NO_NEXTHOP] = refused.get(REFUSED_NO_NEXTHOP, 0) + 1
            continue
        entries[port.transit_switch, route_table, prefix_text, nexthop] = wanted
    counts = tuple(((ADVERTISE, reason), count) for reason, count in refused.items())
    return Contribution(tuple(entries.items()), counts)


def _refusal(prefix: Prefix, options: RouteOptions) -> Contribution:
    """NOTHING if ``prefix`` may be advertised, else the refusal to count."""
    reason = refusal_reason(prefix, allow_default=options.advertise_default,
                            matcher=options.denylist)
    return NOTHING if reason is None else Contribution(counts=(((ADVERTISE, reason), 1),))


def _unadvertisable(router: RouterView, route: LocalRoute) -> Contribution:
    """A blackhole route (before 26.03's schema) or one via a link-local next hop is valid
    NB data, not advertised (as in 23.03); anything else that does not parse is reported."""
    if route.nexthop == "discard":
        return NOTHING
    if route.prefix is not None and parse_cidr(route.nexthop) is not None:
        return Contribution(counts=(((ADVERTISE, REFUSED_LINK_LOCAL), 1),))
    return Contribution(counts=(((ADVERTISE, REFUSED_UNPARSABLE), 1),), problems=(
        Problem(("nb-route", route.uuid, route.ip_prefix, route.nexthop),
                "routes.nb_route_unparsable",
                {"router": router.name, "route": str(route.uuid), "ip_prefix": route.ip_prefix,
                 "nexthop": route.nexthop, "message": "static route not advertised: its "
                 "prefix or next hop does not parse"}),))


def winner(sources: Collection[Advertisement]) -> Advertisement | None:
    """The source whose row is advertised (None: no source, withdraw it)."""
    if len(sources) == 1:  # most keys
        [only] = sources
        return only
    return min(sources, key=Advertisement.rank, default=None)


def duplicates(key: AdKey, sources: Collection[Advertisement]) -> Contribution:
    """Sources of one row beyond the winner are reported, never fatal (Q1).

    The advertisements ledger's ``contested``: it calls this for a key whose
    several sources changed.
    """
    kept = winner(sources)
    losers = [ad for ad in sources if kept is not None and ad.nb_id != kept.nb_id]
    if not losers:
        return NOTHING
    transit_switch, route_table, ip_prefix, nexthop = key
    return Contribution(counts=(((ADVERTISE, REFUSED_DUPLICATE), len(losers)),), problems=tuple(
        Problem(("duplicate", key, loser.nb_id), "routes.duplicate_advertisement",
                {"transit_switch": transit_switch, "route_table": route_table,
                 "ip_prefix": ip_prefix, "nexthop": nexthop, "suppressed": loser.nb_id,
                 "origin": loser.origin, "kept": kept.nb_id,
                 "message": "duplicate route advertisement suppressed"})
        for loser in losers))


def plan_advertisement(plan: Plan, az_uuid: uuidlib.UUID, key: AdKey,
                       wanted: Advertisement | None, rows: Sequence[IcRoute]) -> None:
    """Make this AZ's IC SB ``rows`` under ``key`` the one ``wanted`` says, or none."""
    if wanted is None:
        for route in rows:
            plan.delete(IC_SB, "Route", route.uuid)
        return
    if not rows:
        transit_switch, route_table, ip_prefix, nexthop = key
        values = {"options": {OVERRIDE_CONNECTED: "true"}} if wanted.override else {}
        external_ids = {NB_ID: wanted.nb_id, LR_ID: wanted.lr_id}
        if wanted.tag:
            external_ids[ROUTE_TAG] = wanted.tag
        plan.insert(IC_SB, "Route", transit_switch=transit_switch, availability_zone=az_uuid,
                    route_table=route_table, ip_prefix=ip_prefix, nexthop=nexthop,
                    origin=wanted.origin, external_ids=external_ids, **values)
        return
    route, *extra = rows
    if route.origin != wanted.origin:
        plan.set(IC_SB, "Route", route.uuid, origin=wanted.origin)
    if route.override != wanted.override:
        if wanted.override:
            plan.setkey(IC_SB, "Route", route.uuid, "options", OVERRIDE_CONNECTED, "true")
        else:
            plan.delkey(IC_SB, "Route", route.uuid, "options", OVERRIDE_CONNECTED)
    if route.nb_id != wanted.nb_id:
        plan.setkey(IC_SB, "Route", route.uuid, "external_ids", NB_ID, wanted.nb_id)
    if route.lr_id != wanted.lr_id:
        plan.setkey(IC_SB, "Route", route.uuid, "external_ids", LR_ID, wanted.lr_id)
    if route.tag != (wanted.tag or None):
        if wanted.tag:
            plan.setkey(IC_SB, "Route", route.uuid, "external_ids", ROUTE_TAG, wanted.tag)
        else:
            plan.delkey(IC_SB, "Route", route.uuid, "external_ids", ROUTE_TAG)
    for route in extra:
        plan.delete(IC_SB, "Route", route.uuid)
