"""auto-route: the ``ic-route-*`` options in NB_Global, and route conflicts.

Like the rest of the automation this acts only while the cluster router exists
(see ``engagement``).  ``auto-route``:

- absent: the options are the operator's, exactly as with the C ovn-ic; if
  this daemon managed them before, it hands them over (drops its record of
  them in NB_Global ``external_ids``) and changes nothing else;
- ``true``: ``ic-route-adv=true``, ``ic-route-learn=true`` and
  ``ic-route-blacklist`` = ``no-advertise`` plus, under ``conflict-policy=deny``,
  both sides of every conflict; normalised to networks, deduplicated, sorted.
  An operator's own blacklist entries are replaced: list them in
  ``no-advertise``.  The keys written are recorded in MANAGED_OPTIONS_KEY;
- ``false`` (manual mode): the three options are removed, whoever set them.

A conflict is a local subnet (a network of a cluster-router port that does not
face a transit switch, link-local ones aside) overlapping a prefix another AZ
advertises in the IC SB.  Conflicts are logged when they appear, change or go,
exported as the ``route_conflicts`` gauge and kept in ``self.conflicts`` (and
``self.denied``) for ``show``.  Only with ``auto-route=true`` and
``conflict-policy=deny`` do they change anything: both prefixes go into the
blacklist, so this AZ neither advertises its subnet nor learns the other's,
and ovn-ic (or our routes concern) removes overlapping learned routes.  With
``auto-route`` absent or false, deny acts like report: the options are not ours.

Exactly one side denies.  If both did, neither would advertise, the conflict
would vanish from the IC SB, both would lift it and advertise again: a flap,
which Kube-OVN avoids by never lifting a denial while the local subnet exists,
so a peer's withdrawal goes unnoticed.  Here, against a peer AZ that runs this
automation (its ports carry ``link_mac`` MACs) and whose name sorts higher,
this AZ waits DENY_GRACE_S for the peer to deny; only if the peer still
advertises the prefix then (it reports only, or is down) does this AZ deny.
Against any other peer (lower name, the C ovn-ic, hand-made) it denies at once.
The denying side keeps seeing the other's prefix, so the denial ends as soon
as the overlap does, and nothing needs remembering across restarts.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import time
from collections.abc import Callable
from typing import Any

from ... import logs
from ...constants import (
    IC_SB,
    MANAGED_OPTIONS_KEY,
    NB,
    ROUTE_ADV,
    ROUTE_BLACKLIST,
    ROUTE_DENYLIST,
    ROUTE_LEARN,
    ROUTER_PORT,
    TS_KEY,
)
from ...db.plan import Plan
from ..base import Concern, Context, columns
from ..common import LogOnce, mirror_switches, nb_global, publish_gauge
from ..prefixes import is_link_local_prefix, parse_cidr, parse_port_addresses
from .engagement import cluster_router
from .link_addresses import Network, link_mac
from .ports import interface_addresses

log = logs.get("sync.auto_route")

ROUTE_OPTIONS = (ROUTE_ADV, ROUTE_BLACKLIST, ROUTE_LEARN)
DENY_GRACE_S = 5.0  # how long a higher-named automated peer has to deny a conflict itself


@dataclasses.dataclass(frozen=True, order=True)
class Conflict:
    local: str  # a local subnet, as a network
    remote: str  # an overlapping prefix another AZ advertises, as a network
    az: str  # that AZ


def as_network(text: str) -> Network | None:
    """A prefix as OVS parses it, host bits dropped; None for junk, /0 and link-local."""
    prefix = parse_cidr(text)
    if prefix is None or prefix.plen == 0 or is_link_local_prefix(prefix):
        return None
    kind = ipaddress.IPv4Network if prefix.family == 4 else ipaddress.IPv6Network
    return kind((prefix.value, prefix.plen), strict=False)


def local_subnets(ctx: Context, router: Any) -> set[Network]:
    """Networks of the router's ports, except ports facing a transit switch."""
    facing = {lsp.options.get(ROUTER_PORT) for mirror in mirror_switches(ctx).values()
              for lsp in mirror.ports if lsp.type == "router"}
    subnets = set()
    for lrp in router.ports:
        if lrp.name in facing or TS_KEY in lrp.external_ids:
            continue
        for interface in interface_addresses(lrp.networks):
            network = as_network(str(interface))
            if network is not None:
                subnets.add(network)
    return subnets


def advertised_conflicts(ctx: Context, local: set[Network]) -> set[Conflict]:
    """Local subnets overlapping prefixes other AZs advertise right now."""
    found = set()
    for route in ctx.rows(IC_SB, "Route"):
        if route.availability_zone.uuid == ctx.az.uuid:
            continue
        remote = as_network(route.ip_prefix)
        if remote is None:
            continue
        for subnet in local:
            if subnet.version == remote.version and subnet.overlaps(remote):
                found.add(Conflict(str(subnet), str(remote), route.availability_zone.name))
    return found


def automated_zones(ctx: Context) -> set[str]:
    """AZs running this automation: a port of theirs has the MAC ``link_mac`` gives it."""
    zones = set()
    for pb in ctx.rows(IC_SB, "Port_Binding"):
        parsed = parse_port_addresses(pb.address)
        zone = pb.availability_zone.name
        if parsed is not None and parsed.mac == link_mac(zone, pb.transit_switch):
            zones.add(zone)
    return zones


