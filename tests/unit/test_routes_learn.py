"""Route learning decisions (docs/behaviour.md §6.5, Q6, Q7, Q14), on plain data."""

from __future__ import annotations

from route_world import kinds, one_router
from structlog.testing import capture_logs

IC_SB_24_03 = {"tables": {"Availability_Zone": {"columns": {"nb_ic_cfg": {}}}}}


def test_learns_another_azs_route_verbatim_tagged_with_its_ic_sb_row():
    world, lr1 = one_router()
    remote = world.remote_route("192.168.2.1/24", "169.254.100.2", origin="connected")
    plan = world.plan()
    assert kinds(plan) == [("addvalue", "nb", "Logical_Router"),
                           ("insert", "nb", "Logical_Router_Static_Route")]
    world.apply(plan)
    (learned,) = world.learned_rows(lr1)
    assert (learned.ip_prefix, learned.nexthop, learned.route_table) == (
        "192.168.2.1/24", "169.254.100.2", "")
    assert learned.external_ids == {"ic-learned-route": str(remote.uuid)}
    assert learned.options == {"origin": "connected"}
    assert not world.plan()


def test_routes_with_or_without_lr_id_are_learned_but_never_our_own_azs():
    world, lr1 = one_router()
    world.remote_route("10.1.0.0/24", "169.254.100.2")
    world.remote_route("10.2.0.0/24", "169.254.100.2", **{"lr-id": str(lr1.uuid)})
    world.remote_route("10.3.0.0/24", "169.254.100.3", az=world.az)
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.1.0.0/24", "10.2.0.0/24"]


def test_routers_of_one_az_on_one_transit_switch_learn_each_other_by_lr_id():
    """23.09's same-AZ learning: this AZ's own routes are learned by its other routers on
    the switch, never by the one their lr-id names, and not at all without a lr-id."""
    world, lr1 = one_router()
    lr2 = world.router("lr2")
    world.attach(lr2, "ts1", "aa:aa:aa:aa:aa:02 169.254.100.2/24")
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.static(lr2, "10.2.0.0/24", "169.254.0.1")
    world.remote_route("10.3.0.0/24", "169.254.100.3", az=world.az)
    world.remote_route("10.4.0.0/24", "169.254.100.3", az=world.az, **{"lr-id": "junk"})
    world.sync()
    assert world.learned(lr1) == world.learned(lr2) == []  # 23.03's IC schema: as 23.03
    world.schemas = {"ic_sb": IC_SB_24_03}
    world.sync()
    assert [route[:2] for route in world.learned(lr1)] == [("10.2.0.0/24", "169.254.100.2")]
    assert [route[:2] for route in world.learned(lr2)] == [("10.1.0.0/24", "169.254.100.1")]


def test_only_routes_of_the_ports_transit_switch_are_learned():
    world, lr1 = one_router()
    world.transit_switch("ts2")
    world.remote_route("10.1.0.0/24", "169.254.100.2", ts="ts2")
    world.sync()
    assert world.learned(lr1) == []


def test_route_table_must_match_the_ts_port_unless_empty():
    world, lr1 = one_router(route_table="rtb1")
    world.remote_route("10.1.0.0/24", "169.254.100.2", origin="static", route_table="rtb1")
    world.remote_route("10.2.0.0/24", "169.254.100.2", origin="static", route_table="rtb2")
    world.remote_route("192.168.2.0/24", "169.254.100.2")
    world.sync()
    assert world.learned(lr1) == [("10.1.0.0/24", "169.254.100.2", "rtb1", "static"),
                                  ("192.168.2.0/24", "169.254.100.2", "", "connected")]


def test_learn_off_removes_learned_routes_and_learn_default_gates_default_routes():
    world, lr1 = one_router()
    world.remote_route("0.0.0.0/0", "169.254.100.2", origin="static")
    world.remote_route("10.1.0.0/24", "169.254.100.2")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.1.0.0/24"]
    world.options(ic_route_learn_default="true")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["0.0.0.0/0", "10.1.0.0/24"]
    world.options(ic_route_learn="false")
    world.sync()
    assert world.learned(lr1) == []


