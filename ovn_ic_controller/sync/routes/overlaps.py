"""Other AZs' routes that overlap this AZ's own networks: conflicts (docs/behaviour.md §6.8).

A route another AZ advertises *conflicts* in a router that would learn it when
its prefix overlaps one of that router's local networks:

- a network of a router port that does not face a transit switch (link-local
  and /0 aside), either way: the route lies within the network, is equal to
  it, or covers it;
- with ``conflict-scope = subnets+static-routes``, also the prefix of one of
  the router's own destination static routes (/0 and link-local aside), when
  the route lies within it: a route that covers a static route's prefix takes
  none of its traffic (longest prefix wins), and summary routes over static
  routes are common.

``ConflictRules.deny`` (``auto-route=true`` and ``conflict-policy=deny`` while
an automated router exists) refuses a conflicting route where it would be
learned, in the computation that would learn it, so it is never written;
otherwise it is learned and reported as an overlap.  Either way it is a
conflict: counted, logged and shown.  Local networks stay advertised: nothing
goes into ``ic-route-blacklist``, which would stop advertising them too.

Checking a route costs a look at the learning router's few subnets and one
lookup per length of its static routes; a static route that appears or goes
re-checks only the other AZs' routes near its prefix (``Neighbourhoods``).
"""

from __future__ import annotations

import dataclasses
import uuid as uuidlib
from collections import Counter
from collections.abc import Iterator, Mapping

from ..prefixes import Prefix, is_link_local_prefix, parse_cidr
from .reasons import CONFLICT, LEARN, REFUSED_CONFLICT
from .records import ConflictRules, IcRoute, RouterView

_WIDTH = {4: 32, 6: 128}


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Conflict:
    """A route of ``az`` (its UUID) to ``remote`` that ``router`` would learn, overlapping its
    ``local`` network; ``learned`` unless refused.  Networks as text, host bits dropped."""

    router: str
    local: str
    remote: str
    az: uuidlib.UUID
    learned: bool


def network(prefix: Prefix) -> Prefix:
    """``prefix`` with its host bits dropped."""
    shift = _WIDTH[prefix.family] - prefix.plen
    return Prefix(prefix.family, prefix.value >> shift << shift, prefix.plen)


def protectable(prefix: Prefix) -> bool:
    """A default route covers everything, and link-local ones mean nothing beyond the link:
    neither is a local network."""
    return prefix.plen > 0 and not is_link_local_prefix(prefix)


def _overlap(a: Prefix, b: Prefix) -> bool:
    if a.family != b.family:
        return False
    shift = _WIDTH[a.family] - min(a.plen, b.plen)
    return a.value >> shift == b.value >> shift


class ProtectedNetworks:
    """Each router's local networks: its subnets (fixed for a topology) and, under the
    static-routes scope, its static routes' prefixes (counted in and out)."""

    def __init__(self, rules: ConflictRules, routers: Mapping[uuidlib.UUID, RouterView]) -> None:
        self.rules = rules
        self._subnets: dict[uuidlib.UUID, tuple[Prefix, ...]] = {}
        for router in routers.values():
            parsed = (parse_cidr(text) for _, text in router.connected)
            subnets = tuple(dict.fromkeys(network(prefix) for prefix in parsed
                                          if prefix is not None and protectable(prefix)))
            if subnets:
                self._subnets[router.uuid] = subnets
        # Per router, per (family, length): how many static routes have each leading bits.
        self._statics: dict[uuidlib.UUID, dict[tuple[int, int], Counter]] = {}

    def count_static(self, router: uuidlib.UUID, prefix: Prefix, delta: int) -> Prefix | None:
        """Count a static route's prefix in (1) or out (-1); the network if it became or
        stopped being protected, else None."""
        if not protectable(prefix):
            return None
        lengths = self._statics.setdefault(router, {})
        bits = lengths.setdefault((prefix.family, prefix.plen), Counter())
        leading = prefix.value >> (_WIDTH[prefix.family] - prefix.plen)
        before = bits.get(leading, 0)
        if before + delta:
            bits[leading] = before + delta
        else:
            del bits[leading]
            if not bits:
                del lengths[prefix.family, prefix.plen]
        return network(prefix) if not before or not before + delta else None

    def overlapping(self, router: uuidlib.UUID, prefix: Prefix) -> list[Prefix]:
        """The router's local networks that ``prefix`` conflicts with."""
        found = [subnet for subnet in self._subnets.get(router, ()) if _overlap(subnet, prefix)]
        statics = self._statics.get(router)
        if statics:
            width = _WIDTH[prefix.family]
            for (family, plen), bits in statics.items():
                if family == prefix.family and plen <= prefix.plen:
                    leading = prefix.value >> (width - plen)
                    if leading in bits:
                        found.append(Prefix(family, leading << (width - plen), plen))
        return found

    def judge(self, router: RouterView, route: IcRoute) -> tuple[bool, list]:
        """Whether ``router`` must refuse ``route``, and the counts to note for it: a
        refusal, and each conflict."""
        overlaps = self.overlapping(router.uuid, route.prefix)
        if not overlaps:
            return False, []
        deny = self.rules.deny
        remote = str(network(route.prefix))
        counts: list = [((CONFLICT, Conflict(router.name, str(local), remote,
                                             route.availability_zone, not deny)), 1)
                        for local in dict.fromkeys(overlaps)]
        if deny:
            counts.append(((LEARN, REFUSED_CONFLICT), 1))
        return deny, counts


class Neighbourhoods:
    """Other AZs' routes by the leading bits of their prefix, to find those within a network
    without looking at every route: only those sharing its first 16 (IPv4) or 48 (IPv6)
    bits, or with a shorter prefix, are looked at."""

    LEADING = {4: 16, 6: 48}

    def __init__(self) -> None:
        self._near: dict[tuple[int, int], dict[uuidlib.UUID, Prefix]] = {}

    def _key(self, prefix: Prefix) -> tuple[int, int]:
        leading = self.LEADING[prefix.family]
        if prefix.plen < leading:
            return prefix.family, -1
        return prefix.family, prefix.value >> (_WIDTH[prefix.family] - leading)

    def add(self, uuid: uuidlib.UUID, prefix: Prefix) -> None:
        self._near.setdefault(self._key(prefix), {})[uuid] = prefix

    def remove(self, uuid: uuidlib.UUID, prefix: Prefix) -> None:
        key = self._key(prefix)
        routes = self._near[key]
        del routes[uuid]
        if not routes:
            del self._near[key]

    def within(self, outer: Prefix) -> Iterator[uuidlib.UUID]:
        """The routes whose prefix lies within ``outer`` (or equals it)."""
        family, leading = outer.family, self.LEADING[outer.family]
        if outer.plen >= leading:
            keys = [self._key(outer)]
        else:
            span = 1 << (leading - outer.plen)
            first = outer.value >> (_WIDTH[family] - outer.plen) << (leading - outer.plen)
            if span <= len(self._near):
                keys = [(family, first + offset) for offset in range(span)]
            else:
                keys = [key for key in self._near
                        if key[0] == family and first <= key[1] < first + span]
            keys.append((family, -1))
        for key in keys:
            for uuid, prefix in self._near.get(key, {}).items():
                if prefix.plen >= outer.plen and _overlap(prefix, outer):
                    yield uuid
