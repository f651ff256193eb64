"""Which concern the scheduler computes when, and how it isolates one that raises."""

from __future__ import annotations

import uuid as uuidlib

import pytest
from daemon_world import Clock, Probe
from fakes import context, row
from structlog.testing import capture_logs

from ovn_ic_controller.daemon.scheduler import Scheduler
from ovn_ic_controller.metrics import Metrics
from ovn_ic_controller.sync.base import columns

ROUTERS = {"nb": columns(Logical_Router="name")}
ROUTES = {"ic_sb": columns(Route="ip_prefix")}
U1, U2, U3 = (uuidlib.uuid4() for _ in range(3))
AZ = row(name="az1")


def scheduler(*concerns, clock=None):
    return Scheduler(concerns, Metrics(), clock or Clock())


def errors(s, concern):
    return s.metrics.registry.get_sample_value("ovn_ic_controller_concern_errors_total",
                                               {"concern": concern}) or 0.0


def ran(*probes):
    """The names of the probes that planned since the last call."""
    return [probe.name for probe in probes if probe.take_calls()]


def test_at_start_every_concern_computes_then_none_until_an_input_changes():
    routers, routes = Probe("routers", ROUTERS), Probe("routes", ROUTES)
    s = scheduler(routers, routes)
    s.compute(context())
    assert ran(routers, routes) == ["routers", "routes"]
    s.compute(context())
    assert ran(routers, routes) == []
    assert s.settled(context())


def test_a_changed_table_makes_only_the_concerns_reading_it_due():
    routers, routes = Probe("routers", ROUTERS), Probe("routes", ROUTES)
    s = scheduler(routers, routes)
    s.compute(context())
    ran(routers, routes)

    s.note_changes("nb", {"Logical_Router": {U1}})
    assert not s.settled(context())
    s.compute(context())
    assert ran(routers, routes) == ["routers"]

    s.note_changes("nb", {"Route": {U1}, "Logical_Switch": {U2}})  # another db's table name
    s.note_changes("ic_sb", {"Logical_Router": {U3}})
    s.compute(context())
    assert ran(routers, routes) == []

    s.note_changes("ic_sb", {"Route": {U3}})
    s.compute(context())
    assert ran(routers, routes) == ["routes"]


def test_mark_all_dirty_recomputes_every_concern_in_full():
    """What the daemon does after a reconnect, a lost lock or a failed commit."""
    routers = Probe("routers", ROUTERS)
    routes = Probe("routes", {**ROUTERS, **ROUTES}, incremental=True)
    s = scheduler(routers, routes)
    s.compute(context())
    routers.take_calls(), routes.take_calls()
    s.note_changes("nb", {"Logical_Router": {U1}})
    s.mark_all_dirty()
    s.note_changes("ic_sb", {"Route": {U2}})  # full already: no rows to hand over
    s.compute(context())
    assert routers.take_calls() == [None]
    assert routes.take_calls() == [None]


def test_an_incremental_concern_is_handed_the_changed_rows_once():
    routes = Probe("routes", {**ROUTERS, **ROUTES}, incremental=True)
    s = scheduler(routes)
    s.compute(context())
    assert routes.take_calls() == [None]  # the first computation is in full

    s.note_changes("nb", {"Logical_Router": {U1}, "Unread_Table": {U3}})
    s.note_changes("nb", {"Logical_Router": {U2}})
    s.note_changes("ic_sb", {"Route": {U3}})
    s.compute(context())
    assert routes.take_calls() == [{("nb", "Logical_Router"): {U1, U2},
                                    ("ic_sb", "Route"): {U3}}]
    s.compute(context())
    assert routes.take_calls() == []
    s.note_changes("ic_sb", {"Route": {U1}})
    s.compute(context())
    assert routes.take_calls() == [{("ic_sb", "Route"): {U1}}]


def test_a_concern_is_due_again_at_its_recheck_time_without_any_change():
    clock = Clock()
    waiting = Probe("waiting", ROUTERS, incremental=True)
    other = Probe("other", ROUTES)
    s = scheduler(waiting, other, clock=clock)
    s.compute(context())
    ran(waiting, other)
    waiting.recheck_at = clock.now + 5
    assert s.wake_at(clock.now) == clock.now + 5

    clock.advance(4.9)
    s.compute(context())
    assert ran(waiting, other) == []
    clock.advance(0.1)
    s.compute(context())
    assert waiting.take_calls() == [{}]  # due, with no rows changed
    assert other.take_calls() == []
    waiting.recheck_at = None
    assert s.wake_at(clock.now) is None


