"""What route sync reads, turned into plain records in one linear pass per table.

Static routes and IC SB routes, the rows that are many, are read and parsed
only when they changed (db.rowcache): an IDL read converts the datum, which
adds up at 10,000 routes.  Every later lookup goes through a dict built here,
so neither advertising nor learning scans a table per route.
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib
from collections import Counter
from typing import Any

from ..db.rowcache import RowCache
from ..db.values import column, is_true, parse_uuid
from .az import nb_global
from .base import Context
from .prefixes import (
    PortAddresses,
    Prefix,
    PrefixMatcher,
    parse_cidr,
    parse_port_addresses,
    parse_prefix_list,
    parse_route,
)

NB, IC_NB, IC_SB = "nb", "ic_nb", "ic_sb"
LEARNED_ROUTE_KEY = "ic-learned-route"

ADVERTISE, LEARN = "advertise", "learn"  # directions, for the metrics

# Why a route was not advertised or learned (the routes_refused metric's reasons
# beyond those of prefixes.refusal_reason).
REFUSED_UNPARSABLE = "unparsable"
REFUSED_LOCAL_WINS = "local-wins"
REFUSED_NO_NEXTHOP = "no-nexthop"
REFUSED_DUPLICATE = "duplicate"

# A route's identity as in ovn-ic (§6.2): the parsed prefix (family, address, length)
# and next hop (version, address), origin and route_table; flat, so it hashes fast.
Identity = tuple[int, int, int, int, int, str, str]


def identity(parsed: tuple[Prefix, Any] | None, origin: str,
             route_table: str) -> Identity | None:
    """The identity of a route that parse_route gave ``parsed`` for; None if it did not parse."""
    if parsed is None:
        return None
    prefix, nexthop = parsed
    return (prefix.family, prefix.value, prefix.plen, nexthop.version, int(nexthop), origin,
            route_table)


class WarnOnce:
    """Logs each distinct problem once while it persists.

    A concern recomputes on every change of its inputs; without this a bad row
    would be reported again on every unrelated change.  Keys are the problem's
    content, so a peer that re-creates the same bad row under a new UUID is not
    reported again either.
    """

    def __init__(self, log) -> None:
        self.log = log
        self._reported: set = set()
        self._seen: set = set()

    def begin(self) -> None:
        self._seen = set()

    def warn(self, key: Any, event: str, **fields: Any) -> None:
        self._seen.add(key)
        if key not in self._reported:
            self.log.warning(event, **fields)

    def end(self) -> None:
        self._reported = self._seen


@dataclasses.dataclass
class Tally:
    """What one pass decided, for the metrics."""

    advertised: Counter = dataclasses.field(default_factory=Counter)  # per transit switch
    learned: Counter = dataclasses.field(default_factory=Counter)     # per transit switch
    refused: Counter = dataclasses.field(default_factory=Counter)     # per (direction, reason)
    transit_switches: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass(frozen=True)
class RouteOptions:
    """NB_Global options of route sync (§6.1, denylist from §8)."""

    advertise: bool = False
    advertise_default: bool = False
    learn: bool = False
    learn_default: bool = False
    denylist: PrefixMatcher = dataclasses.field(default_factory=lambda: PrefixMatcher(()))


def read_options(ctx: Context, warnings: WarnOnce) -> RouteOptions:
    """The options; ``ic-route-denylist`` (24.09's name) wins over ``ic-route-blacklist``."""
    row = nb_global(ctx)
    options = row.options if row is not None else {}
    key = "ic-route-denylist" if options.get("ic-route-denylist") else "ic-route-blacklist"
    entries, invalid = parse_prefix_list(options.get(key, ""))
    for entry in invalid:
        warnings.warn(("denylist", key, entry), "routes.denylist_entry_invalid", option=key,
                      entry=entry, message="not a CIDR: entry ignored")
    return RouteOptions(advertise=is_true(options.get("ic-route-adv")),
                        advertise_default=is_true(options.get("ic-route-adv-default")),
                        learn=is_true(options.get("ic-route-learn")),
                        learn_default=is_true(options.get("ic-route-learn-default")),
                        denylist=PrefixMatcher(entries))


@dataclasses.dataclass(frozen=True, slots=True)
class TsPort:
    """One of this AZ's router ports on a transit switch (its IC SB Port_Binding)."""

    transit_switch: str
    logical_port: str
    router_port: str                   # the LRP named by the LSP's options:router-port
    addresses: PortAddresses | None    # None: empty or invalid, never used (Q14)
    route_table: str = ""              # that LRP's options:route_table ("" is <main>)


@dataclasses.dataclass(frozen=True, slots=True)
class LocalRoute:
    """A static route configured in the NB (not learned)."""

    uuid: uuidlib.UUID
    id_text: str             # str(uuid), as advertisements refer to it
    ip_prefix: str
    nexthop: str
    route_table: str
    policy: str
    prefix: Prefix | None    # parsed ip_prefix, host bits kept
    prefix_text: str         # how it is advertised, e.g. 10.99.0.5/32 ("" if unparsable)
    parses: bool             # prefix and next hop parse, the next hop is not link-local


@dataclasses.dataclass(frozen=True, slots=True)
class LearnedRoute:
    """A static route this AZ learned: it carries ``external_ids:ic-learned-route``."""

    uuid: uuidlib.UUID
    identity: Identity | None  # None: unparsable, so it is removed
    source: str                # the IC SB Route UUID it was learned from
    ip_prefix: str
    nexthop: str


@dataclasses.dataclass(frozen=True, slots=True)
class IcRoute:
    """An IC SB Route row."""

    uuid: uuidlib.UUID
    availability_zone: uuidlib.UUID
    transit_switch: str
    route_table: str
    ip_prefix: str
    nexthop: str
    origin: str
    external_ids: dict[str, str]
    identity: Identity | None  # None: unparsable or link-local next hop
    prefix: Prefix | None
    source_id: str             # str(uuid), as learned routes refer to it

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Its place in the IC SB unique index, within its AZ."""
        return self.transit_switch, self.route_table, self.ip_prefix, self.nexthop


def _static_route(row: Any) -> LocalRoute | LearnedRoute:
    ip_prefix, nexthop, route_table = row.ip_prefix, row.nexthop, row.route_table
    parsed = parse_route(ip_prefix, nexthop)
    source = row.external_ids.get(LEARNED_ROUTE_KEY)
    if source is not None:
        return LearnedRoute(row.uuid, identity(parsed, row.options.get("origin", ""),
                                               route_table), source, ip_prefix, nexthop)
    policy = column(row, "policy", [])
    prefix = parse_cidr(ip_prefix)
    return LocalRoute(row.uuid, str(row.uuid), ip_prefix, nexthop, route_table,
                      policy[0] if policy else "", prefix, str(prefix) if prefix else "",
                      parsed is not None)


def _ic_route(row: Any) -> IcRoute:
    ip_prefix, nexthop, origin = row.ip_prefix, row.nexthop, row.origin
    route_table = row.route_table
    parsed = parse_route(ip_prefix, nexthop)
    return IcRoute(row.uuid, row.availability_zone.uuid, row.transit_switch, route_table,
                   ip_prefix, nexthop, origin, row.external_ids,
                   identity(parsed, origin, route_table),
                   parsed[0] if parsed is not None else None, str(row.uuid))


class Reader:
    """Row caches of the records above, kept from one pass to the next."""

    def __init__(self) -> None:
        self.static_routes = RowCache(_static_route)
        self.ic_routes = RowCache(_ic_route)
        self.router_routes = RowCache(lambda row: row.static_routes)
        # (name, options:router-port) of every LSP, which may be many VIFs.
        self.router_port = RowCache(lambda lsp: (lsp.name, lsp.options.get("router-port")))

    def sweep(self) -> None:
        for cache in (self.static_routes, self.ic_routes, self.router_routes, self.router_port):
            cache.sweep()


def read_ts_ports(ctx: Context, reader: Reader,
                  az_uuid: uuidlib.UUID) -> dict[uuidlib.UUID, list[TsPort]]:
    """This AZ's transit-switch ports by NB router UUID (from external_ids:router-id).

    Unlike ovn-ic, a port whose LSP or router-port is missing is skipped, not
    deleted: the IC SB Port_Binding belongs to the ports concern.
    """
    transit_switches = {ts.name for ts in ctx.rows(IC_NB, "Transit_Switch")}
    bindings = [pb for pb in ctx.rows(IC_SB, "Port_Binding")
                if pb.availability_zone.uuid == az_uuid]
    if not bindings:
        return {}
    router_ports = dict(map(reader.router_port, ctx.rows(NB, "Logical_Switch_Port")))
    ports: dict[uuidlib.UUID, list[TsPort]] = {}
    for pb in bindings:
        name, transit_switch = pb.logical_port, pb.transit_switch
        router_port = router_ports.get(name)
        router = parse_uuid(pb.external_ids.get("router-id"))
        if transit_switch not in transit_switches or not router_port or router is None:
            continue
        addresses = parse_port_addresses(pb.address)
        ports.setdefault(router, []).append(
            TsPort(transit_switch, name, router_port, addresses))
    return ports


@dataclasses.dataclass
class Router:
    """A logical router with what route sync needs of it."""

    uuid: uuidlib.UUID
    name: str
    row: Any
    ts_ports: list[TsPort]
    id_text: str
    local_routes: list[LocalRoute] = dataclasses.field(default_factory=list)
    learned_routes: list[LearnedRoute] = dataclasses.field(default_factory=list)

    @property
    def usable_ports(self) -> list[TsPort]:
        """Ports with a valid address: the only ones that advertise or learn (Q14)."""
        return [port for port in self.ts_ports if port.addresses is not None]


def read_routers(ctx: Context, reader: Reader,
                 ports_by_router: dict[uuidlib.UUID, list[TsPort]]) -> list[Router]:
    """Every NB router, with its static routes split into local and learned.

    Routers without transit-switch ports are read too, so that routes they
    learned earlier are removed (Q7).
    """
    routers = []
    for row in ctx.rows(NB, "Logical_Router"):
        ts_ports = ports_by_router.get(row.uuid, [])
        router = Router(row.uuid, row.name, row, ts_ports, str(row.uuid))
        if ts_ports:
            _resolve_route_tables(router)
        for route in reader.router_routes(row):
            record = reader.static_routes(route)
            if isinstance(record, LearnedRoute):
                router.learned_routes.append(record)
            else:
                router.local_routes.append(record)
        routers.append(router)
    return routers


def _resolve_route_tables(router: Router) -> None:
    """Fill each TS port's route_table from its LRP, looked up among the router's ports."""
    wanted = {port.router_port for port in router.ts_ports}
    tables = {}
    for lrp in router.row.ports:
        name = lrp.name
        if name in wanted:
            tables[name] = lrp.options.get("route_table", "")
    router.ts_ports = [dataclasses.replace(port, route_table=tables.get(port.router_port, ""))
                       for port in router.ts_ports]


def connected_networks(router: Router) -> list[tuple[uuidlib.UUID, str]]:
    """(LRP uuid, network) of every LRP that does not face a transit switch."""
    facing = {port.router_port for port in router.ts_ports}
    networks = []
    for lrp in router.row.ports:
        if lrp.name not in facing:
            networks.extend((lrp.uuid, network) for network in lrp.networks)
    return networks


def index_ic_routes(ctx: Context, reader: Reader, az_uuid: uuidlib.UUID,
                    learning_from: set[str]) -> tuple[list[IcRoute], dict[str, list[IcRoute]]]:
    """IC SB Routes: this AZ's own, and the others' by transit switch.

    Only other AZs' routes on ``learning_from`` are kept: nothing here learns
    from the rest.
    """
    own: list[IcRoute] = []
    others: dict[str, list[IcRoute]] = {}
    for row in ctx.rows(IC_SB, "Route"):
        route = reader.ic_routes(row)
        if route.availability_zone == az_uuid:
            own.append(route)
        elif route.transit_switch in learning_from:
            others.setdefault(route.transit_switch, []).append(route)
    return own, others
