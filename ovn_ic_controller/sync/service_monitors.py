"""Service monitors: load-balancer health checks of backends in another AZ (OVN 25.09).

The behaviour, and ovn-ic's, is docs/service-monitors.md.  Active only where the
IC SB has ``Service_Monitor`` and the SB has its ``remote`` and ``ic_learned``
columns, and once northd has written ``SB_Global options:svc_monitor_mac``.

- push: an SB monitor northd made ``remote`` (its ``ip_port_mappings`` name
  another AZ, copied to ``options:az-name``) is published as an IC SB row of
  this source AZ; the target AZ's status is copied back onto it.
- pull: an IC SB row targeting this AZ, whose port has an SB Port_Binding with
  ``up`` set (as ovn-ic checks it), becomes a local monitor marked
  ``ic_learned``; its status is written back to the IC SB row.

As ovn-ic 25.09.3 does (fixing 100 % CPU in both daemons), a local monitor
northd took over (it clears ``ic_learned`` when a local load balancer checks
the same backend) only reports its status: its options and chassis are
northd's.  Rows that would fail a whole transaction or inject text into
northd's flows are refused, named in a log line and counted by reason:
``schema`` (a value the written table's schema does not allow), ``address``
(an ``ip`` or ``src_ip`` that is not an IP address), ``conflict`` (a monitor
northd owns holds the SB's unique (logical_port, ip, port, protocol)) and
``duplicate`` (another AZ's row claims that key with another source IP).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import Counter
from typing import Any

from .. import logs
from ..constants import IC_SB, SB
from ..db.plan import NewRow, Plan
from ..db.values import optional_ref
from .base import Concern, Context, columns
from .common import LogOnce, publish_gauge

log = logs.get("sync.service_monitors")

MONITOR = "Service_Monitor"
AZ_NAME = "az-name"  # SB Service_Monitor options: the AZ of a remote backend (northd's)
MONITOR_MAC = "svc_monitor_mac"  # SB_Global options: the source MAC of health checks
PUSH, PULL = "push", "pull"
REASONS = ("schema", "address", "conflict", "duplicate")

_SB_COLUMNS = ("type ip port protocol logical_port src_ip src_mac chassis_name status "
               "ic_learned remote options")
_IC_COLUMNS = ("type ip port protocol logical_port src_ip src_mac status "
               "target_availability_zone source_availability_zone options")


@dataclasses.dataclass(frozen=True)
class Monitor:
    """What tells monitors apart between the SB and the IC SB, as ovn-ic compares them."""

    logical_port: str
    ip: str
    port: int
    protocol: str | None
    src_ip: str
    type: str | None  # None too where either schema lacks the column (before 26.03)

    @classmethod
    def of(cls, row: Any, typed: bool) -> Monitor:
        return cls(row.logical_port, row.ip, row.port, optional_ref(row.protocol), row.src_ip,
                   optional_ref(row.type) if typed else None)

    @property
    def index(self) -> tuple[str, str, int, str | None]:
        """The SB table's unique index: two local monitors never share it."""
        return self.logical_port, self.ip, self.port, self.protocol


@dataclasses.dataclass(frozen=True)
class Refusal:
    direction: str
    reason: str
    row: str
    message: str


def is_active(ctx: Context) -> bool:
    return (ctx.has_column(IC_SB, MONITOR, "target_availability_zone")
            and ctx.has_column(SB, MONITOR, "ic_learned")
            and ctx.has_column(SB, MONITOR, "remote"))


class ServiceMonitors(Concern):
    name = "service_monitors"
    reads = {SB: columns(SB_Global="options", Service_Monitor=_SB_COLUMNS,
                         Port_Binding="logical_port up chassis", Chassis="name"),
             IC_SB: columns(Service_Monitor=_IC_COLUMNS)}
    writes = {SB: columns(Service_Monitor=_SB_COLUMNS), IC_SB: columns(Service_Monitor=_IC_COLUMNS)}

    def __init__(self) -> None:
        self.refused: Counter[tuple[str, str]] = Counter()
        self._logged = LogOnce(log)
        self._published: set[tuple[str, ...]] = set()

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        refusals: list[Refusal] = []
        global_row = next(iter(ctx.rows(SB, "SB_Global")), None)
        mac = global_row.options.get(MONITOR_MAC) if global_row is not None else None
        if is_active(ctx) and mac is not None:
            sync = _Sync(ctx, plan, mac, refusals)
            sync.push()
            sync.pull()
        for refusal in refusals:
            self._logged.report((refusal.direction, refusal.reason, refusal.row), "warning",
                                "service_monitor.refused", **dataclasses.asdict(refusal))
        self._logged.settle()
        self.refused = Counter((refusal.direction, refusal.reason) for refusal in refusals)
        return plan

    def report(self, metrics: Any) -> None:
        self._published = publish_gauge(
            metrics.service_monitors_refused,
            {(direction, reason): self.refused[direction, reason]
             for direction in (PUSH, PULL) for reason in REASONS}, self._published)


