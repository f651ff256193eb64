"""Gateways: this AZ's gateway chassis → IC SB Gateway; other AZs' → remote SB chassis.

The behaviour, and ovn-ic's, is docs/behaviour.md §4.

A chassis is a gateway when ovn-controller marks it (other_config:is-interconn,
from OVS external_ids:ovn-is-interconn) or when the gw-nodes key names it.  We
never write is-interconn, which ovn-controller owns; a gw-nodes gateway
without it builds no tunnels to remote gateways, so that is reported together
with the command that fixes it.

Rows are compared with what they should say and only differences are written;
an Encap whose endpoint is unchanged keeps its row.  Data the unique indexes
would reject (a peer gateway named like a local chassis, an encap endpoint
another chassis uses) or no tunnel could use (an unknown type, an address that
is not an IP) is skipped and reported, instead of failing the transaction
forever.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable
from typing import Any

from .. import logs
from ..constants import IC_SB, IS_INTERCONN, IS_REMOTE, SB
from ..db.plan import Plan, Target
from ..db.values import is_true
from .base import Concern, Context, columns
from .common import LogOnce, is_remote_chassis, publish_gauge

log = logs.get("sync.gateways")

ENCAP_TYPES = frozenset({"geneve", "stt", "vxlan"})
FIX_IS_INTERCONN = "ovs-vsctl set open . external_ids:ovn-is-interconn=true"

GatewayProblems = dict[tuple[str, str], str]  # (chassis or gw-nodes entry, problem) -> why


@dataclasses.dataclass(frozen=True, order=True)
class Tunnel:
    """What an Encap row says, comparable between the SB and the IC SB."""

    type: str
    ip: str
    options: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, encap: Any) -> Tunnel:
        return cls(encap.type, encap.ip, tuple(sorted(encap.options.items())))

    @property
    def endpoint(self) -> tuple[str, str]:
        """What the (type, ip) unique index of both Encap tables keys on."""
        return self.type, self.ip

    def defect(self, types: frozenset[str]) -> str | None:
        if self.type not in types:
            return (f"unknown encap type {self.type!r}" if self.type not in ENCAP_TYPES else
                    f"encap type {self.type!r} is not in this database's schema")
        try:
            ipaddress.ip_address(self.ip)
        except ValueError:
            return f"encap ip {self.ip!r} is not an IP address"
        return None


def is_interconn(chassis: Any) -> bool:
    return is_true(chassis.other_config.get(IS_INTERCONN))


class Gateways(Concern):
    name = "gateways"
    _sb = columns(Chassis="name hostname other_config encaps",
                  Encap="type ip options chassis_name")
    _ic_sb = columns(Gateway="name availability_zone hostname encaps",
                     Encap="type ip options gateway_name")
    reads = {SB: _sb, IC_SB: _ic_sb}
    writes = {SB: _sb, IC_SB: _ic_sb}

    def __init__(self) -> None:
        self.problems: GatewayProblems = {}
        self._logged = LogOnce(log)
        self._published: set[tuple[str, ...]] = set()

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        problems: GatewayProblems = {}
        chassis = sorted(ctx.rows(SB, "Chassis"), key=lambda row: row.name)
        local_gws, remote_gws = {}, {}
        for gw in sorted(ctx.rows(IC_SB, "Gateway"), key=lambda row: row.name):
            mine = gw.availability_zone.uuid == ctx.az.uuid
            (local_gws if mine else remote_gws)[gw.name] = gw
        gateways = self._local_gateways(ctx, chassis, problems)
        self._export(ctx, plan, gateways, local_gws, remote_gws, problems)
        self._mirror(ctx, plan, chassis, remote_gws, problems)
        self._log_changes(problems)
        return plan

    def report(self, metrics: Any) -> None:
        self._published = publish_gauge(metrics.gateway_problems,
                                        dict.fromkeys(self.problems, 1), self._published)

    # ------------------------------------------------------------ local → IC SB
    @staticmethod
    def _local_gateways(ctx: Context, chassis: list[Any],
                        problems: GatewayProblems) -> list[Any]:
        """This AZ's gateway chassis: marked is-interconn, or named in gw-nodes."""
        local = [row for row in chassis if not is_remote_chassis(row)]
        gateways = {row.name: row for row in local if is_interconn(row)}
        for entry in ctx.config.all_gw_nodes:
            matched = [row for row in local if entry in (row.name, row.hostname)]
            if not matched:
                problems[entry, "no-such-chassis"] = (
                    f"gw-nodes entry {entry!r} matches no chassis name or hostname in this "
                    f"AZ's SB (is ovn-controller running on that host?)")
            for row in matched:
                gateways[row.name] = row
                if not is_interconn(row):
                    problems[row.name, "not-is-interconn"] = (
                        f"chassis {row.name!r} (hostname {row.hostname!r}) is a gateway by "
                        f"gw-nodes but lacks other_config:is-interconn=true, so its "
                        f"ovn-controller builds no tunnels to remote gateways; run on that "
                        f"host: {FIX_IS_INTERCONN}")
        return sorted(gateways.values(), key=lambda row: row.name)

    @staticmethod
    def _export(ctx: Context, plan: Plan, gateways: list[Any], local_gws: dict,
                remote_gws: dict, problems: GatewayProblems) -> None:
        taken = {Tunnel.of(encap).endpoint: gw.name
                 for gw in remote_gws.values() for encap in gw.encaps}
        for chassis in gateways:
            if chassis.name in remote_gws:
                problems[chassis.name, "name-conflict"] = (
                    f"another AZ already has a gateway named {chassis.name!r}; chassis "
                    f"names must be unique across AZs")
                continue
            wanted = usable_tunnels(chassis.name, chassis.encaps, taken, problems,
                                    encap_types(ctx, IC_SB))
            if not wanted:
                continue
            gw = local_gws.pop(chassis.name, None)
            if gw is None:
                log.info("gateway.exported", chassis=chassis.name, hostname=chassis.hostname)
                encaps = encap_refs(plan, IC_SB, [], wanted, "gateway_name", chassis.name)
                plan.insert(IC_SB, "Gateway", name=chassis.name, availability_zone=ctx.az.uuid,
                            hostname=chassis.hostname, encaps=encaps)
            else:
                update_owner(plan, IC_SB, "Gateway", gw, chassis.hostname, wanted,
                             "gateway_name")
        for gw in local_gws.values():
            log.info("gateway.withdrawn", chassis=gw.name)
            plan.delete(IC_SB, "Gateway", gw.uuid)

    # ------------------------------------------------------------ IC SB → local
    @staticmethod
    def _mirror(ctx: Context, plan: Plan, chassis: list[Any], remote_gws: dict,
                problems: GatewayProblems) -> None:
        local = {row.name: row for row in chassis if not is_remote_chassis(row)}
        mirrors = {row.name: row for row in chassis if is_remote_chassis(row)}
        taken = {Tunnel.of(encap).endpoint: row.name
                 for row in local.values() for encap in row.encaps}
        for gw in remote_gws.values():
            if gw.name in local:
                problems[gw.name, "name-conflict"] = (
                    f"another AZ's gateway {gw.name!r} has the name of a chassis of this AZ; "
                    f"not mirrored")
                continue
            wanted = usable_tunnels(gw.name, gw.encaps, taken, problems, encap_types(ctx, SB))
            if not wanted:
                continue
            mirror = mirrors.pop(gw.name, None)
            if mirror is None:
                log.info("gateway.remote_added", chassis=gw.name, hostname=gw.hostname)
                encaps = encap_refs(plan, SB, [], wanted, "chassis_name", gw.name)
                plan.insert(SB, "Chassis", name=gw.name, hostname=gw.hostname,
                            other_config={IS_REMOTE: "true"}, encaps=encaps)
                continue
            update_owner(plan, SB, "Chassis", mirror, gw.hostname, wanted, "chassis_name")
            if mirror.other_config.get(IS_REMOTE) != "true":
                plan.setkey(SB, "Chassis", mirror.uuid, "other_config", IS_REMOTE, "true")
        for mirror in mirrors.values():
            log.info("gateway.remote_removed", chassis=mirror.name)
            plan.delete(SB, "Chassis", mirror.uuid)

    def _log_changes(self, problems: GatewayProblems) -> None:
        """Say each problem once, when it appears, and once more when it is gone."""
        for (chassis, problem), message in sorted(problems.items()):
            self._logged.report((chassis, problem), "warning", "gateway.problem",
                                chassis=chassis, problem=problem, message=message)
        for chassis, problem in sorted(self._logged.settle()):
            log.info("gateway.problem_resolved", chassis=chassis, problem=problem)
        self.problems = problems


