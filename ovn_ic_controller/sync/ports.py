"""Transit-switch ports (docs/behaviour.md §5): local router ports out, other AZs' ports in.

A local ``type=router`` LSP on a transit switch is published as an IC SB
Port_Binding with a tunnel key unique on that switch, the peer router port's
address, the chassis holding its ``cr-`` port as gateway and the router's NB
UUID; the key is written back to the LSP so northd uses it.  Every other AZ's
binding becomes a local ``type=remote`` LSP, whose SB Port_Binding is bound to
the remote gateway's (mirrored) chassis.

Departures from 23.03.1: a router LSP without ``options:router-port`` is not
published at all (ovn-ic churns on it, Q11); a binding whose transit switch
vanished is just deleted (Q12); a published port whose SB binding northd has
not (re)created yet keeps its row rather than being withdrawn; rows that would
fail a whole transaction (a name another port has, a malformed peer address)
are skipped with a warning; a transit switch's NB switch is its mirror by the
one rule of ``common.transit_switch_mirrors`` (ovn-ic's port sync also wants
it named like the transit switch, so it ignores a lone mirror of another name
that its own transit-switch sync keeps).  As in ovn-ic 23.09+, a remote LSP with
``options:requested-chassis`` is left for northd to bind.

Spine-leaf (25.03, on IC databases of 25.03 or later): a ``type=switch`` LSP on a
transit switch is published too, with address ``unknown`` (a switch stands for
every address behind it) and the chassis that claimed it as gateway; a peer's
binding saying ``unknown`` becomes a remote LSP with that address.  The ports
declared in the IC NB (26.09, ``Transit_Switch_Port``) are declared_ports.py's.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid as uuidlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .. import logs
from ..constants import (
    IC_NB,
    IC_SB,
    IC_SB_LOCKED,
    INTERCONN_TSP,
    LSP,
    NB,
    REQUESTED_CHASSIS,
    REQUESTED_KEY,
    ROUTER_ID,
    ROUTER_PORT,
    SB,
    TS_PORT,
)
from ..db.plan import Plan
from ..db.values import column, optional_ref, parse_int, parse_uuid
from .base import Concern, Context, columns
from .common import binding_type, is_switch_binding, mirror_switches
from .declared_ports import DeclaredPorts
from .prefixes import parse_port_addresses
from .tunnel_keys import TunnelKeyAllocator

log = logs.get("sync.ports")

PORT_KEY_MIN, PORT_KEY_MAX = 1, 2**15 - 1
#: The address a spine-leaf switch port publishes, and a remote LSP of one gets.
UNKNOWN = "unknown"
_BINDING = ("availability_zone transit_switch logical_port tunnel_key address gateway "
            "external_ids type nb_ic_uuid")


@dataclasses.dataclass(frozen=True)
class Export:
    """What a local router port publishes in its IC SB binding."""

    address: str
    gateway: str
    router_id: uuidlib.UUID | None  # None: northd has not said which router (yet)


class Snapshot:
    """Name lookups over the replicas, built once per computation."""

    def __init__(self, ctx: Context) -> None:
        self.sb_ports = {pb.logical_port: pb for pb in ctx.rows(SB, "Port_Binding")}
        self.chassis = {chassis.name: chassis for chassis in ctx.rows(SB, "Chassis")}
        self.nb_ports = {lsp.name: lsp for lsp in ctx.rows(NB, LSP)}
        # Every binding by name (names are unique across the IC SB), and those of
        # transit-switch ports: a transit router's port is not this concern's.
        self.names = {pb.logical_port: pb for pb in ctx.rows(IC_SB, "Port_Binding")}
        self.bindings = {name: pb for name, pb in self.names.items() if is_switch_binding(pb)}
        self.bindings_by_ts: dict[str, list[Any]] = defaultdict(list)
        for pb in self.bindings.values():
            self.bindings_by_ts[pb.transit_switch].append(pb)
        self.switches = mirror_switches(ctx)
        self.transit_lsps = {lsp.uuid for ls in self.switches.values() for lsp in ls.ports}
        self._ctx = ctx

    @functools.cached_property
    def global_bindings(self) -> dict[tuple[str, str], Any]:
        """The bindings by (switch, port) where the global rows are written (26.09's
        chassis-less ports): looked up only for a port the IC SB replica has no binding of."""
        return {(pb.transit_switch, pb.logical_port): pb
                for pb in self._ctx.global_rows("Port_Binding")}

    def is_remote_transit_port(self, lsp: Any) -> bool:
        return lsp.type == "remote" and lsp.uuid in self.transit_lsps

    def export(self, sb_port: Any) -> Export:
        """Address, gateway and router of the router port peering with ``sb_port``."""
        peer_name = sb_port.options.get("peer")
        peer = self.sb_ports.get(peer_name) if peer_name else None
        if peer is None:
            return Export("", "", None)
        redirect = self.sb_ports.get(f"cr-{peer.logical_port}")
        gateway = optional_ref(redirect.chassis) if redirect is not None else None
        router_id = datapath_router(peer.datapath)
        return Export(peer.mac[0] if peer.mac else "",
                      gateway.name if gateway is not None else "", router_id)

    @staticmethod
    def export_switch(sb_port: Any) -> Export:
        """A spine-leaf switch port: every address behind it, where its chassis claimed it."""
        chassis = optional_ref(sb_port.chassis)
        return Export(UNKNOWN, chassis.name if chassis is not None else "", None)


def datapath_router(datapath: Any) -> uuidlib.UUID | None:
    """The NB UUID of a router's SB datapath: ``nb_uuid`` where northd writes it with a
    ``type`` (25.09 on), as ovn-ic 25.09 reads it; else ``external_ids:logical-router``."""
    nb_uuid = optional_ref(column(datapath, "nb_uuid", []))
    if nb_uuid is not None and optional_ref(column(datapath, "type", [])):
        return nb_uuid
    return parse_uuid(datapath.external_ids.get("logical-router"))


def remote_addresses(binding: Any) -> list[str] | None:
    """The LSP addresses for a peer's binding, or None when its address is malformed."""
    if not binding.address:
        return []
    if binding.address != UNKNOWN and parse_port_addresses(binding.address) is None:
        log.warning("port.bad_address", row=str(binding.uuid), port=binding.logical_port,
                    address=binding.address, availability_zone=binding.availability_zone.name,
                    reason="not 'MAC [IP[/len]]...': addresses left as they are")
        return None
    return [binding.address]


