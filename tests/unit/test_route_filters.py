"""Route tags, allow-lists and deny lists of routers and ports (docs/behaviour.md §6.9)."""

from __future__ import annotations

import pytest
from route_world import DUAL_PORT, one_router
from structlog.testing import capture_logs

from ovn_ic_controller import doctor, show
from ovn_ic_controller.lock import OURS, LockHolder
from ovn_ic_controller.sync.prefixes import parse_cidr
from ovn_ic_controller.sync.routes.filters import NO_FILTERS, PortFilters, controls, port_filters

PEER = "169.254.100.2"
TAG = "ic-route-tag"


def lists(port=(), router=(), direction="learn"):
    filters, invalid = port_filters(controls(dict(port)), controls(dict(router)))
    assert invalid == []
    return filters.learn if direction == "learn" else filters.advertise


def refusal(lists_, prefix):
    return lists_.refusal(parse_cidr(prefix))


# ------------------------------------------------------------------ pure semantics
@pytest.mark.parametrize("prefix, reason", [
    ("10.1.2.0/24", None), ("10.1.0.0/16", None), ("10.1.2.3/32", None),
    ("10.0.0.0/8", "filter"),     # shorter than the entry: not inside it
    ("10.2.0.0/24", "filter"), ("2001:db8::/64", "filter"),
])
def test_an_allow_list_passes_only_prefixes_inside_an_entry(prefix, reason):
    allow = lists(port={"ic-route-filter-learn": "10.1.0.0/16"})
    assert refusal(allow, prefix) == reason


def test_the_ports_and_the_routers_entries_are_one_list():
    both = lists(port={"ic-route-filter-adv": "10.1.0.0/16"},
                 router={"ic-route-filter-adv": "10.2.0.0/16, 2001:db8::/32"},
                 direction="advertise")
    assert [refusal(both, p) for p in ("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24",
                                       "2001:db8:5::/48", "2001:db9::/48")] == [
        None, None, "filter", None, "filter"]
    router_only = lists(router={"ic-route-deny-adv": "10.1.0.0/16"}, direction="advertise")
    assert refusal(router_only, "10.1.1.0/24") == "deny"
    assert refusal(router_only, "10.2.1.0/24") is None
    # Each direction reads its own keys.
    assert refusal(lists(router={"ic-route-deny-adv": "10.1.0.0/16"}), "10.1.1.0/24") is None


def test_an_allow_list_of_the_other_family_refuses_every_prefix_of_this_one():
    only_v6 = lists(port={"ic-route-filter-learn": "2001:db8::/32"})
    assert refusal(only_v6, "10.1.0.0/24") == "filter"
    assert refusal(only_v6, "2001:db8:1::/64") is None


@pytest.mark.parametrize("prefix, reason", [
    ("10.1.3.0/24", None),
    ("10.1.2.0/24", "deny"), ("10.1.2.128/25", "deny"),  # in both: the deny list wins
    ("10.1.0.0/16", None),   # contains the deny entry, inside the allowed one
    ("10.2.0.0/24", "filter"),
    ("2001:db8:1:5::/64", "deny"), ("2001:db8:2::/48", None), ("2001:db8:1::/47", None),
    ("2001:db9::/64", "filter"),
])
def test_overlapping_allow_and_deny_lists(prefix, reason):
    both = lists(port={"ic-route-filter-learn": "10.1.0.0/16,2001:db8::/32",
                       "ic-route-deny-learn": "2001:db8:1::/48"},
                 router={"ic-route-deny-learn": "10.1.2.0/24"})
    assert refusal(both, prefix) == reason


def test_bad_entries_are_reported_and_an_allow_list_of_them_lets_nothing_through():
    filters, invalid = port_filters(controls({"ic-route-filter-learn": "nonsense, "}),
                                    controls({"ic-route-deny-learn": "10.1.0.0/33,10.2.0.0/16"}))
    assert invalid == [("Logical_Router", "ic-route-deny-learn", "10.1.0.0/33"),
                       ("Logical_Router_Port", "ic-route-filter-learn", "nonsense")]
    assert refusal(filters.learn, "10.3.0.0/24") == "filter"
    assert refusal(filters.learn, "10.2.0.0/24") == "deny"
    empty, invalid = port_filters(controls({"ic-route-filter-learn": " , "}), ())
    assert (empty, invalid) == (NO_FILTERS, [])