def encap_types(ctx: Context, db: str) -> frozenset[str]:
    """The encap types ``db``'s schema allows: IC SB 2.x (25.09) has no ``stt``."""
    return ENCAP_TYPES & (ctx.enum(db, "Encap", "type") or ENCAP_TYPES)


def usable_tunnels(owner: str, encaps: Iterable[Any], taken: dict[tuple[str, str], str],
                   problems: GatewayProblems, types: frozenset[str]) -> list[Tunnel]:
    """The encaps of ``owner`` that a tunnel can use, whose type the database written to
    allows (``types``), and no other chassis holds; those are added to ``taken``, so that
    of two owners sharing an endpoint (as two Gateway rows referring to one Encap row do)
    only the first gets it."""
    tunnels = []
    for encap in encaps:
        tunnel = Tunnel.of(encap)
        defect = tunnel.defect(types)
        holder = taken.setdefault(tunnel.endpoint, owner) if defect is None else None
        if defect is not None:
            problems[owner, "bad-encap"] = f"encap of {owner!r} skipped: {defect}"
        elif holder != owner:
            problems[owner, "encap-conflict"] = (
                f"encap {tunnel.type} {tunnel.ip} of {owner!r} skipped: chassis {holder!r} "
                f"uses the same endpoint")
        else:
            tunnels.append(tunnel)
    return sorted(tunnels)


