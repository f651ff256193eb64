"""Route advertisement decisions (docs/behaviour.md §6.4, Q1, Q2, Q3, Q13), on plain data."""

from __future__ import annotations

from route_world import DUAL_PORT, V4_PORT, kinds, one_router
from structlog.testing import capture_logs


def test_static_and_connected_routes_advertised_with_the_ts_port_as_next_hop():
    world, lr1 = one_router(DUAL_PORT)
    static = world.static(lr1, "10.11.1.0/24", "169.254.0.1")
    world.static(lr1, "10.99.0.5", "169.254.0.1")
    world.static(lr1, "2001:db8:99::/64", "2001:db8:1::10")
    lrp = world.lrp(lr1, "lrp-inside", "192.168.1.1/24", "2002:db8:1::1/64")
    world.sync()
    assert world.advertised() == [
        ("ts1", "", "10.11.1.0/24", "169.254.100.1", "static"),
        ("ts1", "", "10.99.0.5/32", "169.254.100.1", "static"),
        ("ts1", "", "192.168.1.1/24", "169.254.100.1", "connected"),  # host bits kept
        ("ts1", "", "2001:db8:99::/64", "2001:db8:1::1", "static"),
        ("ts1", "", "2002:db8:1::1/64", "2001:db8:1::1", "connected"),
    ]
    assert world.own_route("10.11.1.0/24").external_ids == {
        "nb-id": str(static.uuid), "lr-id": str(lr1.uuid)}
    assert world.own_route("192.168.1.1/24").external_ids["nb-id"] == str(lrp.uuid)


def test_the_ts_facing_network_src_ip_routes_and_discard_are_not_advertised():
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "10.22.1.0/24", "169.254.0.2", policy="src-ip")
    world.static(lr1, "10.33.0.0/16", "discard")
    world.sync()
    assert world.advertised() == []


def test_default_route_needs_adv_default():
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "0.0.0.0/0", "169.254.0.3")
    world.sync()
    assert world.advertised() == []
    assert world.concern.tally.refused["advertise", "default"] == 1
    world.options(ic_route_adv_default="true")
    world.sync()
    assert world.advertised() == [("ts1", "", "0.0.0.0/0", "169.254.100.1", "static")]


def test_link_local_and_denied_prefixes_are_not_advertised():
    world, lr1 = one_router(DUAL_PORT)
    world.static(lr1, "169.254.7.0/24", "169.254.0.1")
    world.static(lr1, "fe80:1::/64", "2001:db8:1::10")
    world.static(lr1, "10.11.0.0/24", "169.254.0.1")
    world.static(lr1, "10.12.0.0/24", "169.254.0.1")
    world.options(ic_route_blacklist="10.11.0.0/16")
    world.sync()
    assert [route[2] for route in world.advertised()] == ["10.12.0.0/24"]
    refused = world.concern.tally.refused
    assert (refused["advertise", "link-local"], refused["advertise", "blacklist"]) == (2, 1)


def test_denylist_wins_over_blacklist():
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "10.11.0.0/24", "169.254.0.1")
    world.static(lr1, "10.12.0.0/24", "169.254.0.1")
    world.options(ic_route_blacklist="10.11.0.0/16", ic_route_denylist="10.12.0.0/16")
    world.sync()
    assert [route[2] for route in world.advertised()] == ["10.11.0.0/24"]


def test_static_routes_go_only_through_ports_of_their_route_table():
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "10.11.1.0/24", "169.254.0.1", route_table="rtb1")
    world.lrp(lr1, "lrp-inside", "192.168.1.1/24")
    world.sync()
    assert world.advertised() == [("ts1", "", "192.168.1.1/24", "169.254.100.1", "connected")]
    next(lrp for lrp in lr1.ports if lrp.name == "lrp-lr1-ts1").options["route_table"] = "rtb1"
    world.sync()
    assert world.advertised() == [
        ("ts1", "", "192.168.1.1/24", "169.254.100.1", "connected"),  # connected: <main>
        ("ts1", "rtb1", "10.11.1.0/24", "169.254.100.1", "static"),
    ]


def test_q2_ipv6_route_over_ipv4_only_port_is_not_advertised_with_a_link_local_next_hop():
    """23.03 advertised it via the MAC's EUI-64 fe80:: address and re-inserted it forever."""
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "2001:db8:99::/64", "2001:db8:1::10")
    world.sync()
    assert world.advertised() == []
    assert world.concern.tally.refused["advertise", "no-nexthop"] == 1


def test_q1_duplicate_connected_network_is_advertised_once_and_warned_once():
    world, lr1 = one_router(V4_PORT)
    first = world.lrp(lr1, "lrp-a", "192.168.1.1/24")
    second = world.lrp(lr1, "lrp-b", "192.168.1.1/24")
    with capture_logs() as logs:
        world.sync()
        assert not world.plan()
    assert world.advertised() == [("ts1", "", "192.168.1.1/24", "169.254.100.1", "connected")]
    kept = min(first.uuid, second.uuid)
    assert world.own_route("192.168.1.1/24").external_ids["nb-id"] == str(kept)
    warnings = [entry for entry in logs if entry["event"] == "routes.duplicate_advertisement"]
    assert len(warnings) == 1 and warnings[0]["suppressed"] == str(max(first.uuid, second.uuid))


