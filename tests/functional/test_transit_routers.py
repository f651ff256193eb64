"""Transit routers (26.03) in an AZ of ours, row for row against the all-C run (issue 12).

``ovn-ic-nbctl tr-add`` / ``trp-add`` from a user's shell, with ports whose chassis is
each AZ's gateway, a port deleted, then the router: with the release's ovn-ic in both
AZs, and with ours in az1, in az2 and in both, every step must leave the same rows in
the IC databases and in every AZ's NB and SB (northd's bindings of the router ports
included).  Then ``leave`` removes what ours made.
"""

from __future__ import annotations

import json

import pytest
from controller import run_cli
from icview import DEPLOYMENTS, OURS, REFERENCE, TIMEOUT, assert_idle, rows
from releaseview import (
    Step,
    add_gateways,
    all_c_run,
    gateways_mirrored,
    has,
    registered,
    run_compared,
    start_all,
)
from testbed import wait_until

RELEASES = ["26.03", "26.09"]


def nb_routers(az):
    return {row["name"]: row["options"] for row in rows(az.nbctl, "Logical_Router", "name options")
            if "interconn-tr" in row["options"]}


def nb_ports(az):
    return {row["name"]: row["options"]
            for row in rows(az.nbctl, "Logical_Router_Port", "name options")
            if "interconn-tr" in row["options"]}


def add_router(tb, sides):
    tb.ic_nbctl("tr-add", "tr1")


def routers_keyed(tb):
    return all("requested-tnl-key" in nb_routers(az).get("tr1", {}) for az in tb.azs)


def add_port(i):
    """A port of tr1 on az<i>'s gateway."""
    def action(tb, sides):
        tb.ic_nbctl("trp-add", "tr1", f"tr1-az{i}", f"00:00:00:00:0{i}:01", f"10.100.{i}.1/24",
                    f"fd10:{i}::1/64", f"chassis=gw{i}")
    return action


def ports_keyed(*names):
    return lambda tb: all(set(names) <= {name for name, options in nb_ports(az).items()
                                         if "requested-tnl-key" in options} for az in tb.azs)


def change_port(tb, sides):
    tb.ic_nbctl("set", "Transit_Router_Port", "tr1-az2", "mac=\"00:00:00:00:02:02\"",
                "networks=\"10.100.2.1/24\"")


def port_changed(tb):
    return all(row["mac"] == "00:00:00:00:02:02" for az in tb.azs
               for row in rows(az.nbctl, "Logical_Router_Port", "name mac")
               if row["name"] == "tr1-az2")


def delete_port(tb, sides):
    tb.ic_nbctl("trp-del", "tr1-az1")


def port_gone(tb):
    return all("tr1-az1" not in nb_ports(az) for az in tb.azs)


def delete_router(tb, sides):
    tb.ic_nbctl("tr-del", "tr1")


def router_gone(tb):
    return (all(not nb_routers(az) for az in tb.azs)
            and not rows(tb.ic_sbctl, "Port_Binding", "logical_port")
            and not [row for row in rows(tb.ic_sbctl, "Datapath_Binding", "type")
                     if "transit-router" in str(row["type"])])


SETUP = [
    Step("AZ registration", start_all, registered),
    Step("gateways", add_gateways, gateways_mirrored),
    Step("transit router", add_router, routers_keyed,
         has("ic_nb", "Transit_Router")),
    Step("a port in az1", add_port(1), ports_keyed("tr1-az1")),
    Step("a port in az2", add_port(2), ports_keyed("tr1-az1", "tr1-az2")),
    Step("a port's MAC and networks changed", change_port, port_changed),
]
STEPS = [
    *SETUP,
    Step("a port deleted", delete_port, port_gone),
    Step("transit router deleted", delete_router, router_gone),
]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_rows_are_those_of_the_all_c_run(release_testbed, release, deployment):
    wanted = all_c_run(release, STEPS)
    assert "transit router deleted" in wanted, "the release has no transit routers"
    sides = run_compared(release_testbed, DEPLOYMENTS[deployment], wanted, STEPS)
    assert_idle([side.controller for side in sides])


@pytest.mark.parametrize("release", RELEASES)
def test_leave_removes_the_transit_router_and_its_bindings(release_testbed, release):
    """``show`` lists the transit router and where its ports are published; ``leave``
    removes our NB router (with its ports) and our AZ's port bindings; the
    peer's binding and the transit router's datapath binding stay."""
    tb = release_testbed
    sides = run_compared(tb, (OURS, REFERENCE), all_c_run(release, STEPS), SETUP)
    ours = sides[0].controller
    shown = run_cli("--config", str(ours.config_path), "show", "--format", "json",
                    timeout=TIMEOUT)
    assert shown.returncode == 0, shown.stderr
    [router] = json.loads(shown.stdout)["transit_routers"]
    assert (router["name"], router["tunnel_key"] > 0) == ("tr1", True)
    assert [(port["name"], port["chassis"], port["availability_zone"], port["networks"])
            for port in router["ports"]] == [
        ("tr1-az1", "gw1", "az1", ["10.100.1.1/24", "fd10:1::1/64"]),
        ("tr1-az2", "gw2", "az2", ["10.100.2.1/24"])]
    text = run_cli("--config", str(ours.config_path), "show", timeout=TIMEOUT).stdout
    assert (f"transit router tr1 (tunnel key {router['tunnel_key']})\n"
            "    port tr1-az1 00:00:00:00:01:01 10.100.1.1/24 fd10:1::1/64 on chassis gw1: "
            "published by az1, tunnel key 1\n") in text
    ours.stop()
    left = run_cli("--config", str(ours.config_path), "leave", timeout=TIMEOUT + 10)
    assert left.returncode == 0, left.stderr
    az1 = tb.azs[0]
    assert nb_routers(az1) == {} and nb_ports(az1) == {}
    assert {row["logical_port"] for row in rows(tb.ic_sbctl, "Port_Binding", "logical_port")
            } == {"tr1-az2"}
    wait_until(lambda: "tr1-az1" not in nb_ports(tb.azs[1]), timeout=TIMEOUT,
               message="the peer dropped the port of the AZ that left")
