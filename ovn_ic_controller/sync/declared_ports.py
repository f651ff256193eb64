"""IC NB Transit_Switch_Port rows (26.09): transit-switch ports declared once for every AZ.

As in ovn-ic 26.09 (docs/behaviour.md §5), once its IC SB binding exists a
declared port becomes an LSP on the transit switch's mirror, marked
``options:interconn-tsp``: of the declared type where its chassis is this AZ's
(an SB chassis that is not another AZ's gateway) or where it has no chassis,
``type=remote`` elsewhere; with the declared addresses, ``requested-chassis``,
the binding's tunnel key and the declared peer (``options:router-port`` of a
router port, the ``peer`` column otherwise).  The binding, which says the first
address and the chassis as gateway, is published by the AZ whose chassis the
port names, and that of a chassis-less port by the writer of the IC SB's global
rows (db/ic_sb_lock.py), in its own AZ.  A marked LSP without a declared port
with a binding is deleted, and so is this AZ's binding of a port whose chassis
is elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import logs
from ..constants import (
    IC_SB,
    INTERCONN_TSP,
    LSP,
    NB,
    REQUESTED_CHASSIS,
    REQUESTED_KEY,
    ROUTER_PORT,
    TS_PORT,
)
from ..db.plan import Plan
from ..db.values import column, parse_int
from .common import is_remote_chassis

log = logs.get("sync.ports")


class DeclaredPorts:
    """The declared ports of one transit switch, against its bindings and its mirror's LSPs.

    ``allocate_key`` gives a free tunnel key on the switch (None when there is
    none); ``writer`` is the database the global rows are written through, or None
    while another AZ writes them; ``peer_column``: the NB has ``Logical_Switch_Port.peer``.
    """

    def __init__(self, plan: Plan, snap: Any, az: Any, ts: Any, switch: Any,
                 bindings: Iterable[Any], allocate_key: Callable[[], int | None],
                 writer: str | None, peer_column: bool) -> None:
        self.plan, self.snap, self.az, self.ts, self.switch = plan, snap, az, ts, switch
        self.allocate_key, self.writer, self.peer_column = allocate_key, writer, peer_column
        self.ports = list(column(ts, "ports", ()))
        self.names = {port.name for port in self.ports}
        bindings = [pb for pb in bindings if pb.logical_port in self.names]
        self.local = {pb.logical_port: pb for pb in bindings
                      if pb.availability_zone.uuid == az.uuid}
        self.remote = {pb.logical_port: pb for pb in bindings
                       if pb.availability_zone.uuid != az.uuid}

    def run(self) -> None:
        lsps = {lsp.name: lsp for lsp in self.switch.ports if INTERCONN_TSP in lsp.options}
        for port in self.ports:
            if not port.chassis:
                binding = (self.local.pop(port.name, None) or self.remote.pop(port.name, None)
                           or self.snap.global_bindings.get((self.ts.name, port.name)))
                if self.writer is not None:
                    binding = self.publish(port, binding, self.writer)
                local = True
            elif self.is_local_chassis(port.chassis):
                binding = self.publish(port, self.local.pop(port.name, None), IC_SB)
                local = True
            else:
                binding, local = self.remote.pop(port.name, None), False
            if binding is None:
                continue  # its LSP comes with its binding
            lsp = lsps.pop(port.name, None)
            if lsp is None:
                self.create_lsp(port, binding, local)
            else:
                self.sync_lsp(lsp, port, binding, local)
        for lsp in lsps.values():
            log.info("port.declared_removed", port=lsp.name, transit_switch=self.switch.name)
            self.plan.delvalue(NB, "Logical_Switch", self.switch.uuid, "ports", lsp.uuid)
        for pb in self.local.values():
            log.info("port.withdrawn", port=pb.logical_port, transit_switch=pb.transit_switch,
                     reason="its declared port's chassis is not in this AZ")
            self.plan.delete(IC_SB, "Port_Binding", pb.uuid)

    def is_local_chassis(self, name: str) -> bool:
        chassis = self.snap.chassis.get(name)
        return chassis is not None and not is_remote_chassis(chassis)

    # ------------------------------------------------------------- bindings
    def publish(self, port: Any, binding: Any | None, db: str) -> Any | None:
        """Create or refresh the binding of ``port`` through ``db``; the binding once it
        exists (a new one: None until it is committed)."""
        address = port.addresses[0] if port.addresses else ""
        if binding is not None:
            changes = {name: value for name, value in
                       (("address", address), ("gateway", port.chassis))
                       if getattr(binding, name) != value}
            if changes:
                self.plan.set(db, "Port_Binding", binding.uuid, **changes)
            return binding
        taken = self.snap.names.get(port.name)
        if taken is not None:
            if taken.availability_zone.uuid != self.az.uuid:
                log.warning("port.name_taken", port=port.name, transit_switch=self.ts.name,
                            owner=taken.availability_zone.name, row=str(taken.uuid))
            return None
        key = self.allocate_key()
        if key is None:
            log.warning("port.keys_exhausted", port=port.name, transit_switch=self.ts.name)
            return None
        log.info("port.declared_published", port=port.name, transit_switch=self.ts.name,
                 tunnel_key=key)
        self.plan.insert(db, "Port_Binding", availability_zone=self.az.uuid,
                         transit_switch=self.ts.name, logical_port=port.name, tunnel_key=key,
                         address=address, gateway=port.chassis, type=TS_PORT,
                         nb_ic_uuid=self.ts.uuid)
        return None

    # ----------------------------------------------------------------- LSPs
    def wanted(self, port: Any, binding: Any, local: bool) -> tuple[dict, dict]:
        """The LSP's columns, and its options (None: absent), for ``port``."""
        router = port.type == "router"
        columns = {"type": port.type if local else "remote", "addresses": list(port.addresses)}
        if self.peer_column:
            columns["peer"] = [port.peer] if port.peer and not router else []
        options = {REQUESTED_CHASSIS: port.chassis or None,
                   REQUESTED_KEY: str(binding.tunnel_key),
                   ROUTER_PORT: (port.peer or None) if router else None}
        return columns, options

    def create_lsp(self, port: Any, binding: Any, local: bool) -> None:
        columns, options = self.wanted(port, binding, local)
        values = {name: value for name, value in columns.items() if value != []}
        values["options"] = {INTERCONN_TSP: port.name,
                             **{key: value for key, value in options.items() if value is not None}}
        clash = self.snap.nb_ports.get(port.name)
        if clash is not None:
            log.warning("port.declared_skipped", port=port.name, transit_switch=self.ts.name,
                        reason=f"a local port of type {clash.type!r} has this name")
            return
        log.info("port.declared_added", port=port.name, transit_switch=self.ts.name,
                 type=values["type"])
        lsp = self.plan.insert(NB, LSP, name=port.name, **values)
        self.plan.addvalue(NB, "Logical_Switch", self.switch.uuid, "ports", lsp)

    def sync_lsp(self, lsp: Any, port: Any, binding: Any, local: bool) -> None:
        columns, options = self.wanted(port, binding, local)
        changes = {name: value for name, value in columns.items()
                   if (lsp.type if name == "type" else list(column(lsp, name, []))) != value}
        if changes:
            self.plan.set(NB, LSP, lsp.uuid, **changes)
        for key, value in options.items():
            current = lsp.options.get(key)
            if value is None:
                if current is not None:
                    self.plan.delkey(NB, LSP, lsp.uuid, "options", key)
            elif current != value and not (key == REQUESTED_KEY
                                           and parse_int(current) == binding.tunnel_key):
                self.plan.setkey(NB, LSP, lsp.uuid, "options", key, value)
