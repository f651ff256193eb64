"""Route tags, allow-lists and per-router/port deny lists (docs/behaviour.md §6.9).

With a 26.03 peer (the first release with all three) and a 26.09 one, the scenario of
STEPS runs with the release's ovn-ic in both AZs, then with ours in az1, in az2 and in both; after
each step the rows must be those of the all-C run.  Every step sets controls in both
AZs, so each mixed deployment has ours advertising to and learning from the C daemon.
The combination of every control with the global denylist, which no ovn-ic before
26.03 has, runs with ours alone.
"""

from __future__ import annotations

import json

import pytest
from controller import run_cli
from icview import DEPLOYMENTS, TIMEOUT, assert_idle, ours_everywhere, rows
from releaseview import Step, all_c_run, registered, run_compared, start_all
from routeview import add_transit_switches, connect, enable_routes, learned, wait_for
from testbed import wait_until

RELEASES = ("26.03", "26.09")
# What lr{i} routes besides its transit-switch ports: a subnet and static routes.
NETWORKS = ("192.168.{i}.1/24", "fd0{i}::1/64")
STATICS = ("10.{i}0.0.0/24", "10.{i}1.0.0/24", "fd1{i}::/64")


def lrp_options(az, lrp, **options):
    """Set (None: remove) options of a logical router port; keys spelt with "_" for "-"."""
    _set(az, "Logical_Router_Port", lrp, options)


def lr_options(az, router, **options):
    _set(az, "Logical_Router", router, options)


def _set(az, table, name, options):
    for key, value in options.items():
        key = key.replace("_", "-")
        if value is None:
            az.nbctl("remove", table, name, "options", key)
        else:
            az.nbctl("set", table, name, f'options:{key}="{value}"')


def build(tb, sides=None):
    """ts1 then ts2 (one at a time, so tunnel keys do not depend on timing), lr{i} in
    each AZ on both, with a subnet and static routes, advertising and learning."""
    for ts, n in (("ts1", 100), ("ts2", 200)):
        add_transit_switches(tb, ts)
        for i, az in enumerate(tb.azs, 1):
            connect(az, f"lr{i}", ts, f"aa:aa:aa:aa:{ts[-1]}{ts[-1]}:0{i}",
                    f"169.254.{n}.{i}/24", f"fd00:{n}::{i}/64")
            wait_until(lambda ts=ts, i=i: f"lsp-{ts}-lr{i}" in {
                row["logical_port"] for row in rows(tb.ic_sbctl, "Port_Binding",
                                                    "logical_port")},
                timeout=TIMEOUT, message=f"lr{i}'s port on {ts} published")
    for i, az in enumerate(tb.azs, 1):
        enable_routes(az)
        az.nbctl("lrp-add", f"lr{i}", f"lr{i}-inside", f"00:00:00:00:0{i}:01",
                 *(network.format(i=i) for network in NETWORKS))
        for prefix in STATICS:
            prefix = prefix.format(i=i)
            az.nbctl("lr-route-add", f"lr{i}", prefix,
                     f"192.168.{i}.254" if "." in prefix else f"fd0{i}::fe")


def learned_by(az):
    """{(prefix, transit switch)} that az's router learned (by the next hop's network)."""
    return {(route[1], "ts1" if route[2].startswith(("169.254.100.", "fd00:100:")) else "ts2")
            for route in learned(az)}


def everything(j):
    """All that lr{j} advertises, through both transit switches."""
    return {(prefix.format(i=j), ts) for prefix in (*NETWORKS, *STATICS)
            for ts in ("ts1", "ts2")}


def learned_is(wanted1, wanted2):
    return lambda tb: (learned_by(tb.azs[0]), learned_by(tb.azs[1])) == (wanted1, wanted2)


def tags(tb, sides):
    """Each AZ tags what it advertises through ts1 and filters the other's tag there; its
    ts2 port has a tag the other AZ does not filter."""
    az1, az2 = tb.azs
    lrp_options(az1, "lrp-lr1-ts1", ic_route_tag="blue", ic_route_filter_tag="red")
    lrp_options(az2, "lrp-lr2-ts1", ic_route_tag="red", ic_route_filter_tag="blue")
    lrp_options(az1, "lrp-lr1-ts2", ic_route_tag="green")


def ts2_only(prefixes):
    return {(prefix, ts) for prefix, ts in prefixes if ts == "ts2"}


def allow_lists(tb, sides):
    """az1 learns only from 10.20.0.0/16 (its router's list); az2 advertises through ts2
    what its port's list and its router's merged allow, through ts1 its router's only."""
    az1, az2 = tb.azs
    lr_options(az1, "lr1", ic_route_filter_learn="10.20.0.0/16,fd12::/16")
    lr_options(az2, "lr2", ic_route_filter_adv="10.21.0.0/16")
    lrp_options(az2, "lrp-lr2-ts2", ic_route_filter_adv="10.20.0.0/16,192.168.2.0/24")


