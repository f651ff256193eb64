"""Small helpers that several sync concerns need, each written once.

- ``nb_global``: the NB_Global row;
- ``transit_switch_mirrors``/``mirror_switches``: which NB switch stands for
  which transit switch (one rule for transit_switches, ports, automation, leave);
- ``is_remote_chassis``: which SB Chassis stands for another AZ's gateway;
- ``is_switch_binding``: which IC SB bindings are transit switches' and their ports';
- ``LogOnce``: log a problem when it appears, not again while it persists;
- ``publish_gauge``: set a labelled gauge, removing the labels that went away.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from ..constants import INTERCONN_TS, IS_INTERCONN, IS_REMOTE, LS, NB, TS_DATAPATH, TS_PORT
from ..db.values import column, is_true
from .base import Context


def nb_global(ctx: Context) -> Any | None:
    """The NB_Global row (there is one), or None before northd or an operator made it."""
    return next(iter(ctx.rows(NB, "NB_Global")), None)


def transit_switch_mirrors(ctx: Context) -> dict[str, list[Any]]:
    """Every NB switch with ``other_config:interconn-ts``, by that transit switch's name.

    The rule, the same for every concern: the switches whose ``interconn-ts`` is T
    stand for transit switch T.  The first of each list is T's mirror: the one named
    T, else the lowest UUID; the transit_switches concern deletes the others, and
    every mirror of a T that no longer exists.  A switch named T without
    ``interconn-ts`` is an operator's, never a mirror (as in ovn-ic).
    """
    found: dict[str, list[Any]] = {}
    for switch in ctx.rows(NB, LS):
        ts = switch.other_config.get(INTERCONN_TS)
        if ts is not None:
            found.setdefault(ts, []).append(switch)
    for ts, switches in found.items():
        switches.sort(key=lambda switch: (switch.name != ts, str(switch.uuid)))
    return found


def mirror_switches(ctx: Context) -> dict[str, Any]:
    """Each transit switch's mirror (``transit_switch_mirrors``' rule), by its name."""
    return {ts: switches[0] for ts, switches in transit_switch_mirrors(ctx).items()}


def is_remote_chassis(chassis: Any) -> bool:
    """An SB Chassis standing for another AZ's gateway, as ovn-ic decides it.

    ``is-remote`` marks the rows an IC controller creates; ``is-interconn``
    (which ovn-controller owns) wins over it, so a chassis carrying both is this
    AZ's own gateway: never mirrored over, never deleted on leave.
    """
    return (is_true(chassis.other_config.get(IS_REMOTE))
            and not is_true(chassis.other_config.get(IS_INTERCONN)))


def binding_type(binding: Any) -> str:
    """The ``type`` of an IC SB Datapath_Binding or Port_Binding: "" when unset, and on a
    schema older than 26.03, which has no such column."""
    value = column(binding, "type", "")
    if isinstance(value, (list, tuple)):
        return value[0] if value else ""
    return value


def is_switch_binding(binding: Any) -> bool:
    """A binding of a transit switch or of a port on one: without a type (as every binding
    before 26.03) or typed so.  Those of transit routers and their ports are not."""
    return binding_type(binding) in ("", TS_DATAPATH, TS_PORT)


class LogOnce:
    """Logs each problem when it appears, not again while it persists.

    A problem is identified by a key.  Concerns that recompute everything call
    ``report`` (or the instance, keyed by event and fields) for what they find on
    each pass, then ``settle``: what was not reported again is gone, and logged
    anew if it comes back.  Incremental owners call ``appeared``/``forget``
    themselves (``routes.ledger.Problems``).
    """

    def __init__(self, log: Any) -> None:
        self.log = log
        self._logged: set[Hashable] = set()
        self._seen: set[Hashable] = set()

    def appeared(self, key: Hashable, level: str, event: str, **fields: Any) -> None:
        """Log the problem ``key`` unless it is logged and not forgotten since."""
        if key not in self._logged:
            self._logged.add(key)
            getattr(self.log, level)(event, **fields)

    def forget(self, key: Hashable) -> None:
        """``key`` went away: the next ``appeared`` logs it again."""
        self._logged.discard(key)

    def report(self, key: Hashable, level: str, event: str, **fields: Any) -> None:
        """The problem ``key`` exists in this pass."""
        self._seen.add(key)
        self.appeared(key, level, event, **fields)

    def __call__(self, level: str, event: str, **fields: Any) -> None:
        """``report`` keyed by the log line itself: event and fields."""
        self.report((event, tuple(sorted(fields.items()))), level, event, **fields)

    def settle(self) -> set[Hashable]:
        """End of a pass: forget the problems not reported in it, and return their keys."""
        gone = self._logged - self._seen
        self._logged -= gone
        self._seen = set()
        return gone


def publish_gauge(gauge: Any, values: Mapping[tuple[str, ...], float],
                  previous: Iterable[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Set ``gauge`` to ``values`` (label values, in the gauge's label order → value) and
    remove the ``previous`` labels not among them; returns the labels now published."""
    for labels in set(previous) - values.keys():
        gauge.remove(*labels)
    for labels, value in values.items():
        gauge.labels(*labels).set(value)
    return set(values)
