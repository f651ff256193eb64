"""Transit switches: IC NB Transit_Switch → IC SB Datapath_Binding → NB Logical_Switch.

The behaviour, and ovn-ic's, is docs/behaviour.md §3.

Every AZ manages the global Datapath_Binding rows, so two AZs may create one
for a new transit switch at the same moment.  Switches are handled in name
order, so daemons with the same allocation history pick the same keys and the
IC SB's unique tunnel_key index rejects all but one; the losers recompute.
When keys differ, duplicates appear.  ovn-ic 23.03 deletes all but one it
picks by hash order, which we cannot predict, so we give a peer a moment to
settle them first; if they persist, we keep the one with the lowest key, a rule
every AZ running this daemon computes alike.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .. import logs
from ..constants import IC_NB, IC_SB, INTERCONN_TS, NB, REQUESTED_KEY
from ..db.plan import Plan
from ..db.values import parse_int
from .base import Concern, Context, columns
from .common import is_switch_binding, transit_switch_mirrors
from .tunnel_keys import TunnelKeyAllocator

log = logs.get("sync.transit_switches")

TS_KEY_MIN, TS_KEY_MAX = 16711681, 16777215  # 2^24 - 65535 .. 2^24 - 1
# How long duplicate bindings are left for a peer to resolve before we do.
DUPLICATE_GRACE_S = 2.0


class TransitSwitches(Concern):
    name = "transit_switches"
    reads = {NB: columns(Logical_Switch="name other_config"),
             IC_NB: columns(Transit_Switch="name"),
             IC_SB: columns(Datapath_Binding="transit_switch tunnel_key type")}
    writes = {NB: columns(Logical_Switch="name other_config"),
              IC_SB: columns(Datapath_Binding="transit_switch tunnel_key")}

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.keys = TunnelKeyAllocator("transit switch datapath", TS_KEY_MIN, TS_KEY_MAX,
                                       hint=TS_KEY_MIN)
        self.clock = clock
        # transit switch -> (its duplicate binding uuids, when we first saw exactly those)
        self.duplicates_since: dict[str, tuple[frozenset, float]] = {}

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        switches = sorted({ts.name for ts in ctx.rows(IC_NB, "Transit_Switch")})
        bindings: dict[str, list[Any]] = defaultdict(list)
        used: set[int] = set()  # every datapath's key, a transit router's too
        for binding in ctx.rows(IC_SB, "Datapath_Binding"):
            used.add(binding.tunnel_key)
            if is_switch_binding(binding):
                bindings[binding.transit_switch].append(binding)
        chosen, extras = self._settle_duplicates(switches, bindings)
        self._sync_logical_switches(ctx, plan, switches, chosen)
        self._sync_bindings(plan, switches, bindings, extras, used)
        return plan

    def _settle_duplicates(self, switches: list[str], bindings: dict[str, list[Any]]
                           ) -> tuple[dict[str, Any], list[Any]]:
        """The binding each switch uses (none while duplicates are left to a peer), and
        the duplicates to delete now."""
        now = self.clock()
        chosen: dict[str, Any] = {}
        extras: list[Any] = []
        seen: dict[str, tuple[frozenset, float]] = {}
        for ts in switches:
            rows = bindings.get(ts, [])
            if len(rows) <= 1:
                if rows:
                    chosen[ts] = rows[0]
                continue
            ids = frozenset(row.uuid for row in rows)
            previous = self.duplicates_since.get(ts)
            if previous is not None and previous[0] == ids:
                since = previous[1]
            else:
                since = now
                log.info("transit_switch.duplicate_bindings", transit_switch=ts,
                         tunnel_keys=sorted(row.tunnel_key for row in rows),
                         settle_in_s=DUPLICATE_GRACE_S)
            seen[ts] = (ids, since)
            if now - since < DUPLICATE_GRACE_S:
                continue
            keep = min(rows, key=lambda row: (row.tunnel_key, str(row.uuid)))
            chosen[ts] = keep
            extras.extend(row for row in rows if row is not keep)
            log.warning("transit_switch.duplicates_deleted", transit_switch=ts,
                        kept=keep.tunnel_key,
                        deleted=sorted(row.tunnel_key for row in rows if row is not keep))
        self.duplicates_since = seen
        pending = [since + DUPLICATE_GRACE_S for ts, (_, since) in seen.items()
                   if ts not in chosen]
        self.recheck_at = min(pending) if pending else None
        return chosen, extras

    def _sync_logical_switches(self, ctx: Context, plan: Plan, switches: list[str],
                               chosen: dict[str, Any]) -> None:
        """One NB switch per transit switch, carrying the committed binding's key."""
        by_ts = transit_switch_mirrors(ctx)
        for ts in switches:
            binding = chosen.get(ts)
            key = binding.tunnel_key if binding is not None else None
            candidates = by_ts.pop(ts, [])
            if not candidates:
                other_config = {INTERCONN_TS: ts}
                if key is not None:
                    other_config[REQUESTED_KEY] = str(key)
                log.info("transit_switch.logical_switch_created", transit_switch=ts,
                         tunnel_key=key)
                plan.insert(NB, "Logical_Switch", name=ts, other_config=other_config)
                continue
            keep, *duplicates = candidates
            self._delete_switches(plan, duplicates, "duplicate")
            if key is not None and parse_int(keep.other_config.get(REQUESTED_KEY)) != key:
                plan.setkey(NB, "Logical_Switch", keep.uuid, "other_config", REQUESTED_KEY,
                            str(key))
        for orphans in by_ts.values():
            self._delete_switches(plan, orphans, "no-transit-switch")

    @staticmethod
    def _delete_switches(plan: Plan, switches: Iterable[Any], reason: str) -> None:
        for switch in switches:
            log.info("transit_switch.logical_switch_deleted", name=switch.name,
                     row=str(switch.uuid), reason=reason)
            plan.delete(NB, "Logical_Switch", switch.uuid)

    def _sync_bindings(self, plan: Plan, switches: list[str], bindings: dict[str, list[Any]],
                       extras: list[Any], used: set[int]) -> None:
        """A binding with a fresh key for each new transit switch; stale ones deleted."""
        for ts in switches:
            if ts in bindings:
                continue
            key = self.keys.allocate(used)
            if key is None:
                continue
            log.info("transit_switch.binding_created", transit_switch=ts, tunnel_key=key)
            plan.insert(IC_SB, "Datapath_Binding", transit_switch=ts, tunnel_key=key)
        wanted = set(switches)
        stale = [row for ts, rows in bindings.items() if ts not in wanted for row in rows]
        for row in stale:
            log.info("transit_switch.binding_deleted", transit_switch=row.transit_switch,
                     tunnel_key=row.tunnel_key)
        for row in stale + extras:
            plan.delete(IC_SB, "Datapath_Binding", row.uuid)
