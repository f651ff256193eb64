"""The daemon's loop on fake databases: what it computes and writes when, and after what.

Each test builds a real ``Daemon`` over ``FakeDatabase``s (tests/unit/daemon_world.py)
and calls ``iterate()`` as the loop would after each wakeup.
"""

from __future__ import annotations

from daemon_world import Probe, World, copy_names

from ovn_ic_controller.sync.base import columns

SWITCHES = ("nb", "Logical_Switch")
TRANSIT = ("ic_nb", "Transit_Switch")
GATEWAYS = ("sb", "Chassis")
REMOTE = ("ic_sb", "Gateway")


def mirror(name, src, dst, **kwargs):
    """A concern copying the names of ``src`` rows into ``dst``."""
    reads = {db: columns(**{table: "name"}) for db, table in (src, dst)}
    return Probe(name, reads, planner=copy_names(src, dst), **kwargs)


def names(world, db_table):
    return sorted(r.name for r in world.rows(*db_table))


def recomputes(world, concern):
    return world.metric("recomputes_total", concern=concern)


def test_a_change_recomputes_the_concerns_reading_it_and_writes_their_plans():
    switches = mirror("switches", SWITCHES, TRANSIT)
    gateways = mirror("gateways", GATEWAYS, REMOTE)
    world = World(switches, gateways)
    world.iterate(3)
    assert world.daemon.health.get() == (True, "active: in sync")
    before = recomputes(world, "switches"), recomputes(world, "gateways")

    world.add(*SWITCHES, name="ls1")
    world.dbs["nb"].change("Logical_Switch")
    world.iterate()  # computes, submits
    assert world.dbs["ic_nb"].busy and names(world, TRANSIT) == []
    world.iterate(2)  # committed; the IC NB's notice of the new row recomputes it once more
    assert names(world, TRANSIT) == ["ls1"]
    assert len(world.dbs["ic_nb"].committed) == 1
    assert recomputes(world, "switches") == before[0] + 2
    assert recomputes(world, "gateways") == before[1]
    assert world.metric("rows_changed_total", concern="switches", op="create") == 1
    assert world.metric("transactions_total", db="ic_nb", outcome="success") == 1


def test_one_concern_raising_leaves_the_others_syncing_and_is_retried_with_backoff():
    switches = mirror("switches", SWITCHES, TRANSIT)
    gateways = mirror("gateways", GATEWAYS, REMOTE)
    world = World(switches, gateways)
    gateways.error = RuntimeError("a bug in one concern")
    world.add(*SWITCHES, name="ls1")
    world.add(*GATEWAYS, name="gw1")
    world.iterate(3)

    assert names(world, TRANSIT) == ["ls1"]  # the healthy concern synced
    assert names(world, REMOTE) == []        # the failing one wrote nothing
    assert world.metric("concern_errors_total", concern="gateways") == 1
    assert world.daemon.health.get() == (True, "active, failing: gateways")
    assert world.metric("last_sync_timestamp_seconds") == 0  # not in sync

    # While it backs off, the others keep syncing; it is not retried before its time.
    world.add(*SWITCHES, name="ls2")
    world.dbs["nb"].change("Logical_Switch")
    world.dbs["sb"].change("Chassis")
    world.iterate(3)
    assert names(world, TRANSIT) == ["ls1", "ls2"]
    assert world.metric("concern_errors_total", concern="gateways") == 1
    assert world.daemon.scheduler.wake_at(world.clock.now) == world.clock.now + 1.0

    world.clock.advance(1.0)
    world.iterate()
    assert world.metric("concern_errors_total", concern="gateways") == 2  # retried, failed

    gateways.error = None
    world.clock.advance(2.0)
    world.iterate(3)
    assert names(world, REMOTE) == ["gw1"]
    assert world.metric("concern_errors_total", concern="gateways") == 2
    assert world.daemon.health.get() == (True, "active: in sync")
    assert world.metric("last_sync_timestamp_seconds") > 0


def test_a_reconnect_recomputes_every_concern():
    switches = mirror("switches", SWITCHES, TRANSIT)
    gateways = mirror("gateways", GATEWAYS, REMOTE)
    world = World(switches, gateways)
    world.iterate(2)
    switches.take_calls(), gateways.take_calls()
    world.dbs["ic_sb"].resynced = True  # a new session: the replica was replaced
    world.iterate()
    assert switches.take_calls() == [None] and gateways.take_calls() == [None]


