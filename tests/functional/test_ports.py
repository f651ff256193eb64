"""Transit-switch ports across AZs (docs/behaviour.md §5) on real ovsdb-servers and ovn-northd.

Ports of OVN's tests/ovn-ic.at v23.03.1 "port-bindings deletion upon TS
deletion" and "port sync", each with ours in every AZ and in a mixed deployment
both ways round; three AZs whose router ports come and go in a random order,
with ours and with reference daemons; and a peer writing nonsense into IC SB.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from icview import DEPLOYMENTS, OURS, REFERENCE, TIMEOUT, _as_list, assert_idle, query, start
from routeview import add_transit_switches
from testbed import wait_until


# ------------------------------------------------------------------ reading
def ic_bindings(tb):
    """IC SB Port_Binding rows, with the AZ by name."""
    found = query(tb.ic_sbctl, Availability_Zone="name",
                  Port_Binding="logical_port transit_switch availability_zone tunnel_key"
                               " address gateway")
    zones = {r["_uuid"]: r["name"] for r in found["Availability_Zone"]}
    return [{"port": r["logical_port"], "ts": r["transit_switch"],
             "az": zones.get(r["availability_zone"]), "key": r["tunnel_key"],
             "address": r["address"], "gateway": r["gateway"]}
            for r in found["Port_Binding"]]


def transit_ports(az):
    """{LSP name: facts} for the LSPs on this AZ's transit switches."""
    found = query(az.nbctl, Logical_Switch_Port="name type addresses options",
                  Logical_Switch="name ports other_config")
    lsps = {r["_uuid"]: r for r in found["Logical_Switch_Port"]}
    ports = {}
    for switch in found["Logical_Switch"]:
        if "interconn-ts" not in switch["other_config"]:
            continue
        for uuid in _as_list(switch["ports"]):
            lsp = lsps[uuid]
            ports[lsp["name"]] = {"ts": switch["name"], "type": lsp["type"],
                                  "addresses": tuple(_as_list(lsp["addresses"])),
                                  "key": lsp["options"].get("requested-tnl-key")}
    return ports


def normalized(tb):
    """What all AZs must agree on: per TS the bindings, per AZ its remote ports."""
    per_ts = defaultdict(set)
    for b in ic_bindings(tb):
        per_ts[b["ts"]].add((b["port"], b["az"], b["address"]))
    remote = {az.name: {name: port["addresses"] for name, port in transit_ports(az).items()
                        if port["type"] == "remote"} for az in tb.azs}
    return dict(per_ts), remote


def keys_consistent(tb):
    """Keys unique per TS, and every NB port on a TS requests its binding's key."""
    bindings = ic_bindings(tb)
    per_ts = defaultdict(list)
    for b in bindings:
        per_ts[b["ts"]].append(b["key"])
    if any(len(keys) != len(set(keys)) for keys in per_ts.values()):
        return False
    wanted = {b["port"]: (b["ts"], str(b["key"])) for b in bindings}
    return all((port["ts"], port["key"]) == wanted[name]
               for az in tb.azs for name, port in transit_ports(az).items()
               if name in wanted and port["type"] in ("router", "remote"))


def remote_binding_chassis(az, port):
    """Name of the SB chassis the port's SB binding is bound to, or ''."""
    bound = az.sbctl("--bare", "--columns=chassis", "find", "Port_Binding",
                     f"logical_port={port}")
    return az.sbctl("get", "Chassis", bound, "name").strip('"') if bound else ""


# ------------------------------------------------------------------ driving
def start_daemons(tb, kinds):
    """Start ours or the reference ovn-ic in each AZ, in order; ours are returned."""
    started = [start(tb, az, kind) for az, kind in zip(tb.azs, kinds, strict=True)]
    return [ctl for ctl in started if ctl is not None]


def add_router_port(az, ts, lsp, lrp, mac, *networks, router="lr1"):
    """A router port on ``ts`` peering with a new port of ``router``, in one transaction."""
    az.nbctl("--may-exist", "lr-add", router, "--", "lrp-add", router, lrp, mac, *networks,
             "--", "lsp-add", ts, lsp, "--", "lsp-set-type", lsp, "router",
             "--", "lsp-set-addresses", lsp, "router",
             "--", "lsp-set-options", lsp, f"router-port={lrp}")


def assert_no_errors(ours):
    for ctl in ours:
        assert not [r for r in ctl.logs() if r.get("level") == "error"], ctl.log_tail()


