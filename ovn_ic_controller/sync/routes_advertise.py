"""Advertisement: this AZ's static routes and connected networks → IC SB Route rows.

Routes are collected per transit switch across all routers of the AZ and then
synced once per transit switch (23.09's fix of Q3: 23.03 synced per router and
port, so two routers on one switch deleted each other's rows).  The wanted rows
are keyed by the IC SB unique index (transit_switch, route_table, ip_prefix,
nexthop) within this AZ, so a static route and a connected network with the
same prefix never make the transaction fail (23.03 keyed them apart by origin).
Every own row not wanted is withdrawn, wherever it is: on a transit switch where
this AZ has no port left, and everywhere once ``ic-route-adv`` is off (Q13).
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib
from collections.abc import Iterable

from ..db.plan import Plan
from .prefixes import (
    REFUSED_LINK_LOCAL,
    PortAddresses,
    Prefix,
    format_address,
    nexthop_for,
    parse_cidr,
    refusal_reason,
)
from .routes_view import (
    ADVERTISE,
    IC_SB,
    REFUSED_DUPLICATE,
    REFUSED_NO_NEXTHOP,
    REFUSED_UNPARSABLE,
    IcRoute,
    LocalRoute,
    RouteOptions,
    Router,
    Tally,
    WarnOnce,
    connected_networks,
)

ORIGIN_CONNECTED, ORIGIN_STATIC = "connected", "static"

AdKey = tuple[str, str, str, str]  # transit_switch, route_table, ip_prefix, nexthop


@dataclasses.dataclass(frozen=True, slots=True)
class Advertisement:
    """What an own IC SB Route row must say besides its key."""

    origin: str
    nb_id: str  # the UUID of the static route or LRP it comes from
    lr_id: str  # the UUID of the advertising router, for 23.09+ peers

    def preferred_to(self, other: Advertisement) -> bool:
        """A deterministic winner between two sources of one row, so nothing flaps.

        Connected first (northd looks connected routes up first anyway), then
        the lower NB UUID (canonical UUID strings sort as the UUIDs do).
        """
        return ((self.origin != ORIGIN_CONNECTED, self.nb_id)
                < (other.origin != ORIGIN_CONNECTED, other.nb_id))


@dataclasses.dataclass(frozen=True, slots=True)
class _Candidate:
    route_table: str
    prefix: Prefix
    prefix_text: str
    advertisement: Advertisement


def wanted_advertisements(routers: Iterable[Router], options: RouteOptions, tally: Tally,
                          warnings: WarnOnce) -> dict[AdKey, Advertisement]:
    """The own IC SB rows this AZ should have, over every router's usable ports."""
    wanted: dict[AdKey, Advertisement] = {}
    if not options.advertise:
        return wanted
    for router in routers:
        ports = router.usable_ports
        if not ports:
            continue
        tables = {port.route_table for port in ports}
        statics: dict[str, list[_Candidate]] = {}
        for candidate in _static_candidates(router, tables, options, tally, warnings):
            statics.setdefault(candidate.route_table, []).append(candidate)
        connected = list(_connected_candidates(router, options, tally, warnings))
        for port in ports:
            nexthops = _nexthops(port.addresses)
            for candidate in [*statics.get(port.route_table, ()), *connected]:
                nexthop = nexthops[candidate.prefix.family]
                if nexthop is None:  # e.g. IPv6 over an IPv4-only port: never link-local (Q2)
                    tally.refused[ADVERTISE, REFUSED_NO_NEXTHOP] += 1
                    continue
                key = (port.transit_switch, candidate.route_table, candidate.prefix_text,
                       nexthop)
                _add(wanted, key, candidate.advertisement, tally, warnings)
    for key in wanted:
        tally.advertised[key[0]] += 1
    return wanted


def _nexthops(addresses: PortAddresses) -> dict[int, str | None]:
    """The next hop a port gives prefixes of each family (the same for every prefix)."""
    found = {}
    for family in (4, 6):
        address = nexthop_for(Prefix(family, 0, 0), addresses)
        found[family] = format_address(address) if address is not None else None
    return found