class TransitSwitchPorts(Concern):
    name = "ports"
    reads = {
        NB: columns(Logical_Switch="name ports other_config",
                    Logical_Switch_Port="name type options addresses peer"),
        SB: columns(Port_Binding="logical_port options mac chassis datapath",
                    Datapath_Binding="external_ids nb_uuid type", Chassis="name other_config"),
        IC_NB: columns(Transit_Switch="name ports",
                       Transit_Switch_Port="name type chassis peer addresses"),
        IC_SB: columns(Availability_Zone="name",
                       Port_Binding="logical_port transit_switch availability_zone tunnel_key"
                                    " address gateway external_ids type nb_ic_uuid"),
    }
    writes = {
        NB: columns(Logical_Switch="ports",
                    Logical_Switch_Port="name type up addresses options peer"),
        SB: columns(Port_Binding="chassis"),
        IC_SB: columns(Port_Binding=_BINDING),
        IC_SB_LOCKED: columns(Port_Binding=_BINDING),
    }

    def __init__(self) -> None:
        # One hint for every transit switch, as in ovn-ic: keys keep moving forward.
        self.port_keys = TunnelKeyAllocator("transit port", PORT_KEY_MIN, PORT_KEY_MAX, 0)

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        snap = Snapshot(ctx)
        own = ctx.az.uuid
        unclaimed = {name: pb for name, pb in snap.bindings.items()
                     if pb.availability_zone.uuid == own}
        for ts in ctx.rows(IC_NB, "Transit_Switch"):
            switch = snap.switches.get(ts.name)
            if switch is None:
                log.debug("port.switch_missing", transit_switch=ts.name)
                continue
            on_switch = snap.bindings_by_ts.get(ts.name, ())
            for pb in on_switch:
                unclaimed.pop(pb.logical_port, None)
            _SwitchPass(self.port_keys, plan, snap, ctx, ts, switch, on_switch).run()
        for pb in unclaimed.values():
            log.info("port.withdrawn", port=pb.logical_port, transit_switch=pb.transit_switch,
                     reason="transit switch gone from IC NB or local NB")
            plan.delete(IC_SB, "Port_Binding", pb.uuid)
        return plan


