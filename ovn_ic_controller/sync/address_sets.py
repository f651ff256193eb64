"""Address sets (26.09): this AZ's flagged sets out to the IC SB, other AZs' sets in.

The behaviour, and ovn-ic's, is docs/behaviour.md §15.  Active only where the IC
SB has an ``Address_Set`` table.  As ovn-ic 26.09:

- with ``NB_Global options:ic-as-adv=true``, every SB Address_Set (northd's copy
  of an NB set, its options included) with ``options:ic-adv=true`` is published
  as an IC SB Address_Set of this AZ, same name and addresses; this AZ's other
  IC SB sets (all of them while ic-as-adv is off) are deleted;
- with ``options:ic-as-learn=true``, the addresses of the other AZs' sets of one
  name, merged, become an NB Address_Set of that name marked
  ``external_ids:ic-learnt=true``; a learned set is deleted when no other AZ
  publishes its name any more, and every one while ic-as-learn is off;
- a name an operator's set (one without ic-learnt) has here is not learned:
  the local set wins (refusal ``local-wins``).

Departure: a name that northd gives a set of its own in the SB (a port group's
``<group>_ip4``/``_ip6``, ``svc_monitor_mac``, a router's load-balancer set
``_rtr_lb_<key>_ip4``/``_ip6``) is not learned (refusal ``reserved``): ovn-ic
learns it, and then every northd transaction fails on the SB's unique name.

Everything is decided per name.  The rows of each input table are indexed by
name; told which rows changed, the concern redoes the names those rows had
and have, so one changed set costs work for its name alone.  A change of the
two global options, of this AZ's row, or unknown changes redo every name.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .. import logs
from ..constants import IC_SB, NB, SB
from ..db.plan import Plan
from ..db.values import column, is_true
from .base import Concern, Context, columns
from .common import nb_global

log = logs.get("sync.address_sets")

AS_ADV, AS_LEARN = "ic-as-adv", "ic-as-learn"  # NB_Global options
ADV_KEY = "ic-adv"  # Address_Set options (NB, copied by northd to the SB)
LEARNT_KEY = "ic-learnt"  # NB Address_Set external_ids of a learned set

REFUSED_LOCAL_WINS = "local-wins"
REFUSED_RESERVED = "reserved"
REFUSAL_REASONS = (REFUSED_LOCAL_WINS, REFUSED_RESERVED)

_NORTHD_NAMES = re.compile(r"svc_monitor_mac|_rtr_lb_\d+_ip[46]")
_PORT_GROUP_SUFFIXES = ("_ip4", "_ip6")
_TABLE = "Address_Set"


def is_learnt(nb_set: Any) -> bool:
    return is_true(nb_set.external_ids.get(LEARNT_KEY))


class NameIndex:
    """Which rows of one table carry which name, kept current from the changed rows."""

    def __init__(self, db: str, table: str,
                 names: Callable[[str], Iterable[str]] = lambda name: (name,)) -> None:
        self.db, self.table, self.names = db, table, names
        self.name_of: dict[Any, str] = {}
        self.rows: dict[str, set[Any]] = defaultdict(set)

    def rebuild(self, ctx: Context) -> None:
        self.name_of.clear()
        self.rows.clear()
        for row in ctx.rows(self.db, self.table):
            self._add(row.uuid, row.name)

    def update(self, ctx: Context, changed: Iterable[Any]) -> set[str]:
        """Take in the rows ``changed``; the names they had and have (as ``names`` maps
        them), whose decisions may have changed."""
        dirty: set[str] = set()
        for uuid in changed:
            old = self.name_of.pop(uuid, None)
            if old is not None:
                self.rows[old].discard(uuid)
                if not self.rows[old]:
                    del self.rows[old]
                dirty.update(self.names(old))
            row = ctx.row(self.db, self.table, uuid)
            if row is not None:
                self._add(uuid, row.name)
                dirty.update(self.names(row.name))
        return dirty

    def current(self, ctx: Context, name: str) -> list[Any]:
        """The rows named ``name``, in UUID order."""
        found = (ctx.row(self.db, self.table, uuid) for uuid in self.rows.get(name, ()))
        return sorted((row for row in found if row is not None), key=lambda row: str(row.uuid))

    def _add(self, uuid: Any, name: str) -> None:
        self.name_of[uuid] = name
        self.rows[name].add(uuid)


class AddressSets(Concern):
    name = "address_sets"
    _nb_set = "name addresses external_ids"
    _ic_set = "name availability_zone addresses"
    reads = {NB: columns(NB_Global="options", Address_Set=_nb_set, Port_Group="name"),
             SB: columns(Address_Set="name addresses options"),
             IC_SB: columns(Availability_Zone="name", Address_Set=_ic_set)}
    writes = {NB: columns(Address_Set=_nb_set), IC_SB: columns(Address_Set=_ic_set)}

    incremental = True

    def __init__(self) -> None:
        self.indexes = {key: NameIndex(*key) for key in ((NB, _TABLE), (SB, _TABLE),
                                                         (IC_SB, _TABLE))}
        self.port_groups = NameIndex(NB, "Port_Group", lambda group: (
            group + suffix for suffix in _PORT_GROUP_SUFFIXES))
        self.state: tuple | None = None  # (az, ic-as-adv, ic-as-learn) the indexes were for
        # name -> (advertised, learned, refusal reason, IC SB rows refused), as last decided
        self.decided: dict[str, tuple[bool, bool, str | None, int]] = {}
        self.totals: Counter = Counter()  # "advertised", "learned", each reason -> count
        self.logged: dict[str, str] = {}  # name -> the refusal last logged for it

    def plan(self, ctx: Context) -> Plan:
        plan = Plan(self.name)
        if not ctx.has_column(IC_SB, _TABLE, "availability_zone"):
            self._forget()
            self._sweep_logged()
            return plan
        options = getattr(nb_global(ctx), "options", {})
        state = (ctx.az.uuid, is_true(options.get(AS_ADV)), is_true(options.get(AS_LEARN)))
        changed = ctx.changed_rows
        full = changed is None or state != self.state
        if full:
            self._forget()
            for index in (*self.indexes.values(), self.port_groups):
                index.rebuild(ctx)
            names = {name for index in self.indexes.values() for name in index.rows}
            self.state = state
        else:
            names = set()
            for index in (*self.indexes.values(), self.port_groups):
                names |= index.update(ctx, changed.get((index.db, index.table), ()))
        for name in sorted(names):
            self._decide(ctx, plan, name)
        if full:
            self._sweep_logged()
        if plan:
            log.info("address_sets.changes", **{f"{db}_{effect}": count for (db, effect), count
                                                in plan.counts().items()})
        return plan

    def report(self, metrics: Any) -> None:
        metrics.address_sets_advertised.set(self.totals["advertised"])
        metrics.address_sets_learned.set(self.totals["learned"])
        for reason in REFUSAL_REASONS:
            metrics.address_sets_refused.labels(reason=reason).set(self.totals[reason])

    def _forget(self) -> None:
        self.state = None
        self.decided.clear()
        self.totals.clear()

    # ------------------------------------------------------------ one name
    def _decide(self, ctx: Context, plan: Plan, name: str) -> None:
        _, adv, learn = self.state
        published = self.indexes[IC_SB, _TABLE].current(ctx, name)
        mine = [row for row in published if row.availability_zone.uuid == ctx.az.uuid]
        remote = [row for row in published if row.availability_zone.uuid != ctx.az.uuid]
        advertised = self._advertise(ctx, plan, name, mine, adv)
        learned, refusal = self._learn(ctx, plan, name, remote if learn else [])
        self._note(name, (advertised, learned, refusal, len(remote) if refusal else 0),
                   remote)

    def _advertise(self, ctx: Context, plan: Plan, name: str, mine: list[Any],
                   adv: bool) -> bool:
        """This AZ's IC SB set ``name`` as the SB set says, if published; whether it is."""
        source = next(iter(self.indexes[SB, _TABLE].current(ctx, name)), None)
        wanted = (adv and source is not None
                  and is_true(column(source, "options", {}).get(ADV_KEY)))
        if not wanted:
            for row in mine:
                plan.delete(IC_SB, _TABLE, row.uuid)
            return False
        if mine:  # one at most: the IC SB's index is (name, availability_zone)
            update_addresses(plan, IC_SB, mine[0], source.addresses)
        else:
            plan.insert(IC_SB, _TABLE, name=name, availability_zone=ctx.az.uuid,
                        addresses=sorted(source.addresses))
        return True

    def _learn(self, ctx: Context, plan: Plan, name: str,
               remote: list[Any]) -> tuple[bool, str | None]:
        """The NB set ``name`` as the other AZs publish it (``remote``: none while not
        learning); whether it is learned, and why not when it could be."""
        local = next(iter(self.indexes[NB, _TABLE].current(ctx, name)), None)
        refusal = None
        if local is not None and not is_learnt(local):
            refusal = REFUSED_LOCAL_WINS if remote else None
        elif remote and self._reserved(name):
            refusal = REFUSED_RESERVED
        if refusal is not None or not remote:
            if local is not None and is_learnt(local):
                plan.delete(NB, _TABLE, local.uuid)
            return False, refusal
        addresses = {address for row in remote for address in row.addresses}
        if local is None:
            plan.insert(NB, _TABLE, name=name, external_ids={LEARNT_KEY: "true"},
                        addresses=sorted(addresses))
        else:
            update_addresses(plan, NB, local, addresses)
        return True, None

    def _reserved(self, name: str) -> bool:
        """Whether northd names a set of its own so here (module docstring)."""
        if _NORTHD_NAMES.fullmatch(name):
            return True
        return (name.endswith(_PORT_GROUP_SUFFIXES)
                and name[:-len(_PORT_GROUP_SUFFIXES[0])] in self.port_groups.rows)

    def _note(self, name: str, decision: tuple[bool, bool, str | None, int],
              remote: list[Any]) -> None:
        """Keep the totals for the metrics, and log a refusal when it appears or goes."""
        before = self.decided.pop(name, (False, False, None, 0))
        for was, sign in ((before, -1), (decision, 1)):
            advertised, learned, reason, refused = was
            self.totals["advertised"] += sign * advertised
            self.totals["learned"] += sign * learned
            if reason is not None:
                self.totals[reason] += sign * refused
        if decision != (False, False, None, 0):
            self.decided[name] = decision
        reason = decision[2]
        logged = self.logged.get(name)
        if reason == logged:
            return
        if logged is not None:
            del self.logged[name]
            log.info("address_set.refusal_gone", address_set=name, reason=logged)
        if reason is not None:
            self.logged[name] = reason
            say = log.info if reason == REFUSED_LOCAL_WINS else log.warning
            say("address_set.refused", address_set=name, reason=reason,
                rows=[str(row.uuid) for row in remote],
                availability_zones=sorted(row.availability_zone.name for row in remote),
                message=_WHY[reason])

    def _sweep_logged(self) -> None:
        """After a full pass: the refusals logged that no name has any more are gone."""
        for name, reason in list(self.logged.items()):
            if name not in self.decided or self.decided[name][2] is None:
                del self.logged[name]
                log.info("address_set.refusal_gone", address_set=name, reason=reason)


_WHY = {
    REFUSED_LOCAL_WINS: "an operator's address set of this AZ has the name: not learned",
    REFUSED_RESERVED: "northd names a set of its own so in this AZ's SB: not learned, as "
                      "learning it would make northd's transactions fail",
}


def update_addresses(plan: Plan, db: str, row: Any, wanted: Iterable[str]) -> None:
    """Bring ``row.addresses`` to ``wanted``, an address at a time (as ovn-ic does)."""
    current, wanted = set(row.addresses), set(wanted)
    for address in sorted(wanted - current):
        plan.addvalue(db, _TABLE, row.uuid, "addresses", address)
    for address in sorted(current - wanted):
        plan.delvalue(db, _TABLE, row.uuid, "addresses", address)