def test_a_route_is_refused_when_its_tag_is_the_ports_filter_tag():
    blue, _ = port_filters(controls({"ic-route-filter-tag": "blue", "ic-route-tag": "red"}), ())
    assert (blue.tag, blue.filter_tag) == ("red", "blue")
    assert [blue.refuses_tag(tag) for tag in ("blue", "red", None)] == [True, False, False]
    # As ovn-ic compares them: an empty tag equals an absent filter tag.
    assert [PortFilters().refuses_tag(tag) for tag in ("", "blue", None)] == [True, False, False]


# ------------------------------------------------------------------ route sync
def lrp(world, name):
    (found,) = [port for port in world.tables["nb"]["Logical_Router_Port"] if port.name == name]
    return found


def tags(world):
    return sorted((route.transit_switch, route.ip_prefix, route.external_ids.get(TAG))
                  for route in world.tables["ic_sb"]["Route"]
                  if route.availability_zone is world.az)


def test_each_port_tags_what_it_advertises_and_a_changed_tag_is_rewritten():
    world, lr1 = one_router()
    world.transit_switch("ts2")
    world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:02 169.254.200.1/24")
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    lrp(world, "lrp-lr1-ts1").options["ic-route-tag"] = "blue"
    world.sync()
    assert tags(world) == [("ts1", "10.1.0.0/24", "blue"), ("ts2", "10.1.0.0/24", None)]
    lrp(world, "lrp-lr1-ts2").options["ic-route-tag"] = "red"
    lrp(world, "lrp-lr1-ts1").options.pop("ic-route-tag")
    world.sync()
    assert tags(world) == [("ts1", "10.1.0.0/24", None), ("ts2", "10.1.0.0/24", "red")]


def test_a_learner_skips_the_routes_tagged_with_its_filter_tag():
    world, lr1 = one_router()
    world.remote_route("10.1.0.0/24", PEER, **{TAG: "blue"})
    world.remote_route("10.2.0.0/24", PEER, **{TAG: "red"})
    world.remote_route("10.3.0.0/24", PEER)
    world.sync()
    assert len(world.learned(lr1)) == 3
    lrp(world, "lrp-lr1-ts1").options["ic-route-filter-tag"] = "blue"
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == ["10.2.0.0/24", "10.3.0.0/24"]
    assert world.concern.tally.refused["learn", "tag"] == 1


def test_allow_lists_of_the_router_and_the_port_limit_what_is_advertised():
    world, lr1 = one_router(DUAL_PORT)
    for prefix, nexthop in (("10.1.0.0/24", "169.254.0.1"), ("10.2.0.0/24", "169.254.0.1"),
                            ("10.3.0.0/24", "169.254.0.1"), ("2001:db8:5::/64", "2001:db8:1::9")):
        world.static(lr1, prefix, nexthop)
    lr1.options["ic-route-filter-adv"] = "10.1.0.0/16"
    lrp(world, "lrp-lr1-ts1").options["ic-route-filter-adv"] = "10.2.0.0/16,2001:db8::/32"
    world.sync()
    assert [route[2] for route in world.advertised()] == [
        "10.1.0.0/24", "10.2.0.0/24", "2001:db8:5::/64"]
    assert world.concern.tally.refused["advertise", "filter"] == 1


def test_a_ports_filter_holds_only_for_that_port():
    world, lr1 = one_router()
    world.transit_switch("ts2")
    world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:02 169.254.200.1/24")
    world.static(lr1, "10.1.0.0/24", "169.254.0.1")
    world.remote_route("10.9.0.0/24", PEER)
    world.remote_route("10.9.0.0/24", "169.254.200.2", ts="ts2")
    lrp(world, "lrp-lr1-ts2").options.update({"ic-route-deny-adv": "10.1.0.0/16",
                                               "ic-route-deny-learn": "10.9.0.0/16"})
    world.sync()
    assert world.advertised() == [("ts1", "", "10.1.0.0/24", "169.254.100.1", "static")]
    assert world.learned(lr1) == [("10.9.0.0/24", PEER, "", "connected")]
    refused = world.concern.tally.refused
    assert (refused["advertise", "deny"], refused["learn", "deny"]) == (1, 1)


