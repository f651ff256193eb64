"""Load-balancer VIPs of the routers (25.09): advertised, and never learned over.

A router's VIPs are the keys of ``vips`` of its load balancers, its own and
those of its load-balancer groups, parsed as ovn-ic parses them (``parse_vip``).
With ``ic-route-adv-lb=true`` each is advertised as a /32 or /128 route of
origin ``loadbalancer`` (advertise.vip_contribution); of several load balancers
with one VIP, the one with the lowest UUID is named in ``nb-id``.  Whatever
``ic-route-adv-lb`` says, a router never learns a route whose prefix holds one
of its VIPs (``RouterVips.covers``), as ovn-ic checks with
``route_matches_local_lb``: the prefix's address must be the VIP with the
prefix's host bits cleared.

``RouterVips`` follows the changed rows of Logical_Router, Load_Balancer_Group
and Load_Balancer: a load balancer added, changed or removed costs work for the
routers it is on and the VIPs that changed, not for the others.
"""

from __future__ import annotations

import ipaddress
import re
import uuid as uuidlib
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable

from ...constants import NB
from ...db.values import Members
from ..base import ChangedRows, Context
from ..prefixes import Prefix

LR, LB, LBG = "Logical_Router", "Load_Balancer", "Load_Balancer_Group"
_WIDTH = {4: 32, 6: 128}
_PORT = re.compile(r"\s*[+-]?[0-9]+")  # strtol's whole string, base 10


def parse_vip(key: str) -> Prefix | None:
    """The host prefix of a ``vips`` key (``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare
    IPv6 address), or None where OVS's ``inet_parse_active`` fails.

    More than one colon outside brackets makes the whole key the host, as in OVS.
    """
    colons, last, bracketed = 0, -1, False
    for index, char in enumerate(key):
        if char == "[":
            bracketed = True
        elif char == "]":
            bracketed = False
        elif char == ":" and not bracketed:
            colons, last = colons + 1, index
    port = None
    if colons > 1:
        host = key
    elif colons:
        host, port = _unbracket(key[:last]), _unbracket(key[last + 1:])
    else:
        host = _unbracket(key)
    if port and (not _PORT.fullmatch(port) or not 0 <= int(port) <= 65535):
        return None
    try:
        if ":" in host:
            address, _, scope = host.partition("%")
            if scope and not scope.isdigit():  # an interface name: not one of this host's
                return None
            return Prefix(6, int(ipaddress.IPv6Address(address)), 128)
        return Prefix(4, int(ipaddress.IPv4Address(host)), 32)
    except ValueError:
        return None


def _unbracket(text: str) -> str:
    if text.startswith("["):
        text = text[1:]
        if text.endswith("]"):
            text = text[:-1]
    return text


def lb_vips(row) -> frozenset[Prefix]:
    """The VIPs of a Load_Balancer row (None: gone) that parse."""
    if row is None:
        return frozenset()
    return frozenset(vip for vip in map(parse_vip, row.vips) if vip is not None)


