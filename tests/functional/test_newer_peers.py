"""Ours beside the C ovn-ic of a newer release, on that release's databases: the rows of the
shared IC contract that release added (spec: ovn-ic-newer-releases.md §2).

The whole scenario matrix, compared row for row with the all-C run, is in
test_release_matrix.py; these are the contract rules one at a time.
"""

from __future__ import annotations

import signal
import time

import pytest
from controller import Controller
from icview import (
    DEPLOYMENTS,
    OURS,
    TIMEOUT,
    assert_idle,
    consistent_keys,
    datapath_keys,
    ic_sb_frozen,
    nb_transit_switches,
    northd_key,
    rows,
    start_deployment,
)
from routeview import connect, learned, routers_on_ts1
from testbed import NEWER_RELEASES, wait_until

MIXED = [name for name, kinds in DEPLOYMENTS.items() if kinds != (OURS, OURS)]


def zones(tb):
    return {row["name"]: row["_uuid"] for row in rows(tb.ic_sbctl, "Availability_Zone", "name")}


def registered(tb):
    return wait_until(lambda: len(zones(tb)) == 2 and zones(tb), timeout=TIMEOUT,
                      message="both AZs registered")


def ours_of(daemons):
    return next(daemon for daemon in daemons if daemon is not None)


def router_bindings(tb):
    """(uuid, tunnel key) of each IC SB datapath binding of a transit router."""
    return sorted((row["_uuid"], row["tunnel_key"])
                  for row in rows(tb.ic_sbctl, "Datapath_Binding", "type tunnel_key")
                  if row["type"] == ["transit-router"] or row["type"] == "transit-router")


@pytest.mark.parametrize("release", ["26.03", "26.09"])
@pytest.mark.parametrize("deployment", MIXED)
def test_a_peers_transit_router_is_left_alone(release_testbed, deployment):
    """A transit router's datapath binding (type=transit-router, no transit_switch) and a
    transit-router port's binding are not ours: never deleted nor rewritten."""
    tb = release_testbed
    daemons = start_deployment(tb, deployment)
    ours = ours_of(daemons)
    own_az = registered(tb)[ours.az.name]
    tb.ic_nbctl("tr-add", "tr1")
    # A transit-router port of our AZ, as a 26.x ovn-ic of this AZ would have left it.
    tb.ic_sbctl("create", "Port_Binding", f"availability_zone={own_az}", "transit_switch=tr1",
                "logical_port=trp1", "tunnel_key=1", "type=transit-router-port")
    before = wait_until(lambda: router_bindings(tb), timeout=TIMEOUT,
                        message="the peer created the transit router's binding")
    time.sleep(2)
    assert router_bindings(tb) == before
    assert [row["logical_port"] for row in rows(tb.ic_sbctl, "Port_Binding", "logical_port")
            ] == ["trp1"]
    assert not ours.events("transit_switch.binding_deleted")
    assert not ours.events("port.withdrawn")


def sequence_numbers(tb):
    """(IC NB nb_ic_cfg, IC NB sb_ic_cfg, IC SB nb_ic_cfg, {AZ: nb_ic_cfg})."""
    [inb] = rows(tb.ic_nbctl, "IC_NB_Global", "nb_ic_cfg sb_ic_cfg")
    [isb] = rows(tb.ic_sbctl, "IC_SB_Global", "nb_ic_cfg")
    azs = {row["name"]: row["nb_ic_cfg"]
           for row in rows(tb.ic_sbctl, "Availability_Zone", "name nb_ic_cfg")}
    return inb["nb_ic_cfg"], inb["sb_ic_cfg"], isb["nb_ic_cfg"], azs


@pytest.mark.parametrize("release", ["25.03", "26.03", "26.09"])
@pytest.mark.parametrize("deployment", MIXED)
def test_wait_sb_returns(release_testbed, deployment):
    """`ovn-ic-nbctl --wait=sb` returns once every AZ, ours too, has taken the change in."""
    tb = release_testbed
    start_deployment(tb, deployment)
    registered(tb)
    tb.ic_nbctl("--wait=sb", "ts-add", "ts1")
    assert sequence_numbers(tb) == (1, 1, 1, {"az1": 1, "az2": 1})
    wait_until(lambda: [row["transit_switch"] for row in rows(
        tb.ic_sbctl, "Datapath_Binding", "transit_switch")] == ["ts1"], timeout=TIMEOUT,
        message="ts1 bound")
    tb.ic_nbctl("--wait=sb", "sync")
    tb.ic_nbctl("--wait=sb", "sync")
    assert sequence_numbers(tb) == (3, 3, 3, {"az1": 3, "az2": 3})


