"""Leaving the interconnection: what enable-ic=false, ``leave`` and ``reset`` remove.

Pure functions from a Context to Plans, shared by the daemon and the one-shot
commands, so what ``--dry-run`` prints is what the daemon does.

The local part (this AZ's NB and SB) removes only what an IC controller made:

- learned routes (``external_ids:ic-learned-route``), on every router;
- the NB_Global options the automation manages (those listed under
  ``MANAGED_OPTIONS_KEY``) and that list; ``NB_Global.name`` and an
  operator's options stay;
- rows the automation marked with ``OWNER_KEY``: router ports (their
  Gateway_Chassis go with them), switch ports, and Gateway_Chassis;
- transit-switch mirrors (``common.transit_switch_mirrors``), every one,
  duplicates and orphans too, with the remote and declared (26.09,
  ``interconn-tsp``) ports on them; a mirror that also holds a port no IC
  controller created (an operator's, as in manual mode) stays, with that port,
  and loses only the remote, declared and marked ports;
- transit-router mirrors (``options:interconn-tr``), the same way: a router
  holding a port without ``interconn-tr`` (an operator's) stays, with that
  port, and loses only the transit router's ports;
- remote gateway chassis in the SB (``other_config:is-remote``, not
  ``is-interconn``: ``common.is_remote_chassis``);
- learned address sets (``external_ids:ic-learnt``);
- health checks learned from other AZs (SB ``Service_Monitor.ic_learned``).

The IC SB part deletes one AZ's Route, Port_Binding (of transit-switch and
transit-router ports), Gateway and Address_Set rows and its Availability_Zone
row in one transaction, as their strong references demand, and the
Service_Monitor rows it published (named by ``source_availability_zone``).
The shared IC NB (transit switches) is never touched.

Order: ``Leave.plan`` yields each step only once the one before has nothing
left to do, and the daemon commits one step per iteration.  First learning is
switched off: the route options the automation manages (ic-route-adv,
ic-route-learn, ...) go alone, in their own NB transaction, before anything
is removed (as Kube-OVN does since #7265), so that no IC controller, ours on
standby or a C ovn-ic taking the lock, learns again what is being removed;
this daemon itself stopped learning when enable-ic became false, as no other
concern runs then.  Then learned routes, ports and mirrors go; then, once the
NB shows that, this AZ's IC SB rows go and peers withdraw what they learned
from us.  A failure in any step is retried from the state the replicas then
show.  ``leave`` and ``reset`` write the local part in one transaction.
"""

from __future__ import annotations

from typing import Any

from .. import logs
from ..constants import (
    IC_SB,
    INTERCONN_TSP,
    LEARNED_ROUTE_KEY,
    MANAGED_OPTIONS_KEY,
    NB,
    OWNER_KEY,
    SB,
)
from ..db.plan import Plan
from ..db.values import column
from .address_sets import is_learnt
from .base import Concern, Context, columns
from .common import is_remote_chassis, nb_global, transit_switch_mirrors
from .transit_routers import INTERCONN_TR, transit_router_mirrors

log = logs.get("sync.leave")

# Each holds a strong reference to its AZ (Address_Set: 26.09).
AZ_ROWS = ("Route", "Port_Binding", "Gateway", "Address_Set")


def own_az_name(ctx: Context) -> str:
    """This AZ's name even while disabled: the configured one, else NB_Global.name."""
    if ctx.config.az_name:
        return ctx.config.az_name
    global_row = nb_global(ctx)
    return global_row.name if global_row is not None else ""


def is_ours(row: Any) -> bool:
    return OWNER_KEY in row.external_ids


def local_plan(ctx: Context) -> Plan:
    """Remove from the local NB and SB everything an IC controller made (module docstring)."""
    plan = Plan("leave")
    _remove_learned_routes(ctx, plan)
    _remove_our_options(ctx, plan)
    deleted_switches = _remove_mirrors(ctx, plan)
    _remove_transit_routers(ctx, plan)
    _remove_marked_ports(ctx, plan, deleted_switches)
    _remove_remote_chassis(ctx, plan)
    _remove_learned_address_sets(ctx, plan)
    _remove_learned_monitors(ctx, plan)
    for db in plan.databases():
        plan.comment(db, "leave: remove interconnection state")
    return plan


def learning_off_plan(ctx: Context) -> Plan:
    """The first step of leaving: remove the route options the automation set."""
    plan = Plan("leave")
    _remove_our_options(ctx, plan)
    for db in plan.databases():
        plan.comment(db, "leave: stop advertising and learning routes")
    return plan


def withdrawal_plan(ctx: Context, az_name: str) -> Plan:
    """Delete AZ ``az_name``'s rows from the IC SB, all in one transaction."""
    plan = Plan("leave")
    zone = next((az for az in ctx.rows(IC_SB, "Availability_Zone") if az.name == az_name), None)
    if zone is None:
        return plan
    for table in AZ_ROWS:
        for row in ctx.rows(IC_SB, table):
            if row.availability_zone.uuid == zone.uuid:
                plan.delete(IC_SB, table, row.uuid)
    for row in ctx.rows(IC_SB, "Service_Monitor"):
        if row.source_availability_zone == az_name:
            plan.delete(IC_SB, "Service_Monitor", row.uuid)
    plan.delete(IC_SB, "Availability_Zone", zone.uuid)
    plan.comment(IC_SB, f"withdraw AZ {az_name}")
    return plan