def _add(wanted: dict[AdKey, Advertisement], key: AdKey, advertisement: Advertisement,
         tally: Tally, warnings: WarnOnce) -> None:
    """Keep one source per row; a duplicate is reported, never fatal (Q1)."""
    current = wanted.get(key)
    if current is None or advertisement.preferred_to(current):
        wanted[key] = advertisement
    if current is None or current.nb_id == advertisement.nb_id:
        return
    loser = current if wanted[key] is advertisement else advertisement
    tally.refused[ADVERTISE, REFUSED_DUPLICATE] += 1
    warnings.warn(("duplicate", key, loser.nb_id), "routes.duplicate_advertisement",
                  transit_switch=key[0], route_table=key[1], ip_prefix=key[2], nexthop=key[3],
                  suppressed=loser.nb_id, origin=loser.origin, kept=wanted[key].nb_id,
                  message="duplicate route advertisement suppressed")


def _refused(prefix: Prefix, options: RouteOptions, tally: Tally) -> bool:
    reason = refusal_reason(prefix, enabled=True, allow_default=options.advertise_default,
                            matcher=options.denylist)
    if reason is not None:
        tally.refused[ADVERTISE, reason] += 1
    return reason is not None


def _static_candidates(router: Router, tables: set[str], options: RouteOptions, tally: Tally,
                       warnings: WarnOnce) -> Iterable[_Candidate]:
    """Static routes in a table some usable port uses, that may be advertised (§6.4 step 5)."""
    for route in router.local_routes:
        if route.route_table not in tables or route.policy == "src-ip":
            continue
        if not route.parses:
            _report_unadvertisable(router, route, tally, warnings)
            continue
        if _refused(route.prefix, options, tally):
            continue
        yield _Candidate(route.route_table, route.prefix, route.prefix_text,
                         Advertisement(ORIGIN_STATIC, route.id_text, router.id_text))


def _report_unadvertisable(router: Router, route: LocalRoute, tally: Tally,
                           warnings: WarnOnce) -> None:
    """A blackhole route or one via a link-local next hop is valid NB data, not advertised
    (as in 23.03); anything else that does not parse is reported."""
    if route.nexthop == "discard":
        return
    if route.prefix is not None and parse_cidr(route.nexthop) is not None:
        tally.refused[ADVERTISE, REFUSED_LINK_LOCAL] += 1
        return
    tally.refused[ADVERTISE, REFUSED_UNPARSABLE] += 1
    warnings.warn(("nb-route", route.uuid, route.ip_prefix, route.nexthop),
                  "routes.nb_route_unparsable", router=router.name, route=str(route.uuid),
                  ip_prefix=route.ip_prefix, nexthop=route.nexthop,
                  message="static route not advertised: its prefix or next hop does not parse")


def _connected_candidates(router: Router, options: RouteOptions, tally: Tally,
                          warnings: WarnOnce) -> Iterable[_Candidate]:
    """Networks of the router's other ports, always into <main> (§6.4 step 6)."""
    for lrp_uuid, network in connected_networks(router):
        prefix = parse_cidr(network)
        if prefix is None:
            tally.refused[ADVERTISE, REFUSED_UNPARSABLE] += 1
            warnings.warn(("lrp-network", lrp_uuid, network), "routes.lrp_network_unparsable",
                          router=router.name, lrp=str(lrp_uuid), network=network,
                          message="connected network not advertised: it does not parse")
            continue
        if _refused(prefix, options, tally):
            continue
        yield _Candidate("", prefix, str(prefix),
                         Advertisement(ORIGIN_CONNECTED, str(lrp_uuid), router.id_text))


def plan_advertisements(plan: Plan, az_uuid: uuidlib.UUID, own_routes: list[IcRoute],
                        wanted: dict[AdKey, Advertisement]) -> None:
    """Make this AZ's IC SB Route rows exactly ``wanted``: update, withdraw, insert."""
    missing = dict(wanted)
    for route in own_routes:
        advertisement = missing.pop(route.key, None)
        if advertisement is None:
            plan.delete(IC_SB, "Route", route.uuid)
            continue
        if route.origin != advertisement.origin:
            plan.set(IC_SB, "Route", route.uuid, origin=advertisement.origin)
        for key, value in _ids(advertisement).items():
            if route.external_ids.get(key) != value:
                plan.setkey(IC_SB, "Route", route.uuid, "external_ids", key, value)
    for (transit_switch, route_table, ip_prefix, nexthop), advertisement in missing.items():
        plan.insert(IC_SB, "Route", transit_switch=transit_switch, availability_zone=az_uuid,
                    route_table=route_table, ip_prefix=ip_prefix, nexthop=nexthop,
                    origin=advertisement.origin, external_ids=_ids(advertisement))


def _ids(advertisement: Advertisement) -> dict[str, str]:
    return {"nb-id": advertisement.nb_id, "lr-id": advertisement.lr_id}