def datapath_history(tb, ts):
    """How many IC SB Datapath_Binding rows of transit switch ``ts`` were ever inserted and
    deleted, from the IC SB's log of transactions."""
    log = tb.run("ovsdb-tool", "-mm", "show-log", tb.workdir / "ic" / "sb.db")
    switch_of, inserted, deleted, row, kind = {}, 0, 0, None, None
    for line in log.splitlines():
        words = line.split()
        if line.startswith("  table "):
            row = None
            if words[1] == "Datapath_Binding":
                kind, row = ("insert", words[4]) if words[2] == "insert" else ("diff", words[3])
        elif row is not None and line.startswith("    "):
            if kind == "insert" and line.strip() == f"transit_switch={ts}":
                switch_of[row] = ts
                inserted += 1
            elif kind == "diff" and line.strip() == "delete row" and switch_of.get(row) == ts:
                deleted += 1
    return inserted, deleted


def northd_agrees(tb, ts, key):
    return all(northd_key(az, ts) == key for az in tb.azs)


def race_once(tb, ts):
    """Add ``ts`` while the IC SB is frozen, so that both AZs write at once; check the
    outcome, then delete it again."""
    with ic_sb_frozen(tb):
        tb.ic_nbctl("ts-add", ts)
        for az in tb.azs:
            wait_until(lambda az=az: ts in nb_transit_switches(az), timeout=TIMEOUT,
                       message=f"{az.name} reacted to {ts}")
    keys = wait_until(lambda: consistent_keys(tb, {ts}), timeout=TIMEOUT,
                      message=f"one binding of {ts}, its key requested by every NB")
    wait_until(lambda: northd_agrees(tb, ts, keys[ts]), timeout=TIMEOUT,
               message=f"ovn-northd of every AZ uses the key of {ts}")
    assert datapath_history(tb, ts) == (1, 0), f"duplicates of {ts}"
    tb.ic_nbctl("ts-del", ts)
    wait_until(lambda: consistent_keys(tb, set()) == {}, timeout=TIMEOUT,
               message=f"{ts} gone everywhere")


@pytest.mark.parametrize("release", NEWER_RELEASES)
@pytest.mark.parametrize("deployment", MIXED)
def test_both_azs_create_a_transit_switch_at_once(release_testbed, deployment):
    """Five times: a new transit switch, seen by both AZs while the IC SB is frozen, so both
    write at once: one binding, one key, the same in the IC SB, both NBs and both SBs."""
    tb = release_testbed
    daemons = start_deployment(tb, deployment)
    registered(tb)
    for round_ in range(5):
        race_once(tb, f"race{round_}")
    assert_idle(daemons)


@pytest.mark.parametrize("release", ["26.09"])
def test_the_single_writer_of_global_rows_is_whoever_holds_ovn_ic_sb(release_testbed):
    """26.09's ovn-ic holds lock ovn_ic_sb to write the global rows, and so do we: while it
    holds the lock ours creates no binding; once it is gone, ours takes over."""
    tb = release_testbed
    az1, az2 = tb.azs
    az2.start_reference_ic()
    wait_until(lambda: "az2" in zones(tb), timeout=TIMEOUT, message="az2 registered")
    ours = Controller(tb, az1).start()
    registered(tb)
    tb.ic_nbctl("ts-add", "ts1")
    wait_until(lambda: consistent_keys(tb, {"ts1"}), timeout=TIMEOUT, message="ts1 bound")
    assert not ours.events("ic_sb_lock.acquired")
    assert not ours.events("transit_switch.binding_created")
    az2.stop_reference_ic()
    ours.wait_until(lambda: ours.events("ic_sb_lock.acquired"), message="ours took the lock")
    tb.ic_nbctl("ts-add", "ts2")
    wait_until(lambda: "ts2" in datapath_keys(tb), timeout=TIMEOUT, message="ts2 bound")
    assert [record["transit_switch"]
            for record in ours.events("transit_switch.binding_created")] == ["ts2"]


def mirror_modes(tb, ts):
    """other_config:ic-vxlan_mode of each AZ's mirror of ``ts``."""
    return [next((row["other_config"].get("ic-vxlan_mode")
                  for row in rows(az.nbctl, "Logical_Switch", "other_config")
                  if row["other_config"].get("interconn-ts") == ts), None) for az in tb.azs]


def keys_everywhere(tb, switches):
    """{ts: key} once the IC SB, every NB and every AZ's northd agree on each key."""
    keys = consistent_keys(tb, set(switches))
    if keys and all(northd_agrees(tb, ts, key) for ts, key in keys.items()):
        return keys
    return None