class RouterVips:
    """Which VIPs each router has, from which load balancers, kept from changed rows.

    ``update`` returns the (router, VIP) pairs whose load balancers changed; a
    router has a load balancer once per path to it (directly, through each group).
    """

    def __init__(self) -> None:
        self._direct: dict[uuidlib.UUID, Members] = {}       # router -> its load balancers
        self._groups: dict[uuidlib.UUID, Members] = {}       # router -> its groups
        self._group_members: dict[uuidlib.UUID, Members] = {}  # group -> its load balancers
        self._group_lbs: dict[uuidlib.UUID, set[uuidlib.UUID]] = {}  # ... as UUIDs
        self._group_routers: dict[uuidlib.UUID, set[uuidlib.UUID]] = {}
        self._lb_routers: dict[uuidlib.UUID, Counter[uuidlib.UUID]] = {}  # paths per router
        self._lb_vips: dict[uuidlib.UUID, frozenset[Prefix]] = {}
        self._by_router: dict[uuidlib.UUID, dict[Prefix, set[uuidlib.UUID]]] = {}
        self._sorted: dict[tuple[uuidlib.UUID, int], list[int]] = {}  # (router, family)
        self._changed: dict[tuple[uuidlib.UUID, Prefix], None] = {}

    def update(self, ctx: Context,
               changed: ChangedRows | None) -> list[tuple[uuidlib.UUID, Prefix]]:
        """Take in the changed rows (None: every router, into a new instance); the (router,
        VIP) pairs that may have changed since the last call."""
        if changed is None:
            routers: Iterable[uuidlib.UUID] = [row.uuid for row in ctx.rows(NB, LR)]
        else:
            for lb in changed.get((NB, LB), ()):
                if lb in self._lb_vips:
                    self._revise_lb(lb, lb_vips(ctx.row(NB, LB, lb)))
            for group in changed.get((NB, LBG), ()):
                if group in self._group_lbs:
                    self._revise_group(ctx, group)
            routers = changed.get((NB, LR), ())
        for router in routers:
            self._revise_router(ctx, router)
        found, self._changed = list(self._changed), {}
        return found

    def lbs(self, router: uuidlib.UUID, vip: Prefix) -> set[uuidlib.UUID]:
        """The load balancers that give ``router`` the VIP (empty: none)."""
        return self._by_router.get(router, {}).get(vip, set())

    def of_router(self, router: uuidlib.UUID) -> list[Prefix]:
        """The VIPs ``router`` has."""
        return list(self._by_router.get(router, ()))

    def covers(self, router: uuidlib.UUID, prefix: Prefix) -> bool:
        """Whether ``prefix`` holds a VIP of ``router``, as ovn-ic's learning compares them."""
        values = self._sorted.get((router, prefix.family))
        if not values:
            return False
        host = (1 << (_WIDTH[prefix.family] - prefix.plen)) - 1
        if prefix.value & host:
            return False
        index = bisect_left(values, prefix.value)
        return index < len(values) and values[index] <= prefix.value | host

    # ---------------------------------------------------------------- rows
    def _revise_router(self, ctx: Context, router: uuidlib.UUID) -> None:
        row = ctx.row(NB, LR, router)
        added, removed = _members(self._direct, router).update(row, "load_balancer")
        for lb in removed:
            self._detach(router, lb)
        for lb in added:
            self._attach(ctx, router, lb)
        added, removed = _members(self._groups, router).update(row, "load_balancer_group")
        for group in removed:
            routers = self._group_routers[group]
            routers.discard(router)
            for lb in self._group_lbs[group]:
                self._detach(router, lb)
            if not routers:
                del self._group_routers[group], self._group_lbs[group]
                del self._group_members[group]
        for group in added:
            if group not in self._group_lbs:
                self._group_members[group] = Members()
                self._group_lbs[group] = set(self._group_members[group].update(
                    ctx.row(NB, LBG, group), "load_balancer")[0])
            self._group_routers.setdefault(group, set()).add(router)
            for lb in self._group_lbs[group]:
                self._attach(ctx, router, lb)
        if row is None:
            self._direct.pop(router, None)
            self._groups.pop(router, None)

    def _revise_group(self, ctx: Context, group: uuidlib.UUID) -> None:
        added, removed = self._group_members[group].update(ctx.row(NB, LBG, group),
                                                           "load_balancer")
        lbs = self._group_lbs[group]
        lbs.difference_update(removed)
        lbs.update(added)
        for router in self._group_routers[group]:
            for lb in removed:
                self._detach(router, lb)
            for lb in added:
                self._attach(ctx, router, lb)

    def _revise_lb(self, lb: uuidlib.UUID, vips: frozenset[Prefix]) -> None:
        before = self._lb_vips[lb]
        if vips == before:
            return
        self._lb_vips[lb] = vips
        for router in self._lb_routers[lb]:
            for vip in before - vips:
                self._drop(router, vip, lb)
            for vip in vips - before:
                self._add(router, vip, lb)

    def _attach(self, ctx: Context, router: uuidlib.UUID, lb: uuidlib.UUID) -> None:
        if lb not in self._lb_vips:
            self._lb_vips[lb] = lb_vips(ctx.row(NB, LB, lb))
            self._lb_routers[lb] = Counter()
        paths = self._lb_routers[lb]
        paths[router] += 1
        if paths[router] == 1:
            for vip in self._lb_vips[lb]:
                self._add(router, vip, lb)

    def _detach(self, router: uuidlib.UUID, lb: uuidlib.UUID) -> None:
        paths = self._lb_routers[lb]
        paths[router] -= 1
        if paths[router]:
            return
        del paths[router]
        for vip in self._lb_vips[lb]:
            self._drop(router, vip, lb)
        if not paths:
            del self._lb_routers[lb], self._lb_vips[lb]

    # ---------------------------------------------------------------- VIPs
    def _add(self, router: uuidlib.UUID, vip: Prefix, lb: uuidlib.UUID) -> None:
        vips = self._by_router.setdefault(router, {})
        lbs = vips.get(vip)
        if lbs is None:
            lbs = vips[vip] = set()
            insort(self._sorted.setdefault((router, vip.family), []), vip.value)
        lbs.add(lb)
        self._changed[router, vip] = None

    def _drop(self, router: uuidlib.UUID, vip: Prefix, lb: uuidlib.UUID) -> None:
        vips = self._by_router[router]
        lbs = vips[vip]
        lbs.discard(lb)
        self._changed[router, vip] = None
        if lbs:
            return
        del vips[vip]
        if not vips:
            del self._by_router[router]
        values = self._sorted[router, vip.family]
        del values[bisect_left(values, vip.value)]
        if not values:
            del self._sorted[router, vip.family]


def _members(index: dict[uuidlib.UUID, Members], key: uuidlib.UUID) -> Members:
    members = index.get(key)
    if members is None:
        members = index[key] = Members()
    return members
