"""auto-route: the ``ic-route-*`` options in NB_Global.

Like the rest of the automation this acts only while an automated router exists
(see ``engagement``).  The options are AZ-wide (OVN 23.03 reads them from
NB_Global only), so ``auto-route`` is a [controller] key, and the blacklist is
the ``no-advertise`` of every automated router together.  ``auto-route``:

- absent: the options are the operator's, exactly as with the C ovn-ic; if
  this daemon managed them before, it hands them over (drops its record of
  them in NB_Global ``external_ids``) and changes nothing else;
- ``true``: ``ic-route-adv=true``, ``ic-route-learn=true`` and
  ``ic-route-blacklist`` = all ``no-advertise`` CIDRs, normalised to networks,
  deduplicated, sorted.  An operator's own blacklist entries are replaced:
  list them in ``no-advertise``.  The keys written are recorded in
  MANAGED_OPTIONS_KEY;
- ``false`` (manual mode): the three options are removed, whoever set them.

Conflicts (another AZ's route overlapping a local network) are route sync's
(``routes.overlaps``): under ``conflict-policy=deny`` it refuses to learn the
other AZ's route, in the computation that would learn it.  Nothing of a
conflict goes into the blacklist, which ovn-ic applies to advertising too: a
local subnet there would be withdrawn, handing it to the other AZ.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ... import logs
from ...constants import (
    MANAGED_OPTIONS_KEY,
    NB,
    ROUTE_ADV,
    ROUTE_BLACKLIST,
    ROUTE_DENYLIST,
    ROUTE_LEARN,
)
from ...db.plan import Plan
from ..base import Concern, Context, columns
from ..common import LogOnce, nb_global
from .engagement import engaged_routers

log = logs.get("sync.auto_route")

ROUTE_OPTIONS = (ROUTE_ADV, ROUTE_BLACKLIST, ROUTE_LEARN)


def sorted_networks(texts) -> list[str]:
    networks = {ipaddress.ip_network(text, strict=False) for text in texts}
    return [str(network) for network in sorted(networks, key=lambda n: (n.version, n))]


class AutoRoute(Concern):
    name = "auto_route"
    reads = {NB: columns(NB_Global="options external_ids", Logical_Router="name")}
    writes = {NB: columns(NB_Global="options external_ids")}

    def __init__(self) -> None:
        self.findings = LogOnce(log)

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        global_row = nb_global(ctx)
        if global_row is not None and engaged_routers(ctx, self.findings):
            self._plan_options(ctx, plan, global_row)
        self.findings.settle()
        return plan

    def _plan_options(self, ctx: Context, plan: Plan, global_row: Any) -> None:
        options, uuid = global_row.options, global_row.uuid
        if ctx.config.auto_route is True:
            wanted = {ROUTE_ADV: "true", ROUTE_LEARN: "true",
                      ROUTE_BLACKLIST: ",".join(sorted_networks(
                          cidr for router in ctx.config.automated_routers
                          for cidr in router.no_advertise))}
            for key, value in wanted.items():
                if options.get(key) != value:
                    plan.setkey(NB, "NB_Global", uuid, "options", key, value)
            managed = ",".join(ROUTE_OPTIONS)
            if global_row.external_ids.get(MANAGED_OPTIONS_KEY) != managed:
                plan.setkey(NB, "NB_Global", uuid, "external_ids", MANAGED_OPTIONS_KEY, managed)
            if options.get(ROUTE_DENYLIST):
                self.findings("warning", "auto_route.denylist_set",
                              reason="NB_Global options:ic-route-denylist is set and takes "
                                     "precedence over the ic-route-blacklist written here")
            return
        if ctx.config.auto_route is False:
            for key in ROUTE_OPTIONS:
                if key in options:
                    plan.delkey(NB, "NB_Global", uuid, "options", key)
        if MANAGED_OPTIONS_KEY in global_row.external_ids:
            plan.delkey(NB, "NB_Global", uuid, "external_ids", MANAGED_OPTIONS_KEY)