def test_identical_static_routes_give_one_row():
    """ovn-ic.at "duplicate NB route adv/learn"."""
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "1.1.1.1/32", "10.0.1.10")
    world.static(lr1, "1.1.1.1/32", "10.0.1.10")
    world.sync()
    assert [route[2] for route in world.advertised()] == ["1.1.1.1/32"]


def test_static_and_connected_with_one_prefix_string_do_not_collide_in_the_unique_index():
    """23.03 keyed them apart by origin, so both rows were inserted and the commit failed."""
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "192.168.1.0/24", "192.168.1.254")
    world.lrp(lr1, "lrp-inside", "192.168.1.0/24")
    world.sync()
    assert world.advertised() == [("ts1", "", "192.168.1.0/24", "169.254.100.1", "connected")]


def test_q3_two_routers_of_one_az_on_one_ts_are_both_advertised_and_stable():
    world, lr1 = one_router(V4_PORT)
    lr2 = world.router("lr2")
    world.attach(lr2, "ts1", "aa:aa:aa:aa:aa:02 169.254.100.2/24")
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.static(lr2, "10.2.0.0/24", "169.254.0.1")
    world.sync(passes=2)  # a second pass that still changed something would fail here
    assert world.advertised() == [
        ("ts1", "", "10.1.0.0/24", "169.254.100.1", "static"),
        ("ts1", "", "10.2.0.0/24", "169.254.100.2", "static"),
    ]


def test_q13_routes_withdrawn_from_a_ts_where_the_az_has_no_port_left():
    world, lr1 = one_router(V4_PORT)
    world.transit_switch("ts2")
    binding2 = world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:03 169.254.200.1/24")
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.sync()
    assert {route[0] for route in world.advertised()} == {"ts1", "ts2"}
    world.tables["ic_sb"]["Port_Binding"].remove(binding2)
    world.sync()
    assert world.advertised() == [("ts1", "", "10.1.0.0/24", "169.254.100.1", "static")]


def test_q13_adv_off_withdraws_everything_even_where_no_port_is_left():
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.remote_route("10.9.0.0/24", "169.254.100.1", ts="ts-gone", az=world.az)
    world.options(ic_route_adv="false")
    world.sync()
    assert world.advertised() == []


def test_orphan_routes_on_a_deleted_ts_are_withdrawn():
    world, lr1 = one_router(V4_PORT)
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.sync()
    world.tables["ic_nb"]["Transit_Switch"].clear()
    world.sync()
    assert world.advertised() == []


def test_wrong_external_ids_and_origin_are_fixed_in_place():
    world, lr1 = one_router(V4_PORT)
    static = world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    existing = world.remote_route("10.1.0.0/24", "169.254.100.1", origin="connected",
                                  az=world.az, **{"nb-id": "stale", "other": "kept"})
    plan = world.plan()
    assert kinds(plan) == [("set", "ic_sb", "Route"), ("setkey", "ic_sb", "Route"),
                           ("setkey", "ic_sb", "Route")]
    world.apply(plan)
    assert existing.origin == "static"
    assert existing.external_ids == {"nb-id": str(static.uuid), "lr-id": str(lr1.uuid),
                                     "other": "kept"}


def test_unparsable_nb_route_is_skipped_with_a_warning_naming_it_and_others_advertised():
    world, lr1 = one_router(V4_PORT)
    bad = world.static(lr1, "10.1.0.0/33", "169.254.0.1")
    world.static(lr1, "10.2.0.0/24", "169.254.0.1")
    with capture_logs() as logs:
        world.sync()
    assert [route[2] for route in world.advertised()] == ["10.2.0.0/24"]
    (warning,) = [entry for entry in logs if entry["event"] == "routes.nb_route_unparsable"]
    assert warning["route"] == str(bad.uuid) and warning["router"] == "lr1"


def test_port_with_invalid_address_does_not_advertise():
    world, lr1 = one_router("not-a-mac 169.254.100.1/24")
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.sync()
    assert world.advertised() == []


def test_other_azs_rows_are_never_touched():
    world, lr1 = one_router(V4_PORT)
    world.remote_route("10.50.0.0/24", "169.254.100.9")
    world.options(ic_route_learn="false")
    assert not world.plan()


def test_26_09_east_west_connected_routes_go_into_the_ports_route_table_too():
    """With the IC SB's Route.options (26.09): a connected network is advertised into <main>
    and, marked override-connected, into the route table of a port that has one; a static
    route's own override-connected is carried over."""
    world, lr1 = one_router(V4_PORT, route_table="rtb1")
    world.schemas = {"ic_sb": {"tables": {"Route": {"columns": {"options": {}}}}}}
    world.lrp(lr1, "lrp-inside", "192.168.1.1/24")
    world.static(lr1, "10.11.1.0/24", "169.254.0.1",
                 route_table="rtb1").options["override-connected"] = "true"
    world.sync()
    assert world.advertised() == [
        ("ts1", "", "192.168.1.1/24", "169.254.100.1", "connected"),
        ("ts1", "rtb1", "10.11.1.0/24", "169.254.100.1", "static"),
        ("ts1", "rtb1", "192.168.1.1/24", "169.254.100.1", "connected"),
    ]
    assert {(route.route_table, route.ip_prefix): route.options
            for route in world.tables["ic_sb"]["Route"]} == {
        ("", "192.168.1.1/24"): {}, ("rtb1", "10.11.1.0/24"): {"override-connected": "true"},
        ("rtb1", "192.168.1.1/24"): {"override-connected": "true"}}
