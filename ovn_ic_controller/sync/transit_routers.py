"""Transit routers (26.03): IC NB Transit_Router(_Port) → NB routers and ports, IC SB bindings.

The behaviour, and ovn-ic's, is docs/behaviour.md §3.5.  Only where the IC NB
has ``Transit_Router`` (and so the IC SB the typed bindings).

Every AZ keeps one NB router per transit router, named like it and marked
``options:interconn-tr=<name>``, carrying the key of the router's datapath
binding (created by the transit_switches concern) as ``requested-tnl-key``.
A port is this AZ's when its ``chassis`` is an SB Chassis not marked
``is-remote``; this AZ then publishes it in the IC SB (type
``transit-router-port``, the port's MAC as address, a key allocated like a
transit-switch port's).  Every AZ that sees a binding of the port, its own or
a peer's, gives the router an NB port with the port's MAC and networks,
``requested-chassis`` (northd makes it a remote port where that chassis is
another AZ's) and the binding's key; a port without a chassis, or whose
binding is not there yet, has none.  As in ovn-ic, a binding stays while its
router exists, even after its port is deleted or moves to another AZ, and
its address is the MAC the port had when it was published.

Departures from ovn-ic: rows that would fail a whole transaction (a port name
another NB port or IC SB binding has) are skipped with a warning; of several
NB routers for one transit router the one named like it is kept (else the
lowest UUID), not the first in hash order; the bindings of a transit router
whose NB router is missing for a moment (just created, or deleted by hand)
are kept, not withdrawn and published again.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .. import logs
from ..constants import (
    IC_NB,
    IC_SB,
    IS_REMOTE,
    LR,
    LRP,
    NB,
    REQUESTED_KEY,
    SB,
    TR_DATAPATH,
    TR_PORT,
)
from ..db.plan import NewRow, Plan
from ..db.values import column, is_true, optional_ref, parse_int
from .base import Concern, Context, columns
from .common import LogOnce, binding_type
from .tunnel_keys import TunnelKeyAllocator

log = logs.get("sync.transit_routers")

INTERCONN_TR = "interconn-tr"  # NB Logical_Router and Logical_Router_Port options
REQUESTED_CHASSIS = "requested-chassis"

_BINDING = "availability_zone transit_switch logical_port tunnel_key address type nb_ic_uuid"


def transit_router_mirrors(ctx: Context) -> dict[str, list[Any]]:
    """Every NB router with ``options:interconn-tr``, by that transit router's name; each
    list's first is the one kept: named like the transit router, else the lowest UUID."""
    found: dict[str, list[Any]] = defaultdict(list)
    for router in ctx.rows(NB, LR):
        name = router.options.get(INTERCONN_TR)
        if name is not None:
            found[name].append(router)
    for name, routers in found.items():
        routers.sort(key=lambda router: (router.name != name, str(router.uuid)))
    return dict(found)


def is_remote_port(chassis_name: str, chassis: dict[str, Any]) -> bool:
    """ovn-ic's rule: a port is another AZ's unless its chassis is one of this AZ's SB
    chassis (present, not ``is-remote``); a port without chassis is nobody's."""
    found = chassis.get(chassis_name)
    return found is None or is_true(found.other_config.get(IS_REMOTE))