def vxlan_key(tb, ts):
    keys = keys_everywhere(tb, {ts})
    return keys[ts] if keys and 1024 <= keys[ts] <= 4095 else None


@pytest.mark.parametrize("release", NEWER_RELEASES)
@pytest.mark.parametrize("deployment", MIXED)
def test_vxlan_mode(release_testbed, deployment):
    """IC_NB_Global options:vxlan_mode with a vxlan gateway: transit switches re-keyed into
    1024-4095, new ones keyed there (the first free from 1025), mirrors saying
    ic-vxlan_mode.  Which key the re-keyed switch ends with depends on whether the AZs
    re-key at once (1025) or one after the other (ovn-ic moves it twice: 1026)."""
    tb = release_testbed
    start_deployment(tb, deployment)
    registered(tb)
    tb.ic_nbctl("ts-add", "ts1")
    assert wait_until(lambda: keys_everywhere(tb, {"ts1"}), timeout=TIMEOUT,
                      message="ts1 bound") == {"ts1": 16711682}
    assert mirror_modes(tb, "ts1") == ["false", "false"]
    tb.azs[0].sbctl("chassis-add", "gw1", "vxlan", "192.168.0.1", "--", "set", "Chassis",
                    "gw1", "other_config:is-interconn=true")
    # Both AZs see the mode change at once only with the vxlan gateway already there: an
    # AZ whose mirror changes mode re-keys every switch, from what it sees then.
    wait_until(lambda: rows(tb.ic_sbctl, "Encap", "type"), timeout=TIMEOUT,
               message="the vxlan gateway exported")
    tb.ic_nbctl("set", "IC_NB_Global", ".", "options:vxlan_mode=true")
    key = wait_until(lambda: vxlan_key(tb, "ts1"), timeout=TIMEOUT,
                     message="ts1 re-keyed into 1024-4095 everywhere")
    assert key in (1025, 1026)
    assert mirror_modes(tb, "ts1") == ["true", "true"]
    tb.ic_nbctl("ts-add", "ts2")
    assert wait_until(lambda: keys_everywhere(tb, {"ts1", "ts2"}), timeout=TIMEOUT,
                      message="ts2 bound") == {"ts1": key, "ts2": 1026 if key == 1025 else 1025}


@pytest.mark.parametrize("release", NEWER_RELEASES)
@pytest.mark.parametrize("deployment", MIXED)
def test_routers_of_one_az_learn_each_other(release_testbed, deployment):
    """23.09's same-AZ learning: two routers of az1 on ts1 learn each other's subnet
    through lr-id; az2 learns both."""
    tb = release_testbed
    az1, az2 = tb.azs
    start_deployment(tb, deployment)
    registered(tb)
    routers_on_ts1(tb)
    connect(az1, "lr1b", "ts1", "aa:aa:aa:aa:aa:11", "169.254.100.11/24")
    for az, router, subnet in ((az1, "lr1", "192.168.1.1/24"), (az1, "lr1b", "192.168.11.1/24"),
                               (az2, "lr2", "192.168.2.1/24")):
        az.nbctl("lrp-add", router, f"{router}-inside", "00:00:00:00:01:01", subnet)
    wanted = {az1: {("lr1", "192.168.11.1/24", "169.254.100.11"),
                    ("lr1", "192.168.2.1/24", "169.254.100.2"),
                    ("lr1b", "192.168.1.1/24", "169.254.100.1"),
                    ("lr1b", "192.168.2.1/24", "169.254.100.2")},
              az2: {("lr2", "192.168.1.1/24", "169.254.100.1"),
                    ("lr2", "192.168.11.1/24", "169.254.100.11")}}
    for az, routes in wanted.items():
        wait_until(lambda az=az, routes=routes: {route[:3] for route in learned(az)} == routes,
                   timeout=TIMEOUT, message=f"{az.name} learned {sorted(routes)}")