def test_denied_and_link_local_prefixes_are_not_learned():
    world, lr1 = one_router()
    world.remote_route("10.11.2.0/24", "169.254.100.2")
    world.remote_route("169.254.9.0/24", "169.254.100.2")
    world.remote_route("3fff:1234::/64", "169.254.100.2")
    world.remote_route("2002:db8:1::1/64", "2001:db8:1::2")
    world.options(ic_route_denylist="10.11.0.0/16,3fff:1234::/48")
    world.attach(lr1, "ts1", "aa:aa:aa:aa:aa:05 2001:db8:1::1/64", name="v6")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["2002:db8:1::1/64"]


def test_q4_ipv6_denylist_entry_denies_only_its_own_prefix():
    """23.03.1: any IPv6 entry denied every IPv6 prefix at least as long."""
    world, lr1 = one_router("aa:aa:aa:aa:aa:01 2001:db8:1::1/64")
    world.remote_route("2002:db8:1::1/64", "2001:db8:1::2")
    world.options(ic_route_blacklist="3fff:1234::/48")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["2002:db8:1::1/64"]


def test_local_route_to_the_same_prefix_and_table_wins():
    """ovn-ic.at "same routes destination"; prefixes compared parsed, not as strings."""
    world, lr1 = one_router()
    world.static(lr1, "10.0.0.0/24", "192.168.1.10")
    world.static(lr1, "10.0.0.5", "192.168.1.10")
    world.static(lr1, "10.7.0.0/24", "192.168.1.10", route_table="rtb9")
    world.remote_route("10.0.0.0/24", "169.254.100.2", origin="static")
    world.remote_route("10.0.0.5/32", "169.254.100.2", origin="static")
    world.remote_route("10.7.0.0/24", "169.254.100.2", origin="static")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.7.0.0/24"]
    assert world.concern.tally.refused["learn", "local-wins"] == 2


def test_ecmp_one_learned_route_per_next_hop():
    world, lr1 = one_router()
    world.transit_switch("ts2")
    world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:02 169.254.200.1/24")
    az3 = world.add("ic_sb", "Availability_Zone", name="az3")
    world.remote_route("192.168.0.1/24", "169.254.100.2")
    world.remote_route("192.168.0.1/24", "169.254.100.3", az=az3)
    world.remote_route("192.168.0.1/24", "169.254.200.2", ts="ts2")
    world.sync()
    assert [route[1] for route in world.learned(lr1)] == [
        "169.254.100.2", "169.254.100.3", "169.254.200.2"]


def test_q6_identical_tuples_from_two_ic_sb_rows_stay_bounded():
    """23.03 inserted one more NB route on every pass; keyed by IC SB row it is one each."""
    world, lr1 = one_router()
    world.transit_switch("ts2")
    world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:02 169.254.101.1/24")
    world.remote_route("192.168.0.0/24", "169.254.101.1")
    world.remote_route("192.168.0.0/24", "169.254.101.1", ts="ts2")
    for _ in range(3):
        world.sync()
    assert len(world.learned_rows(lr1)) == 2
    sources = {route.external_ids["ic-learned-route"] for route in world.learned_rows(lr1)}
    assert len(sources) == 2


def test_two_ports_of_one_router_on_one_ts_learn_each_route_once():
    world, lr1 = one_router()
    world.attach(lr1, "ts1", "aa:aa:aa:aa:aa:02 169.254.100.9/24", name="second")
    world.remote_route("10.1.0.0/24", "169.254.100.2")
    world.sync()
    assert len(world.learned_rows(lr1)) == 1


def test_extra_copies_of_a_learned_route_are_removed():
    world, lr1 = one_router()
    remote = world.remote_route("10.1.0.0/24", "169.254.100.2")
    for _ in range(3):
        world.static(lr1, "10.1.0.0/24", "169.254.100.2", **{"ic-learned-route": str(remote.uuid)})
    for route in lr1.static_routes:
        route.options["origin"] = "connected"
    world.sync()
    assert len(world.learned_rows(lr1)) == 1