def sorted_networks(texts) -> list[str]:
    networks = {ipaddress.ip_network(text, strict=False) for text in texts}
    return [str(network) for network in sorted(networks, key=lambda n: (n.version, n))]


class AutoRoute(Concern):
    name = "auto_route"
    reads = {
        NB: columns(NB_Global="options external_ids",
                    Logical_Router="name ports",
                    Logical_Router_Port="name networks external_ids",
                    Logical_Switch="name ports other_config",
                    Logical_Switch_Port="type options"),
        IC_SB: columns(Availability_Zone="name",
                       Port_Binding="transit_switch availability_zone address",
                       Route="availability_zone ip_prefix"),
    }
    writes = {NB: columns(NB_Global="options external_ids")}

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.findings = LogOnce(log)
        self.conflicts: list[Conflict] = []  # for `show`
        self.denied: list[Conflict] = []  # those in the blacklist
        self._conflict_log = LogOnce(log)  # keyed by (conflict, action)
        self._waiting_since: dict[Conflict, float] = {}
        self._published: set[tuple[str, ...]] = set()

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        global_row = nb_global(ctx)
        router = cluster_router(ctx, self.findings)
        engaged = global_row is not None and router is not None
        conflicts = advertised_conflicts(ctx, local_subnets(ctx, router)) if engaged else set()
        if engaged and ctx.config.auto_route is True and ctx.config.conflict_policy == "deny":
            denied = self._to_deny(ctx, conflicts)
        else:
            denied, self._waiting_since, self.recheck_at = set(), {}, None
        if engaged:
            self._plan_options(ctx, plan, global_row, denied)
        self._track(ctx, conflicts, denied)
        self.findings.settle()
        return plan

    def _to_deny(self, ctx: Context, conflicts: set[Conflict]) -> set[Conflict]:
        """The conflicts this AZ denies now; a higher-named automated peer goes first."""
        now = self.clock()
        automated = automated_zones(ctx)
        waiting = {}
        denied = set()
        for conflict in conflicts:
            if conflict.az in automated and conflict.az > ctx.az_name:
                waiting[conflict] = self._waiting_since.get(conflict, now)
                if now - waiting[conflict] < DENY_GRACE_S:
                    continue
            denied.add(conflict)
        self._waiting_since = waiting
        pending = [since + DENY_GRACE_S for conflict, since in waiting.items()
                   if conflict not in denied]
        self.recheck_at = min(pending) if pending else None
        return denied

    def _plan_options(self, ctx: Context, plan: Plan, global_row: Any,
                      denied: set[Conflict]) -> None:
        options, uuid = global_row.options, global_row.uuid
        if ctx.config.auto_route is True:
            blacklist = list(ctx.config.no_advertise)
            blacklist += [text for conflict in denied for text in (conflict.local,
                                                                    conflict.remote)]
            wanted = {ROUTE_ADV: "true", ROUTE_LEARN: "true",
                      ROUTE_BLACKLIST: ",".join(sorted_networks(blacklist))}
            for key, value in wanted.items():
                if options.get(key) != value:
                    plan.setkey(NB, "NB_Global", uuid, "options", key, value)
            managed = ",".join(ROUTE_OPTIONS)
            if global_row.external_ids.get(MANAGED_OPTIONS_KEY) != managed:
                plan.setkey(NB, "NB_Global", uuid, "external_ids", MANAGED_OPTIONS_KEY, managed)
            if options.get(ROUTE_DENYLIST):
                self.findings("warning", "auto_route.denylist_set",
                              reason="NB_Global options:ic-route-denylist is set and takes "
                                     "precedence over the ic-route-blacklist written here")
            return
        if ctx.config.auto_route is False:
            for key in ROUTE_OPTIONS:
                if key in options:
                    plan.delkey(NB, "NB_Global", uuid, "options", key)
        if MANAGED_OPTIONS_KEY in global_row.external_ids:
            plan.delkey(NB, "NB_Global", uuid, "external_ids", MANAGED_OPTIONS_KEY)

    def _track(self, ctx: Context, conflicts: set[Conflict], denied: set[Conflict]) -> None:
        """Log what appeared, changed or went; keep the lists ``show`` prints."""
        actions = {}
        for conflict in conflicts:
            if conflict in denied:
                actions[conflict] = "deny-listed"
            elif conflict in self._waiting_since:
                actions[conflict] = f"waiting for {conflict.az} to deny-list it"
            else:
                actions[conflict] = "reported only"
        for conflict in sorted(actions):
            self._conflict_log.report(
                (conflict, actions[conflict]), "warning", "auto_route.conflict",
                local=conflict.local, remote=conflict.remote, availability_zone=conflict.az,
                action=actions[conflict], policy=ctx.config.conflict_policy,
                auto_route=ctx.config.auto_route,
                reason="a local subnet overlaps a prefix another AZ advertises")
        for conflict, _ in sorted(self._conflict_log.settle()):
            if conflict not in actions:  # not just a new action
                log.info("auto_route.conflict_gone", local=conflict.local,
                         remote=conflict.remote, availability_zone=conflict.az)
        self.conflicts = sorted(conflicts)
        self.denied = sorted(denied)

    def report(self, metrics: Any) -> None:
        self._published = publish_gauge(
            metrics.route_conflicts,
            {(conflict.local, conflict.remote): 1 for conflict in self.conflicts},
            self._published)
