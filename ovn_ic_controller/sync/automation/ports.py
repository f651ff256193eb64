"""This AZ's ports on the transit switches: LRP ``<az>-<ts>``, LSP ``<ts>-<az>``, gateways.

Rows are recognised as ours by OWNER_KEY plus TS_KEY (the switch they serve),
never by name, so an AZ name containing ``-`` is no problem and a renamed AZ
or a new ``cluster-router`` moves and renames the existing rows in place: they
keep their UUIDs, link address and MAC.  Every write is a difference between
what is wanted and what is there.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ... import logs
from ...constants import GC, IC_SB, LR, LRP, LS, LSP, NB, OWNER_KEY, ROUTER_PORT, TS_KEY
from ...db.plan import Plan
from ..base import Context
from ..common import LogOnce, mirror_switches
from ..prefixes import parse_port_addresses
from .link_addresses import Network, Occupant, choose, link_mac

log = logs.get("sync.automation")


def _by_uuid(rows: Iterable[Any]) -> list[Any]:
    return sorted(rows, key=lambda row: str(row.uuid))


def interface_addresses(networks: Iterable[str]) -> list[ipaddress.IPv4Interface
                                                         | ipaddress.IPv6Interface]:
    """LRP ``networks`` entries that parse, as interfaces (address plus prefix)."""
    parsed = []
    for network in networks:
        try:
            parsed.append(ipaddress.ip_interface(network))
        except ValueError:
            continue
    return parsed


def gateway_rows(lrp_name: str, chassis_names: list[str]) -> list[tuple[str, str, int]]:
    """(name, chassis, priority) of each Gateway_Chassis: 100 for the first, then 99, …"""
    return [(f"{lrp_name}-{chassis}", chassis, max(100 - position, 0))
            for position, chassis in enumerate(chassis_names)]


class LinkPortSnapshot:
    """Lookups over the local NB and the IC SB for the link ports, built once per pass."""

    def __init__(self, ctx: Context) -> None:
        self.az, self.az_uuid = ctx.az_name, ctx.az.uuid
        self.lrp_names = {lrp.name: lrp for lrp in ctx.rows(NB, LRP)}
        self.lsp_names = {lsp.name: lsp for lsp in ctx.rows(NB, LSP)}
        self.gc_names = {gc.name: gc for gc in ctx.rows(NB, GC)}
        self.mirrors = mirror_switches(ctx)
        self.bindings: dict[str, list[Any]] = defaultdict(list)
        for pb in ctx.rows(IC_SB, "Port_Binding"):
            self.bindings[pb.transit_switch].append(pb)
        self.owner_of: dict[Any, Any] = {}  # LRP uuid -> the router holding it
        self.our_lrps: dict[str, list[Any]] = defaultdict(list)
        for lr in _by_uuid(ctx.rows(NB, LR)):
            for lrp in lr.ports:
                self.owner_of[lrp.uuid] = lr
                if OWNER_KEY in lrp.external_ids and TS_KEY in lrp.external_ids:
                    self.our_lrps[lrp.external_ids[TS_KEY]].append(lrp)
        self.our_lsps: dict[str, list[Any]] = defaultdict(list)
        for ts, mirror in self.mirrors.items():
            self.our_lsps[ts] = _by_uuid(lsp for lsp in mirror.ports
                                         if OWNER_KEY in lsp.external_ids)

    def occupants(self, ts: str, own_lsp: Any | None) -> list[Occupant]:
        """Addresses other ports on ``ts`` use: other AZs' bindings and local ports but ours."""
        found: list[Occupant] = []
        zone_of = {pb.logical_port: pb.availability_zone.name for pb in self.bindings[ts]}
        for pb in self.bindings[ts]:
            if pb.availability_zone.uuid != self.az_uuid:
                found += _port_occupants(pb.address, pb.availability_zone.name, ts)
        mirror = self.mirrors[ts]
        for lsp in mirror.ports:
            if own_lsp is not None and lsp.uuid == own_lsp.uuid:
                continue
            if lsp.type == "router":
                peer = self.lrp_names.get(lsp.options.get(ROUTER_PORT, ""))
                if peer is not None:
                    found += [Occupant(interface.ip, "", False)
                              for interface in interface_addresses(peer.networks)]
                continue
            for entry in lsp.addresses:
                found += _port_occupants(entry, zone_of.get(lsp.name, ""), ts)
        return found


def _port_occupants(text: str, az: str, ts: str) -> list[Occupant]:
    parsed = parse_port_addresses(text)
    if parsed is None:
        return []
    automated = bool(az) and parsed.mac == link_mac(az, ts)
    return [Occupant(prefix.address, az, automated) for prefix in parsed.ipv4 + parsed.ipv6]


