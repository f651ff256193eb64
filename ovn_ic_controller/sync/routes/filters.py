"""The per-router and per-port route controls of newer OVN (docs/behaviour.md §6.9), pure.

All are options of a router (Logical_Router) or of its port on a transit switch (the
LRP behind this AZ's transit-switch port), and apply to what goes through that port:

- route tags (25.03): the port's ``ic-route-tag`` is written into the
  ``external_ids:ic-route-tag`` of every route advertised through it; a learning
  port whose ``ic-route-filter-tag`` equals a route's tag does not learn it;
- allow-lists (25.09): ``ic-route-filter-adv`` / ``ic-route-filter-learn``, CIDR
  lists; the port's and the router's entries are merged into one list, and where
  that list has any entry, only a prefix inside one of them passes;
- deny lists (26.03): ``ic-route-deny-adv`` / ``ic-route-deny-learn``, merged
  the same way; a prefix inside any entry is refused.  ovn-ic merges the global
  ``ic-route-denylist`` into this list too; here the global list is checked
  first (reasons.refusal_reason), so a prefix both lists hold counts as ``blacklist``.

"Inside" is the denylist's rule (prefixes.PrefixMatcher): of the same family, at
least as long, and the entry's leading bits agree.  As in ovn-ic, an entry that is
not a CIDR is ignored and warned about, but still makes an allow-list non-empty: an
allow-list of only bad entries lets nothing through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from ..prefixes import Prefix, PrefixMatcher, parse_prefix_list
from .reasons import ADVERTISE, LEARN, REFUSED_DENY, REFUSED_FILTER

ROUTE_TAG = "ic-route-tag"                # LRP: tag of the routes advertised through it
FILTER_TAG = "ic-route-filter-tag"        # LRP: routes with this tag are not learned
ALLOW = {ADVERTISE: "ic-route-filter-adv", LEARN: "ic-route-filter-learn"}  # LR and LRP
DENY = {ADVERTISE: "ic-route-deny-adv", LEARN: "ic-route-deny-learn"}       # LR and LRP
LIST_KEYS = (*ALLOW.values(), *DENY.values())
PORT_KEYS = (ROUTE_TAG, FILTER_TAG, *LIST_KEYS)

PORT, ROUTER = "Logical_Router_Port", "Logical_Router"  # where a control is set
Controls = tuple[tuple[str, str], ...]  # (option, value) of the keys above that a row has


def controls(options: Mapping[str, str], keys: Iterable[str] = PORT_KEYS) -> Controls:
    """The route-control options among a row's ``options``, as a small hashable value."""
    return tuple((key, options[key]) for key in keys if key in options)


@dataclasses.dataclass(frozen=True)
class Lists:
    """One direction's merged deny list and allow-list of a port (None: no such list)."""

    deny: PrefixMatcher | None = None
    allow: PrefixMatcher | None = None

    def refusal(self, prefix: Prefix) -> str | None:
        """Why the lists refuse ``prefix`` (``deny``, ``filter``), or None if they pass it."""
        if self.deny is not None and self.deny.matches(prefix):
            return REFUSED_DENY
        if self.allow is not None and not self.allow.matches(prefix):
            return REFUSED_FILTER
        return None


NO_LISTS = Lists()


@dataclasses.dataclass(frozen=True)
class PortFilters:
    """Every control that applies to the routes through one transit-switch port."""

    tag: str = ""         # written as ic-route-tag on what it advertises ("": none)
    filter_tag: str = ""  # its ic-route-filter-tag
    advertise: Lists = NO_LISTS
    learn: Lists = NO_LISTS

    def refuses_tag(self, route_tag: str | None) -> bool:
        """A route carrying a tag equal to the port's filter tag is not learned (as
        ovn-ic compares them: a route tagged "" is refused by a port without one)."""
        return route_tag is not None and route_tag == self.filter_tag


NO_FILTERS = PortFilters()
# What route sync knows of the ports that have controls, by logical_port (the name of
# this AZ's LSP on the transit switch); a port not in it has none.
FilterMap = Mapping[str, PortFilters]


def port_filters(port: Controls,
                 router: Controls) -> tuple[PortFilters, list[tuple[str, str, str]]]:
    """The filters of a port with the controls ``port`` whose router has ``router``, and
    the (PORT or ROUTER, option, entry) of each entry that is not a CIDR."""
    port_options, router_options = dict(port), dict(router)
    invalid: list[tuple[str, str, str]] = []

    def merged(key: str) -> PrefixMatcher | None:
        entries: list[Prefix] = []
        present = False
        for on, options in ((PORT, port_options), (ROUTER, router_options)):
            valid, bad = parse_prefix_list(options.get(key, ""))
            entries += valid
            invalid.extend((on, key, entry) for entry in bad)
            present = present or bool(valid or bad)
        return PrefixMatcher(entries) if present else None

    lists = {direction: Lists(deny=merged(DENY[direction]), allow=merged(ALLOW[direction]))
             for direction in (ADVERTISE, LEARN)}
    return PortFilters(port_options.get(ROUTE_TAG, ""), port_options.get(FILTER_TAG, ""),
                       lists[ADVERTISE], lists[LEARN]), invalid