def test_tag_allow_list_deny_lists_and_the_global_denylist_together():
    """Each learned route is refused for the first reason that holds, in ovn-ic's order:
    the global denylist, the router's and port's deny lists, their allow-lists."""
    world, lr1 = one_router()
    world.options(ic_route_denylist="10.5.0.0/16")
    lr1.options.update({"ic-route-filter-learn": "10.0.0.0/8",
                        "ic-route-deny-learn": "10.6.0.0/16"})
    lrp(world, "lrp-lr1-ts1").options.update({"ic-route-filter-tag": "blue",
                                               "ic-route-deny-learn": "10.7.0.0/16",
                                               "ic-route-filter-learn": "192.168.0.0/16"})
    for prefix in ("10.1.0.0/24", "192.168.1.0/24", "10.5.1.0/24", "10.6.1.0/24",
                   "10.7.1.0/24", "172.16.0.0/24"):
        world.remote_route(prefix, PEER)
    world.remote_route("10.2.0.0/24", PEER, **{TAG: "blue"})
    world.remote_route("10.3.0.0/24", PEER, **{TAG: "green"})
    world.sync()
    assert [route[0] for route in world.learned(lr1)] == [
        "10.1.0.0/24", "10.3.0.0/24", "192.168.1.0/24"]
    refused = world.concern.tally.refused
    assert {reason: refused["learn", reason] for reason in
            ("tag", "blacklist", "deny", "filter")} == {
        "tag": 1, "blacklist": 1, "deny": 2, "filter": 1}


def test_a_bad_entry_is_warned_about_once_naming_its_row_and_option():
    """Once, though the router's list applies to both its ports."""
    world, lr1 = one_router()
    world.transit_switch("ts2")
    world.attach(lr1, "ts2", "aa:aa:aa:aa:aa:02 169.254.200.1/24")
    lr1.options["ic-route-deny-adv"] = "10.1.0.0/16,bogus"
    lrp(world, "lrp-lr1-ts2").options["ic-route-tag"] = "blue"
    with capture_logs() as logs:
        world.sync()
        world.sync()
    assert [(log["table"], log["row"], log["option"], log["entry"]) for log in logs
            if log["event"] == "routes.filter_entry_invalid"] == [
        ("Logical_Router", "lr1", "ic-route-deny-adv", "bogus")]


def test_show_lists_the_controls_of_routers_and_ports_and_the_tags_of_routes():
    world, lr1 = one_router()
    world.router("lr2")  # none: not listed
    lr1.options.update({"ic-route-deny-learn": "10.6.0.0/16", "ic-route-tag": "ignored"})
    lrp(world, "lrp-lr1-ts1").options.update({"ic-route-tag": "blue", "route_table": "rtb"})
    controls_ = show.route_controls(world.ctx())
    assert controls_ == [
        {"router": "lr1", "port": "", "options": {"ic-route-deny-learn": "10.6.0.0/16"}},
        {"router": "lr1", "port": "lrp-lr1-ts1", "options": {"ic-route-tag": "blue"}}]
    route = {"prefix": "10.1.0.0/24", "nexthop": "169.254.100.1", "origin": "static",
             "transit_switch": "ts1", "route_table": "", "tag": "blue"}
    text = show.render({"az": "az1", "enable_ic": True, "ovn_ic_lock": "held",
                        "availability_zones": [{"name": "az1", "this_az": True, "gateways": [],
                                                "ports": [], "routes": [route]}],
                        "learned_routes": [], "conflicts": [], "route_controls": controls_,
                        "transit_routers": []})
    assert "        10.1.0.0/24 via 169.254.100.1 on ts1 (static) [tag blue]\n" in text
    assert ("route controls:\n    router lr1: ic-route-deny-learn=10.6.0.0/16\n"
            "    router lr1 port lrp-lr1-ts1: ic-route-tag=blue\n") in text


def test_doctor_names_a_bad_entry_of_a_router_or_port_with_the_command_to_see_it():
    world, lr1 = one_router()
    lrp(world, "lrp-lr1-ts1").options["ic-route-filter-learn"] = "10.0.0.0/8,10.1.0.0/40"
    survey = doctor.Survey(world.ctx(), LockHolder(OURS, ""))
    found = [(f.problem, f.fix) for f in doctor.check_routes(survey)]
    assert found == [("ic-route-filter-learn entry '10.1.0.0/40' of Logical_Router_Port "
                      "lrp-lr1-ts1 is not a CIDR: ignored", "correct it: ovn-nbctl get "
                      "Logical_Router_Port lrp-lr1-ts1 options:ic-route-filter-learn")]