def update_owner(plan: Plan, db: str, table: str, owner: Any, hostname: str,
                 wanted: list[Tunnel], name_column: str) -> None:
    """Bring a Chassis or Gateway row to ``hostname`` and ``wanted`` encaps."""
    if owner.hostname != hostname:
        plan.set(db, table, owner.uuid, hostname=hostname)
    encaps = encap_refs(plan, db, owner.encaps, wanted, name_column, owner.name)
    if encaps is not None:
        plan.set(db, table, owner.uuid, encaps=encaps)


def encap_refs(plan: Plan, db: str, current: list[Any], wanted: list[Tunnel],
               name_column: str, name: str) -> list[Target] | None:
    """The Encap rows carrying ``wanted`` (reusing ``current`` rows with the same endpoint,
    inserting the others), or None when ``current`` is already exactly that."""
    by_endpoint = {Tunnel.of(encap).endpoint: encap for encap in current}
    refs: list[Target] = []
    changed = len(current) != len(wanted)
    for tunnel in wanted:
        encap = by_endpoint.get(tunnel.endpoint)
        if encap is None:
            refs.append(plan.insert(db, "Encap", type=tunnel.type, ip=tunnel.ip,
                                    options=dict(tunnel.options), **{name_column: name}))
            changed = True
            continue
        refs.append(encap.uuid)
        if Tunnel.of(encap).options != tunnel.options:
            plan.set(db, "Encap", encap.uuid, options=dict(tunnel.options))
        if getattr(encap, name_column) != name:
            plan.set(db, "Encap", encap.uuid, **{name_column: name})
    return refs if changed else None
