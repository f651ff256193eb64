"""Route sync (spec §6): advertise this AZ's routes, learn the other AZs'.

One pass reads each table once into plain records and indexes (routes_view),
then computes the wanted IC SB rows (routes_advertise) and, per router, the
wanted learned NB routes (routes_learn), and plans only the differences.  The
pass is linear in the number of routes; an unchanged state plans nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import logs
from ..db.plan import Plan
from .base import Concern, Context, columns
from .prefixes import REFUSED_BLACKLIST, REFUSED_DEFAULT, REFUSED_LINK_LOCAL
from .routes_advertise import plan_advertisements, wanted_advertisements
from .routes_learn import learnable_routes, plan_learned, wanted_routes
from .routes_view import (
    ADVERTISE,
    IC_NB,
    IC_SB,
    LEARN,
    NB,
    REFUSED_DUPLICATE,
    REFUSED_LOCAL_WINS,
    REFUSED_NO_NEXTHOP,
    REFUSED_UNPARSABLE,
    Reader,
    Tally,
    WarnOnce,
    index_ic_routes,
    read_options,
    read_routers,
    read_ts_ports,
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

    def __init__(self) -> None:
        self.warnings = WarnOnce(log)
        self.reader = Reader()
        self.tally = Tally()
        self._reported_switches: set[str] = set()

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        tally = Tally()
        self.warnings.begin()
        options = read_options(ctx, self.warnings)
        az_uuid = ctx.az.uuid
        ports = read_ts_ports(ctx, self.reader, az_uuid)
        routers = read_routers(ctx, self.reader, ports)
        tally.transit_switches = {port.transit_switch for router_ports in ports.values()
                                  for port in router_ports}
        learning_from = ({port.transit_switch for router in routers
                          for port in router.usable_ports} if options.learn else set())
        own, others = index_ic_routes(ctx, self.reader, az_uuid, learning_from)

        advertised = wanted_advertisements(routers, options, tally, self.warnings)
        plan_advertisements(plan, az_uuid, own, advertised)
        learnable = learnable_routes(others, options, tally, self.warnings)
        for router in routers:
            plan_learned(plan, router, wanted_routes(router, learnable, tally), self.warnings)

        self.warnings.end()
        self.reader.sweep()
        self.tally = tally
        if plan:
            log.info("routes.changes", **_summary(plan))
        return plan

    def report(self, metrics: Any) -> None:
        tally = self.tally
        switches = tally.transit_switches | set(tally.advertised) | set(tally.learned)
        for gone in self._reported_switches - switches:
            metrics.routes_advertised.remove(gone)
            metrics.routes_learned.remove(gone)
        for switch in switches:
            metrics.routes_advertised.labels(transit_switch=switch).set(tally.advertised[switch])
            metrics.routes_learned.labels(transit_switch=switch).set(tally.learned[switch])
        self._reported_switches = switches
        for direction, reason in REFUSAL_SERIES:
            metrics.routes_refused.labels(direction=direction, reason=reason).set(
                tally.refused[direction, reason])


def _summary(plan: Plan) -> dict[str, int]:
    """Counts of changes per database and effect, e.g. ic_sb_create=3, nb_delete=1."""
    return dict(Counter(f"{op.db}_{op.effect}" for op in plan.ops))