def deny_lists(tb, sides):
    """az2 refuses to learn a prefix by its router's, its port's and the global list
    each; az1 refuses to advertise one by its router's."""
    az1, az2 = tb.azs
    lr_options(az1, "lr1", ic_route_deny_adv="10.11.0.0/16")
    lr_options(az2, "lr2", ic_route_deny_learn="10.10.0.0/16")
    lrp_options(az2, "lrp-lr2-ts2", ic_route_deny_learn="192.168.1.0/24")
    az2.nbctl("set", "NB_Global", ".", 'options:ic-route-denylist="fd11::/16"')


def removed(tb, sides):
    az1, az2 = tb.azs
    for az, i in ((az1, 1), (az2, 2)):
        lr_options(az, f"lr{i}", ic_route_filter_learn=None, ic_route_filter_adv=None,
                   ic_route_deny_adv=None, ic_route_deny_learn=None)
        for ts in ("ts1", "ts2"):
            lrp_options(az, f"lrp-lr{i}-{ts}", ic_route_tag=None, ic_route_filter_tag=None,
                        ic_route_filter_adv=None, ic_route_deny_learn=None)
    az2.nbctl("remove", "NB_Global", ".", "options", "ic-route-denylist")


STEPS = [
    Step("AZ registration", start_all, registered),
    Step("routers on two transit switches", lambda tb, sides: build(tb),
         learned_is(everything(2), everything(1))),
    Step("route tags", tags, learned_is(ts2_only(everything(2)), ts2_only(everything(1)))),
    Step("allow-lists", allow_lists,
         learned_is({("10.20.0.0/24", "ts2")}, ts2_only(everything(1)))),
    Step("deny lists and the global denylist", deny_lists,
         learned_is({("10.20.0.0/24", "ts2")}, {("fd01::1/64", "ts2")})),
    Step("controls removed", removed, learned_is(everything(2), everything(1))),
]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_rows_are_those_of_the_all_c_run(release_testbed, release, deployment):
    sides = run_compared(release_testbed, DEPLOYMENTS[deployment], all_c_run(release, STEPS), STEPS)
    assert_idle([side.controller for side in sides])


def refused(controller, reason):
    return controller.metric("ovn_ic_controller_routes_refused", direction="learn",
                             reason=reason)


def show(controller):
    result = run_cli("--config", str(controller.config_path), "show", "--format", "json",
                     timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_tag_allow_list_deny_lists_and_the_global_denylist_together(testbed):
    """Ours in both AZs: az1 learns, through a port and a router with every control, only
    what passes them all; each refusal is counted under its reason, and ``show`` lists them."""
    ours1, ours2 = ours_everywhere(testbed)
    build(testbed)
    az1, az2 = testbed.azs
    az2.nbctl("lr-route-add", "lr2", "10.20.5.0/24", "192.168.2.254")
    wait_for(lambda: len(learned_by(az1)) == 12, "az1 learned all of az2's routes")
    lrp_options(az2, "lrp-lr2-ts1", ic_route_tag="blue")
    lrp_options(az1, "lrp-lr1-ts1", ic_route_filter_tag="blue")
    lr_options(az1, "lr1", ic_route_filter_learn="10.20.0.0/16,fd00::/8",
               ic_route_deny_learn="fd02::/16")
    lrp_options(az1, "lrp-lr1-ts2", ic_route_deny_learn="10.20.5.0/24")
    az1.nbctl("set", "NB_Global", ".", 'options:ic-route-denylist="fd12::/16"')
    # Through ts2: 10.20.0.0/24 passes; 192.168.2.1/24 and 10.21.0.0/24 are outside the
    # allow-list, fd02::1/64 in the router's and 10.20.5.0/24 (inside the allowed
    # 10.20.0.0/16) in the port's deny list, fd12::/64 in the global one.  Through ts1
    # all six carry the tag the port filters, but fd12::/64 counts on each switch as
    # refused by the global list, which is checked first.
    wait_for(lambda: learned_by(az1) == {("10.20.0.0/24", "ts2")}, "az1 learns one route")
    ours1.wait_until(lambda: [refused(ours1, reason) for reason in (
        "tag", "filter", "deny", "blacklist")] == [5, 2, 2, 2], message="refusals counted")
    assert {(c["router"], c["port"]) for c in show(ours1)["route_controls"]} == {
        ("lr1", ""), ("lr1", "lrp-lr1-ts1"), ("lr1", "lrp-lr1-ts2")}
    zones = {zone["name"]: zone for zone in show(ours2)["availability_zones"]}
    assert {route["tag"] for route in zones["az2"]["routes"]
            if route["transit_switch"] == "ts1"} == {"blue"}

    # Without the filter tag, ts1's routes meet the router's lists only, not ts2's port's.
    lrp_options(az1, "lrp-lr1-ts1", ic_route_filter_tag=None)
    wait_for(lambda: learned_by(az1) == {("10.20.0.0/24", "ts2"), ("10.20.0.0/24", "ts1"),
                                         ("10.20.5.0/24", "ts1")},
             "az1 learns through ts1 what its router's lists let through")
    assert_idle([ours1, ours2])