# ---------------------------------------------------------- ovn-ic.at ports
@pytest.mark.parametrize("kinds", DEPLOYMENTS.values(), ids=DEPLOYMENTS.keys())
def test_port_bindings_deleted_with_their_transit_switch(testbed, kinds):
    ours = start_daemons(testbed, kinds)
    az1, az2 = testbed.azs
    add_transit_switches(testbed, "ts1")
    add_router_port(az1, "ts1", "lsp1", "lrp1", "00:00:00:00:00:01", "10.0.0.1/24")
    az1.nbctl("lrp-set-gateway-chassis", "lrp1", "gw-az1")
    wait_until(lambda: normalized(testbed) == (
        {"ts1": {("lsp1", "az1", "00:00:00:00:00:01 10.0.0.1/24")}},
        {"az1": {}, "az2": {"lsp1": ("00:00:00:00:00:01 10.0.0.1/24",)}}),
        timeout=TIMEOUT, message="lsp1 published and mirrored")
    wait_until(lambda: keys_consistent(testbed), timeout=TIMEOUT, message="keys consistent")

    testbed.ic_nbctl("ts-del", "ts1")
    wait_until(lambda: not ic_bindings(testbed), timeout=TIMEOUT,
               message="port binding deleted with its transit switch")
    wait_until(lambda: not transit_ports(az2), timeout=TIMEOUT, message="remote port gone")
    assert_no_errors(ours)


@pytest.mark.parametrize("kinds", DEPLOYMENTS.values(), ids=DEPLOYMENTS.keys())
def test_port_sync(testbed, kinds):
    ours = start_daemons(testbed, kinds)
    az1, az2 = testbed.azs
    add_transit_switches(testbed, "ts1")
    az1.sbctl("chassis-add", "gw1", "geneve", "192.168.0.1",
              "--", "set", "chassis", "gw1", "other_config:is-interconn=true")
    add_router_port(az1, "ts1", "lsp-ts1-lr1", "lrp-lr1-ts1", "aa:aa:aa:aa:aa:01",
                    "169.254.100.1/24")

    def remote_port():
        return transit_ports(az2).get("lsp-ts1-lr1")

    wait_until(lambda: remote_port() and remote_port()["addresses"] == (
        "aa:aa:aa:aa:aa:01 169.254.100.1/24",), timeout=TIMEOUT, message="remote port")
    assert remote_port()["type"] == "remote"
    wait_until(lambda: az2.sbctl("--bare", "--columns=type", "find", "Port_Binding",
                                 "logical_port=lsp-ts1-lr1") == "remote", timeout=TIMEOUT)
    wait_until(lambda: keys_consistent(testbed), timeout=TIMEOUT, message="keys consistent")

    # The gateway chassis claims the chassis-redirect port: the remote AZ binds to it.
    az1.nbctl("lrp-set-gateway-chassis", "lrp-lr1-ts1", "gw1")
    wait_until(lambda: az1.sbctl("--bare", "--columns=_uuid", "find", "Port_Binding",
                                 "logical_port=cr-lrp-lr1-ts1"), timeout=TIMEOUT)
    az1.sbctl("lsp-bind", "cr-lrp-lr1-ts1", "gw1")
    wait_until(lambda: remote_binding_chassis(az2, "lsp-ts1-lr1") == "gw1", timeout=TIMEOUT,
               message="remote port bound to the remote gateway chassis")
    assert az2.sbctl("get", "Chassis", "gw1", "other_config:is-remote") == '"true"'

    az1.nbctl("lrp-del-gateway-chassis", "lrp-lr1-ts1", "gw1")
    wait_until(lambda: remote_binding_chassis(az2, "lsp-ts1-lr1") == "", timeout=TIMEOUT,
               message="remote port unbound")

    az1.nbctl("set", "logical_router_port", "lrp-lr1-ts1", 'mac="aa:aa:aa:aa:aa:02"',
              'networks="169.254.100.2/24 169.254.200.3/24"')
    wait_until(lambda: remote_port()["addresses"] == (
        "aa:aa:aa:aa:aa:02 169.254.100.2/24 169.254.200.3/24",), timeout=TIMEOUT)

    # Without its router port the remote port stays, without an address.
    az1.nbctl("lrp-del", "lrp-lr1-ts1")
    wait_until(lambda: remote_port()["addresses"] == (), timeout=TIMEOUT)
    assert remote_port()["type"] == "remote"

    az1.nbctl("lsp-del", "lsp-ts1-lr1")
    wait_until(lambda: remote_port() is None, timeout=TIMEOUT, message="remote port removed")
    assert keys_consistent(testbed)
    assert_no_errors(ours)
    for ctl in ours:
        assert ctl.metric("ovn_ic_controller_rows_changed_total", concern="ports",
                          op="create") >= 1
    assert_idle(ours)


