"""Automation end to end: AZs configured only by their controller.conf, real OVN databases."""

import ipaddress

from automation_setup import (
    add_cluster_router,
    add_gateway,
    gateway_chassis,
    learned_routes,
    link_address,
    nb_options,
    port_bindings,
    reload,
    uuids,
)
from controller import Controller
from testbed import wait_until

from ovn_ic_controller.sync.automation.link_addresses import link_mac

TIMEOUT = 30


def automated(tb, az, subnet, gateways, **settings):
    """An AZ with a cluster router and gateway chassis, and its daemon's controller."""
    number = int(az.name.removeprefix("az"))
    add_cluster_router(az, subnet)
    for index, gateway in enumerate(gateways, 1):
        add_gateway(az, gateway, f"127.0.{number}.{index}")
    return Controller(tb, az, gw_nodes=",".join(gateways), auto_route="true",
                      log_level="info", **settings)


def ecmp_routes(az, prefixes, paths):
    """Wait until ``az`` learned each prefix through ``paths`` next hops; return them."""
    def learned():
        routes = learned_routes(az)
        counts = [sum(1 for prefix, _ in routes if prefix == wanted) for wanted in prefixes]
        return routes if counts == [paths] * len(prefixes) else None
    return wait_until(learned, timeout=TIMEOUT,
                      message=f"{az.name} learns {prefixes} over {paths} paths")


def test_without_the_cluster_router_nothing_is_automated_until_it_appears(testbed):
    az1 = testbed.az("az1")
    controller = Controller(testbed, az1, ts_num=2, auto_route="true", log_level="info").start()
    wait_until(lambda: testbed.ic_sbctl("--bare", "--columns=name", "list",
                                        "Availability_Zone") == "az1", timeout=TIMEOUT)
    assert testbed.ic_nbctl("--bare", "--columns=name", "list", "Transit_Switch") == ""
    assert "ic-route" not in nb_options(az1)
    add_cluster_router(az1, "10.16.0.1/24")
    wait_until(lambda: link_address(testbed, "ts1-az1"), timeout=TIMEOUT,
               message="ports appear once the cluster router exists")
    assert 'ic-route-adv="true"' in nb_options(az1)
    assert controller.process.poll() is None


def test_two_azs_get_ports_addresses_rotated_gateways_and_ecmp_routes(testbed):
    az1, az2 = testbed.azs
    controllers = [automated(testbed, az1, "10.16.0.1/24", ["gw-a1", "gw-b1"], ts_num=2),
                   automated(testbed, az2, "10.17.0.1/24", ["gw-a2", "gw-b2"], ts_num=2)]
    for controller in controllers:
        controller.start(wait_ready=False)
    routes1 = ecmp_routes(az1, ["10.17.0.0/24"], 2)
    routes2 = ecmp_routes(az2, ["10.16.0.0/24"], 2)

    bindings = port_bindings(testbed)
    for ts, octet in (("ts", 100), ("ts1", 101)):
        subnet = ipaddress.ip_network(f"169.254.{octet}.0/24")
        addresses = []
        for az in ("az1", "az2"):
            mac, network = bindings[f"{ts}-{az}"].split()
            assert mac == link_mac(az, ts)
            interface = ipaddress.ip_interface(network)
            assert interface.network == subnet
            assert interface.ip not in (subnet.network_address, subnet.broadcast_address)
            addresses.append(interface.ip)
        assert addresses[0] != addresses[1]
    assert {hop for _, hop in routes1} == {link_address(testbed, "ts-az2"),
                                           link_address(testbed, "ts1-az2")}
    assert {hop for _, hop in routes2} == {link_address(testbed, "ts-az1"),
                                           link_address(testbed, "ts1-az1")}
    # The list is rotated by the switch index: each ECMP path prefers another gateway.
    assert gateway_chassis(az1, "az1-ts") == [("gw-a1", 100), ("gw-b1", 99)]
    assert gateway_chassis(az1, "az1-ts1") == [("gw-b1", 100), ("gw-a1", 99)]
    switches = testbed.ic_nbctl("--bare", "--columns=name", "list", "Transit_Switch").split()
    assert sorted(switches) == ["ts", "ts1"]


