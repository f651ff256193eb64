"""Wanted rows merged from many sources, kept current one source at a time.

Route sync wants one IC SB row per advertised key and NB routes per learned
key, and they come from sources that are many: static routes, other AZs' IC SB
routes.  Re-deriving every source on every change costs a full pass for each
route added once there are 10,000 of them.  A ``Ledger`` instead takes the new
contribution of each source that changed, replaces the old one, and remembers
the keys whose wanted value may have moved (``take_dirty``), so that a pass
compares only those with the database.  A full recompute feeds every source to
an empty ledger: the same path, so both give the same result.

Data flows one way: sources are put in, the wanted values and counts are read
out; planning never writes back.  What a key wanted by several sources costs
(e.g. duplicate advertisements) is the ledger's own business: it re-derives it
(``contested``) for the keys whose sources changed, before handing them out.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator
from typing import Any, Generic, TypeVar

from ..common import LogOnce

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """Something to warn about; ``key`` identifies it, so it is logged once."""

    key: Hashable
    event: str
    fields: dict[str, Any]


@dataclasses.dataclass(slots=True)  # not frozen, for speed (one per route); never changed
class Contribution(Generic[K, V]):
    """What one source wants: entries, counts for the metrics, problems to report.

    Tuples rather than dicts: there is one per static route, most with a single
    entry and nothing else, and a tuple is a fraction of a dict's size.
    """

    entries: tuple[tuple[K, V], ...] = ()
    counts: tuple[tuple[Hashable, int], ...] = ()
    problems: tuple[Problem, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries or self.counts or self.problems)


NOTHING: Contribution = Contribution()


class Problems:
    """Logs each distinct problem once while something still has it (``LogOnce``).

    Problems belong to owners (a source, a key); ``set`` replaces an owner's
    problems, so a pass that re-derives only some sources keeps the others'.
    One that no owner has any more at the end of a pass (``settle``) is logged
    again if it comes back.  Keys are the problem's content, so a peer that
    re-creates the same bad row under a new UUID is not reported again.
    """

    def __init__(self, log: Any) -> None:
        self.logged = LogOnce(log)
        self._by_owner: dict[Hashable, tuple[Problem, ...]] = {}
        self._holders: Counter = Counter()  # problem key -> owners that have it
        self._maybe_gone: set[Hashable] = set()

    def set(self, owner: Hashable, problems: tuple[Problem, ...]) -> None:
        for problem in self._by_owner.pop(owner, ()):
            self._holders[problem.key] -= 1
            if not self._holders[problem.key]:
                del self._holders[problem.key]
                self._maybe_gone.add(problem.key)
        if not problems:
            return
        self._by_owner[owner] = problems
        for problem in problems:
            self._holders[problem.key] += 1
            self.logged.appeared(problem.key, "warning", problem.event, **problem.fields)

    def settle(self) -> None:
        """End of a pass: forget having logged the problems that went away."""
        for key in self._maybe_gone:
            if key not in self._holders:
                self.logged.forget(key)
        self._maybe_gone = set()

    def restart(self) -> None:
        """Drop every owner before a full recompute; what it reports again is not re-logged."""
        self._maybe_gone.update(self._holders)  # with those already gone: all logged
        self._by_owner.clear()
        self._holders.clear()


class Ledger(Generic[K, V]):
    """Per key, the value each source wants; sums of the sources' counts.

    ``keys_per_group`` counts the keys some source wants, by ``group_of(key)``
    (e.g. advertised rows per transit switch), when ``group_of`` is given.
    ``contested(key, values)``, when given, says what a key wanted by several
    sources reports: a Contribution of counts and problems (never entries).
    """

    def __init__(self, name: str, problems: Problems,
                 group_of: Callable[[K], Hashable] | None = None,
                 contested: Callable[[K, Collection[V]], Contribution] | None = None) -> None:
        self.name = name
        self.problems = problems
        self.group_of = group_of
        self.contested = contested
        self.by_key: dict[K, dict[Hashable, V]] = {}
        self.counts: Counter = Counter()
        self.keys_per_group: Counter = Counter()
        self._contributions: dict[Hashable, Contribution] = {}
        self._dirty: dict[K, None] = {}  # a dict: keys come back in the order they changed
        self._contests_due: dict[K, None] = {}  # several sources, or had: re-derive

    def put(self, source: Hashable, contribution: Contribution) -> None:
        """``source`` now wants ``contribution`` (and no longer what it wanted before)."""
        self.drop(source)
        if not contribution:
            return
        self._contributions[source] = contribution
        for key, value in contribution.entries:
            sources = self.by_key.get(key)
            if sources is None:
                self.by_key[key] = {source: value}
                if self.group_of is not None:
                    self.keys_per_group[self.group_of(key)] += 1
            else:  # another source wants it too: the rare case, not a cost per route
                sources[source] = value
                if self.contested is not None:
                    self._contests_due[key] = None
            self._dirty[key] = None
        for name, count in contribution.counts:
            self.counts[name] += count
        if contribution.problems:
            self.problems.set((self.name, source), contribution.problems)

    def drop(self, source: Hashable) -> None:
        """``source`` wants nothing any more."""
        old = self._contributions.pop(source, None)
        if old is None:
            return
        for key, _ in old.entries:
            sources = self.by_key[key]
            del sources[source]
            if sources:
                if self.contested is not None:
                    self._contests_due[key] = None
            else:
                del self.by_key[key]
                if self.group_of is not None:
                    _decrement(self.keys_per_group, self.group_of(key))
            self._dirty[key] = None
        for name, count in old.counts:
            _decrement(self.counts, name, count)
        if old.problems:
            self.problems.set((self.name, source), ())

    def wanted(self, key: K) -> dict[Hashable, V]:
        """What each source wants for ``key`` (empty if none)."""
        return self.by_key.get(key, {})

    def touch(self, key: K) -> None:
        """Have ``key`` compared again, e.g. because its row in the database changed."""
        self._dirty[key] = None

    def take_dirty(self) -> list[K]:
        """The keys touched since the last call, in the order they were first touched.

        First the contested keys among them get their reports re-derived, so that
        counts and problems are those of the sources now.
        """
        due, self._contests_due = self._contests_due, {}
        for key in due:
            sources = self.by_key.get(key)
            if sources is not None and len(sources) > 1:
                self.put((_CONTESTED, key), self.contested(key, sources.values()))
            else:
                self.drop((_CONTESTED, key))
        dirty, self._dirty = self._dirty, {}
        return list(dirty)

    def take_dirty_until(self, full: Callable[[], bool]) -> Iterator[K]:
        """``take_dirty``, one key at a time, until ``full()``: the keys not handed out come
        first at the next take, ahead of those touched since (a pass planned in parts)."""
        keys = self.take_dirty()
        for done, key in enumerate(keys):
            if full():
                self._dirty = dict.fromkeys(keys[done:]) | self._dirty
                return
            yield key

    @property
    def dirty(self) -> bool:
        """Some key waits to be compared with the database."""
        return bool(self._dirty)


_CONTESTED = "contested"  # with the key: the source of a contested key's reports


def _decrement(counter: Counter, key: Hashable, by: int = 1) -> None:
    """Lower a count, deleting it at zero so that gone groups and reasons disappear."""
    counter[key] -= by
    if not counter[key]:
        del counter[key]
