"""auto-route on plain data: the ic-route-* options, conflicts, both policies, metrics."""

import pytest
from automation_world import World

from ovn_ic_controller.constants import MANAGED_OPTIONS_KEY, OWNER_KEY, TS_KEY
from ovn_ic_controller.metrics import Metrics
from ovn_ic_controller.sync.automation.auto_route import DENY_GRACE_S, AutoRoute, Conflict
from ovn_ic_controller.sync.automation.link_addresses import link_mac

MANAGED = "ic-route-adv,ic-route-blacklist,ic-route-learn"


def make_world(options=None, networks=("10.16.0.1/24",), **settings):
    world = World(**settings)
    world.add("nb", "NB_Global", name="az1", options=dict(options or {}), external_ids={})
    router = world.router(networks=networks)
    link = world.add("nb", "Logical_Router_Port", name="az1-ts", mac="0a:00:00:00:00:01",
                     networks=["169.254.100.7/24"], gateway_chassis=[],
                     external_ids={OWNER_KEY: "az1", TS_KEY: "ts"})
    router.ports.append(link)
    return world


def nb_global(world):
    return world.rows("nb", "NB_Global")[0]


def advertise(world, az, prefix):
    return world.add("ic_sb", "Route", availability_zone=world.zone(az), ip_prefix=prefix)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def automated_peer(world, az):
    """A peer running this automation: its port's MAC is the one link_mac gives it."""
    world.binding("ts", az, f"ts-{az}", f"{link_mac(az, 'ts')} 169.254.100.9/24")


def blacklist(world):
    return nb_global(world).options["ic-route-blacklist"]


def test_without_the_cluster_router_options_are_left_alone():
    world = World(auto_route="false", cluster_router="elsewhere")
    world.add("nb", "NB_Global", name="az1", options={"ic-route-adv": "true"}, external_ids={})
    world.router()
    assert not AutoRoute().plan(world.ctx())


def test_true_writes_the_options_and_records_them_once():
    world = make_world(auto_route="true", no_advertise="10.99.0.0/16,10.20.0.5/16,10.20.0.0/16")
    concern = AutoRoute()
    world.settle(concern)
    glob = nb_global(world)
    assert glob.options == {"ic-route-adv": "true", "ic-route-learn": "true",
                            "ic-route-blacklist": "10.20.0.0/16,10.99.0.0/16"}
    assert glob.external_ids == {MANAGED_OPTIONS_KEY: MANAGED}
    assert not concern.plan(world.ctx())


def test_false_removes_the_options_whoever_set_them():
    world = make_world({"ic-route-adv": "true", "ic-route-learn": "true",
                        "ic-route-blacklist": "10.0.0.0/8", "ic-route-adv-default": "true"},
                       auto_route="false")
    nb_global(world).external_ids[MANAGED_OPTIONS_KEY] = MANAGED
    world.settle(AutoRoute())
    assert nb_global(world).options == {"ic-route-adv-default": "true"}
    assert nb_global(world).external_ids == {}


def test_absent_leaves_the_options_to_the_operator_and_hands_ours_over():
    options = {"ic-route-adv": "true", "ic-route-learn": "false"}
    world = make_world(options)
    nb_global(world).external_ids[MANAGED_OPTIONS_KEY] = MANAGED
    plans = world.settle(AutoRoute())
    assert [(op.kind, op.column, op.key) for plan in plans for op in plan.ops] == [
        ("delkey", "external_ids", MANAGED_OPTIONS_KEY)]
    assert nb_global(world).options == options


@pytest.mark.parametrize("policy", ["deny", "report"])
def test_a_conflict_is_found_with_either_policy_and_denied_only_under_deny(policy):
    world = make_world(auto_route="true", conflict_policy=policy, no_advertise="10.99.0.0/16")
    advertise(world, "az2", "10.16.0.0/16")
    advertise(world, "az2", "10.17.0.0/24")  # no overlap
    advertise(world, "az1", "10.16.0.0/24")  # our own
    advertise(world, "az3", "169.254.100.0/24")  # link-local, never a conflict
    advertise(world, "az3", "0.0.0.0/0")
    concern = AutoRoute()
    world.settle(concern)
    assert concern.conflicts == [Conflict("10.16.0.0/24", "10.16.0.0/16", "az2")]
    expected = "10.16.0.0/16,10.16.0.0/24,10.99.0.0/16" if policy == "deny" else "10.99.0.0/16"
    assert blacklist(world) == expected