class _Sync:
    """One computation: the rows of both tables, and what is planned for them."""

    def __init__(self, ctx: Context, plan: Plan, mac: str, refusals: list[Refusal]) -> None:
        self.ctx, self.plan, self.mac, self.refusals = ctx, plan, mac, refusals
        self.me = ctx.az.name
        self.typed = ctx.has_column(IC_SB, MONITOR, "type") and ctx.has_column(SB, MONITOR,
                                                                                "type")
        self.sb_rows = sorted(ctx.rows(SB, MONITOR), key=lambda row: str(row.uuid))
        self.ic_rows = sorted(ctx.rows(IC_SB, MONITOR), key=lambda row: str(row.uuid))

    def refuse(self, direction: str, reason: str, row: Any, message: str) -> None:
        self.refusals.append(Refusal(direction, reason, str(row.uuid), message))

    def values(self, db: str, monitor: Monitor, **more: Any) -> dict[str, Any]:
        """The columns of a new row of ``db`` carrying ``monitor``."""
        values = dict(ip=monitor.ip, port=monitor.port, src_ip=monitor.src_ip, src_mac=self.mac,
                      protocol=[monitor.protocol] if monitor.protocol is not None else [],
                      logical_port=monitor.logical_port, **more)
        if self.ctx.has_column(db, MONITOR, "type"):
            values["type"] = [monitor.type] if monitor.type is not None else []
        return values

    def unwritable(self, db: str, row: Any, names: tuple[str, ...]) -> str | None:
        """Why ``row``'s values of ``names`` cannot be written into ``db``, if they cannot."""
        for name in names:
            allowed = self.ctx.enum(db, MONITOR, name)
            value = optional_ref(getattr(row, name, []))
            if allowed is not None and value is not None and value not in allowed:
                return f"{name} {value!r} is not allowed by the {db} schema"
        return None

    # ------------------------------------------------------------ local → IC SB
    def push(self) -> None:
        """Publish this AZ's monitors of remote backends; copy their status back."""
        owned = {row.uuid: row for row in self.ic_rows
                 if row.source_availability_zone == self.me}
        published: dict[tuple[str, Monitor], Any] = {}
        for row in sorted(self.ic_rows, key=lambda row: row.source_availability_zone != self.me):
            published.setdefault((row.target_availability_zone, Monitor.of(row, self.typed)),
                                 row)
        for local in self.sb_rows:
            target = local.options.get(AZ_NAME)
            if not local.remote or target is None or local.ic_learned:  # pull deletes those
                continue
            monitor = Monitor.of(local, self.typed)
            why = self.unwritable(IC_SB, local, ("type", "protocol"))
            if why is not None:
                self.refuse(PUSH, "schema", local, f"monitor of {monitor.logical_port!r} "
                            f"({monitor.ip}:{monitor.port}) not published: {why}")
                continue
            row = published.get((target, monitor))
            if row is None:
                self.plan.insert(IC_SB, MONITOR, **self.values(
                    IC_SB, monitor, target_availability_zone=target,
                    source_availability_zone=self.me, options=dict(local.options)))
                log.info("service_monitor.published", logical_port=monitor.logical_port,
                         ip=monitor.ip, port=monitor.port, target_az=target)
                continue
            if local.status != row.status and not self.unwritable(SB, row, ("status",)):
                self.plan.set(SB, MONITOR, local.uuid, status=row.status)
            # ovn-ic also rewrites another source AZ's row it shares; two AZs checking one
            # backend with different options would then rewrite it in turn forever.
            if row.uuid in owned and row.options != local.options:
                self.plan.set(IC_SB, MONITOR, row.uuid, options=dict(local.options))
            owned.pop(row.uuid, None)
        for row in owned.values():
            log.info("service_monitor.withdrawn", logical_port=row.logical_port, ip=row.ip,
                     port=row.port, target_az=row.target_availability_zone)
            self.plan.delete(IC_SB, MONITOR, row.uuid)

    # ------------------------------------------------------------ IC SB → local
    def pull(self) -> None:
        """Check the backends here that other AZs balance to; write their status back."""
        local = {Monitor.of(row, self.typed).index: row for row in self.sb_rows}
        owned = {row.uuid: row for row in self.sb_rows if row.ic_learned}
        claimed: dict[tuple, tuple[Monitor, Any, Any]] = {}  # index -> monitor, SB row, IC row
        wanted = sorted((row for row in self.ic_rows if row.target_availability_zone == self.me),
                        key=lambda row: row.source_availability_zone)
        names = {row.logical_port for row in wanted}  # most AZs check none: no binding read
        ports = {port.logical_port: port for port in self.ctx.rows(SB, "Port_Binding")
                 if port.logical_port in names} if names else {}
        for row in wanted:
            port = ports.get(row.logical_port)
            if port is None or not port.up:  # ovn-ic: any value of up, even false
                continue
            monitor = Monitor.of(row, self.typed)
            if not self.acceptable(row, monitor):
                continue
            first = claimed.get(monitor.index)
            if first is not None:
                if first[0] != monitor:
                    self.refuse(PULL, "duplicate", row, (
                        f"{row.source_availability_zone!r}'s monitor of {row.logical_port!r} "
                        f"({row.ip}:{row.port}, source IP {row.src_ip}) not checked here: "
                        f"{first[2].source_availability_zone!r}'s (row {first[2].uuid}) "
                        f"checks that backend with source IP {first[0].src_ip}"))
                    continue
                self.write_back(row, first[1])
                continue
            target = local.get(monitor.index)
            if target is not None and (target.remote or Monitor.of(target, self.typed)
                                       != monitor):
                if not target.ic_learned:
                    self.refuse(PULL, "conflict", row, (
                        f"{row.source_availability_zone!r}'s monitor of {row.logical_port!r} "
                        f"({row.ip}:{row.port}) not checked here: local monitor "
                        f"{target.uuid} checks it "
                        f"{'as remote' if target.remote else 'from ' + target.src_ip}"))
                    continue
                target = None  # ours, and no row wants it as it is: replaced (deleted below)
            chassis = optional_ref(port.chassis)
            chassis_name = chassis.name if chassis is not None else None
            if target is None:
                more = dict(chassis_name=chassis_name) if chassis_name is not None else {}
                target = self.plan.insert(SB, MONITOR, **self.values(
                    SB, monitor, remote=False, ic_learned=True, options=dict(row.options),
                    **more))
                log.info("service_monitor.learned", logical_port=monitor.logical_port,
                         ip=monitor.ip, port=monitor.port,
                         source_az=row.source_availability_zone)
            elif target.ic_learned:
                if chassis_name is not None and target.chassis_name != chassis_name:
                    self.plan.set(SB, MONITOR, target.uuid, chassis_name=chassis_name)
                if target.options != row.options:
                    self.plan.set(SB, MONITOR, target.uuid, options=dict(row.options))
                owned.pop(target.uuid, None)
            claimed[monitor.index] = monitor, target, row
            self.write_back(row, target)
        for row in owned.values():
            log.info("service_monitor.unlearned", logical_port=row.logical_port, ip=row.ip,
                     port=row.port)
            self.plan.delete(SB, MONITOR, row.uuid)

    def acceptable(self, row: Any, monitor: Monitor) -> bool:
        """Whether another AZ's ``row`` can become a local monitor (refused if not)."""
        why = self.unwritable(SB, row, ("type", "protocol"))
        if why is not None:
            self.refuse(PULL, "schema", row, f"{row.source_availability_zone!r}'s monitor of "
                        f"{row.logical_port!r} not checked here: {why}")
            return False
        for name in ("ip", "src_ip"):
            try:
                ipaddress.ip_address(getattr(monitor, name))
            except ValueError:
                self.refuse(PULL, "address", row, (
                    f"{row.source_availability_zone!r}'s monitor of {row.logical_port!r} not "
                    f"checked here: {name} {getattr(monitor, name)!r} is not an IP address"))
                return False
        return True

    def write_back(self, row: Any, target: Any) -> None:
        """The local monitor's status onto the IC SB row (next time, for a new one)."""
        if not isinstance(target, NewRow) and row.status != target.status:
            self.plan.set(IC_SB, MONITOR, row.uuid, status=target.status)
