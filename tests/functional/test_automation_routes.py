"""Routes with the automation: a reference ovn-ic peer in manual mode, and conflicts."""

import signal

from automation_setup import (
    add_cluster_router,
    add_gateway,
    add_subnet,
    learned_routes,
    link_address,
    nb_options,
)
from controller import Controller
from routeview import ic_routes
from testbed import wait_until

TIMEOUT = 30
CONFLICTS = "ovn_ic_controller_route_conflicts"
OVERLAPS = "ovn_ic_controller_learned_route_overlaps"
REFUSED = "ovn_ic_controller_routes_refused"


def test_a_reference_ovn_ic_peer_with_hand_made_ports_exchanges_routes_with_us(testbed):
    az1, az2 = testbed.azs
    add_cluster_router(az1, "10.16.0.1/24")
    add_gateway(az1, "gw-a1", "127.0.1.1")
    ours = Controller(testbed, az1, ts_num=1, gw_nodes="gw-a1", auto_route="true",
                      log_level="info").start()
    taken = wait_until(lambda: link_address(testbed, "ts-az1"), timeout=TIMEOUT)

    # az2 as the seed's manual mode: the C ovn-ic, a port made by hand (on the very
    # address az1 uses, which a hand-made port may well do), options set by hand.
    az2.start_reference_ic()
    wait_until(lambda: "ts" in az2.nbctl("--bare", "--columns=name", "list", "Logical_Switch"),
               timeout=TIMEOUT, message="the C ovn-ic mirrors ts")
    az2.nbctl("lr-add", "lr-az2")
    add_subnet(az2, "lr-az2-sub", "10.17.0.1/24", router="lr-az2")
    add_subnet(az2, "lr-az2-ts", f"{taken}/24", router="lr-az2")
    az2.nbctl("lsp-add", "ts", "ts-lr-az2", "--", "lsp-set-type", "ts-lr-az2", "router",
              "--", "lsp-set-addresses", "ts-lr-az2", "router",
              "--", "lsp-set-options", "ts-lr-az2", "router-port=lr-az2-ts")
    az2.nbctl("set", "NB_Global", ".", "options:ic-route-adv=true",
              "options:ic-route-learn=true")

    moved = wait_until(lambda: link_address(testbed, "ts-az1") != taken
                       and link_address(testbed, "ts-az1"), timeout=TIMEOUT,
                       message="az1 leaves the address the hand-made port holds")
    assert any(record.get("event") == "automation.address_moved"
               and record.get("shared_with") == "az2" for record in ours.logs())
    wait_until(lambda: learned_routes(az1) == {("10.17.0.0/24", taken)}, timeout=TIMEOUT,
               message="az1 learns az2's subnet")
    wait_until(lambda: learned_routes(az2, router="lr-az2") == {("10.16.0.0/24", moved)},
               timeout=TIMEOUT, message="the C ovn-ic learns az1's subnet")


def conflict(controller, local, remote):
    return controller.metric(CONFLICTS, local=local, remote=remote)


def reload(controller, **changes):
    controller.write_config(**changes)
    controller.send(signal.SIGHUP)


def test_conflicts_are_reported_or_refused_and_both_subnets_stay_advertised(testbed):
    az1, az2 = testbed.azs
    add_cluster_router(az1, "10.16.0.1/24")
    add_cluster_router(az2, "10.16.0.1/16", "10.17.0.1/24")
    one, two = (Controller(testbed, az, ts_num=1, auto_route="true", conflict_policy="report",
                           log_level="info").start(wait_ready=False) for az in (az1, az2))

    # report: both see the conflict and learn the other's overlapping subnet.
    wait_until(lambda: conflict(one, "10.16.0.0/24", "10.16.0.0/16") == 1, timeout=TIMEOUT)
    wait_until(lambda: conflict(two, "10.16.0.0/16", "10.16.0.0/24") == 1, timeout=TIMEOUT)
    wait_until(lambda: "10.16.0.0/16" in {prefix for prefix, _ in learned_routes(az1)},
               timeout=TIMEOUT)
    one.wait_metric(OVERLAPS, 1, local="10.16.0.0/24", remote="10.16.0.0/16")
    assert 'ic-route-blacklist=""' in nb_options(az1)

    # deny on az2: it no longer learns az1's /24, and keeps advertising its /16, which
    # az1 (reporting) still learns.
    reload(two, conflict_policy="deny")
    wait_until(lambda: learned_routes(az2) == set(), timeout=TIMEOUT,
               message="az2 drops az1's overlapping subnet")
    two.wait_metric(REFUSED, 1, direction="learn", reason="conflict")
    assert two.events("routes.conflict", action="refused (conflict-policy=deny)")
    assert conflict(two, "10.16.0.0/16", "10.16.0.0/24") == 1
    assert 'ic-route-blacklist=""' in nb_options(az2)
    assert "10.16.0.0/16" in {prefix for prefix, _ in learned_routes(az1)}

    # deny on both: neither learns the other's overlapping subnet; both still advertise.
    reload(one, conflict_policy="deny")
    wait_until(lambda: {prefix for prefix, _ in learned_routes(az1)} == {"10.17.0.0/24"},
               timeout=TIMEOUT, message="az1 drops az2's overlapping subnet")
    one.wait_metric(OVERLAPS, None, local="10.16.0.0/24", remote="10.16.0.0/16")
    assert {route[3] for route in ic_routes(testbed)} == {
        "10.16.0.1/24", "10.16.0.1/16", "10.17.0.1/24"}

    # The overlap goes (az2 drops its /16): so does the conflict, and az2 learns az1's /24.
    az2.nbctl("lrp-del", "ovn-cluster-0")
    wait_until(lambda: conflict(one, "10.16.0.0/24", "10.16.0.0/16") is None, timeout=TIMEOUT)
    wait_until(lambda: {prefix for prefix, _ in learned_routes(az2)} == {"10.16.0.0/24"},
               timeout=TIMEOUT, message="az2 learns az1's subnet")
    assert one.events("routes.conflict_gone", local="10.16.0.0/24", remote="10.16.0.0/16")