class _SwitchPass:
    """One transit switch: match its LSPs with the IC SB bindings on it."""

    def __init__(self, keys: TunnelKeyAllocator, plan: Plan, snap: Snapshot, ctx: Context,
                 ts: Any, switch: Any, bindings: Iterable[Any]) -> None:
        self.keys, self.plan, self.snap, self.az = keys, plan, snap, ctx.az
        self.ts, self.switch = ts, switch
        self.typed = ctx.has_column(IC_SB, "Port_Binding", "nb_ic_uuid")
        self.spine_leaf = ctx.has_column(IC_SB, "SSL", "ssl_ciphersuites")
        bindings = list(bindings)
        self.used_keys = {pb.tunnel_key for pb in bindings}
        # The IC NB Transit_Switch_Port rows (26.09), their bindings and LSPs, are
        # handled apart; the rest are the LSPs' that users add to the switch.
        self.declared = DeclaredPorts(
            plan, snap, ctx.az, ts, switch, bindings, self.allocate_key, ctx.global_writer,
            peer_column=ctx.has_column(NB, LSP, "peer"))
        bindings = [pb for pb in bindings if pb.logical_port not in self.declared.names]
        self.local = {pb.logical_port: pb for pb in bindings
                      if pb.availability_zone.uuid == self.az.uuid}
        self.remote = {pb.logical_port: pb for pb in bindings
                       if pb.availability_zone.uuid != self.az.uuid}

    def allocate_key(self) -> int | None:
        return self.keys.allocate(self.used_keys)  # also marks it used

    def run(self) -> None:
        for lsp in self.switch.ports:
            if INTERCONN_TSP in lsp.options:
                continue  # a declared port's
            if lsp.type == "router":
                self.export_router_port(lsp)
            elif lsp.type == "switch" and self.spine_leaf:
                self.export_local_port(lsp, self.snap.export_switch)
            elif lsp.type == "remote":
                self.mirror_remote_port(lsp)
            else:
                log.debug("port.ignored", port=lsp.name, transit_switch=self.switch.name,
                          type=lsp.type)
        for pb in self.local.values():
            log.info("port.withdrawn", port=pb.logical_port, transit_switch=pb.transit_switch,
                     reason="no router or switch port of that name on the switch")
            self.plan.delete(IC_SB, "Port_Binding", pb.uuid)
        for pb in self.remote.values():
            self.create_remote_port(pb)
        self.declared.run()

    # ----------------------------------------------------------- local ports
    def export_router_port(self, lsp: Any) -> None:
        if not lsp.options.get(ROUTER_PORT):
            # Q11: such a port has no address to offer; ovn-ic 23.03 churns on it.
            log.debug("port.not_exported", port=lsp.name, reason="no options:router-port")
            return
        self.export_local_port(lsp, self.export_router)

    def export_router(self, sb_port: Any) -> Export:
        export = self.snap.export(sb_port)
        if export.router_id is None:
            name = sb_port.logical_port
            log.warning("port.router_unknown", port=name,
                        message=f"Can't get router uuid for transit switch port {name}.")
        return export

    def export_local_port(self, lsp: Any, export_of: Callable[[Any], Export]) -> None:
        """Publish or refresh the binding of ``lsp``, saying what ``export_of`` finds in its
        SB binding."""
        published = self.local.pop(lsp.name, None)
        sb_port = self.snap.sb_ports.get(lsp.name)
        if sb_port is None:
            return  # northd has not (re)created it yet: keep what is published
        export = export_of(sb_port)
        if published is None:
            self.publish(lsp, export)
        else:
            self.refresh(published, lsp, export)

    def publish(self, lsp: Any, export: Export) -> None:
        taken = self.snap.names.get(lsp.name)
        if taken is not None:
            # Names are unique across IC SB.  Ours on another switch is withdrawn
            # by this plan and re-published next time; another's is a clash.
            if taken.availability_zone.uuid != self.az.uuid or not is_switch_binding(taken):
                log.warning("port.name_taken", port=lsp.name, transit_switch=self.switch.name,
                            owner=taken.availability_zone.name, row=str(taken.uuid))
            return
        key = self.allocate_key()
        if key is None:
            log.warning("port.keys_exhausted", port=lsp.name, transit_switch=self.switch.name)
            return
        values: dict[str, Any] = {"availability_zone": self.az.uuid,
                                  "transit_switch": self.switch.name,
                                  "logical_port": lsp.name, "tunnel_key": key}
        if export.address:
            values["address"] = export.address
        if export.gateway:
            values["gateway"] = export.gateway
        if export.router_id is not None:
            values["external_ids"] = {ROUTER_ID: str(export.router_id)}
        if self.typed:
            values.update(type=TS_PORT, nb_ic_uuid=self.ts.uuid)
        log.info("port.published", port=lsp.name, transit_switch=self.switch.name,
                 tunnel_key=key)
        self.plan.insert(IC_SB, "Port_Binding", **values)

    def refresh(self, published: Any, lsp: Any, export: Export) -> None:
        changes = {column: getattr(export, column) for column in ("address", "gateway")
                   if getattr(published, column) != getattr(export, column)}
        if changes:
            self.plan.set(IC_SB, "Port_Binding", published.uuid, **changes)
        if (export.router_id is not None
                and parse_uuid(published.external_ids.get(ROUTER_ID)) != export.router_id):
            self.plan.setkey(IC_SB, "Port_Binding", published.uuid, "external_ids",
                             ROUTER_ID, str(export.router_id))
        if self.typed:
            if not binding_type(published):
                self.plan.set(IC_SB, "Port_Binding", published.uuid, type=TS_PORT)
            if optional_ref(column(published, "nb_ic_uuid", [])) != self.ts.uuid:
                self.plan.set(IC_SB, "Port_Binding", published.uuid, nb_ic_uuid=self.ts.uuid)
        self.request_key(lsp, published.tunnel_key)

    def request_key(self, lsp: Any, key: int) -> None:
        """Have northd use the IC SB key for this port."""
        if parse_int(lsp.options.get(REQUESTED_KEY)) != key:
            self.plan.setkey(NB, LSP, lsp.uuid, "options", REQUESTED_KEY, str(key))

    # ---------------------------------------------------------- remote ports
    def mirror_remote_port(self, lsp: Any) -> None:
        binding = self.remote.pop(lsp.name, None)
        if binding is None:
            log.info("port.remote_removed", port=lsp.name, transit_switch=self.switch.name)
            self.plan.delvalue(NB, "Logical_Switch", self.switch.uuid, "ports", lsp.uuid)
            return
        addresses = remote_addresses(binding)
        if addresses is not None and list(lsp.addresses) != addresses:
            self.plan.set(NB, LSP, lsp.uuid, addresses=addresses)
        self.request_key(lsp, binding.tunnel_key)
        self.bind_to_gateway(lsp, binding)

    def bind_to_gateway(self, lsp: Any, binding: Any) -> None:
        """Bind the remote port's SB binding to the chassis mirroring its gateway."""
        if REQUESTED_CHASSIS in lsp.options:
            return  # the CMS asked northd to bind it (ovn-ic 23.09+)
        sb_port = self.snap.sb_ports.get(lsp.name)
        if sb_port is None:
            return
        bound = optional_ref(sb_port.chassis)
        if not binding.gateway:
            if bound is not None:
                self.plan.set(SB, "Port_Binding", sb_port.uuid, chassis=[])
            return
        if bound is not None and bound.name == binding.gateway:
            return
        chassis = self.snap.chassis.get(binding.gateway)
        if chassis is None:
            log.debug("port.gateway_unknown", port=lsp.name, gateway=binding.gateway,
                      reason="no such chassis in SB (yet): left unbound")
            return
        self.plan.set(SB, "Port_Binding", sb_port.uuid, chassis=[chassis.uuid])

    def create_remote_port(self, binding: Any) -> None:
        name = binding.logical_port
        clash = self.snap.nb_ports.get(name)
        if clash is not None and self.snap.is_remote_transit_port(clash):
            return  # it leaves another transit switch in this plan: created next time
        if not name or clash is not None:
            log.warning("port.remote_skipped", port=name, row=str(binding.uuid),
                        transit_switch=self.switch.name,
                        reason="empty name" if not name else
                        f"a local port of type {clash.type!r} has this name")
            return
        values: dict[str, Any] = {"name": name, "type": "remote", "up": [True],
                                  "options": {REQUESTED_KEY: str(binding.tunnel_key)}}
        addresses = remote_addresses(binding)
        if addresses:
            values["addresses"] = addresses
        log.info("port.remote_added", port=name, transit_switch=self.switch.name,
                 availability_zone=binding.availability_zone.name)
        port = self.plan.insert(NB, LSP, **values)
        self.plan.addvalue(NB, "Logical_Switch", self.switch.uuid, "ports", port)
