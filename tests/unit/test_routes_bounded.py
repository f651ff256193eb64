"""Route sync works in bounded passes: a big change to this AZ's IC SB routes is
planned in parts, each pass a whole transaction of at most ``ADVERTISED_OPS_PER_PASS``
changes to them, learning stops once a pass holds ``LEARNED_OPS_PER_PASS`` changes, and
the parts add up to exactly what one unbounded pass would have planned, also when
changes arrive in between."""

from __future__ import annotations

import pytest
from route_world import World
from test_routes_incremental import PEER_ADDRESS, Incremental, RandomWorld, prefix

from ovn_ic_controller.sync import routes
from ovn_ic_controller.sync.routes import Routes

BOUND = 100
LEARNED_BOUND = 600  # ops in a pass, its IC SB ones included


def bounded_passes(incremental):
    """Plan and apply until a pass plans nothing; per pass, its IC SB and NB changes."""
    sizes = []
    while plan := incremental.plan():
        ic_sb = sum(1 for op in plan.ops if op.db == "ic_sb")
        assert ic_sb <= BOUND and len(plan.ops) <= LEARNED_BOUND
        # Work is left over only from a full pass, and then the pass comes again.
        assert (not incremental.concern.unfinished or ic_sb == BOUND
                or len(plan.ops) == LEARNED_BOUND)
        incremental.world.apply(plan)
        sizes.append((ic_sb, len(plan.ops) - ic_sb))
        assert len(sizes) < 100, "no fixed point"
    assert not incremental.concern.unfinished
    return sizes


def test_a_bulk_change_goes_out_in_bounded_passes_that_add_up_to_the_exact_routes(monkeypatch):
    monkeypatch.setattr(routes, "ADVERTISED_OPS_PER_PASS", BOUND)
    monkeypatch.setattr(routes, "LEARNED_OPS_PER_PASS", LEARNED_BOUND)
    world = World()
    world.transit_switch("ts1")
    lr1 = world.router("lr1")
    world.attach(lr1, "ts1")
    incremental = Incremental(world)
    assert bounded_passes(incremental) == []
    for i in range(1000):
        world.static(lr1, prefix(i), "169.254.0.1")
        world.remote_route(f"172.16.{i // 256}.{i % 256}/32", PEER_ADDRESS)

    # 1000 IC SB rows inserted, 100 a pass; the 1000 learned routes inserted and linked
    # (two ops each) 250 a pass, beside them.
    assert bounded_passes(incremental) == [(100, 500)] * 4 + [(100, 0)] * 6
    assert world.advertised() == sorted(("ts1", "", prefix(i), "169.254.100.1", "static")
                                        for i in range(1000))
    assert world.learned(lr1) == sorted((f"172.16.{i // 256}.{i % 256}/32", PEER_ADDRESS, "",
                                         "connected") for i in range(1000))
    assert not Routes().plan(world.ctx())

    # Withdraw all: every own IC SB row goes, in parts too, and every learned route.
    for route in list(lr1.static_routes):
        if "ic-learned-route" not in route.external_ids:
            lr1.static_routes.remove(route)
            world.tables["nb"]["Logical_Router_Static_Route"].remove(route)
    world.tables["ic_sb"]["Route"][:] = [route for route in world.tables["ic_sb"]["Route"]
                                         if route.availability_zone is world.az]
    assert bounded_passes(incremental) == [(100, 500)] * 2 + [(100, 0)] * 8
    assert world.advertised() == [] and world.learned(lr1) == []


@pytest.mark.parametrize("seed", range(6))
def test_changes_arriving_between_bounded_passes_reach_what_a_full_computation_wants(
        seed, monkeypatch):
    monkeypatch.setattr(routes, "ADVERTISED_OPS_PER_PASS", 1)
    monkeypatch.setattr(routes, "LEARNED_OPS_PER_PASS", 3)
    scenario = RandomWorld(seed)
    incremental = Incremental(scenario.world)
    for step in range(120):
        scenario.step()
        plan = incremental.plan()  # one pass, whatever is left: the next step comes first
        scenario.world.apply(plan)
        if step % 20 == 19:
            incremental.sync(passes=100)
            full = Routes()
            assert not full.plan(scenario.world.ctx()), "a full computation would change more"
            assert incremental.concern.tally == full.tally
