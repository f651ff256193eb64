"""Automation from controller.conf: transit switches, link ports, gateway chassis, routes.

Exports two concerns: ``Automation`` (this module) and ``AutoRoute``
(``auto_route``: the ``ic-route-*`` options).  Both act only while an
automated router exists: the cluster router or the router of a ``[router
NAME]`` section (``engagement``).  The rest of the package:
``ports`` plans this AZ's link ports on the transit switches, and
``link_addresses`` gives them deterministic, collision-free addresses and MACs.

Once engaged, every pass of ``Automation`` keeps in place, writing only
differences:

- IC NB, per existing automated router: ``<prefix>``, ``<prefix>1`` …
  ``<prefix><ts-num - 1>`` (the cluster router's prefix is ``ts``; prefixes
  never end in a digit and differ, so two routers never share a switch, and
  each router learns only the routes of its counterparts: route sync learns a
  route into the router attached to the switch it came on).  A missing one is created with
  ``external_ids:subnet`` (169.254.(100+i).0/24, plus fe80:a9fe:<hex(100+i)>::/112
  with ``link-ipv6``) and OWNER_KEY; a concurrent create by another AZ only
  fails that transaction, and the next pass finds the switch.  An existing
  switch's ``subnet`` is honoured (e.g. Kube-OVN's), a missing one means the
  default.  A switch no automated router joins any more (beyond its
  ``ts-num``, or of a removed section) is deleted only when this AZ created it
  and no AZ has a port on it any more.
- local NB, per switch once its mirror (``common.mirror_switches``) exists:
  LRP ``<az>-<ts>`` on the switch's router and LSP ``<ts>-<az>`` in one
  transaction, link addresses from ``link_addresses`` (kept across restarts),
  and one Gateway_Chassis per ``gw-nodes`` chassis (the router's), rotated
  left by the switch index.  Ports on switches no router joins are removed.  Ports are created
  even while no gateway chassis resolves, so they exist (and routes are
  exchanged) before gateways come up; the Gateway_Chassis rows follow the chassis.
"""

from __future__ import annotations

from typing import Any

from ... import logs
from ...config import RouterConfig
from ...constants import IC_NB, IC_SB, NB, OWNER_KEY, SB
from ...db.plan import Plan
from ..base import Concern, Context, columns
from ..common import LogOnce, is_remote_chassis, mirror_switches
from .auto_route import AutoRoute
from .engagement import engaged_routers
from .link_addresses import default_subnets, parse_subnets
from .ports import LinkPortSnapshot, PortPlanner

__all__ = ["AutoRoute", "Automation"]

log = logs.get("sync.automation")

def resolve_gateways(ctx: Context, findings: LogOnce, gw_nodes: tuple[str, ...]) -> list[str]:
    """Chassis names for ``gw_nodes``, in order: by chassis name, else by unique hostname;
    never the ``is-remote`` mirrors of other AZs' gateways."""
    local = [chassis for chassis in ctx.rows(SB, "Chassis") if not is_remote_chassis(chassis)]
    names = {chassis.name for chassis in local}
    resolved: list[str] = []
    for entry in gw_nodes:
        if entry in names:
            chassis = entry
        else:
            matches = sorted(chassis.name for chassis in local if chassis.hostname == entry)
            if len(matches) != 1:
                findings("warning", "automation.gateway_unresolved", gw_node=entry,
                         matches=",".join(matches),
                         reason="no local chassis has this name or hostname" if not matches
                         else "several chassis have this hostname; name one of them")
                continue
            chassis = matches[0]
        if chassis not in resolved:
            resolved.append(chassis)
    return resolved


def rotated(items: list[str], index: int) -> list[str]:
    """``items`` rotated left by ``index``: switch i prefers gateway i (mod the count)."""
    if not items:
        return []
    shift = index % len(items)
    return items[shift:] + items[:shift]


