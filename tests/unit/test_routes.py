"""The routes concern as a whole: metrics, inputs declared, and linear work."""

from __future__ import annotations

import types
import uuid as uuidlib

import route_world
from route_world import one_router

from ovn_ic_controller.metrics import Metrics
from ovn_ic_controller.sync.routes import Routes


def sample(metrics, name, **labels):
    return metrics.registry.get_sample_value(f"ovn_ic_controller_{name}", labels)


def test_report_publishes_per_transit_switch_gauges_and_refusals():
    world, lr1 = one_router()
    (binding,) = world.tables["ic_sb"]["Port_Binding"]
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.static(lr1, "0.0.0.0/0", "169.254.0.1")
    world.remote_route("10.2.0.0/24", "169.254.100.2")
    metrics = Metrics()
    world.sync()
    world.concern.report(metrics)
    assert sample(metrics, "routes_advertised", transit_switch="ts1") == 1
    assert sample(metrics, "routes_learned", transit_switch="ts1") == 1
    assert sample(metrics, "routes_refused", direction="advertise", reason="default") == 1
    assert sample(metrics, "routes_refused", direction="learn", reason="local-wins") == 0

    world.tables["ic_sb"]["Port_Binding"].remove(binding)
    world.sync()
    world.concern.report(metrics)
    assert sample(metrics, "routes_advertised", transit_switch="ts1") is None


def test_every_table_read_is_declared():
    """A table read but not declared would not trigger a recompute when it changes."""
    world, _ = one_router()
    read = set()

    class Recording(dict):
        def get(self, table, default=None):
            read.add((self.db, table))
            return super().get(table, default)

    ctx = world.ctx()
    for db in list(ctx.tables):
        ctx.tables[db] = Recording(ctx.tables[db])
        ctx.tables[db].db = db
    Routes().plan(ctx)
    assert read <= Routes().input_tables() | {("ic_sb", "Availability_Zone")}
    # Availability_Zone is only passed in as ctx.az, which the daemon tracks itself.
    assert ("ic_sb", "Availability_Zone") not in read


class CountingRow(types.SimpleNamespace):
    """A fake row that counts reads of its columns."""

    reads = 0

    def __getattribute__(self, name):
        if not name.startswith("_") and name != "uuid":
            CountingRow.reads += 1
        return super().__getattribute__(name)


def counting_row(**columns):
    columns.setdefault("uuid", uuidlib.uuid4())
    return CountingRow(**columns)


def reads_per_pass(monkeypatch, routes):
    """Column reads of one pass over a converged AZ advertising and learning ``routes`` each."""
    monkeypatch.setattr(route_world, "row", counting_row)
    world, lr1 = one_router()
    for i in range(routes):
        world.static(lr1, f"10.{i // 256}.{i % 256}.0/24", "169.254.0.1")
        world.remote_route(f"172.16.{i // 256}.{i % 256}/32", "169.254.100.2")
    world.sync(passes=3)  # advertised in two passes (ADVERTISED_OPS_PER_PASS)
    CountingRow.reads = 0
    assert not world.plan()
    return CountingRow.reads


def test_a_pass_is_linear_in_the_number_of_routes(monkeypatch):
    """Not a timing test: counts column reads, which a per-route scan would make quadratic."""
    small, large = reads_per_pass(monkeypatch, 400), reads_per_pass(monkeypatch, 1600)
    assert large <= 4.1 * small
    # Each advertised route: its static route and its IC SB row; each learned route: the
    # IC SB row and the NB route.  A handful of columns each.
    assert large / (2 * 1600) < 13