def test_a_higher_named_automated_peer_is_given_time_to_deny_first():
    world = make_world(auto_route="true")
    automated_peer(world, "az2")
    route = advertise(world, "az2", "10.16.0.0/24")
    clock = Clock()
    concern = AutoRoute(clock=clock)
    world.settle(concern)
    assert concern.conflicts and not concern.denied and blacklist(world) == ""
    assert concern.recheck_at == clock.now + DENY_GRACE_S
    world.tables["ic_sb"]["Route"].remove(route)  # the peer denied: nothing left to do
    world.settle(concern)
    assert concern.conflicts == [] and concern.recheck_at is None


def test_a_peer_that_does_not_deny_in_time_leaves_it_to_us():
    world = make_world(auto_route="true")
    automated_peer(world, "az2")
    advertise(world, "az2", "10.16.0.0/24")
    clock = Clock()
    concern = AutoRoute(clock=clock)
    world.settle(concern)
    clock.now += DENY_GRACE_S
    world.settle(concern)
    assert concern.denied == [Conflict("10.16.0.0/24", "10.16.0.0/24", "az2")]
    assert blacklist(world) == "10.16.0.0/24" and concern.recheck_at is None


@pytest.mark.parametrize("automated", [True, False])
def test_against_a_lower_named_or_foreign_peer_we_deny_at_once(automated):
    world = make_world(auto_route="true")
    world.az_name, world.az = "az5", world.zone("az5")
    if automated:
        automated_peer(world, "az2")
    advertise(world, "az2" if automated else "az9", "10.16.0.0/24")
    concern = AutoRoute()
    world.settle(concern)
    assert len(concern.denied) == 1 and blacklist(world) == "10.16.0.0/24"


def test_a_denial_ends_when_the_overlap_does():
    world = make_world(auto_route="true")
    route = advertise(world, "az2", "10.16.0.0/16")
    concern = AutoRoute()
    world.settle(concern)
    assert blacklist(world) == "10.16.0.0/16,10.16.0.0/24"
    world.tables["ic_sb"]["Route"].remove(route)
    world.settle(concern)
    assert concern.conflicts == [] and blacklist(world) == ""
    route = advertise(world, "az2", "10.16.0.0/16")
    world.settle(concern)
    router = world.named("nb", "Logical_Router", "ovn-cluster")
    router.ports = [lrp for lrp in router.ports if lrp.name != "ovn-cluster-p0"]
    world.settle(concern)
    assert concern.conflicts == [] and blacklist(world) == ""


def test_report_policy_or_auto_route_not_true_never_deny():
    for settings in ({"auto_route": "true", "conflict_policy": "report"}, {},
                     {"auto_route": "false"}):
        world = make_world(**settings)
        advertise(world, "az2", "10.16.0.0/24")
        concern = AutoRoute()
        world.settle(concern)
        assert concern.conflicts and not concern.denied
        assert "10.16.0.0" not in nb_global(world).options.get("ic-route-blacklist", "")


def test_link_ports_and_transit_facing_ports_are_not_local_subnets():
    world = make_world(auto_route="true", networks=("10.16.0.1/24", "169.254.0.1/30"))
    mirror = world.mirror("ts")
    facing = world.add("nb", "Logical_Router_Port", name="hand-made", mac="0a:00:00:00:00:09",
                       networks=["10.200.0.1/24"], gateway_chassis=[], external_ids={})
    world.named("nb", "Logical_Router", "ovn-cluster").ports.append(facing)
    mirror.ports.append(world.add("nb", "Logical_Switch_Port", name="ts-hand", type="router",
                                  options={"router-port": "hand-made"}))
    advertise(world, "az2", "10.200.0.0/16")
    advertise(world, "az2", "169.254.0.0/16")
    advertise(world, "az2", "169.254.100.0/24")
    concern = AutoRoute()
    world.settle(concern)
    assert concern.conflicts == []


def test_conflicts_are_published_and_withdrawn_as_a_gauge():
    metrics = Metrics()
    world = make_world(auto_route="true", conflict_policy="report")
    route = advertise(world, "az2", "10.16.0.0/16")
    concern = AutoRoute()
    concern.plan(world.ctx())
    concern.report(metrics)
    sample = {"local": "10.16.0.0/24", "remote": "10.16.0.0/16"}
    assert metrics.registry.get_sample_value("ovn_ic_controller_route_conflicts", sample) == 1
    world.tables["ic_sb"]["Route"].remove(route)
    concern.plan(world.ctx())
    concern.report(metrics)
    assert metrics.registry.get_sample_value("ovn_ic_controller_route_conflicts", sample) is None
