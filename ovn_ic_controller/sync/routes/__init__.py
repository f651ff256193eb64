"""Route sync (spec §6): advertise this AZ's routes, learn the other AZs'.

Each pass reads the topology (records): options, transit-switch ports,
routers.  While it stays the same, the index (index) takes in only the
routes the IDL reported changed, and only the keys they touch are compared
with the database: a route added costs the same at 100 routes or 50,000.
When the topology changed, or the changed rows are unknown (first pass,
reconnect, failed commit), the index is rebuilt from every row.  Either way
the differences are planned: advertisements (advertise) and learned
routes (learn); an unchanged state plans nothing.
"""

from __future__ import annotations

from typing import Any

from ... import logs
from ...constants import IC_NB, IC_SB, NB
from ...db.plan import Plan
from ..base import Concern, Context, columns
from ..common import publish_gauge
from ..prefixes import REFUSED_BLACKLIST, REFUSED_DEFAULT, REFUSED_LINK_LOCAL
from .advertise import plan_advertisement
from .index import RouteIndex
from .learn import plan_learned
from .ledger import Problems
from .records import (
    ADVERTISE,
    LEARN,
    REFUSED_DUPLICATE,
    REFUSED_LOCAL_WINS,
    REFUSED_NO_NEXTHOP,
    REFUSED_UNPARSABLE,
    Reader,
    Tally,
    read_topology,
)

log = logs.get("sync.routes")

_COMMON_REASONS = (REFUSED_BLACKLIST, REFUSED_DEFAULT, REFUSED_LINK_LOCAL, REFUSED_UNPARSABLE)
# Every refusal series, published even at 0 so that dashboards see them.
REFUSAL_SERIES = ([(ADVERTISE, reason) for reason in
                   (*_COMMON_REASONS, REFUSED_NO_NEXTHOP, REFUSED_DUPLICATE)]
                  + [(LEARN, reason) for reason in (*_COMMON_REASONS, REFUSED_LOCAL_WINS)])

_STATIC_ROUTE = "ip_prefix nexthop route_table options external_ids"


class Routes(Concern):
    name = "routes"
    reads = {NB: columns(NB_Global="options", Logical_Router="name ports static_routes",
                         Logical_Router_Port="name networks options",
                         Logical_Router_Static_Route=_STATIC_ROUTE + " policy",
                         Logical_Switch_Port="name options"),
             IC_NB: columns(Transit_Switch="name"),
             IC_SB: columns(Port_Binding="availability_zone transit_switch logical_port "
                                         "address external_ids",
                            Route="transit_switch availability_zone route_table ip_prefix "
                                  "nexthop origin external_ids")}
    writes = {NB: columns(Logical_Router="static_routes",
                          Logical_Router_Static_Route=_STATIC_ROUTE),
              IC_SB: columns(Route="transit_switch availability_zone route_table ip_prefix "
                                   "nexthop origin external_ids")}

    incremental = True

    def __init__(self) -> None:
        self.problems = Problems(log)
        self.reader = Reader()
        self.index: RouteIndex | None = None
        self._published: set[tuple[str, ...]] = set()

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        topology, option_problems = read_topology(ctx, self.reader, ctx.az.uuid)
        self.reader.sweep()
        changed = ctx.changed_rows
        if self.index is None or changed is None or topology != self.index.topology:
            self.problems.restart()
            self.index = RouteIndex(topology, self.problems)
            changed = None
        self.problems.set("options", option_problems)
        index = self.index
        index.update(ctx, changed)
        for key in index.advertised.take_dirty():
            plan_advertisement(plan, topology.az, key, index.advertised, index.own.get(key, []))
        for key in index.wanted_learned.take_dirty():
            plan_learned(plan, key, index.wanted_learned, index.learned.get(key, []))
        self.problems.settle()
        if plan:
            log.info("routes.changes", **_summary(plan))
        return plan

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


def _summary(plan: Plan) -> dict[str, int]:
    """Counts of changes per database and effect, e.g. ic_sb_create=3, nb_delete=1."""
    return {f"{db}_{effect}": count for (db, effect), count in plan.counts().items()}
