"""Route sync (docs/behaviour.md §6): advertise this AZ's routes, learn the other AZs'.

Exports the ``Routes`` concern.  Data flows one way through the package:

- ``records``: what is read, as plain records: the topology (options, this
  AZ's transit-switch ports, routers), read whole on every pass, and one
  record per static or IC SB route, made from a changed row;
- ``index``: ``RouteIndex`` takes in the records and keeps, in two ledgers
  (``ledger``), what every route wants: advertised IC SB rows (``advertise``)
  and learned NB routes (``learn``), with the reasons for refusals
  (``reasons``); it hands out the keys that may have changed;
- ``vips``: the routers' load-balancer VIPs, advertised and not learned over;
- ``advertise.plan_advertisement`` and ``learn.plan_learned`` compare one such
  key with the database and emit the ops; they only read.

Other AZs' routes overlapping this AZ's own networks are conflicts
(``overlaps``): refused where they would be learned under
``conflict-policy=deny``, else learned; either way logged when they appear or
go, and published as the ``route_conflicts`` and ``learned_route_overlaps``
metrics.

While the topology stays the same, the index takes in only the routes the
IDL reported changed, and only the keys they touch are compared with the
database: a route added costs the same at 100 routes or 50,000.  When the
topology changed, or the changed rows are unknown (first pass, reconnect,
failed commit), the index is rebuilt from every row, by the same path.  An
unchanged state plans nothing.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from ... import logs
from ...constants import IC_NB, IC_SB, NB, SB
from ...db.plan import Plan
from ..base import Concern, Context, columns
from ..common import publish_gauge
from .advertise import plan_advertisement
from .dynamic import LEARNED_ROUTE_COLUMNS
from .index import RouteIndex
from .learn import plan_learned
from .ledger import Problems
from .overlaps import Conflict
from .reasons import REFUSAL_SERIES
from .records import IC_ROUTE_COLUMNS, STATIC_COLUMNS, Tally, TopologyCache, read_topology

__all__ = ["Routes", "find_conflicts", "zone_name"]

log = logs.get("sync.routes")

# A pass plans at most this many changes to this AZ's IC SB routes and leaves the rest
# for the next, which runs once its transaction is done: 10,000 routes added at once
# reach the other AZs in parts, each learning a part while the next is written, rather
# than waiting for the whole.
ADVERTISED_OPS_PER_PASS = 1000
# Learning is bounded more loosely: nothing of this daemon works on its parts in between,
# so each part's echo and the next part's planning wait for one another (99,000 routes
# join in 14.4 s in parts of 50,000 routes, 13 s at once, 15.8 s in parts of 20,000),
# but one transaction of them all and its echo are ~60 MB of JSON alive at once (peak
# RSS 560 MB at once, 500 MB in parts of 50,000), and that grows with the deployment.
LEARNED_OPS_PER_PASS = 100000

_STATIC_ROUTE = " ".join(STATIC_COLUMNS)
_IC_ROUTE = " ".join(IC_ROUTE_COLUMNS)


class Routes(Concern):
    name = "routes"
    reads = {NB: columns(NB_Global="options",
                         Logical_Router="name ports static_routes options enabled load_balancer "
                                        "load_balancer_group",
                         Load_Balancer="vips", Load_Balancer_Group="load_balancer",
                         Logical_Router_Port="name networks options",
                         Logical_Router_Static_Route=_STATIC_ROUTE + " policy",
                         Logical_Switch_Port="name options"),
             SB: columns(Datapath_Binding="nb_uuid", Learned_Route=" ".join(LEARNED_ROUTE_COLUMNS)),
             IC_NB: columns(Transit_Switch="name"),
             IC_SB: columns(Availability_Zone="name",
                            Port_Binding="availability_zone transit_switch logical_port "
                                         "address external_ids",
                            Route=_IC_ROUTE + " options")}
    writes = {NB: columns(Logical_Router="static_routes",
                          Logical_Router_Static_Route=_STATIC_ROUTE),
              IC_SB: columns(Route=_IC_ROUTE + " options")}

    incremental = True

    def __init__(self) -> None:
        self.problems = Problems(log)
        self.cache = TopologyCache()
        self.index: RouteIndex | None = None
        self._published: set[tuple[str, ...]] = set()
        self.conflicts: list[Conflict] = []  # as the last pass left them, sorted
        self._published_conflicts: set[tuple[str, ...]] = set()
        self._published_overlaps: set[tuple[str, ...]] = set()

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        topology, option_problems = read_topology(ctx, self.cache, ctx.az.uuid)
        self.cache.sweep()
        changed = ctx.changed_rows
        if self.index is None or changed is None or topology != self.index.topology:
            self.problems.restart()
            self.index = RouteIndex(topology, self.problems)
            changed = None
        elif topology.options.filters != self.index.topology.options.filters:
            self.index.refilter(ctx, topology)
        self.problems.set("options", option_problems)
        index = self.index
        index.update(ctx, changed)
        for key, wanted, rows in index.dirty_advertisements(
                lambda: len(plan.ops) >= ADVERTISED_OPS_PER_PASS):
            plan_advertisement(plan, topology.az, key, wanted, rows)
        for key, wanted, learned in index.dirty_learned(
                lambda: len(plan.ops) >= LEARNED_OPS_PER_PASS):
            plan_learned(plan, key, wanted, learned)
        self.unfinished = index.work_left
        self.problems.settle()
        self._note_conflicts(ctx, index.conflicts())
        if plan:
            log.info("routes.changes", **_summary(plan))
        return plan

    def _note_conflicts(self, ctx: Context, now: set[Conflict]) -> None:
        """Log the conflicts that appeared, changed (refused or learned) or went."""
        before = set(self.conflicts)
        if now == before:
            return
        for conflict in sorted(now - before):
            log.warning("routes.conflict", router=conflict.router, local=conflict.local,
                        remote=conflict.remote, availability_zone=zone_name(ctx, conflict.az),
                        action="learned (reported only)" if conflict.learned else
                        "refused (conflict-policy=deny)",
                        reason="another AZ's route overlaps a local network")
        still = {dataclasses.replace(conflict, learned=not conflict.learned) for conflict in now}
        for conflict in sorted(before - now - still):
            log.info("routes.conflict_gone", router=conflict.router, local=conflict.local,
                     remote=conflict.remote, availability_zone=zone_name(ctx, conflict.az))
        self.conflicts = sorted(now)

    @property
    def tally(self) -> Tally:
        """What the last pass wants, for the metrics."""
        return self.index.tally() if self.index is not None else Tally()

    def report(self, metrics: Any) -> None:
        tally = self.tally
        switches = tally.transit_switches | set(tally.advertised) | set(tally.learned)
        previous = self._published
        for gauge, counts in ((metrics.routes_advertised, tally.advertised),
                              (metrics.routes_learned, tally.learned)):
            self._published = publish_gauge(
                gauge, {(switch,): counts[switch] for switch in switches}, previous)
        for direction, reason in REFUSAL_SERIES:
            metrics.routes_refused.labels(direction=direction, reason=reason).set(
                tally.refused[direction, reason])
        overlaps: Counter = Counter()
        for conflict, count in tally.conflicts.items():
            if conflict.learned:
                overlaps[conflict.local, conflict.remote] += count
        self._published_conflicts = publish_gauge(
            metrics.route_conflicts,
            {(conflict.local, conflict.remote): 1 for conflict in tally.conflicts},
            self._published_conflicts)
        self._published_overlaps = publish_gauge(metrics.learned_route_overlaps, overlaps,
                                                 self._published_overlaps)


def find_conflicts(ctx: Context) -> list[Conflict]:
    """The conflicts a full computation over ``ctx`` finds (for ``show``), sorted; bad rows
    are warned about as in the daemon, conflicts are not logged."""
    topology, _ = read_topology(ctx, TopologyCache(), ctx.az.uuid)
    index = RouteIndex(topology, Problems(log))
    index.update(ctx, None)
    return sorted(index.conflicts())


def zone_name(ctx: Context, uuid: Any) -> str:
    """The name of the IC SB Availability_Zone ``uuid`` ("" once it is gone)."""
    row = ctx.row(IC_SB, "Availability_Zone", uuid)
    return row.name if row is not None else ""


def _summary(plan: Plan) -> dict[str, int]:
    """Counts of changes per database and effect, e.g. ic_sb_create=3, nb_delete=1."""
    return {f"{db}_{effect}": count for (db, effect), count in plan.counts().items()}