# --------------------------------------------------------- three AZs, random
SWITCHES = ("ts1", "ts2", "ts3")


def port_names(az_index, ts_index):
    """(lsp, lrp, address) of AZ ``az_index``'s router port on TS ``ts_index``."""
    mac = f"aa:aa:aa:00:{az_index:02x}:{ts_index:02x}"
    return (f"lsp-az{az_index}-ts{ts_index}", f"lrp-az{az_index}-ts{ts_index}",
            f"{mac} 169.254.{ts_index}.{az_index}/24")


def expected_state(azs, present):
    """The normalized state the final topology ``present`` {(az, ts)} must give."""
    per_ts = defaultdict(set)
    remote = {az.name: {} for az in azs}
    for a, t in present:
        lsp, _, address = port_names(a, t)
        per_ts[f"ts{t}"].add((lsp, f"az{a}", address))
        for az in azs:
            if az.name != f"az{a}":
                remote[az.name][lsp] = (address,)
    return dict(per_ts), remote


@pytest.mark.parametrize("kind", [OURS, REFERENCE])
def test_three_azs_random_port_churn_converges(testbed3, kind):
    ours = start_daemons(testbed3, [kind] * 3)
    add_transit_switches(testbed3, *SWITCHES)
    rng = random.Random(20230301)
    present = set()
    for _ in range(18):
        a, t = rng.randint(1, 3), rng.randint(1, 3)
        az = testbed3.azs[a - 1]
        lsp, lrp, address = port_names(a, t)
        if (a, t) in present:
            az.nbctl("lsp-del", lsp, "--", "lrp-del", lrp)
            present.discard((a, t))
        else:
            add_router_port(az, f"ts{t}", lsp, lrp, *address.split())
            present.add((a, t))
    expected = expected_state(testbed3.azs, present)
    wait_until(lambda: normalized(testbed3) == expected, timeout=TIMEOUT,
               message=f"converged to {expected}")
    wait_until(lambda: keys_consistent(testbed3), timeout=TIMEOUT, message="keys consistent")
    assert_no_errors(ours)
    assert_idle(ours)


# ------------------------------------------------------------ peer nonsense
def test_peer_nonsense_is_skipped_and_the_rest_syncs(testbed):
    ours = start_daemons(testbed, (OURS, OURS))
    az1, az2 = testbed.azs
    add_transit_switches(testbed, "ts1")
    az2.nbctl("lsp-add", "ts1", "vm1")
    testbed.ic_sbctl(
        "--id=@az", "create", "Availability_Zone", "name=az-bogus",
        "--", "create", "Port_Binding", "availability_zone=@az", "transit_switch=ts1",
        "logical_port=bogus", "tunnel_key=100", "address=garbage", "gateway=nochassis",
        "--", "create", "Port_Binding", "availability_zone=@az", "transit_switch=ts1",
        "logical_port=bogus-empty", "tunnel_key=101", 'address=""',
        "--", "create", "Port_Binding", "availability_zone=@az", "transit_switch=ts1",
        "logical_port=vm1", "tunnel_key=102", "address=garbage")
    add_router_port(az1, "ts1", "lsp1", "lrp1", "aa:aa:aa:aa:aa:01", "169.254.100.1/24")
    wait_until(lambda: normalized(testbed)[1] == {
        "az1": {"bogus": (), "bogus-empty": (), "vm1": ()},
        "az2": {"bogus": (), "bogus-empty": (),
                "lsp1": ("aa:aa:aa:aa:aa:01 169.254.100.1/24",)}},
        timeout=TIMEOUT, message="good ports synced, bogus ones without addresses")
    assert transit_ports(az2)["vm1"]["type"] == ""  # the local port keeps its name
    wait_until(lambda: keys_consistent(testbed), timeout=TIMEOUT, message="keys consistent")
    assert remote_binding_chassis(az1, "bogus") == ""

    bogus = testbed.ic_sbctl("--bare", "--columns=_uuid", "find", "Port_Binding",
                             "logical_port=bogus")
    for ctl in ours:
        events = {(r["event"], r.get("row")) for r in ctl.logs()}
        assert ("port.bad_address", bogus) in events
    assert any(r["event"] == "port.remote_skipped" and r["port"] == "vm1"
               for r in ours[1].logs())
    assert_idle(ours)
