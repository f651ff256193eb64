"""What route sync reads, as plain records: the topology, and the routes.

The topology (route options, this AZ's transit-switch ports, every router and
its ports) is small; it is read on every pass, through row caches, and route
sync compares it with the previous pass's to know whether what it derived from
the routes still holds.  The routes, static and IC SB, are many: the index
turns them into records one changed row at a time (``static_route``,
``ic_route``), so that reading never costs a pass over every route.
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ...config import Config
from ...constants import (
    IC_NB,
    IC_SB,
    LEARNED_ROUTE_KEY,
    LR_ID,
    NB,
    NB_ID,
    ORIGIN,
    ORIGIN_LOADBALANCER,
    OVERRIDE_CONNECTED,
    ROUTE_ADV,
    ROUTE_ADV_DEFAULT,
    ROUTE_ADV_LB,
    ROUTE_BLACKLIST,
    ROUTE_DENYLIST,
    ROUTE_LEARN,
    ROUTE_LEARN_DEFAULT,
    ROUTE_LEARN_LB,
    ROUTER_ID,
    ROUTER_PORT,
    SB,
)
from ...db.rowcache import RowCache
from ...db.values import column, is_true, optional_ref, parse_uuid, plain, plain_columns
from ..base import Context
from ..common import nb_global
from ..prefixes import (
    PortAddresses,
    Prefix,
    PrefixMatcher,
    format_address,
    nexthop_for,
    parse_cidr,
    parse_port_addresses,
    parse_prefix_list,
    parse_route_prefixes,
)
from .filters import (
    LIST_KEYS,
    PORT,
    ROUTE_TAG,
    Controls,
    FilterMap,
    PortFilters,
    controls,
    port_filters,
)
from .ledger import Problem

# A route's identity as in ovn-ic (docs/behaviour.md §6.2): the parsed prefix (family,
# address, length) and next hop (version, address), origin and route_table; flat, so it
# hashes fast.
Identity = tuple[int, int, int, int, int, str, str]


def identity(parsed: tuple[Prefix, Prefix] | None, origin: str,
             route_table: str) -> Identity | None:
    """The identity of a route that parse_route_prefixes gave ``parsed`` for; None if it
    did not parse."""
    if parsed is None:
        return None
    prefix, nexthop = parsed
    return (prefix.family, prefix.value, prefix.plen, nexthop.family, nexthop.value, origin,
            route_table)


@dataclasses.dataclass
class Tally:
    """What route sync wants now, for the metrics."""

    advertised: Counter = dataclasses.field(default_factory=Counter)  # per transit switch
    learned: Counter = dataclasses.field(default_factory=Counter)     # per transit switch
    refused: Counter = dataclasses.field(default_factory=Counter)     # per (direction, reason)
    conflicts: Counter = dataclasses.field(default_factory=Counter)   # per overlaps.Conflict
    transit_switches: set[str] = dataclasses.field(default_factory=set)


# ------------------------------------------------------------------- topology
ORIGIN_CONNECTED_DYNAMIC = "connected-dynamic"  # IC SB Route.origin of a dynamic prefix (26.09)
IPV4_VIA_IPV6 = "ic-route-ipv4-next-hop-ipv6"  # LR / LRP option (26.09)


@dataclasses.dataclass(frozen=True)
class RouteOptions:
    """NB_Global options of route sync (docs/behaviour.md §6.1, the denylist §8)."""

    advertise: bool = False
    advertise_default: bool = False
    learn: bool = False
    learn_default: bool = False
    learn_lb: bool = False  # ic-route-learn-lb (25.09): learn routes of origin loadbalancer
    advertise_lb: bool = False  # ic-route-adv-lb (25.09): advertise load-balancer VIPs
    denylist: PrefixMatcher = dataclasses.field(default_factory=lambda: PrefixMatcher(()))
    # The IC SB has Route.options (26.09's east-west routing): connected networks are also
    # advertised into the route table of a transit-switch port, and routes carry
    # options:override-connected, which learners copy.
    east_west: bool = False
    # The ports' route controls (filters.py), compared apart: when only they changed,
    # only the routes of the routers concerned are derived again (RouteIndex.refilter).
    filters: FilterMap = dataclasses.field(default_factory=dict, compare=False)
    # The IC SB's Route.origin takes "loadbalancer" (25.09's schema): VIPs are advertised
    # (with advertise_lb), never learned over (vips.py), and disabled routers learn nothing.
    load_balancers: bool = False
    # The IC SB has Datapath_Binding.nb_ic_uuid (26.03's schema): static routes with
    # next hop "discard" are advertised, with the transit-switch port's address.
    discard: bool = False
    # The origin of the prefixes a router learned by dynamic routing (SB Learned_Route):
    # 26.09's connected-dynamic where the IC SB's Route.origin has it, else connected.
    dynamic_origin: str = "connected"


def read_options(ctx: Context) -> tuple[RouteOptions, tuple[Problem, ...]]:
    """The options (and what the IC SB's schema allows), and problems with them.

    ``ic-route-denylist`` (24.09's name) wins over ``ic-route-blacklist``.
    """
    row = nb_global(ctx)
    options = row.options if row is not None else {}
    key = ROUTE_DENYLIST if options.get(ROUTE_DENYLIST) else ROUTE_BLACKLIST
    entries, invalid = parse_prefix_list(options.get(key, ""))
    problems = tuple(Problem(("denylist", key, entry), "routes.denylist_entry_invalid",
                             {"option": key, "entry": entry,
                              "message": "not a CIDR: entry ignored"})
                     for entry in invalid)
    return RouteOptions(advertise=is_true(options.get(ROUTE_ADV)),
                        advertise_default=is_true(options.get(ROUTE_ADV_DEFAULT)),
                        learn=is_true(options.get(ROUTE_LEARN)),
                        learn_default=is_true(options.get(ROUTE_LEARN_DEFAULT)),
                        learn_lb=is_true(options.get(ROUTE_LEARN_LB)),
                        advertise_lb=is_true(options.get(ROUTE_ADV_LB)),
                        denylist=PrefixMatcher(entries),
                        east_west=ctx.has_column(IC_SB, "Route", "options"),
                        load_balancers=ORIGIN_LOADBALANCER in (
                            ctx.enum(IC_SB, "Route", "origin") or ()),
                        discard=ctx.has_column(IC_SB, "Datapath_Binding", "nb_ic_uuid"),
                        dynamic_origin=ORIGIN_CONNECTED_DYNAMIC if ORIGIN_CONNECTED_DYNAMIC in (
                            ctx.enum(IC_SB, "Route", "origin") or ()) else "connected"), problems


SCOPE_STATIC_ROUTES = "subnets+static-routes"  # conflict-scope: static routes protected too


@dataclasses.dataclass(frozen=True)
class ConflictRules:
    """What conflicts with other AZs' routes, and whether they are refused (overlaps.py)."""

    deny: bool = False           # refuse conflicting routes (else learn and report them)
    static_routes: bool = False  # static routes' prefixes are protected too


def conflict_rules(config: Config, routers: Mapping[uuidlib.UUID, RouterView]) -> ConflictRules:
    """The rules of ``config``; deny only under the automation (an automated router exists)."""
    automated = {router.name for router in config.automated_routers}
    deny = (config.auto_route is True and config.conflict_policy == "deny"
            and any(router.name in automated for router in routers.values()))
    return ConflictRules(deny=deny, static_routes=config.conflict_scope == SCOPE_STATIC_ROUTES)


@dataclasses.dataclass(frozen=True, slots=True)
class TsPort:
    """One of this AZ's router ports on a transit switch (its IC SB Port_Binding)."""

    transit_switch: str
    logical_port: str
    router_port: str                   # the LRP named by the LSP's options:router-port
    addresses: PortAddresses | None    # None: empty or invalid, never used (Q14)
    route_table: str = ""              # that LRP's options:route_table ("" is <main>)
    nexthop4: str | None = None        # the next hop it advertises IPv4 prefixes with
    nexthop6: str | None = None        # ... and IPv6 prefixes (never link-local, Q2)
    ipv4_via_ipv6: bool = False        # IPv4 prefixes get the IPv6 next hop if it has one

    def nexthop(self, family: int) -> str | None:
        if family == 4 and not (self.ipv4_via_ipv6 and self.nexthop6):
            return self.nexthop4
        return self.nexthop6


def _nexthop(family: int, addresses: PortAddresses | None) -> str | None:
    """The next hop a port gives prefixes of ``family`` (the same for every prefix)."""
    address = nexthop_for(Prefix(family, 0, 0), addresses) if addresses is not None else None
    return format_address(address) if address is not None else None


@dataclasses.dataclass(frozen=True, slots=True)
class LrpView:
    """What route sync reads of a logical router port."""

    uuid: uuidlib.UUID
    name: str
    networks: tuple[str, ...]
    route_table: str
    controls: Controls = ()  # its route-control options (filters.py)
    ipv4_via_ipv6: str | None = None  # options:ic-route-ipv4-next-hop-ipv6 as written


@dataclasses.dataclass(frozen=True, slots=True)
class RouterView:
    """A logical router as route sync sees it: its transit-switch ports and networks."""

    uuid: uuidlib.UUID
    id_text: str                                   # str(uuid), as advertisements refer to it
    name: str
    ts_ports: tuple[TsPort, ...] = ()
    usable_ports: tuple[TsPort, ...] = ()          # with a valid address: the only ones that
                                                   # advertise or learn (Q14)
    connected: tuple[tuple[uuidlib.UUID, str], ...] = ()  # (LRP, network) not facing a TS
    # The usable ports by route table, derived from them: asked once per static route.
    usable_by_table: dict[str, tuple[TsPort, ...]] = dataclasses.field(
        default_factory=dict, compare=False, hash=False)
    enabled: bool = True                           # Logical_Router.enabled is not false


@dataclasses.dataclass(frozen=True)
class RouteTopology:
    """Everything route sync derives the wanted rows from, besides the routes."""

    az: uuidlib.UUID
    options: RouteOptions
    routers: dict[uuidlib.UUID, RouterView]  # every NB router, with ports or not (Q7)
    conflicts: ConflictRules = ConflictRules()
    # Routers of this AZ learn each other's routes (23.09), on IC databases of 24.03 or
    # later; with 23.03's schemas, as 23.03 (its peers may run either), they do not.
    same_az: bool = False
    # SB Learned_Route (26.03's dynamic routing): the router of each SB datapath of a
    # router with transit-switch ports; None where the schemas lack it (read_datapaths).
    datapaths: dict[uuidlib.UUID, uuidlib.UUID] | None = None

    def transit_switches(self) -> set[str]:
        return {port.transit_switch for router in self.routers.values()
                for port in router.ts_ports}

    def learners(self) -> dict[str, list[tuple[RouterView, TsPort]]]:
        """Per transit switch, the (router, usable port) pairs that learn through it."""
        found: dict[str, list[tuple[RouterView, TsPort]]] = {}
        if self.options.learn:
            for router in self.routers.values():
                if not router.enabled and self.options.load_balancers:
                    continue  # as 25.09.1: a disabled router learns nothing
                for port in router.usable_ports:
                    found.setdefault(port.transit_switch, []).append((router, port))
        return found


class TopologyCache:
    """Row caches of the topology's tables, kept from one pass to the next."""

    def __init__(self) -> None:
        # (name, options:router-port) of every LSP, which may be many VIFs.
        self.router_port = RowCache(lambda lsp: (lsp.name, lsp.options.get(ROUTER_PORT)))
        self.router = RowCache(lambda lr: (lr.name, tuple(lr.ports),
                                           controls(lr.options, LIST_KEYS),
                                           column(lr, "enabled", []) != [False]))
        self.lrp = RowCache(lambda lrp: LrpView(lrp.uuid, lrp.name, tuple(lrp.networks),
                                                lrp.options.get("route_table", ""),
                                                controls(lrp.options),
                                                lrp.options.get(IPV4_VIA_IPV6)))
        self.nb_uuid = RowCache(lambda dp: optional_ref(plain(dp, "nb_uuid")))

    def sweep(self) -> None:
        for cache in (self.router_port, self.router, self.lrp, self.nb_uuid):
            cache.sweep()


def read_topology(ctx: Context, cache: TopologyCache,
                  az_uuid: uuidlib.UUID) -> tuple[RouteTopology, tuple[Problem, ...]]:
    """The topology, and problems with the options."""
    options, problems = read_options(ctx)
    ports = read_ts_ports(ctx, cache, az_uuid)
    routers = {}
    filters: dict[str, PortFilters] = {}
    filter_problems: list[Problem] = []
    for row in ctx.rows(NB, "Logical_Router"):
        name, lrps, router_controls, enabled = cache.router(row)
        ts_ports = ports.get(row.uuid, [])
        lrp_views = [cache.lrp(lrp) for lrp in lrps] if ts_ports else []
        ipv4_via_ipv6 = row.options.get(IPV4_VIA_IPV6) if ts_ports and options.east_west else None
        routers[row.uuid] = _router_view(row.uuid, name, lrp_views, ts_ports, enabled,
                                         ipv4_via_ipv6, options.east_west)
        if ts_ports:
            filter_problems += _read_filters(name, lrp_views, ts_ports, router_controls,
                                             filters)
    same_az = ctx.has_column(IC_SB, "Availability_Zone", "nb_ic_cfg")
    if filters:
        options = dataclasses.replace(options, filters=filters)
    topology = RouteTopology(az_uuid, options, routers, conflict_rules(ctx.config, routers),
                             same_az, read_datapaths(ctx, cache, routers))
    return topology, (*problems, *filter_problems)


def _read_filters(router: str, lrps: list[LrpView], ts_ports: list[TsPort],
                  router_controls: Controls,
                  filters: dict[str, PortFilters]) -> list[Problem]:
    """Put the filters of the router's transit-switch ports that have any into ``filters``;
    the problems with their lists."""
    by_name = {lrp.name: lrp.controls for lrp in lrps}
    problems = []
    for port in ts_ports:
        port_controls = by_name.get(port.router_port, ())
        if not port_controls and not router_controls:
            continue
        filters[port.logical_port], invalid = port_filters(port_controls, router_controls)
        for table, option, entry in invalid:
            row = port.router_port if table == PORT else router
            problems.append(Problem(("route-filter", table, row, option, entry),
                                    "routes.filter_entry_invalid",
                                    {"table": table, "row": row, "option": option,
                                     "entry": entry, "message": "not a CIDR: entry ignored"}))
    return problems


def read_datapaths(ctx: Context, cache: TopologyCache, routers: Mapping[uuidlib.UUID, RouterView]
                   ) -> dict[uuidlib.UUID, uuidlib.UUID] | None:
    """The router of each SB datapath of a router with transit-switch ports, found as ovn-ic
    26.03 finds it (``Datapath_Binding.nb_uuid``); None where the SB lacks Learned_Route or
    that column, or the IC SB is older than 26.03's (``Datapath_Binding.nb_ic_uuid``), whose
    ovn-ic does not advertise dynamic routes."""
    if not (ctx.has_column(SB, "Learned_Route", "ip_prefix")
            and ctx.has_column(SB, "Datapath_Binding", "nb_uuid")
            and ctx.has_column(IC_SB, "Datapath_Binding", "nb_ic_uuid")):
        return None
    connected = {uuid for uuid, router in routers.items() if router.ts_ports}
    if not connected:
        return {}
    found = {}
    for row in ctx.rows(SB, "Datapath_Binding"):
        router = cache.nb_uuid(row)
        if router in connected:
            found[row.uuid] = router
    return found


def read_ts_ports(ctx: Context, cache: TopologyCache,
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
    router_ports = dict(map(cache.router_port, ctx.rows(NB, "Logical_Switch_Port")))
    ports: dict[uuidlib.UUID, list[TsPort]] = {}
    for pb in bindings:
        name, transit_switch = pb.logical_port, pb.transit_switch
        router_port = router_ports.get(name)
        router = parse_uuid(pb.external_ids.get(ROUTER_ID))
        if transit_switch not in transit_switches or not router_port or router is None:
            continue
        addresses = parse_port_addresses(pb.address)
        ports.setdefault(router, []).append(
            TsPort(transit_switch, name, router_port, addresses,
                   nexthop4=_nexthop(4, addresses), nexthop6=_nexthop(6, addresses)))
    return ports


def _router_view(uuid: uuidlib.UUID, name: str, lrps: list[LrpView], ts_ports: list[TsPort],
                 enabled: bool = True, ipv4_via_ipv6: str | None = None,
                 read_via_ipv6: bool = False) -> RouterView:
    """The router with each TS port's route_table taken from its LRP, and (with 26.09's
    IC SB, ``read_via_ipv6``) ic-route-ipv4-next-hop-ipv6 from the LRP and the router's
    ``ipv4_via_ipv6``."""
    if not ts_ports:
        return RouterView(uuid, str(uuid), name, enabled=enabled)
    by_name = {lrp.name: lrp for lrp in lrps}
    resolved = []
    for port in ts_ports:
        lrp = by_name.get(port.router_port)
        port_option = lrp.ipv4_via_ipv6 if lrp is not None else None
        resolved.append(dataclasses.replace(
            port, route_table=lrp.route_table if lrp is not None else "",
            ipv4_via_ipv6=read_via_ipv6 and ipv4_next_hop_ipv6(ipv4_via_ipv6, port_option)))
    facing = {port.router_port for port in ts_ports}
    connected = tuple((lrp.uuid, network) for lrp in lrps if lrp.name not in facing
                      for network in lrp.networks)
    usable = tuple(port for port in resolved if port.addresses is not None)
    by_table: dict[str, tuple[TsPort, ...]] = {}
    for port in usable:
        by_table[port.route_table] = (*by_table.get(port.route_table, ()), port)
    return RouterView(uuid, str(uuid), name, tuple(resolved), usable, connected, by_table,
                      enabled)


def ipv4_next_hop_ipv6(router_option: str | None, port_option: str | None) -> bool:
    """Whether a port advertises IPv4 prefixes with its IPv6 next hop, as ovn-ic 26.09 reads
    it: smap_get_bool(LRP options, key, smap_get_bool(LR options, key, false)), where with a
    true default anything but "false" is true."""
    default = is_true(router_option)
    if port_option is None:
        return default
    return port_option.lower() != "false" if default else port_option.lower() == "true"


# --------------------------------------------------------------------- routes
# One record is made per route read, 10,000s at a time: the records are not
# frozen dataclasses, whose __init__ takes five times as long, but are never
# changed once made.
@dataclasses.dataclass(slots=True)
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
    override: bool = False   # options:override-connected (26.09)


@dataclasses.dataclass(slots=True)
class LearnedRoute:
    """A static route this AZ learned: it carries ``external_ids:ic-learned-route``."""

    uuid: uuidlib.UUID
    identity: Identity | None  # None: unparsable, so it is removed
    source: str                # the IC SB Route UUID it was learned from
    ip_prefix: str
    nexthop: str


@dataclasses.dataclass(slots=True)
class IcRoute:
    """An IC SB Route row."""

    uuid: uuidlib.UUID
    availability_zone: uuidlib.UUID
    transit_switch: str
    route_table: str
    ip_prefix: str
    nexthop: str
    origin: str
    nb_id: str | None          # external_ids:nb-id, the NB row an AZ advertises it for
    lr_id: str | None          # external_ids:lr-id, the router advertising it
    identity: Identity | None  # None: unparsable or link-local next hop
    prefix: Prefix | None
    override: bool = False     # options:override-connected (26.09)
    tag: str | None = None     # external_ids:ic-route-tag (25.03)

    @property
    def source_id(self) -> str:
        """str(uuid), as learned routes refer to it."""
        return str(self.uuid)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Its place in the IC SB unique index, within its AZ."""
        return self.transit_switch, self.route_table, self.ip_prefix, self.nexthop


# The columns each record is made from: the Routes concern reads and writes these.
STATIC_COLUMNS = ("ip_prefix", "nexthop", "route_table", "external_ids", "options")
IC_ROUTE_COLUMNS = ("ip_prefix", "nexthop", "origin", "route_table", "availability_zone",
                     "external_ids", "transit_switch")


def static_route(row: Any) -> LocalRoute | LearnedRoute:
    """The record of a Logical_Router_Static_Route row."""
    ip_prefix, nexthop, route_table, external_ids, options = plain_columns(row, STATIC_COLUMNS)
    parsed = parse_route_prefixes(ip_prefix, nexthop)
    source = external_ids.get(LEARNED_ROUTE_KEY)
    if source is not None:
        return LearnedRoute(row.uuid, identity(parsed, options.get(ORIGIN, ""), route_table),
                            source, ip_prefix, nexthop)
    try:
        policy = plain(row, "policy")
    except AttributeError:  # a schema without it
        policy = []
    prefix = parsed[0] if parsed is not None else parse_cidr(ip_prefix)
    return LocalRoute(row.uuid, str(row.uuid), ip_prefix, nexthop, route_table,
                      policy[0] if policy else "", prefix, str(prefix) if prefix else "",
                      parsed is not None, is_true(options.get(OVERRIDE_CONNECTED)))


def ic_route(row: Any, own_az: uuidlib.UUID | None = None,
             parse_own: frozenset[str] = frozenset(), with_options: bool = False) -> IcRoute:
    """The record of an IC SB Route row (``with_options``: the schema has its options).

    A row of ``own_az`` is only compared by key and source, unless other routers of
    this AZ may learn it (on a transit switch of ``parse_own``), so its prefix and
    next hop are not parsed: identity and prefix are None.
    """
    ip_prefix, nexthop, origin, route_table, availability_zone, ids, transit_switch = \
        plain_columns(row, IC_ROUTE_COLUMNS)
    parsed = (parse_route_prefixes(ip_prefix, nexthop)
              if availability_zone != own_az or transit_switch in parse_own else None)
    return IcRoute(row.uuid, availability_zone, transit_switch,
                   route_table, ip_prefix, nexthop, origin, ids.get(NB_ID), ids.get(LR_ID),
                   identity(parsed, origin, route_table),
                   parsed[0] if parsed is not None else None,
                   with_options and is_true(plain(row, "options").get(OVERRIDE_CONNECTED)),
                   ids.get(ROUTE_TAG))