@pytest.mark.parametrize("release", ["26.03", "26.09"])
@pytest.mark.parametrize("deployment", MIXED)
def test_load_balancer_routes_need_ic_route_learn_lb(release_testbed, deployment):
    """The peer advertises its load balancer's VIP (ic-route-adv-lb, 25.09); ours learns it
    only once its NB_Global says ic-route-learn-lb=true."""
    tb = release_testbed
    daemons = start_deployment(tb, deployment)
    registered(tb)
    ours = ours_of(daemons).az
    [peer] = [az for az in tb.azs if az is not ours]
    routers_on_ts1(tb)
    i = tb.azs.index(peer) + 1
    peer.nbctl("lrp-add", f"lr{i}", "inside", "00:00:00:00:01:01", f"192.168.{i}.1/24")
    peer.nbctl("lb-add", "lb1", "10.99.0.5:80", f"192.168.{i}.10:80", "--",
               "lr-lb-add", f"lr{i}", "lb1")
    peer.nbctl("set", "NB_Global", ".", "options:ic-route-adv-lb=true")
    wait_until(lambda: ("10.99.0.5/32", "loadbalancer") in {
        (row["ip_prefix"], row["origin"])
        for row in rows(tb.ic_sbctl, "Route", "ip_prefix origin")}, timeout=TIMEOUT,
        message="the peer advertises its VIP")
    subnet = {(f"192.168.{i}.1/24", "connected")}
    wait_until(lambda: {route[1:] for route in learned_here(ours)} == subnet,
               timeout=TIMEOUT, message="the peer's subnet learned")
    time.sleep(1)
    assert {route[1:] for route in learned_here(ours)} == subnet, "the VIP is not learned"
    ours.nbctl("set", "NB_Global", ".", "options:ic-route-learn-lb=true")
    wait_until(lambda: ("10.99.0.5/32", "loadbalancer") in {
        route[1:] for route in learned_here(ours)}, timeout=TIMEOUT, message="VIP learned")


def learned_here(az):
    """(router, prefix, origin) of what ``az`` learned."""
    return {(route[0], route[1], route[4]) for route in learned(az)}


def bindings_of(tb, port):
    names = {uuid: name for name, uuid in zones(tb).items()}
    return [(names.get(row["availability_zone"]), row["address"], row["type"])
            for row in rows(tb.ic_sbctl, "Port_Binding", "logical_port availability_zone "
                            "address type") if row["logical_port"] == port]


@pytest.mark.parametrize("release", ["26.09"])
@pytest.mark.parametrize("holder", ["ours", "reference"])
def test_a_chassisless_transit_switch_port_is_bound_by_the_lock_holder(release_testbed, holder):
    """26.09's Transit_Switch_Port without chassis: the ovn_ic_sb holder binds it, in its own
    AZ; the other AZ neither deletes that binding nor mirrors it as a remote port: in every
    AZ the port is a local LSP marked interconn-tsp, as 26.09 makes it."""
    tb = release_testbed
    az1, az2 = tb.azs
    if holder == "ours":
        ours = Controller(tb, az1).start()
        ours.wait_until(lambda: ours.events("ic_sb_lock.acquired"), message="lock taken")
        az2.start_reference_ic()
    else:
        az2.start_reference_ic()
        ours = Controller(tb, az1).start()
    registered(tb)
    tb.ic_nbctl("ts-add", "ts1")
    tb.ic_nbctl("tsp-add", "ts1", "tsp1")
    tb.ic_nbctl("tsp-set-addr", "tsp1", "00:00:00:01:01:01 10.0.0.1")
    owner = "az1" if holder == "ours" else "az2"
    wait_until(lambda: bindings_of(tb, "tsp1") == [(owner, "00:00:00:01:01:01 10.0.0.1",
                                                    "transit-switch-port")],
               timeout=TIMEOUT, message=f"tsp1 bound in {owner}")
    time.sleep(1)
    assert len(bindings_of(tb, "tsp1")) == 1
    wait_until(lambda: [(row["type"], row["options"].get("interconn-tsp")) for row in rows(
        az1.nbctl, "Logical_Switch_Port", "name type options") if row["name"] == "tsp1"]
        == [("", "tsp1")], timeout=TIMEOUT, message="tsp1 a declared port's LSP in az1")
    assert not ours.events("port.withdrawn")


@pytest.mark.parametrize("release", ["26.09"])
def test_only_an_active_controller_holds_ovn_ic_sb(release_testbed):
    """A controller that stops being active (here: enable-ic set to false) lets go of
    ovn_ic_sb, so that the peer's ovn-ic becomes the writer of the global rows."""
    tb = release_testbed
    az1, az2 = tb.azs
    ours = Controller(tb, az1).start()
    ours.wait_until(lambda: ours.events("ic_sb_lock.acquired"), message="lock taken")
    az2.start_reference_ic()
    registered(tb)
    ours.write_config(enable_ic="false")
    ours.send(signal.SIGHUP)
    ours.wait_until(lambda: ours.events("ic_sb_lock.released"), message="lock let go")
    tb.ic_nbctl("ts-add", "ts1")
    wait_until(lambda: "ts1" in datapath_keys(tb), timeout=TIMEOUT,
               message="the peer, now the writer, bound ts1")
    assert not ours.events("transit_switch.binding_created")
