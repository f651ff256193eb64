"""Plain-data stand-ins for what the daemon drives: concerns, a clock and the four databases.

A ``Probe`` is a concern that records what each plan() was told and plans what
the test asks; a ``FakeDatabase`` is the part of ``db.connection.Database`` the
loop uses, over one shared ``fakes.Replica``: a submitted transaction stays in
flight until the next ``run()``, then is applied (or fails, as told) and its
rows are reported changed, as the IDL would.  ``World`` wires a real ``Daemon``
to them, so a test can call ``iterate()`` and watch what gets computed and
written, without a server.
"""

from __future__ import annotations

import types
import uuid as uuidlib

from fakes import Replica, make_config

from ovn_ic_controller.constants import DATABASE_ORDER, IC_SB, NB, SB
from ovn_ic_controller.daemon import Daemon
from ovn_ic_controller.db.plan import Plan
from ovn_ic_controller.sync.base import Concern, Context


class Clock:
    """A time.monotonic() that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Probe(Concern):
    """A concern reading ``reads``; each plan() is recorded, and planned by ``planner``."""

    def __init__(self, name: str, reads: dict, *, incremental: bool = False,
                 needs_az: bool = False, planner=None) -> None:
        self.name = name
        self.reads = reads
        self.incremental = incremental
        self.needs_az = needs_az
        self.planner = planner or (lambda ctx, plan: None)
        self.calls: list = []  # ctx.changed_rows of each plan()
        self.error: Exception | None = None  # raised by plan() while set

    def plan(self, ctx: Context) -> Plan:
        self.calls.append(ctx.changed_rows)
        plan = Plan(self.name)
        self.planner(ctx, plan)
        if self.error is not None:
            # After planning: a half-built plan must not be committed.
            raise type(self.error)(*self.error.args)
        return plan

    def take_calls(self) -> list:
        calls, self.calls = self.calls, []
        return calls


def copy_names(src: tuple[str, str], dst: tuple[str, str]):
    """A planner inserting into ``dst`` a row for each ``src`` row's name it lacks."""
    def planner(ctx: Context, plan: Plan) -> None:
        have = {r.name for r in ctx.rows(*dst)}
        for name in sorted({r.name for r in ctx.rows(*src)} - have):
            plan.insert(*dst, name=name)
    return planner


class FakeDatabase:
    """One database of ``replica`` (``key``), connected, with at most one txn in flight."""

    def __init__(self, key: str, replica: Replica) -> None:
        self.key = key
        self.replica = replica
        self.connected = self.synced = True
        self.has_lock = key == SB
        self.is_lock_contended = False
        self.outcome = "success"  # how the next transactions end
        self.committed: list[list[str]] = []  # the comments of each successful one
        self.changed: dict[str, set] = {}
        self.resynced = False
        self.txn = None
        self.schema = None  # schema-driven behaviour off: as with 23.03's schemas

    def set_probe_interval(self, interval: int | None) -> None:
        """Nothing to probe: a fake is always connected."""

    @property
    def tables(self) -> dict:
        return {name: types.SimpleNamespace(rows={r.uuid: r for r in rows})
                for name, rows in self.replica.tables.get(self.key, {}).items()}

    @property
    def busy(self) -> bool:
        return self.txn is not None

    def operations(self, ops) -> list:
        """The ops themselves, to apply; refused, as by the real encoder, when a value is
        None (OVSDB has no null)."""
        for op in ops:
            values = op.value.values() if isinstance(op.value, dict) else [op.value]
            if op.kind != "delete" and any(value is None for value in values):
                raise TypeError(f"not an OVSDB atom: None in {op}")
        return ops

    def submit(self, operations, comments, done) -> None:
        self.txn = operations, comments, done

    def run(self) -> None:
        if self.txn is None:
            return
        (ops, comments, done), self.txn = self.txn, None
        if self.outcome == "success":
            self.replica.apply(types.SimpleNamespace(ops=ops))
            self.committed.append(comments)
            for op in ops:
                self.change(op.table, *(r.uuid for r in self.replica.rows(self.key, op.table)))
        done(self.outcome, "refused by the test" if self.outcome == "error" else "")

    def change(self, table: str, *uuids) -> None:
        """Report rows of ``table`` changed, as the IDL's notices would."""
        self.changed.setdefault(table, set()).update(uuids or {uuidlib.uuid4()})

    def take_changes(self) -> tuple[dict[str, set], bool]:
        changed, resynced, self.changed, self.resynced = self.changed, self.resynced, {}, False
        return changed, resynced

    def wait(self, poller) -> None:
        pass

    def close(self) -> None:
        pass


class World(Replica):
    """az1's four databases, and a Daemon over them running ``concerns``."""

    def __init__(self, *concerns: Concern, **settings) -> None:
        super().__init__({NB: {"NB_Global": []}, IC_SB: {"Availability_Zone": []}})
        self.add(NB, "NB_Global", name="az1", options={}, external_ids={})
        self.add(IC_SB, "Availability_Zone", name="az1")
        self.clock = Clock()
        self.daemon = Daemon(make_config(az_name="az1", **settings), reload_config=None,
                             concerns=list(concerns), clock=self.clock)
        self.dbs = {key: FakeDatabase(key, self) for key in DATABASE_ORDER}
        self.daemon.dbs.update(self.dbs)

    def iterate(self, times: int = 1) -> None:
        for _ in range(times):
            self.daemon.iterate()

    def metric(self, name: str, **labels) -> float:
        value = self.daemon.metrics.registry.get_sample_value(
            "ovn_ic_controller_" + name, labels)
        return 0.0 if value is None else value
