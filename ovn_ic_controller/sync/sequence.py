"""Sequence numbers (24.03+): how ``ovn-ic-nbctl --wait=sb`` learns that every AZ caught up.

The CMS bumps ``IC_NB_Global.nb_ic_cfg`` with its change.  Each AZ's IC
controller, in the IC SB transaction computed from that IC NB state, counts its
own ``Availability_Zone.nb_ic_cfg`` up; once every AZ row has the number, the
first controller to see it writes it into ``IC_SB_Global.nb_ic_cfg`` and
``IC_NB_Global.sb_ic_cfg``, which ``--wait=sb`` (and ``sync``) wait for.

This is ovn-ic's ``update_sequence_numbers()`` step for step, so that the
numbers an AZ of ours shows are those a C ovn-ic would: the AZ row goes up by
one per transaction (not straight to the IC NB number), and ``current`` is the
number the last committed step was for, 0 when the process starts (so a
restart sets the AZ row back to 0 until the next bump, as ovn-ic does).  Like
ovn-ic, it plans in the same pass as every other concern, from the same
snapshot, so the step commits in one transaction with their IC SB changes.
It runs only when the IC SB schema has the columns (24.03's IC SB 1.2.0).
"""

from __future__ import annotations

from .. import logs
from ..constants import IC_NB, IC_SB
from ..db.plan import Plan, Target
from .base import Concern, Context, columns

log = logs.get("sync.sequence")

INT64_MAX = 2**63 - 1


def has_sequence_numbers(ctx: Context) -> bool:
    return ctx.has_column(IC_SB, "Availability_Zone", "nb_ic_cfg")


class SequenceNumbers(Concern):
    name = "sequence_numbers"
    reads = {IC_NB: columns(IC_NB_Global="nb_ic_cfg sb_ic_cfg"),
             IC_SB: columns(IC_SB_Global="nb_ic_cfg", Availability_Zone="name nb_ic_cfg")}
    writes = reads

    def __init__(self) -> None:
        self.current = 0  # ovn-ic's ic_sb_loop->cur_cfg
        # (next, the AZ row's number once that step commits) of the step in flight.
        self.pending: tuple[int, int] | None = None

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        if not has_sequence_numbers(ctx):
            return plan
        ic_nb, wanted = _global_row(ctx, plan, IC_NB, "IC_NB_Global")
        ic_sb, reached = _global_row(ctx, plan, IC_SB, "IC_SB_Global")
        own = ctx.az.nb_ic_cfg
        if self.pending is not None:
            if own == self.pending[1]:  # the step committed: ovn-ic's cur_cfg = next_cfg
                self.current = self.pending[0]
            self.pending = None
        if wanted != reached and wanted != own:
            step = 1 if own == INT64_MAX else own + 1
            plan.set(IC_SB, "Availability_Zone", ctx.az.uuid, nb_ic_cfg=step)
            self.pending = (wanted, step)
            return plan
        if own != self.current:  # e.g. above the IC NB's number, or after a restart
            plan.set(IC_SB, "Availability_Zone", ctx.az.uuid, nb_ic_cfg=self.current)
            return plan
        if any(az.nb_ic_cfg != own for az in ctx.rows(IC_SB, "Availability_Zone")):
            return plan
        if wanted != reached:
            log.info("sequence.all_zones_caught_up", nb_ic_cfg=own)
            plan.set(IC_SB, "IC_SB_Global", ic_sb, nb_ic_cfg=own)
            plan.set(IC_NB, "IC_NB_Global", ic_nb, sb_ic_cfg=own)
        return plan


def _global_row(ctx: Context, plan: Plan, db: str, table: str) -> tuple[Target, int]:
    """The global row of ``db`` (inserted by ``plan`` if there is none, as ovn-ic does) and
    its ``nb_ic_cfg``."""
    row = next(iter(ctx.rows(db, table)), None)
    if row is None:
        return plan.insert(db, table), 0
    return row.uuid, row.nb_ic_cfg