def test_three_azs_learn_every_prefix_over_three_paths(testbed3):
    controllers = [automated(testbed3, az, f"10.{15 + n}.0.1/24", [f"gw-{az.name}"], ts_num=3)
                   for n, az in enumerate(testbed3.azs, 1)]
    for controller in controllers:
        controller.start(wait_ready=False)
    prefixes = {"az1": "10.16.0.0/24", "az2": "10.17.0.0/24", "az3": "10.18.0.0/24"}
    for az in testbed3.azs:
        others = sorted(prefix for name, prefix in prefixes.items() if name != az.name)
        routes = ecmp_routes(az, others, 3)
        assert len({hop for _, hop in routes}) == 6  # 2 peers x 3 switches
        assert "ecmp" in az.nbctl("lr-route-list", "ovn-cluster")


def snapshot(tb, az):
    """Row UUIDs (by name) and link addresses that a reconfiguration must not touch."""
    return {"ports": uuids(az, "Logical_Router_Port"),
            "switch_ports": uuids(az, "Logical_Switch_Port"),
            "gateways": uuids(az, "Gateway_Chassis"),
            "switches": uuids(az, "Logical_Switch"),
            "addresses": {port: address for port, address in port_bindings(tb).items()
                          if port.endswith(az.name)}}


def unchanged_except(before, after, *changed):
    for key, value in before.items():
        if key not in changed:
            assert after[key] == value, key


def test_live_reconfiguration_changes_only_what_it_must(testbed):
    az1, az2 = testbed.azs
    ours = automated(testbed, az1, "10.16.0.1/24", ["gw-a1"], ts_num=2).start(wait_ready=False)
    automated(testbed, az2, "10.17.0.1/24", ["gw-a2"], ts_num=2).start(wait_ready=False)
    ecmp_routes(az1, ["10.17.0.0/24"], 2)
    add_gateway(az1, "gw-b1", "127.0.1.2")
    before = snapshot(testbed, az1)

    reload(ours, gw_nodes="gw-b1,gw-a1")
    wait_until(lambda: gateway_chassis(az1, "az1-ts") == [("gw-b1", 100), ("gw-a1", 99)],
               timeout=TIMEOUT)
    wait_until(lambda: gateway_chassis(az1, "az1-ts1") == [("gw-a1", 100), ("gw-b1", 99)],
               timeout=TIMEOUT)
    after = snapshot(testbed, az1)
    unchanged_except(before, after, "gateways")
    assert {name: uuid for name, uuid in after["gateways"].items() if name in before["gateways"]
            } == before["gateways"]  # gw-a1's rows stay, with new priorities

    before = after
    reload(ours, ts_num=3)  # az2 stays on two switches, so only az1 joins ts2
    wait_until(lambda: link_address(testbed, "ts2-az1"), timeout=TIMEOUT)
    after = snapshot(testbed, az1)
    assert set(after["ports"]) - set(before["ports"]) == {"az1-ts2"}
    assert {name: after["ports"][name] for name in before["ports"]} == before["ports"]
    assert {port: after["addresses"][port] for port in before["addresses"]
            } == before["addresses"]
    assert gateway_chassis(az1, "az1-ts2") == [("gw-b1", 100), ("gw-a1", 99)]

    reload(ours, ts_num=2)
    wait_until(lambda: "ts2" not in testbed.ic_nbctl("--bare", "--columns=name", "list",
                                                     "Transit_Switch").split(),
               timeout=TIMEOUT, message="the unused switch az1 created is deleted")
    assert uuids(az1, "Logical_Router_Port") == before["ports"]

    before = snapshot(testbed, az1)
    reload(ours, no_advertise="10.99.0.0/16,10.98.0.0/16")
    wait_until(lambda: 'ic-route-blacklist="10.98.0.0/16,10.99.0.0/16"' in nb_options(az1),
               timeout=TIMEOUT)
    reload(ours, auto_route="false")
    wait_until(lambda: "ic-route" not in nb_options(az1), timeout=TIMEOUT)
    wait_until(lambda: not learned_routes(az1), timeout=TIMEOUT,
               message="manual mode: nothing learned any more")
    unchanged_except(before, snapshot(testbed, az1))

    # A new AZ name renames our rows in place: same rows, same link addresses.
    reload(ours, az_name="az9")
    for ts in ("ts", "ts1"):
        wait_until(lambda ts=ts: link_address(testbed, f"{ts}-az9"), timeout=TIMEOUT,
                   message=f"{ts}-az9 published")
        assert uuids(az1, "Logical_Router_Port")[f"az9-{ts}"] == before["ports"][f"az1-{ts}"]
        address = before["addresses"][f"{ts}-az1"].split()[1].split("/")[0]
        assert link_address(testbed, f"{ts}-az9") == address
