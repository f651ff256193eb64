"""Why a route is not advertised or learned: every reason, and the rule for a prefix.

The ledgers count what their sources want under (direction, reason) keys,
(LEARNED, transit switch) for the routes learned and (CONFLICT, conflict) for
the routes overlapping a local network; ``Routes.report`` publishes
every (direction, reason) series of REFUSAL_SERIES, at 0 too, as the
``routes_refused`` metric.
"""

from __future__ import annotations

from ..prefixes import Prefix, PrefixMatcher, is_link_local_prefix

ADVERTISE, LEARN = "advertise", "learn"  # directions
LEARNED = "learned"  # counts (LEARNED, transit switch): routes learned through it
CONFLICT = "conflict"  # counts (CONFLICT, overlaps.Conflict): routes overlapping a local network

REFUSED_DEFAULT = "default"          # a default route without ic-route-*-default
REFUSED_LINK_LOCAL = "link-local"    # a link-local prefix, or (advertising) next hop
REFUSED_BLACKLIST = "blacklist"      # inside an ic-route-blacklist/denylist entry
REFUSED_UNPARSABLE = "unparsable"    # prefix or next hop does not parse
REFUSED_NO_NEXTHOP = "no-nexthop"    # the port has no address of the prefix's family
REFUSED_DUPLICATE = "duplicate"      # another source advertises the same row (Q1)
REFUSED_LOCAL_WINS = "local-wins"    # the router has a static route to the prefix
REFUSED_CONFLICT = "conflict"        # overlaps a local network, under conflict-policy=deny
REFUSED_FAMILY = "family"            # next hop of the other family, not IPv4 over IPv6
REFUSED_LOADBALANCER = "loadbalancer"  # a load-balancer VIP route without ic-route-learn-lb
REFUSED_TAG = "tag"                  # its ic-route-tag is the learning port's filter tag
REFUSED_FILTER = "filter"            # outside the router's or port's ic-route-filter-* list
REFUSED_DENY = "deny"                # inside the router's or port's ic-route-deny-* list
REFUSED_LB = "lb"                    # the prefix holds a VIP of the learner's load balancers
REFUSED_DYNAMIC = "dynamic"          # the router learned the prefix by dynamic routing (26.03)

_COMMON = (REFUSED_BLACKLIST, REFUSED_DEFAULT, REFUSED_LINK_LOCAL, REFUSED_UNPARSABLE)
REFUSAL_SERIES = ([(ADVERTISE, reason) for reason in
                   (*_COMMON, REFUSED_NO_NEXTHOP, REFUSED_DUPLICATE, REFUSED_FILTER,
                    REFUSED_DENY)]
                  + [(LEARN, reason) for reason in (*_COMMON, REFUSED_LOCAL_WINS,
                                                    REFUSED_CONFLICT, REFUSED_FAMILY,
                                                    REFUSED_LOADBALANCER, REFUSED_TAG,
                                                    REFUSED_FILTER, REFUSED_DENY, REFUSED_LB,
                                                    REFUSED_DYNAMIC)])


def refusal_reason(prefix: Prefix, *, allow_default: bool,
                   matcher: PrefixMatcher) -> str | None:
    """Why ``prefix`` may not be advertised (or learned), or None if it may.

    ``allow_default`` is ``ic-route-adv-default`` (``ic-route-learn-default``);
    ``matcher`` holds the deny list.
    """
    if prefix.plen == 0 and not allow_default:
        return REFUSED_DEFAULT
    if is_link_local_prefix(prefix):
        return REFUSED_LINK_LOCAL
    if matcher.matches(prefix):
        return REFUSED_BLACKLIST
    return None