def test_a_failed_commit_recomputes_everything_after_a_growing_delay():
    switches = mirror("switches", SWITCHES, TRANSIT)
    gateways = mirror("gateways", GATEWAYS, REMOTE)
    world = World(switches, gateways)
    world.iterate(2)
    switches.take_calls(), gateways.take_calls()
    world.dbs["ic_nb"].outcome = "error"
    world.add(*SWITCHES, name="ls1")
    world.dbs["nb"].change("Logical_Switch")

    world.iterate(2)  # submitted, then refused
    assert world.metric("transactions_total", db="ic_nb", outcome="error") == 1
    assert switches.take_calls() == [None]
    world.iterate()
    assert switches.take_calls() == [] and gateways.take_calls() == []  # backing off
    assert world.daemon.committer.wake_at(world.clock.now) == world.clock.now + 0.1

    world.clock.advance(0.1)
    world.iterate(2)  # everything recomputed; refused again
    assert switches.take_calls() == [None] and gateways.take_calls() == [None]
    assert world.daemon.committer.wake_at(world.clock.now) == world.clock.now + 0.2

    world.dbs["ic_nb"].outcome = "success"
    world.clock.advance(0.2)
    world.iterate(3)
    assert names(world, TRANSIT) == ["ls1"]
    assert world.daemon.committer.retry.delay == 0.1  # a success starts over


def test_the_changed_rows_reach_an_incremental_concern_once():
    routes = Probe("routes", {"ic_sb": columns(Route="ip_prefix")}, incremental=True)
    world = World(routes)
    world.iterate()
    assert routes.take_calls() == [None]
    world.dbs["ic_sb"].change("Route", "r1", "r2")
    world.dbs["nb"].change("Logical_Switch", "ls1")  # not an input
    world.iterate()
    world.dbs["ic_sb"].change("Route", "r3")
    world.iterate(2)
    assert routes.take_calls() == [{("ic_sb", "Route"): {"r1", "r2"}},
                                   {("ic_sb", "Route"): {"r3"}}]


def test_a_standby_computes_nothing_until_it_takes_the_lock():
    switches = mirror("switches", SWITCHES, TRANSIT)
    world = World(switches)
    sb = world.dbs["sb"]
    sb.has_lock, sb.is_lock_contended = False, True
    world.add(*SWITCHES, name="ls1")
    world.iterate(3)
    assert switches.take_calls() == [] and names(world, TRANSIT) == []
    assert world.daemon.health.get() == (True, "standby: another instance holds the ovn_ic lock")

    sb.has_lock, sb.is_lock_contended = True, False
    world.iterate(3)
    assert names(world, TRANSIT) == ["ls1"]
    assert world.metric("lock_held") == 1


def test_a_recheck_time_wakes_the_loop_and_recomputes_that_concern():
    waiting = Probe("waiting", {"nb": columns(NB_Global="name")})
    other = mirror("switches", SWITCHES, TRANSIT)
    world = World(waiting, other)
    world.iterate()
    waiting.take_calls(), other.take_calls()
    waiting.recheck_at = world.clock.now + 3
    world.iterate()
    assert waiting.take_calls() == []
    world.clock.advance(3)
    world.iterate()
    assert waiting.take_calls() == [None] and other.take_calls() == []


def test_a_plan_that_cannot_be_written_is_dropped_whole_and_its_concern_fails():
    def unwritable(ctx, plan):
        plan.insert("nb", "Logical_Switch", name="half")  # fine alone, but half of a plan
        plan.insert("ic_nb", "Transit_Switch", name=None)  # OVSDB has no null
    broken = Probe("broken", {"sb": columns(Chassis="name")}, planner=unwritable)
    gateways = mirror("gateways", GATEWAYS, REMOTE)
    world = World(broken, gateways)
    world.add(*GATEWAYS, name="gw1")
    world.iterate(3)

    assert names(world, REMOTE) == ["gw1"]  # the other concern's plan was written
    assert names(world, SWITCHES) == [] and names(world, TRANSIT) == []  # none of its own
    assert world.metric("concern_errors_total", concern="broken") == 1
    assert world.daemon.health.get() == (True, "active, failing: broken")

    # plan() itself succeeds on each retry, yet the delay keeps growing.
    world.clock.advance(1.0)
    world.iterate()
    assert world.metric("concern_errors_total", concern="broken") == 2
    assert world.daemon.scheduler.wake_at(world.clock.now) == world.clock.now + 2.0
