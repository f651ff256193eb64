"""Dynamic routing: the prefixes a router learned by BGP (SB Learned_Route), advertised and
not learned back (ovn-ic 26.03, docs/behaviour.md §6.4 step 6, §6.5).

ovn-controller writes a Learned_Route row per route a router's dynamic routing learned.
ovn-ic 26.03 advertises each prefix of a router's datapath as it does a connected
network of that router (through every usable port into <main>; with 26.09's east-west
routing also into each port's route table), with the router's UUID as ``nb-id``, there
being no port; and a remote route whose ``ip_prefix`` is, as text, one of a router's
Learned_Route prefixes is not learned by that router.  26.09 writes origin
``connected-dynamic`` (where the IC SB's Route.origin has it) instead of ``connected``;
learners copy it into ``options:origin``, where ovn-northd's
``dynamic-routing-redistribute=hub-spoke`` picks it up to re-advertise by BGP: nothing
more to do in ovn-ic.

Learned_Route rows may be as many as a BGP table: ``LearnedPrefixes`` takes them in one
changed row at a time and tells which (router, prefix) pairs appeared or went, so that a
changed row costs the work of its own prefix and router only.
"""

from __future__ import annotations

import uuid as uuidlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ...constants import SB
from ...db.values import plain_columns
from ..base import Context
from ..prefixes import parse_cidr
from .advertise import Advertisement, network_contribution
from .ledger import NOTHING, Contribution, Problem
from .reasons import ADVERTISE, REFUSED_UNPARSABLE
from .records import RouteOptions, RouterView

LEARNED_ROUTE = "Learned_Route"
LEARNED_ROUTE_COLUMNS = ("datapath", "ip_prefix")

DynamicPrefix = tuple[uuidlib.UUID, str]  # router, ip_prefix as the Learned_Route has it


class LearnedPrefixes:
    """The Learned_Route prefixes of each router with transit-switch ports.

    ``datapaths`` maps the routers' SB datapaths to them (records.read_datapaths);
    rows of other datapaths are left out.
    """

    def __init__(self, datapaths: Mapping[uuidlib.UUID, uuidlib.UUID]) -> None:
        self._datapaths = datapaths
        self._rows: dict[uuidlib.UUID, DynamicPrefix] = {}
        # Per router, how many rows have each prefix (several: one per BGP next hop).
        self.by_router: dict[uuidlib.UUID, Counter[str]] = {}

    def update(self, ctx: Context, uuid: uuidlib.UUID) -> list[tuple[DynamicPrefix, bool]]:
        """Take in Learned_Route ``uuid`` as it is now; the (router, prefix) pairs that
        appeared (True) or went (False)."""
        row = ctx.row(SB, LEARNED_ROUTE, uuid)
        now = _dynamic_prefix(row, self._datapaths) if row is not None else None
        before = self._rows.pop(uuid, None)
        if now is not None:
            self._rows[uuid] = now
        if now == before:  # e.g. another column changed
            return []
        changed = []
        if before is not None and self._count(before, -1):
            changed.append((before, False))
        if now is not None and self._count(now, 1):
            changed.append((now, True))
        return changed

    def _count(self, pair: DynamicPrefix, delta: int) -> bool:
        """Count a row of ``pair`` in or out; whether the first came or the last went."""
        router, ip_prefix = pair
        counts = self.by_router.setdefault(router, Counter())
        after = counts.get(ip_prefix, 0) + delta
        if after:
            counts[ip_prefix] = after
        else:
            del counts[ip_prefix]
            if not counts:
                del self.by_router[router]
        return after == 0 if delta < 0 else after == 1


def _dynamic_prefix(row: Any, datapaths: Mapping[uuidlib.UUID, uuidlib.UUID]
                    ) -> DynamicPrefix | None:
    datapath, ip_prefix = plain_columns(row, LEARNED_ROUTE_COLUMNS)
    router = datapaths.get(datapath)
    return (router, ip_prefix) if router is not None else None


def dynamic_contribution(router: RouterView, ip_prefix: str,
                         options: RouteOptions) -> Contribution:
    """What one Learned_Route prefix of ``router`` advertises."""
    if not options.advertise or not router.usable_ports:
        return NOTHING
    prefix = parse_cidr(ip_prefix)
    if prefix is None:
        return Contribution(counts=(((ADVERTISE, REFUSED_UNPARSABLE), 1),), problems=(
            Problem(("learned-route", router.uuid, ip_prefix), "routes.dynamic_prefix_unparsable",
                    {"router": router.name, "ip_prefix": ip_prefix,
                     "message": "prefix learned by dynamic routing not advertised: "
                                "it does not parse"}),))
    return network_contribution(
        router, prefix, Advertisement(options.dynamic_origin, router.id_text, router.id_text,
                                      dynamic=True), options)