def test_re_created_ic_sb_row_re_points_the_learned_route_instead_of_replacing_it():
    world, lr1 = one_router()
    old = world.remote_route("10.1.0.0/24", "169.254.100.2")
    world.sync()
    (learned,) = world.learned_rows(lr1)
    world.tables["ic_sb"]["Route"].remove(old)
    new = world.remote_route("10.1.0.0/24", "169.254.100.2")
    plan = world.plan()
    assert kinds(plan) == [("setkey", "nb", "Logical_Router_Static_Route")]
    world.apply(plan)
    assert world.learned_rows(lr1) == [learned]
    assert learned.external_ids["ic-learned-route"] == str(new.uuid)


def test_q7_router_that_lost_all_ts_ports_drops_its_learned_routes():
    world, lr1 = one_router()
    world.remote_route("10.1.0.0/24", "169.254.100.2")
    world.static(lr1, "10.50.0.0/24", "192.168.1.1")
    world.sync()
    assert world.learned(lr1)
    world.tables["ic_sb"]["Port_Binding"].clear()
    world.sync()
    assert world.learned(lr1) == []
    assert [route.ip_prefix for route in lr1.static_routes] == ["10.50.0.0/24"]


def test_q14_no_learning_through_a_port_with_an_empty_or_invalid_address():
    """23.03 inserted another copy of each remote route on every pass."""
    world, lr1 = one_router()
    world.remote_route("10.1.0.0/24", "169.254.100.2")
    world.sync()
    (binding,) = world.tables["ic_sb"]["Port_Binding"]
    for address in ("", "garbage"):
        binding.address = address
        for _ in range(3):
            world.sync()
        assert world.learned(lr1) == []


def test_unparsable_ic_sb_route_is_warned_once_and_the_others_learned():
    world, lr1 = one_router()
    world.remote_route("10.1.0.0/24", "169.254.100.2")
    bad = world.remote_route("10.2.0.0/24", "fe80::1")
    world.remote_route("nonsense", "169.254.100.2")
    with capture_logs() as logs:
        world.sync()
        world.nb_global.options["unrelated"] = "change"
        assert not world.plan()
    assert [route[0] for route in world.learned(lr1)] == ["10.1.0.0/24"]
    warnings = [entry for entry in logs if entry["event"] == "routes.ic_route_unparsable"]
    assert len(warnings) == 2
    assert warnings[0]["route"] == str(bad.uuid)
    assert world.concern.tally.refused["learn", "unparsable"] == 2


def test_unparsable_learned_nb_route_is_removed_with_a_warning():
    world, lr1 = one_router()
    bad = world.static(lr1, "10.1.0.0/99", "169.254.100.2", **{"ic-learned-route": "x"})
    with capture_logs() as logs:
        world.sync()
    assert world.learned(lr1) == []
    (warning,) = [entry for entry in logs if entry["event"] == "routes.learned_route_unparsable"]
    assert warning["route"] == str(bad.uuid)


def test_learned_routes_are_not_advertised_again():
    world, lr1 = one_router()
    world.remote_route("10.1.0.0/24", "169.254.100.2")
    world.sync()
    assert world.advertised() == []


def test_load_balancer_routes_are_learned_only_with_ic_route_learn_lb():
    """25.09: a peer's VIP routes (origin loadbalancer) need ic-route-learn-lb=true."""
    world, lr1 = one_router()
    world.remote_route("10.99.0.5/32", "169.254.100.2", origin="loadbalancer")
    world.remote_route("10.1.0.0/24", "169.254.100.2", origin="static")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.1.0.0/24"]
    world.options(ic_route_learn_lb="true")
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.1.0.0/24", "10.99.0.5/32"]


def test_override_connected_is_copied_into_the_learned_route():
    """26.09: a peer's route marked options:override-connected is learned so marked."""
    world, lr1 = one_router(route_table="rtb1")
    world.schemas = {"ic_sb": {"tables": {"Route": {"columns": {"options": {}}}}}}
    world.remote_route("192.168.2.1/24", "169.254.100.2", route_table="rtb1").options = {
        "override-connected": "true"}
    world.sync()
    assert [route.options for route in world.learned_rows(lr1)] == [
        {"origin": "connected", "override-connected": "true"}]