class Automation(Concern):
    name = "automation"
    reads = {
        NB: columns(Logical_Router="name ports",
                    Logical_Router_Port="name mac networks gateway_chassis external_ids",
                    Gateway_Chassis="name chassis_name priority",
                    Logical_Switch="name ports other_config",
                    Logical_Switch_Port="name type addresses options external_ids"),
        SB: columns(Chassis="name hostname other_config"),
        IC_NB: columns(Transit_Switch="name external_ids"),
        IC_SB: columns(Availability_Zone="name",
                       Port_Binding="logical_port transit_switch availability_zone address"),
    }
    writes = {
        NB: columns(Logical_Router="ports",
                    Logical_Router_Port="name mac networks gateway_chassis external_ids",
                    Gateway_Chassis="name chassis_name priority external_ids",
                    Logical_Switch="ports",
                    Logical_Switch_Port="name type addresses options external_ids"),
        IC_NB: columns(Transit_Switch="name external_ids"),
    }

    def __init__(self) -> None:
        self.findings = LogOnce(log)
        self.engaged: dict[str, bool] = {}  # router name -> automated at the last pass

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        engaged = engaged_routers(ctx, self.findings)
        self._note_engagement(ctx, engaged)
        if engaged:
            plan.comment(NB, f"automation for AZ {ctx.az_name}")
            wanted = {name for router in ctx.config.automated_routers
                      for name in router.switch_names()}
            switches = {ts.name: ts for ts in ctx.rows(IC_NB, "Transit_Switch")}
            self._plan_transit_switches(ctx, plan, engaged, wanted, switches)
            self._plan_ports(ctx, plan, engaged, wanted, switches)
        self.findings.settle()
        return plan

    def _note_engagement(self, ctx: Context, engaged: list[tuple[RouterConfig, Any]]) -> None:
        present = {router.name for router, _ in engaged}
        cluster = ctx.config.cluster_router
        before, self.engaged = self.engaged, {}
        for router in ctx.config.automated_routers:
            now = self.engaged[router.name] = router.name in present
            if before.get(router.name) == now:
                continue
            if router.name == cluster:
                reason = ("the cluster router exists" if now else
                          "no router named cluster-router: behaving as plain ovn-ic")
            else:
                reason = ("the router of a [router] section exists" if now else
                          "no router of this [router] section: its switches are not joined")
            log.info("automation.engaged" if now else "automation.idle", router=router.name,
                     reason=reason)

    def _plan_transit_switches(self, ctx: Context, plan: Plan,
                               engaged: list[tuple[RouterConfig, Any]], wanted: set[str],
                               switches: dict[str, Any]) -> None:
        for router, _ in engaged:
            for index, name in enumerate(router.switch_names()):
                if name not in switches:
                    subnet = default_subnets(index, ctx.config.link_ipv6)
                    log.info("automation.switch_created", transit_switch=name, subnet=subnet,
                             router=router.name)
                    plan.insert(IC_NB, "Transit_Switch", name=name,
                                external_ids={"subnet": subnet, OWNER_KEY: ctx.az_name})
        in_use = {pb.transit_switch for pb in ctx.rows(IC_SB, "Port_Binding")}
        mirrors = mirror_switches(ctx)
        for name, ts in switches.items():
            if (name in wanted or name in in_use
                    or ts.external_ids.get(OWNER_KEY) != ctx.az_name):
                continue
            if any(OWNER_KEY in lsp.external_ids for lsp in
                   (mirrors[name].ports if name in mirrors else ())):
                continue  # our own port goes first, in this pass
            log.info("automation.switch_deleted", transit_switch=name,
                     reason="no automated router joins it any more, this AZ created it, "
                            "and no AZ has a port on it")
            plan.delete(IC_NB, "Transit_Switch", ts.uuid)

    def _plan_ports(self, ctx: Context, plan: Plan, engaged: list[tuple[RouterConfig, Any]],
                    wanted: set[str], switches: dict[str, Any]) -> None:
        ports = PortPlanner(LinkPortSnapshot(ctx), plan, self.findings)
        for router, row in engaged:
            gateways = resolve_gateways(ctx, self.findings, router.gw_nodes)
            for index, name in enumerate(router.switch_names()):
                switch = switches.get(name)
                if switch is None:
                    continue
                text = switch.external_ids.get("subnet") or default_subnets(
                    index, ctx.config.link_ipv6)
                networks = parse_subnets(text)
                if networks is None:
                    self.findings("warning", "automation.bad_subnet", transit_switch=name,
                                  row=str(switch.uuid), subnet=text,
                                  reason="external_ids:subnet must be CIDRs, at most one per "
                                         "family; no port on this switch")
                    continue
                ports.ensure(name, networks, rotated(gateways, index), row)
        ports.remove_except(wanted)