class PortPlanner:
    """Plans this AZ's LRP, LSP and Gateway_Chassis rows, one transit switch at a time."""

    def __init__(self, topology: LinkPortSnapshot, plan: Plan, findings: LogOnce) -> None:
        self.topo, self.plan, self.findings = topology, plan, findings
        self.az = topology.az
        self.marks = {OWNER_KEY: self.az}

    # ------------------------------------------------------------ one switch
    def ensure(self, ts: str, networks: list[Network], gateways: list[str],
               router: Any) -> None:
        """Make the port pair on ``ts`` exist on ``router``, with its link addresses and
        gateways."""
        topo = self.topo
        lrp = self._keep_one(topo.our_lrps.get(ts, []), self._remove_lrp)
        mirror = topo.mirrors.get(ts)
        if mirror is None:
            log.debug("automation.waiting_for_switch", transit_switch=ts)
            return
        lsp = self._keep_one(topo.our_lsps.get(ts, []),
                             lambda row: self._remove_lsp(mirror, row))
        lrp_name, lsp_name = f"{self.az}-{ts}", f"{ts}-{self.az}"
        for table, names, name, ours in ((LRP, topo.lrp_names, lrp_name, lrp),
                                         (LSP, topo.lsp_names, lsp_name, lsp)):
            if self._taken(names, name, ours):
                self.findings("warning", "automation.name_taken", table=table, name=name,
                              row=str(names[name].uuid), transit_switch=ts,
                              reason="a row this daemon did not create has the name; "
                                     "no port on this switch until it is gone")
                return
        addresses = self._link_addresses(ts, networks, lrp, lsp)
        if addresses is None:
            return
        if lrp is None:
            self._create_lrp(ts, lrp_name, addresses, gateways, router)
        else:
            self._update_lrp(ts, lrp, lrp_name, addresses, gateways, router)
        self._ensure_lsp(ts, mirror, lsp, lsp_name, lrp_name)

    def _link_addresses(self, ts: str, networks: list[Network], lrp: Any | None,
                        lsp: Any | None) -> list[str] | None:
        """``networks`` for the LRP: kept if usable and uncontested, else freshly chosen."""
        current = interface_addresses(lrp.networks) if lrp is not None else []
        occupants = self.topo.occupants(ts, lsp)
        chosen = []
        for network in networks:
            mine = next((interface.ip for interface in current if interface.ip in network), None)
            choice = choose(self.az, network, mine, occupants)
            if choice.address is None:
                self.findings("warning", "automation.subnet_full", transit_switch=ts,
                              subnet=str(network))
                return None
            if choice.moved_from is not None:
                log.warning("automation.address_moved", transit_switch=ts,
                            old=str(choice.moved_from), new=str(choice.address),
                            shared_with=",".join(az or "a local port"
                                                 for az in choice.yielded_to),
                            reason="another port holds this address and the collision "
                                   "rule says this AZ moves")
            elif mine is not None and any(o.address == mine for o in occupants):
                self.findings("info", "automation.address_shared", transit_switch=ts,
                              address=str(mine),
                              reason="another AZ holds this address too; the collision "
                                     "rule says it moves, this AZ keeps it")
            chosen.append(f"{choice.address}/{network.prefixlen}")
        return chosen

    # ------------------------------------------------------------ LRP
    def _create_lrp(self, ts: str, name: str, networks: list[str], gateways: list[str],
                    router: Any) -> None:
        mac = link_mac(self.az, ts)
        chassis_rows = [self.plan.insert(NB, GC, name=gc_name, chassis_name=chassis,
                                         priority=priority, external_ids=self.marks)
                        for gc_name, chassis, priority in gateway_rows(name, gateways)
                        if not self._gateway_name_taken(gc_name, None)]
        row = self.plan.insert(NB, LRP, name=name, mac=mac, networks=networks,
                               gateway_chassis=chassis_rows,
                               external_ids={**self.marks, TS_KEY: ts})
        self.plan.addvalue(NB, LR, router.uuid, "ports", row)
        log.info("automation.port_created", transit_switch=ts, router_port=name, mac=mac,
                 networks=networks, gateways=gateways)

    def _update_lrp(self, ts: str, lrp: Any, name: str, networks: list[str],
                    gateways: list[str], router: Any) -> None:
        holder = self.topo.owner_of[lrp.uuid]
        if holder.uuid != router.uuid:
            log.info("automation.port_moved", router_port=lrp.name, old_router=holder.name,
                     new_router=router.name)
            self.plan.delvalue(NB, LR, holder.uuid, "ports", lrp.uuid)
            self.plan.addvalue(NB, LR, router.uuid, "ports", lrp.uuid)
        if lrp.name != name:
            log.info("automation.port_renamed", old=lrp.name, new=name)
            self.plan.set(NB, LRP, lrp.uuid, name=name)
        if sorted(lrp.networks) != sorted(networks):
            self.plan.set(NB, LRP, lrp.uuid, networks=networks)
        if lrp.external_ids.get(OWNER_KEY) != self.az:
            self.plan.setkey(NB, LRP, lrp.uuid, "external_ids", OWNER_KEY, self.az)
        self._reconcile_gateways(lrp, name, gateways)

    def _reconcile_gateways(self, lrp: Any, lrp_name: str, gateways: list[str]) -> None:
        """Insert, delete or re-prioritise only the Gateway_Chassis rows that differ."""
        existing: dict[str, Any] = {}
        for gc in _by_uuid(lrp.gateway_chassis):
            if gc.chassis_name in existing:
                self.plan.delvalue(NB, LRP, lrp.uuid, "gateway_chassis", gc.uuid)
            else:
                existing[gc.chassis_name] = gc
        for gc_name, chassis, priority in gateway_rows(lrp_name, gateways):
            gc = existing.pop(chassis, None)
            if gc is None:
                if not self._gateway_name_taken(gc_name, None):
                    row = self.plan.insert(NB, GC, name=gc_name, chassis_name=chassis,
                                           priority=priority, external_ids=self.marks)
                    self.plan.addvalue(NB, LRP, lrp.uuid, "gateway_chassis", row)
                continue
            if gc.name != gc_name and not self._gateway_name_taken(gc_name, gc):
                self.plan.set(NB, GC, gc.uuid, name=gc_name)
            if gc.priority != priority:
                self.plan.set(NB, GC, gc.uuid, priority=priority)
        for gc in existing.values():
            self.plan.delvalue(NB, LRP, lrp.uuid, "gateway_chassis", gc.uuid)

    def _gateway_name_taken(self, name: str, ours: Any | None) -> bool:
        if not self._taken(self.topo.gc_names, name, ours):
            return False
        self.findings("warning", "automation.name_taken", table=GC, name=name,
                      row=str(self.topo.gc_names[name].uuid),
                      reason="a row this daemon did not create has the name; "
                             "this gateway is left out")
        return True

    # ------------------------------------------------------------ LSP
    def _ensure_lsp(self, ts: str, mirror: Any, lsp: Any | None, name: str,
                    lrp_name: str) -> None:
        if lsp is None:
            row = self.plan.insert(NB, LSP, name=name, type="router", addresses=["router"],
                                   options={ROUTER_PORT: lrp_name},
                                   external_ids={**self.marks, TS_KEY: ts})
            self.plan.addvalue(NB, LS, mirror.uuid, "ports", row)
            return
        if lsp.name != name:
            self.plan.set(NB, LSP, lsp.uuid, name=name)
        if lsp.type != "router":
            self.plan.set(NB, LSP, lsp.uuid, type="router")
        if list(lsp.addresses) != ["router"]:
            self.plan.set(NB, LSP, lsp.uuid, addresses=["router"])
        if lsp.options.get(ROUTER_PORT) != lrp_name:
            self.plan.setkey(NB, LSP, lsp.uuid, "options", ROUTER_PORT, lrp_name)
        for key, value in ((OWNER_KEY, self.az), (TS_KEY, ts)):
            if lsp.external_ids.get(key) != value:
                self.plan.setkey(NB, LSP, lsp.uuid, "external_ids", key, value)

    # ------------------------------------------------------------ removal
    def remove_except(self, wanted: set[str]) -> None:
        """Remove our ports on switches this AZ no longer joins (lowered ts-num)."""
        for ts, lrps in self.topo.our_lrps.items():
            if ts not in wanted:
                for lrp in lrps:
                    log.info("automation.port_removed", transit_switch=ts, router_port=lrp.name)
                    self._remove_lrp(lrp)
        for ts, lsps in self.topo.our_lsps.items():
            if ts not in wanted:
                for lsp in lsps:
                    self._remove_lsp(self.topo.mirrors[ts], lsp)

    def _remove_lrp(self, lrp: Any) -> None:
        self.plan.delvalue(NB, LR, self.topo.owner_of[lrp.uuid].uuid, "ports", lrp.uuid)

    def _remove_lsp(self, mirror: Any, lsp: Any) -> None:
        self.plan.delvalue(NB, LS, mirror.uuid, "ports", lsp.uuid)

    @staticmethod
    def _keep_one(rows: list[Any], remove) -> Any | None:
        """The first row (by UUID); duplicates, which only a crash could leave, are removed."""
        for extra in rows[1:]:
            remove(extra)
        return rows[0] if rows else None

    @staticmethod
    def _taken(names: dict[str, Any], name: str, ours: Any | None) -> bool:
        row = names.get(name)
        return row is not None and (ours is None or row.uuid != ours.uuid)
