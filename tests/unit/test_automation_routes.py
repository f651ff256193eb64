"""auto-route on plain data: the ic-route-* options (conflicts: test_routes_conflicts.py)."""

import pytest
from automation_world import World

from ovn_ic_controller.constants import IC_SB, MANAGED_OPTIONS_KEY, OWNER_KEY, TS_KEY
from ovn_ic_controller.sync.automation.auto_route import AutoRoute

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
def test_conflicts_never_reach_the_blacklist_which_would_withdraw_the_local_subnet(policy):
    """Kube-OVN (and this daemon before) deny-listed both sides of a conflict: ovn-ic then
    stopped advertising the local subnet too, leaving it to the other AZ."""
    world = make_world(auto_route="true", conflict_policy=policy, no_advertise="10.99.0.0/16")
    world.add("ic_sb", "Route", availability_zone=world.zone("az2"), ip_prefix="10.16.0.0/25")
    concern = AutoRoute()
    world.settle(concern)
    assert blacklist(world) == "10.99.0.0/16"
    assert IC_SB not in concern.reads


def test_a_section_router_alone_engages_and_its_no_advertise_joins_the_one_blacklist():
    routers = {"vpc-a": {"no-advertise": "10.50.0.0/24"}}
    world = World(auto_route="true", cluster_router="elsewhere", no_advertise="10.9.0.0/16",
                  routers=routers)
    world.add("nb", "NB_Global", name="az1", options={}, external_ids={})
    assert not AutoRoute().plan(world.ctx())  # no automated router yet
    world.router(name="vpc-a")
    world.settle(AutoRoute())
    assert blacklist(world) == "10.9.0.0/16,10.50.0.0/24"
    assert nb_global(world).options["ic-route-adv"] == "true"
