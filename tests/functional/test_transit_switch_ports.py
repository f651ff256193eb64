"""Transit-switch ports that are not router ports, row for row against the all-C run.

- Spine-leaf (25.03): each AZ connects a switch of its own to the spine transit
  switch through a ``type=switch`` port claimed by its chassis; each AZ's port
  is published with address ``unknown`` and that chassis as gateway, and
  becomes a remote port of the other AZ, bound to the (mirrored) gateway.
- IC NB ``Transit_Switch_Port`` (26.09, ``ovn-ic-nbctl tsp-add``): a port on
  each AZ's chassis, published by that AZ and added to both; a chassis-less
  one, published by the holder of ``ovn_ic_sb`` (az1, which alone bound the
  switch); then an address change and a deletion.

Each scenario runs once with the release's ovn-ic in both AZs, then with ours
in az1, in az2 and in both (releaseview); after each step the rows must be
those of the all-C run, and at the end ours must be idle.
"""

from __future__ import annotations

import pytest
from icview import DEPLOYMENTS, assert_idle, rows
from releaseview import (
    TIMEOUT,
    Step,
    add_gateways,
    all_c_run,
    first_on_one_side,
    gateways_mirrored,
    mirrors_keyed,
    port_bindings,
    registered,
    remote_ports,
    run_compared,
    start_all,
)
from testbed import wait_until


def bindings(tb):
    """{logical_port: IC SB Port_Binding row}."""
    return {row["logical_port"]: row for row in rows(
        tb.ic_sbctl, "Port_Binding", "logical_port address gateway")}


# ------------------------------------------------------- spine-leaf (25.03)
def switch_ports(tb, sides):
    """In each AZ in turn (so tunnel keys do not depend on who is faster): switch ls<i>
    connected to the spine, its port claimed by gw<i> as ovn-controller would."""
    for i, az in enumerate(tb.azs, 1):
        spine_port, leaf_port = f"spine-to-ls{i}", f"ls{i}-to-spine"
        az.nbctl("ls-add", f"ls{i}", "--", "lsp-add", "spine", spine_port,
                 "--", "lsp-add", f"ls{i}", leaf_port,
                 "--", "set", "Logical_Switch_Port", spine_port, "type=switch",
                 f"peer={leaf_port}", f"options:requested-chassis=gw{i}",
                 "--", "set", "Logical_Switch_Port", leaf_port, "type=switch",
                 f"peer={spine_port}")
        wait_until(lambda port=spine_port, az=az: port in {
            row["logical_port"] for row in rows(az.sbctl, "Port_Binding", "logical_port")},
            timeout=TIMEOUT, message=f"northd bound {spine_port}")
        [gateway] = [row["_uuid"] for row in rows(az.sbctl, "Chassis", "name")
                     if row["name"] == f"gw{i}"]
        az.sbctl("set", "Port_Binding", spine_port, f"chassis={gateway}")
        wait_until(lambda port=spine_port, i=i: bindings(tb).get(port, {}).get("gateway")
                   == f"gw{i}", timeout=TIMEOUT, message=f"{spine_port} published at gw{i}")


def leaves_connected(tb):
    return all(remote_ports(az) == {f"spine-to-ls{len(tb.azs) + 1 - i}"}
               for i, az in enumerate(tb.azs, 1))


def remove_switch_port(tb, sides):
    tb.azs[0].nbctl("lsp-del", "spine-to-ls1")


def spine_port_gone(tb):
    return "spine-to-ls1" not in port_bindings(tb) and not remote_ports(tb.azs[1])


SPINE_LEAF = [
    Step("AZ registration", start_all, registered),
    Step("gateways", add_gateways, gateways_mirrored),
    Step("spine transit switch", lambda tb, sides: tb.ic_nbctl("ts-add", "spine"),
         lambda tb: mirrors_keyed(tb, "spine")),
    Step("switch ports", switch_ports, leaves_connected),
    Step("a switch port removed", remove_switch_port, spine_port_gone),
]


# ------------------------------------------- declared ports (26.09)
def gateways_and_hosts(tb, sides):
    """Gateways gw<i>, mirrored to the other AZ, and plain chassis hv<i>, which are not."""
    add_gateways(tb, sides)
    for i, az in enumerate(tb.azs, 1):
        az.sbctl("chassis-add", f"hv{i}", "geneve", f"192.168.10.{i}")


def declared_lsps(az):
    return {row["name"]: row["type"] for row in rows(az.nbctl, "Logical_Switch_Port",
                                                     "name type options")
            if "interconn-tsp" in row["options"]}


def add_port(tb, name, *settings):
    tb.ic_nbctl("tsp-add", "ts1", name, *settings)
    wait_until(lambda: name in port_bindings(tb), timeout=TIMEOUT,
               message=f"{name} published")


def ports_on_chassis(tb, sides):
    """One after the other, so tunnel keys do not depend on who is faster."""
    add_port(tb, "p1", "chassis=hv1", "type=router", "peer=lrp-p1",
             'addresses="aa:aa:aa:aa:01:01 169.254.10.1/24"')
    add_port(tb, "p2", "chassis=hv2", "type=switch", "peer=ls2-to-ts1",
             'addresses="unknown"')


def chassisless_port(tb, sides):
    add_port(tb, "p3", 'addresses="aa:aa:aa:aa:01:03 169.254.10.3/24"')


def everywhere(*names):
    return lambda tb: all(set(declared_lsps(az)) == set(names) for az in tb.azs)


def change_ports(tb, sides):
    tb.ic_nbctl("tsp-set-addr", "p1", "aa:aa:aa:aa:01:02 169.254.10.11/24")
    tb.ic_nbctl("tsp-del", "p2")


def changed(tb):
    found = bindings(tb)
    return ("p2" not in found and found["p1"]["address"].startswith("aa:aa:aa:aa:01:02")
            and everywhere("p1", "p3")(tb))


DECLARED = [
    Step("AZ registration", start_all, registered),
    Step("gateways and hosts", gateways_and_hosts, gateways_mirrored),
    Step("transit switch bound by az1", first_on_one_side("ts1", 0),
         lambda tb: mirrors_keyed(tb, "ts1")),
    Step("ports on each AZ's chassis", ports_on_chassis, everywhere("p1", "p2")),
    Step("a chassis-less port", chassisless_port, everywhere("p1", "p2", "p3")),
    Step("address changed, port deleted", change_ports, changed),
]

SCENARIOS = {"25.03": SPINE_LEAF, "26.09": DECLARED}


@pytest.mark.parametrize("release", list(SCENARIOS))
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_rows_are_those_of_the_all_c_run(release_testbed, release, deployment):
    steps = SCENARIOS[release]
    sides = run_compared(release_testbed, DEPLOYMENTS[deployment], all_c_run(release, steps),
                         steps)
    assert_idle([side.controller for side in sides])