class TransitRouters(Concern):
    name = "transit_routers"
    reads = {
        NB: columns(Logical_Router="name options ports",
                    Logical_Router_Port="name mac networks options"),
        SB: columns(Chassis="name other_config"),
        IC_NB: columns(Transit_Router="name ports",
                       Transit_Router_Port="name mac networks chassis"),
        IC_SB: columns(Availability_Zone="name", Datapath_Binding="tunnel_key type nb_ic_uuid",
                       Port_Binding=_BINDING),
    }
    writes = {
        NB: columns(Logical_Router="name options ports",
                    Logical_Router_Port="name mac networks options"),
        IC_SB: columns(Port_Binding=_BINDING),
    }

    def __init__(self, port_keys: TunnelKeyAllocator | None = None) -> None:
        # ovn-ic has one hint for the ports of transit switches and routers alike.
        self.port_keys = port_keys or TunnelKeyAllocator("transit port", 1, 2**15 - 1, 0)
        self.problems = LogOnce(log)

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        if not (ctx.has_column(IC_NB, "Transit_Router", "name")
                and ctx.has_column(IC_SB, "Port_Binding", "nb_ic_uuid")):
            return plan
        routers = sorted(ctx.rows(IC_NB, "Transit_Router"), key=lambda tr: tr.name)
        mirrors = self._sync_routers(ctx, plan, routers)
        self._sync_ports(ctx, plan, routers, mirrors)
        self.problems.settle()
        return plan

    # ---------------------------------------------------------------- routers
    def _sync_routers(self, ctx: Context, plan: Plan, routers: list[Any]) -> dict[str, Any]:
        """One NB router per transit router, with its binding's key; the others deleted.
        Returns the NB routers that exist already, by transit router name."""
        keys = {}
        for binding in ctx.rows(IC_SB, "Datapath_Binding"):
            if binding_type(binding) == TR_DATAPATH:
                router = optional_ref(column(binding, "nb_ic_uuid", []))
                keys.setdefault(router, binding.tunnel_key)
        by_name = transit_router_mirrors(ctx)
        mirrors = {}
        for tr in routers:
            key = keys.get(tr.uuid)
            candidates = by_name.pop(tr.name, [])
            if not candidates:
                options = {INTERCONN_TR: tr.name}
                if key is not None:
                    options[REQUESTED_KEY] = str(key)
                log.info("transit_router.router_created", transit_router=tr.name,
                         tunnel_key=key)
                plan.insert(NB, LR, name=tr.name, options=options)
                continue
            mirror, *duplicates = candidates
            mirrors[tr.name] = mirror
            self._delete_routers(plan, duplicates, "duplicate")
            if key is not None and parse_int(mirror.options.get(REQUESTED_KEY)) != key:
                plan.setkey(NB, LR, mirror.uuid, "options", REQUESTED_KEY, str(key))
        for orphans in by_name.values():
            self._delete_routers(plan, orphans, "no-transit-router")
        return mirrors

    @staticmethod
    def _delete_routers(plan: Plan, routers: list[Any], reason: str) -> None:
        for router in routers:
            log.info("transit_router.router_deleted", name=router.name, row=str(router.uuid),
                     reason=reason)
            plan.delete(NB, LR, router.uuid)

    # ------------------------------------------------------------------ ports
    def _sync_ports(self, ctx: Context, plan: Plan, routers: list[Any],
                    mirrors: dict[str, Any]) -> None:
        own = ctx.az.uuid
        chassis = {row.name: row for row in ctx.rows(SB, "Chassis")}
        lrps = {lrp.name: lrp for lrp in ctx.rows(NB, LRP)}
        bindings = list(ctx.rows(IC_SB, "Port_Binding"))
        names = {pb.logical_port: pb for pb in bindings}
        used = {pb.tunnel_key for pb in bindings if pb.availability_zone.uuid == own}
        local: dict[str, dict[str, Any]] = defaultdict(dict)
        remote: dict[str, dict[str, Any]] = defaultdict(dict)
        keys_on: dict[str, set[int]] = defaultdict(set)
        for pb in bindings:
            if binding_type(pb) != TR_PORT:
                continue
            keys_on[pb.transit_switch].add(pb.tunnel_key)
            side = local if pb.availability_zone.uuid == own else remote
            side[pb.transit_switch][pb.logical_port] = pb
        for tr in routers:
            ours = local.pop(tr.name, {})
            mirror = mirrors.get(tr.name)
            if mirror is None:
                continue  # created by this plan: its ports come next time, as in ovn-ic
            theirs = remote.get(tr.name, {})
            nb_ports = {lrp.name: lrp for lrp in mirror.ports if INTERCONN_TR in lrp.options}
            # In UUID order, as ovn-ic sees them, so that keys are given out as there.
            for trp in sorted(column(tr, "ports", ()), key=lambda trp: trp.uuid):
                if is_remote_port(trp.chassis, chassis):
                    binding = theirs.get(trp.name)
                else:
                    binding = ours.get(trp.name)
                    if binding is None:
                        binding = self._publish(ctx, plan, tr, trp, names, used,
                                                keys_on[tr.name])
                if binding is None:
                    continue  # not bound yet: no NB port before the binding
                lrp = nb_ports.pop(trp.name, None)
                if lrp is None:
                    clash = lrps.get(trp.name)
                    if clash is None:
                        self._create_port(plan, mirror, trp, binding)
                    elif INTERCONN_TR not in clash.options:
                        self.problems("warning", "transit_router.port_name_taken",
                                      port=trp.name, transit_router=tr.name,
                                      reason="another NB router port has this name")
                    # else another transit router's until this plan: created next time
                else:
                    self._sync_port(plan, trp, lrp, binding)
            for lrp in nb_ports.values():
                log.info("transit_router.port_deleted", port=lrp.name, transit_router=tr.name)
                plan.delvalue(NB, LR, mirror.uuid, "ports", lrp.uuid)
        for stale in local.values():
            for pb in stale.values():
                log.info("transit_router.port_withdrawn", port=pb.logical_port,
                         transit_router=pb.transit_switch, reason="transit router gone")
                plan.delete(IC_SB, "Port_Binding", pb.uuid)

    def _publish(self, ctx: Context, plan: Plan, tr: Any, trp: Any, names: dict[str, Any],
                 used: set[int], on_router: set[int]) -> NewRow | None:
        """A binding, of this AZ, for a port whose chassis is ours, with a key none of this
        AZ's bindings (``used``) nor the router's (``on_router``) has."""
        taken = names.get(trp.name)
        if taken is not None:
            self.problems("warning", "transit_router.port_binding_name_taken", port=trp.name,
                          transit_router=tr.name, owner=taken.availability_zone.name,
                          transit_switch=taken.transit_switch)
            return None
        key = self.port_keys.allocate(used | on_router)
        if key is None:
            return None
        used.add(key)
        on_router.add(key)
        log.info("transit_router.port_published", port=trp.name, transit_router=tr.name,
                 tunnel_key=key)
        binding = plan.insert(IC_SB, "Port_Binding", availability_zone=ctx.az.uuid,
                              transit_switch=tr.name, logical_port=trp.name, tunnel_key=key,
                              address=trp.mac, type=TR_PORT, nb_ic_uuid=tr.uuid)
        names[trp.name] = binding
        return binding

    @staticmethod
    def _create_port(plan: Plan, mirror: Any, trp: Any, binding: Any) -> None:
        log.info("transit_router.port_created", port=trp.name, transit_router=mirror.name)
        options = {INTERCONN_TR: trp.name, **{key: value for key, value
                                              in _port_options(trp, binding).items() if value}}
        lrp = plan.insert(NB, LRP, name=trp.name, mac=trp.mac, networks=sorted(trp.networks),
                          options=options)
        plan.addvalue(NB, LR, mirror.uuid, "ports", lrp)

    @staticmethod
    def _sync_port(plan: Plan, trp: Any, lrp: Any, binding: Any) -> None:
        for key, value in _port_options(trp, binding).items():
            if not value:
                if key in lrp.options:
                    plan.delkey(NB, LRP, lrp.uuid, "options", key)
            elif lrp.options.get(key) != value:
                plan.setkey(NB, LRP, lrp.uuid, "options", key, value)
        if lrp.mac != trp.mac:
            plan.set(NB, LRP, lrp.uuid, mac=trp.mac)
        if sorted(lrp.networks) != sorted(trp.networks):
            plan.set(NB, LRP, lrp.uuid, networks=sorted(trp.networks))


def _port_options(trp: Any, binding: Any) -> dict[str, str]:
    """The NB port's options from the IC NB port and its binding ("": none): the chassis
    it is bound to, and the binding's key (that of a binding this plan inserts comes
    next time, so it is left as it is then)."""
    options = {REQUESTED_CHASSIS: trp.chassis}
    if not isinstance(binding, NewRow):
        options[REQUESTED_KEY] = str(binding.tunnel_key)
    return options
