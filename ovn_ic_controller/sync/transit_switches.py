"""Transit switches: IC NB Transit_Switch → IC SB Datapath_Binding → NB Logical_Switch.

The behaviour, and ovn-ic's, is docs/behaviour.md §3.

Every AZ keeps one NB switch (its "mirror") per transit switch, carrying the
key of the switch's binding.  The bindings are global rows: on IC schemas
before 26.03 every AZ creates and deletes them; on 26.03's and later only the
AZ whose controller holds the ``ovn_ic_sb`` lock (``ctx.global_writer``,
db/ic_sb_lock.py), which also stamps ``type`` and ``nb_ic_uuid`` on them and
keeps one binding per transit router.  A binding typed otherwise than
``transit-switch`` (a transit router's) is never taken for a switch's.  The
bindings are read where they are written (``ctx.global_rows``).

Keys come from the IC SB's allocation rule: before 25.03, round-robin from a
hint kept by the process (23.03); from 25.03 (its IC SB is the first with
``SSL.ssl_ciphersuites``), the lowest free key on every pass, in 1024–4095
while IC_NB_Global ``options:vxlan_mode`` is on and some gateway has a vxlan
encap.  25.03's mirrors carry ``other_config:ic-vxlan_mode``, and a mirror
whose mode changes makes its AZ re-key the bindings, as ovn-ic does, except
those a peer has already moved into the mode's range.

Switches are handled in name order, so daemons with the same view pick the same
keys and the IC SB's unique index rejects all but one; the losers recompute.
When keys differ, duplicates appear.  ovn-ic deletes all but one it picks by
hash order, which we cannot predict, so we give a peer a moment to settle them
first; if they persist, we keep the one with the lowest key, a rule every AZ
running this daemon computes alike.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .. import logs
from ..constants import (
    IC_NB,
    IC_SB,
    IC_SB_LOCKED,
    INTERCONN_TS,
    NB,
    REQUESTED_KEY,
    TR_DATAPATH,
    TS_DATAPATH,
)
from ..db.plan import Plan
from ..db.values import column, is_true, optional_ref, parse_int
from .base import Concern, Context, columns
from .common import binding_type, transit_switch_mirrors
from .tunnel_keys import TunnelKeyAllocator, lowest_free

log = logs.get("sync.transit_switches")

TS_KEY_MIN, TS_KEY_MAX = 16711681, 16777215  # 2^24 - 65535 .. 2^24 - 1
VXLAN_KEY_MIN, VXLAN_KEY_MAX = 1024, 4095    # with vxlan_mode (25.03)
VXLAN_MODE = "ic-vxlan_mode"  # NB Logical_Switch other_config of a mirror (25.03)
# How long duplicate bindings are left for a peer to resolve before we do.
DUPLICATE_GRACE_S = 2.0

_DATAPATH = "transit_switch tunnel_key type nb_ic_uuid"


@dataclasses.dataclass(frozen=True)
class Rules:
    """What the connected IC databases call for."""

    fresh_keys: bool = False  # 25.03+: lowest free key on every pass; vxlan_mode honoured
    vxlan: bool = False       # vxlan mode is on: keys in VXLAN_KEY_MIN..MAX
    typed: bool = False       # 26.03+: type and nb_ic_uuid; transit routers' bindings

    @classmethod
    def of(cls, ctx: Context) -> Rules:
        fresh = ctx.has_column(IC_SB, "SSL", "ssl_ciphersuites")
        ic_nb = next(iter(ctx.rows(IC_NB, "IC_NB_Global")), None)
        vxlan = (fresh and ic_nb is not None and is_true(ic_nb.options.get("vxlan_mode"))
                 and any(encap.type == "vxlan" for encap in ctx.rows(IC_SB, "Encap")))
        return cls(fresh, vxlan, ctx.has_column(IC_SB, "Datapath_Binding", "nb_ic_uuid"))


def _in_range(key: int, vxlan: bool) -> bool:
    """Whether ``key`` is one the mode allocates (after a change of mode, ovn-ic re-keys
    even those, so that two AZs re-keying one after the other move a key twice)."""
    if vxlan:
        return VXLAN_KEY_MIN <= key <= VXLAN_KEY_MAX
    return TS_KEY_MIN <= key <= TS_KEY_MAX


class TransitSwitches(Concern):
    name = "transit_switches"
    reads = {NB: columns(Logical_Switch="name other_config"),
             IC_NB: columns(Transit_Switch="name", Transit_Router="name",
                            IC_NB_Global="options"),
             IC_SB: columns(Datapath_Binding=_DATAPATH, Encap="type")}
    writes = {NB: columns(Logical_Switch="name other_config"),
              IC_SB: columns(Datapath_Binding=_DATAPATH),
              IC_SB_LOCKED: columns(Datapath_Binding=_DATAPATH)}

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.keys = TunnelKeyAllocator("transit switch datapath", TS_KEY_MIN, TS_KEY_MAX,
                                       hint=TS_KEY_MIN)
        self.clock = clock
        # transit switch -> (its duplicate binding uuids, when we first saw exactly those)
        self.duplicates_since: dict[str, tuple[frozenset, float]] = {}

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        rules = Rules.of(ctx)
        switches = {ts.name: ts for ts in ctx.rows(IC_NB, "Transit_Switch")}
        names = sorted(switches)
        bindings: dict[str, list[Any]] = defaultdict(list)
        routers: list[Any] = []
        used: set[int] = set()  # every datapath's key, a transit router's too
        writer = ctx.global_writer
        for binding in ctx.global_rows("Datapath_Binding"):
            used.add(binding.tunnel_key)
            kind = binding_type(binding)
            if kind in ("", TS_DATAPATH):
                bindings[binding.transit_switch].append(binding)
            elif kind == TR_DATAPATH:
                routers.append(binding)
        chosen, extras = self._settle_duplicates(names, bindings)
        toggled = self._sync_logical_switches(ctx, plan, names, chosen, rules)
        if writer is None:
            return plan
        self._sync_bindings(plan, writer, switches, bindings, chosen, extras, used, rules,
                            toggled)
        if rules.typed and ctx.has_column(IC_NB, "Transit_Router", "name"):
            self._sync_router_bindings(ctx, plan, writer, routers, used)
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
        self.duplicates_since = seen
        pending = [since + DUPLICATE_GRACE_S for ts, (_, since) in seen.items()
                   if ts not in chosen]
        self.recheck_at = min(pending) if pending else None
        return chosen, extras

    def _sync_logical_switches(self, ctx: Context, plan: Plan, switches: list[str],
                               chosen: dict[str, Any], rules: Rules) -> bool:
        """One NB switch per transit switch, carrying the committed binding's key (and, on
        25.03's IC databases, the vxlan mode).  True when an existing one's mode changed."""
        by_ts = transit_switch_mirrors(ctx)
        toggled = False
        mode = "true" if rules.vxlan else "false"
        for ts in switches:
            binding = chosen.get(ts)
            key = binding.tunnel_key if binding is not None else None
            candidates = by_ts.pop(ts, [])
            if not candidates:
                other_config = {INTERCONN_TS: ts}
                if rules.fresh_keys:
                    other_config[VXLAN_MODE] = mode
                if key is not None:
                    other_config[REQUESTED_KEY] = str(key)
                log.info("transit_switch.logical_switch_created", transit_switch=ts,
                         tunnel_key=key)
                plan.insert(NB, "Logical_Switch", name=ts, other_config=other_config)
                continue
            keep, *duplicates = candidates
            self._delete_switches(plan, duplicates, "duplicate")
            if rules.fresh_keys and is_true(keep.other_config.get(VXLAN_MODE)) != rules.vxlan:
                toggled = True
                plan.setkey(NB, "Logical_Switch", keep.uuid, "other_config", VXLAN_MODE, mode)
            if key is not None and parse_int(keep.other_config.get(REQUESTED_KEY)) != key:
                plan.setkey(NB, "Logical_Switch", keep.uuid, "other_config", REQUESTED_KEY,
                            str(key))
        for orphans in by_ts.values():
            self._delete_switches(plan, orphans, "no-transit-switch")
        return toggled

    @staticmethod
    def _delete_switches(plan: Plan, switches: Iterable[Any], reason: str) -> None:
        for switch in switches:
            log.info("transit_switch.logical_switch_deleted", name=switch.name,
                     row=str(switch.uuid), reason=reason)
            plan.delete(NB, "Logical_Switch", switch.uuid)

    def _allocate(self, used: set[int], rules: Rules, vxlan: bool) -> int | None:
        if not rules.fresh_keys:
            return self.keys.allocate(used)
        if vxlan:
            return lowest_free("transit switch datapath", VXLAN_KEY_MIN, VXLAN_KEY_MAX, used)
        return lowest_free("transit switch datapath", TS_KEY_MIN, TS_KEY_MAX, used)

    def _sync_bindings(self, plan: Plan, writer: str, switches: dict[str, Any],
                       bindings: dict[str, list[Any]], chosen: dict[str, Any],
                       extras: list[Any], used: set[int], rules: Rules, toggled: bool) -> None:
        """A binding with a fresh key for each new transit switch, new keys for all after a
        change of vxlan mode, type and nb_ic_uuid stamped; stale ones and duplicates
        deleted."""
        for ts in sorted(switches):
            if ts not in bindings:
                key = self._allocate(used, rules, rules.vxlan)
                if key is None:
                    continue
                log.info("transit_switch.binding_created", transit_switch=ts, tunnel_key=key)
                values: dict[str, Any] = {"transit_switch": ts, "tunnel_key": key}
                if rules.typed:
                    values.update(type=TS_DATAPATH, nb_ic_uuid=switches[ts].uuid)
                plan.insert(writer, "Datapath_Binding", **values)
                continue
            binding = chosen.get(ts)
            if binding is None:
                continue  # duplicates, left to a peer for now
            if toggled and not _in_range(binding.tunnel_key, rules.vxlan):
                key = self._allocate(used, rules, rules.vxlan)
                if key is not None:
                    log.info("transit_switch.binding_rekeyed", transit_switch=ts,
                             tunnel_key=key, old=binding.tunnel_key, vxlan_mode=rules.vxlan)
                    plan.set(writer, "Datapath_Binding", binding.uuid, tunnel_key=key)
            if rules.typed:
                if not binding_type(binding):
                    plan.set(writer, "Datapath_Binding", binding.uuid, type=TS_DATAPATH)
                if optional_ref(column(binding, "nb_ic_uuid", [])) is None:
                    plan.set(writer, "Datapath_Binding", binding.uuid,
                             nb_ic_uuid=switches[ts].uuid)
        for row in extras:
            log.warning("transit_switch.duplicates_deleted", transit_switch=row.transit_switch,
                        kept=chosen[row.transit_switch].tunnel_key, deleted=row.tunnel_key)
        stale = [row for ts, rows in bindings.items() if ts not in switches for row in rows]
        for row in stale:
            log.info("transit_switch.binding_deleted", transit_switch=row.transit_switch,
                     tunnel_key=row.tunnel_key)
        for row in stale + extras:
            plan.delete(writer, "Datapath_Binding", row.uuid)

    def _sync_router_bindings(self, ctx: Context, plan: Plan, writer: str,
                              bindings: list[Any], used: set[int]) -> None:
        """One binding per IC NB transit router (26.03), as the global rows' writer; the
        routers' NB side and ports are sync/transit_routers.py's."""
        routers = {router.uuid: router for router in ctx.rows(IC_NB, "Transit_Router")}
        kept: set[Any] = set()
        for binding in sorted(bindings, key=lambda row: (row.tunnel_key, str(row.uuid))):
            router = optional_ref(column(binding, "nb_ic_uuid", []))
            if router in routers and router not in kept:
                kept.add(router)
                continue
            log.info("transit_router.binding_deleted", tunnel_key=binding.tunnel_key,
                     transit_router=str(router))
            plan.delete(writer, "Datapath_Binding", binding.uuid)
        for router in sorted(routers.values(), key=lambda row: row.name):
            if router.uuid in kept:
                continue
            key = lowest_free("transit router datapath", TS_KEY_MIN, TS_KEY_MAX, used)
            if key is None:
                continue
            log.info("transit_router.binding_created", transit_router=router.name,
                     tunnel_key=key)
            plan.insert(writer, "Datapath_Binding", tunnel_key=key, type=TR_DATAPATH,
                        nb_ic_uuid=router.uuid)
