"""Availability zone: NB_Global.name ↔ the IC SB Availability_Zone row.

Unlike ovn-ic 23.03.1 (delete + re-create, which referential integrity forbids
once Gateway/Port_Binding/Route rows point at the AZ: bug Q5), a new name
renames the existing row in place, so every row referencing it stays valid.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import logs
from ..constants import IC_SB, NB
from ..db.plan import Plan
from .base import Concern, Context, columns
from .common import nb_global

log = logs.get("sync.az")

REFERENCING_TABLES = ("Gateway", "Port_Binding", "Route", "Address_Set")


@dataclasses.dataclass(frozen=True)
class AzIdentity:
    """Who this AZ is right now, or why it is idle."""

    name: str
    row: Any | None
    idle_reason: str | None


def resolve(ctx: Context) -> AzIdentity:
    """The effective AZ name (config first, then NB_Global.name) and its IC SB row."""
    if not ctx.config.enable_ic:
        return AzIdentity("", None, "ic-disabled")
    global_row = nb_global(ctx)
    if global_row is None:
        return AzIdentity("", None, "no-nb-global")
    name = ctx.config.az_name or global_row.name
    if not name:
        return AzIdentity("", None, "no-az-name")
    row = next((az for az in ctx.rows(IC_SB, "Availability_Zone") if az.name == name), None)
    return AzIdentity(name, row, None)


class AvailabilityZone(Concern):
    name = "az"
    needs_az = False
    reads = {NB: columns(NB_Global="name"),
             IC_SB: columns(Availability_Zone="name", Gateway="availability_zone",
                            Port_Binding="availability_zone", Route="availability_zone",
                            Address_Set="availability_zone")}
    writes = {NB: columns(NB_Global="name"), IC_SB: columns(Availability_Zone="name")}

    def __init__(self) -> None:
        # The row this process registered or adopted; renamed when the name changes.
        self.registered: Any | None = None

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        global_row = nb_global(ctx)
        if global_row is None or not ctx.config.enable_ic:
            return plan
        wanted = ctx.config.az_name or global_row.name
        if ctx.config.az_name and global_row.name != ctx.config.az_name:
            plan.set(NB, "NB_Global", global_row.uuid, name=ctx.config.az_name)
        zones = {az.name: az for az in ctx.rows(IC_SB, "Availability_Zone")}
        previous = self._previous_row(ctx, global_row)
        if not wanted:
            self._withdraw_if_unreferenced(ctx, plan, previous)
            return plan
        plan.comment(IC_SB, f"AZ {wanted}")
        if wanted in zones:
            self.registered = zones[wanted].uuid
        elif previous is not None:
            log.info("az.rename", old=previous.name, new=wanted, row=str(previous.uuid))
            plan.set(IC_SB, "Availability_Zone", previous.uuid, name=wanted)
        else:
            log.info("az.register", name=wanted)
            plan.insert(IC_SB, "Availability_Zone", name=wanted)
        return plan

    def _previous_row(self, ctx: Context, global_row: Any) -> Any | None:
        """Our row under its old name: remembered, or named by the NB_Global.name we wrote."""
        if self.registered is not None:
            row = ctx.row(IC_SB, "Availability_Zone", self.registered)
            if row is not None:
                return row
        if ctx.config.az_name and global_row.name and global_row.name != ctx.config.az_name:
            return next((az for az in ctx.rows(IC_SB, "Availability_Zone")
                         if az.name == global_row.name), None)
        return None

    def _withdraw_if_unreferenced(self, ctx: Context, plan: Plan,
                                  previous: Any | None) -> None:
        """A cleared name unregisters the AZ, as ovn-ic does, if nothing points at it."""
        if previous is None:
            return
        for table in REFERENCING_TABLES:
            if any(row.availability_zone and row.availability_zone.uuid == previous.uuid
                   for row in ctx.rows(IC_SB, table)):
                log.warning("az.unregister_blocked", name=previous.name, referenced_by=table)
                return
        log.info("az.unregister", name=previous.name)
        plan.delete(IC_SB, "Availability_Zone", previous.uuid)
        self.registered = None
