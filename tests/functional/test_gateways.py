"""Gateways (docs/behaviour.md §4) on real ovsdb-servers and ovn-northd.

A port of OVN's tests/ovn-ic.at v23.03.1 "gateway sync", with ours in every AZ
and in a mixed deployment both ways round (a gateway chassis is emulated with
``ovn-sbctl chassis-add`` as docs/behaviour.md §10 describes); gateways chosen by the
gw-nodes key; and a peer writing nonsense into the IC SB.
"""

from __future__ import annotations

import pytest
from icview import (
    DEPLOYMENTS,
    OURS,
    TIMEOUT,
    assert_idle,
    chassis_view,
    gateway_view,
    rows,
    start,
    start_deployment,
    warnings,
)
from testbed import wait_until

CSUM = {"csum": "true"}
FIX = "ovs-vsctl set open . external_ids:ovn-is-interconn=true"
PROBLEMS = "ovn_ic_controller_gateway_problems"


def add_gateway(az, name, types, ip, hostname, **other_config):
    """What ovn-controller does on a host with ovn-is-interconn=true, in the SB."""
    az.sbctl("chassis-add", name, types, ip)
    settings = {"is-interconn": "true", **other_config}
    az.sbctl("set", "Chassis", name, f"hostname={hostname}",
             *(f"other_config:{key}={value}" for key, value in settings.items()))


def set_encaps(az, name, column, value):
    """Set ``column`` of every encap of chassis ``name``."""
    for encap in rows(az.sbctl, "Encap", "chassis_name"):
        if encap["chassis_name"] == name:
            az.sbctl("set", "Encap", encap["_uuid"], f"{column}={value}")


def remote_chassis(az, expected, what):
    """Wait until the remote chassis seen by ``az`` are exactly ``expected``."""
    wait_until(lambda: chassis_view(az) == expected, timeout=TIMEOUT,
               message=f"{az.name}: {what}; has {chassis_view(az)}")


def mirrored(hostname, encaps):
    """How a remote gateway looks in the SB of another AZ (as two ovn-ic produce it)."""
    return {"hostname": hostname, "other_config": {"is-remote": "true"}, "encaps": encaps}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_gateway_sync(testbed, deployment):
    tb = testbed
    az1, az2 = tb.azs
    daemons = start_deployment(tb, deployment)

    add_gateway(az1, "gw1", "geneve,vxlan", "192.168.0.1", "gw1")  # chassis-add sets csum=true
    both = [("geneve", "192.168.0.1", CSUM), ("vxlan", "192.168.0.1", CSUM)]
    remote_chassis(az2, {"gw1": mirrored("gw1", both)}, "gw1 mirrored with both encaps")
    assert gateway_view(tb) == {
        "gw1": {"availability_zone": "az1", "hostname": "gw1", "encaps": both}}
    assert_idle(daemons)

    az1.sbctl("set", "Chassis", "gw1", "other_config:is-interconn=false")
    remote_chassis(az2, {}, "gw1 gone once it is no longer interconn")
    az1.sbctl("set", "Chassis", "gw1", "other_config:is-interconn=true")
    remote_chassis(az2, {"gw1": mirrored("gw1", both)}, "gw1 back")
    az1.sbctl("chassis-del", "gw1")
    remote_chassis(az2, {}, "gw1 gone with its chassis")

    add_gateway(az1, "gw2", "geneve", "192.168.0.1", "gw2")
    remote_chassis(az2, {"gw2": mirrored("gw2", [("geneve", "192.168.0.1", CSUM)])}, "gw2")
    set_encaps(az1, "gw2", "ip", "192.168.0.2")
    set_encaps(az1, "gw2", "options", "{}")
    remote_chassis(az2, {"gw2": mirrored("gw2", [("geneve", "192.168.0.2", {})])},
                   "encap ip and options change")
    az1.sbctl("--", "--id=@e", "create", "Encap", "type=stt", "ip=192.168.0.2",
              "chassis_name=gw2", "--", "add", "Chassis", "gw2", "encaps", "@e")
    set_encaps(az1, "gw2", "options", "csum=true")
    az1.sbctl("set", "Chassis", "gw2", "hostname=gw2new")
    remote_chassis(az2, {"gw2": mirrored("gw2new", [("geneve", "192.168.0.2", CSUM),
                                                    ("stt", "192.168.0.2", CSUM)])},
                   "encap type, options and hostname changes")
    assert_idle(daemons)
    assert set(chassis_view(az1)) == {"gw2"}  # nothing mirrored back into its own AZ


def test_gw_nodes_select_gateways_and_report_problems(testbed):
    tb = testbed
    az1, az2 = tb.azs
    az1.sbctl("chassis-add", "c1", "geneve", "192.168.0.1")
    az1.sbctl("set", "Chassis", "c1", "hostname=edge1")
    set_encaps(az1, "c1", "options", "{}")
    ours = start(tb, az1, OURS, gw_nodes="edge1,ghost")
    start(tb, az2, OURS)

    remote_chassis(az2, {"c1": mirrored("edge1", [("geneve", "192.168.0.1", {})])},
                   "c1 exported because gw-nodes names its hostname")
    wait_until(lambda: ours.metric(PROBLEMS, chassis="c1", problem="not-is-interconn") == 1,
               timeout=TIMEOUT, message="not-is-interconn reported")
    assert ours.metric(PROBLEMS, chassis="ghost", problem="no-such-chassis") == 1
    problems = warnings(ours, "gateway.problem")
    assert sorted((w["chassis"], w["problem"]) for w in problems) == [
        ("c1", "not-is-interconn"), ("ghost", "no-such-chassis")]
    assert FIX in next(w["message"] for w in problems if w["chassis"] == "c1")
    (c1,) = rows(az1.sbctl, "Chassis", "other_config")
    assert "is-interconn" not in c1["other_config"]  # ovn-controller's key, never ours

    az1.sbctl("set", "Chassis", "c1", "other_config:is-interconn=true")
    wait_until(lambda: ours.metric(PROBLEMS, chassis="c1", problem="not-is-interconn") is None,
               timeout=TIMEOUT, message="problem cleared once is-interconn is set")
    assert len(warnings(ours, "gateway.problem")) == 2  # not repeated on recomputes


def test_peer_nonsense_is_skipped_and_the_rest_synced(testbed):
    tb = testbed
    az1 = tb.azs[0]
    ours = start(tb, az1, OURS)
    tb.ic_sbctl("--", "--id=@az", "create", "Availability_Zone", "name=fake",
                "--", "--id=@bad", "create", "Encap", "type=geneve", "ip=not-an-ip",
                "gateway_name=bad",
                "--", "create", "Gateway", "name=bad", "availability_zone=@az", "hostname=b",
                "encaps=@bad",
                "--", "--id=@good", "create", "Encap", "type=geneve", "ip=10.9.9.9",
                "gateway_name=good",
                "--", "create", "Gateway", "name=good", "availability_zone=@az",
                "hostname=g", "encaps=@good")
    remote_chassis(az1, {"good": mirrored("g", [("geneve", "10.9.9.9", {})])},
                   "the valid gateway mirrored, the bad one not")
    wait_until(lambda: ours.metric(PROBLEMS, chassis="bad", problem="bad-encap") == 1,
               timeout=TIMEOUT, message="bad encap reported")
    (warning,) = warnings(ours, "gateway.problem")
    assert "not-an-ip" in warning["message"]
    assert_idle([ours])