class Leave(Concern):
    """The next step of leaving; the daemon runs it only while enable-ic is false.

    The daemon passes only the replicas it is connected to: without the IC SB
    the local part still proceeds, and the IC SB part waits for it.
    """

    name = "leave"
    needs_az = False
    reads = {NB: columns(NB_Global="name options external_ids",
                         Logical_Router="name options ports static_routes",
                         Logical_Router_Port="name options external_ids gateway_chassis",
                         Gateway_Chassis="name external_ids",
                         Logical_Switch="name ports other_config",
                         Logical_Switch_Port="name type options external_ids",
                         Logical_Router_Static_Route="ip_prefix nexthop external_ids",
                         Address_Set="name external_ids"),
             SB: columns(Chassis="name other_config", Service_Monitor="ic_learned"),
             IC_SB: columns(Availability_Zone="name", Gateway="availability_zone name",
                            Port_Binding="availability_zone logical_port",
                            Route="availability_zone ip_prefix nexthop",
                            Address_Set="availability_zone name",
                            Service_Monitor="source_availability_zone")}
    writes = {NB: columns(NB_Global="options external_ids", Logical_Router="ports static_routes",
                          Logical_Router_Port="gateway_chassis", Logical_Switch="ports")}

    def plan(self, ctx: Context) -> Plan:
        return (learning_off_plan(ctx) or local_plan(ctx)
                or withdrawal_plan(ctx, own_az_name(ctx)))


# ---------------------------------------------------------------- local part
def _remove_learned_routes(ctx: Context, plan: Plan) -> None:
    for router in ctx.rows(NB, "Logical_Router"):
        for route in router.static_routes:
            if LEARNED_ROUTE_KEY in route.external_ids:
                plan.delvalue(NB, "Logical_Router", router.uuid, "static_routes", route.uuid)


def _remove_our_options(ctx: Context, plan: Plan) -> None:
    global_row = nb_global(ctx)
    if global_row is None:
        return
    managed = global_row.external_ids.get(MANAGED_OPTIONS_KEY, "")
    for key in filter(None, (key.strip() for key in managed.split(","))):
        if key in global_row.options:
            plan.delkey(NB, "NB_Global", global_row.uuid, "options", key)
    if MANAGED_OPTIONS_KEY in global_row.external_ids:
        plan.delkey(NB, "NB_Global", global_row.uuid, "external_ids", MANAGED_OPTIONS_KEY)


def _remove_mirrors(ctx: Context, plan: Plan) -> set[Any]:
    """Delete the transit-switch mirrors; return the UUIDs of those deleted."""
    deleted = set()
    for switch in (switch for switches in transit_switch_mirrors(ctx).values()
                   for switch in switches):
        foreign = sorted(port.name for port in switch.ports
                         if not _made_by_ic(port) and not is_ours(port))
        if not foreign:
            plan.delete(NB, "Logical_Switch", switch.uuid)
            deleted.add(switch.uuid)
            continue
        log.info("leave.mirror_kept", switch=switch.name, ports_not_ours=foreign,
                 message="this transit-switch mirror holds ports we did not create: "
                         "it stays, only remote and marked ports leave it")
        for port in switch.ports:
            if _made_by_ic(port):
                plan.delvalue(NB, "Logical_Switch", switch.uuid, "ports", port.uuid)
    return deleted


def _made_by_ic(port: Any) -> bool:
    """A port IC controllers add to a mirror: another AZ's, or one declared in the IC NB."""
    return port.type == "remote" or INTERCONN_TSP in port.options


def _remove_transit_routers(ctx: Context, plan: Plan) -> None:
    for routers in transit_router_mirrors(ctx).values():
        for router in routers:
            foreign = sorted(port.name for port in router.ports
                             if INTERCONN_TR not in port.options)
            if not foreign:
                plan.delete(NB, "Logical_Router", router.uuid)
                continue
            log.info("leave.transit_router_kept", router=router.name, ports_not_ours=foreign,
                     message="this transit-router mirror holds ports we did not create: "
                             "it stays, only the transit router's ports leave it")
            for port in router.ports:
                if INTERCONN_TR in port.options:
                    plan.delvalue(NB, "Logical_Router", router.uuid, "ports", port.uuid)


def _remove_marked_ports(ctx: Context, plan: Plan, deleted_switches: set[Any]) -> None:
    for switch in ctx.rows(NB, "Logical_Switch"):
        if switch.uuid in deleted_switches:
            continue
        for port in switch.ports:
            if is_ours(port):
                plan.delvalue(NB, "Logical_Switch", switch.uuid, "ports", port.uuid)
    for router in ctx.rows(NB, "Logical_Router"):
        for port in router.ports:
            if is_ours(port):
                plan.delvalue(NB, "Logical_Router", router.uuid, "ports", port.uuid)
                continue  # its Gateway_Chassis rows go with it
            for chassis in port.gateway_chassis:
                if is_ours(chassis):
                    plan.delvalue(NB, "Logical_Router_Port", port.uuid, "gateway_chassis",
                                  chassis.uuid)


def _remove_remote_chassis(ctx: Context, plan: Plan) -> None:
    for chassis in ctx.rows(SB, "Chassis"):
        if is_remote_chassis(chassis):
            plan.delete(SB, "Chassis", chassis.uuid)


def _remove_learned_address_sets(ctx: Context, plan: Plan) -> None:
    for address_set in ctx.rows(NB, "Address_Set"):
        if is_learnt(address_set):
            plan.delete(NB, "Address_Set", address_set.uuid)


def _remove_learned_monitors(ctx: Context, plan: Plan) -> None:
    for monitor in ctx.rows(SB, "Service_Monitor"):
        if column(monitor, "ic_learned", False):  # before 25.09 the SB has no such column
            plan.delete(SB, "Service_Monitor", monitor.uuid)