def test_a_concern_that_needs_the_az_waits_for_its_row():
    az_free, needs_az = Probe("az", ROUTES), Probe("ports", ROUTES, needs_az=True)
    s = scheduler(az_free, needs_az)
    s.compute(context())
    assert ran(az_free, needs_az) == ["az"]
    assert s.settled(context())  # nothing to do until the AZ is registered
    s.compute(context(az=AZ))
    assert ran(az_free, needs_az) == ["ports"]


def test_a_concern_that_raises_is_isolated_and_retried_alone_with_backoff():
    clock = Clock()
    inserts = [("broken", "ic_sb"), ("healthy", "nb")]

    def planner(name, db):
        return lambda ctx, plan: plan.insert(db, "Thing", name=name)

    broken = Probe("broken", ROUTES, incremental=True, planner=planner(*inserts[0]))
    healthy = Probe("healthy", ROUTES, planner=planner(*inserts[1]))
    s = scheduler(broken, healthy, clock=clock)
    broken.error = ValueError("a row nobody foresaw")

    with capture_logs() as logs:
        plans = s.compute(context())
    # The other concern's plan goes on; the broken one's half-built plan is dropped whole.
    assert [plan.concern for plan in plans] == ["healthy"]
    assert errors(s, "broken") == 1 and errors(s, "healthy") == 0
    [failed] = [entry for entry in logs if entry["event"] == "concern.failed"]
    assert failed["concern"] == "broken" and failed["exc_info"] is True
    assert failed["log_level"] == "error" and failed["retry_in_s"] == 1.0
    assert set(s.failing) == {"broken"}
    assert s.settled(context())  # the daemon does not wait for it
    assert s.wake_at(clock.now) == clock.now + 1.0
    broken.take_calls(), healthy.take_calls()

    # Not before its backoff, even when its inputs change; the others still run.
    s.note_changes("ic_sb", {"Route": {U1}})
    clock.advance(0.9)
    assert [plan.concern for plan in s.compute(context())] == ["healthy"]
    assert ran(broken, healthy) == ["healthy"]

    # Then alone, in full (the changed rows it was handed may be half-digested).
    clock.advance(0.1)
    assert s.compute(context()) == []
    assert broken.take_calls() == [None] and healthy.take_calls() == []
    assert errors(s, "broken") == 2
    assert s.wake_at(clock.now) == clock.now + 2.0  # failing again: twice the delay

    broken.error = None
    clock.advance(2.0)
    with capture_logs() as logs:
        assert [plan.concern for plan in s.compute(context())] == ["broken"]
    assert [entry["event"] for entry in logs] == ["concern.recovered"]
    assert not s.failing and s.wake_at(clock.now) is None

    # After a second success in a row (the first may yet prove unwritable), a new
    # failure starts from 1 s again.
    s.note_changes("ic_sb", {"Route": {U2}})
    s.compute(context())
    broken.error = ValueError("again")
    s.note_changes("ic_sb", {"Route": {U3}})
    s.compute(context())
    assert s.wake_at(clock.now) == clock.now + 1.0


def test_a_concern_whose_report_raises_commits_nothing():
    class Reporting(Probe):
        def report(self, metrics):
            raise KeyError("a label nobody foresaw")

    concern = Reporting("reporting", ROUTES, planner=lambda ctx, plan: plan.delete(
        "ic_sb", "Route", U1))
    s = scheduler(concern)
    assert s.compute(context()) == []
    assert errors(s, "reporting") == 1


@pytest.mark.parametrize("error", [RecursionError(), AttributeError("x"), ZeroDivisionError()])
def test_any_exception_of_a_concern_is_contained(error):
    concern = Probe("concern", ROUTES)
    concern.error = error
    s = scheduler(concern)
    assert s.compute(context()) == []
    assert errors(s, "concern") == 1


def test_a_concern_that_left_work_is_due_again_without_any_change():
    def planner(ctx, plan):
        plan.insert("ic_sb", "Route", ip_prefix="10.0.0.0/24")
        chunked.unfinished = len(chunked.calls) < 3  # three parts

    chunked = Probe("chunked", ROUTES, incremental=True, planner=planner)
    s = scheduler(chunked)
    for _ in range(2):
        s.compute(context())
        assert not s.settled(context())
    s.compute(context())
    assert s.settled(context())
    s.compute(context())
    assert chunked.take_calls() == [None, {}, {}]  # the first in full, the rest left over
