"""Learning: other AZs' IC SB Route rows → NB Logical_Router_Static_Route rows.

A learned route is identified by its identity tuple *and* the IC SB row it
comes from (main's fix of Q6: keyed by tuple alone, two IC SB rows with one
tuple made 23.03 insert another NB route on every pass).  The wanted set of a
router is computed from its usable ports only, independently of advertisement
(Q14), and every learned route not wanted is removed, also from a router that
lost all its transit-switch ports (Q7).

"Local route wins": a remote route is not learned when the router has a static
route of its own (any policy) in the same route table to the same prefix.  The
prefixes are compared parsed (address with host bits, and length) rather than
as strings as 23.03 does, so ``10.0.0.5`` and ``10.0.0.5/32`` are one prefix.
"""

from __future__ import annotations

from ..db.plan import Plan
from .prefixes import refusal_reason
from .routes_view import (
    LEARN,
    LEARNED_ROUTE_KEY,
    NB,
    REFUSED_LOCAL_WINS,
    REFUSED_UNPARSABLE,
    IcRoute,
    Identity,
    LearnedRoute,
    RouteOptions,
    Router,
    Tally,
    WarnOnce,
)


def learnable_routes(by_switch: dict[str, list[IcRoute]], options: RouteOptions, tally: Tally,
                     warnings: WarnOnce) -> dict[str, list[IcRoute]]:
    """Per transit switch, the other AZs' routes that parse and pass the AZ-wide filters.

    Each route is judged once here, however many local ports see it.
    """
    learnable: dict[str, list[IcRoute]] = {}
    for transit_switch, routes in by_switch.items():
        kept = learnable[transit_switch] = []
        for route in routes:
            if route.identity is None:
                tally.refused[LEARN, REFUSED_UNPARSABLE] += 1
                warnings.warn(("ic-route", transit_switch, route.ip_prefix, route.nexthop),
                              "routes.ic_route_unparsable", route=str(route.uuid),
                              transit_switch=transit_switch, ip_prefix=route.ip_prefix,
                              nexthop=route.nexthop, message="IC SB route not learned: its "
                              "prefix or next hop does not parse or is link-local")
                continue
            reason = refusal_reason(route.prefix, enabled=True,
                                    allow_default=options.learn_default,
                                    matcher=options.denylist)
            if reason is not None:
                tally.refused[LEARN, reason] += 1
                continue
            kept.append(route)
    return learnable


LearnKey = tuple[Identity, str]  # identity and the IC SB Route UUID (as a string)


def wanted_routes(router: Router, learnable: dict[str, list[IcRoute]],
                  tally: Tally) -> dict[LearnKey, IcRoute]:
    """The routes this router should have learned, through its usable ports."""
    wanted: dict[LearnKey, IcRoute] = {}
    ports = router.usable_ports
    if not ports:
        return wanted
    local = {(route.route_table, route.prefix) for route in router.local_routes
             if route.prefix is not None}
    for port in ports:
        for route in learnable.get(port.transit_switch, ()):
            if route.route_table and route.route_table != port.route_table:
                continue
            if (route.route_table, route.prefix) in local:
                tally.refused[LEARN, REFUSED_LOCAL_WINS] += 1
                continue
            wanted[route.identity, route.source_id] = route
    for route in wanted.values():
        tally.learned[route.transit_switch] += 1
    return wanted


def plan_learned(plan: Plan, router: Router, wanted: dict[LearnKey, IcRoute],
                 warnings: WarnOnce) -> None:
    """Make the router's learned routes exactly ``wanted``, each NB row used once.

    A learned route matches by identity and source; one left over with the same
    identity is re-pointed at a new source (as 23.03 does) rather than deleted
    and inserted; any other is removed.
    """
    kept: set[LearnKey] = set()
    spare: dict[Identity, list[LearnedRoute]] = {}
    unwanted: list[LearnedRoute] = []
    for route in router.learned_routes:
        key = (route.identity, route.source)
        if route.identity is None:
            _report_bad_learned(router, route, warnings)
            unwanted.append(route)
        elif key in wanted and key not in kept:
            kept.add(key)
        else:
            spare.setdefault(route.identity, []).append(route)
    for key, remote in wanted.items():
        if key in kept:
            continue
        reusable = spare.get(remote.identity)
        if reusable:
            plan.setkey(NB, "Logical_Router_Static_Route", reusable.pop().uuid,
                        "external_ids", LEARNED_ROUTE_KEY, remote.source_id)
            continue
        new = plan.insert(NB, "Logical_Router_Static_Route", ip_prefix=remote.ip_prefix,
                          nexthop=remote.nexthop, route_table=remote.route_table,
                          external_ids={LEARNED_ROUTE_KEY: remote.source_id},
                          options={"origin": remote.origin})
        plan.addvalue(NB, "Logical_Router", router.uuid, "static_routes", new)
    unwanted.extend(route for routes in spare.values() for route in routes)
    for route in unwanted:
        plan.delvalue(NB, "Logical_Router", router.uuid, "static_routes", route.uuid)


def _report_bad_learned(router: Router, route: LearnedRoute, warnings: WarnOnce) -> None:
    warnings.warn(("learned", route.uuid), "routes.learned_route_unparsable",
                  router=router.name, route=str(route.uuid), ip_prefix=route.ip_prefix,
                  nexthop=route.nexthop, message="learned route does not parse: removed")

