"""Cross-AZ load-balancer health checks with 26.03 and 26.09 peers, row for row against all-C.

Each AZ has a VM on transit switch ts1 (its port bound to a hypervisor of that
AZ) and a load balancer on ts1 whose
backend is the other AZ's VM (``ip_port_mappings`` naming that AZ, as
tests/ovn-ic.at sets it up): both AZs push one monitor and pull the other's.
Then the learned monitors get a status (what ovn-controller would write), which
must reach the IC SB and the balancing AZ; then az2 balances to its own VM too,
with other options, so that northd takes az1's learned monitor over (the case
in which 25.09.0's ovn-ic and northd rewrote its options in turn at 100 % CPU);
then the load balancers go, and with them the monitors.  25.09 has no cached
chroot; 26.03 is the first release there that has the fix (25.09.3).  And ours
alone beside rows a hostile peer wrote into the IC SB; and leaving and rejoining.
"""

from __future__ import annotations

import signal

import pytest
from controller import Controller
from icview import DEPLOYMENTS, assert_idle, rows, warnings
from releaseview import Step, all_c_run, registered, run_compared, start_all
from testbed import wait_until

RELEASE = "26.03"
TIMEOUT = 30
VMS = {"az1": ("vm1", "10.0.0.1"), "az2": ("vm2", "10.0.0.2")}
SOURCE_IPS = {"az1": "10.0.0.253", "az2": "10.0.0.254"}
MACS = {"az1": "0a:00:00:00:01:01", "az2": "0a:00:00:00:02:02"}


def monitors(az):
    return rows(az.sbctl, "Service_Monitor", "logical_port remote ic_learned status options")


def add_switch_and_vms(tb, sides):
    tb.ic_nbctl("ts-add", "ts1")
    for az in tb.azs:
        wait_until(lambda az=az: "ts1" in {row["name"] for row in rows(
            az.nbctl, "Logical_Switch", "name")}, timeout=TIMEOUT, message=f"ts1 in {az.name}")
        name, ip = VMS[az.name]
        az.nbctl("set", "NB_Global", ".", f"options:svc_monitor_mac={MACS[az.name]}")
        az.nbctl("lsp-add", "ts1", name, "--", "lsp-set-addresses", name,
                 f"0a:00:00:00:00:0{name[-1]} {ip}")
        # What ovn-controller does when the VM's interface appears on hypervisor hv<i>.
        az.sbctl("chassis-add", f"hv{name[-1]}", "geneve", f"192.168.1.{name[-1]}")
        wait_until(lambda az=az, name=name: name in ports(az), timeout=TIMEOUT,
                   message=f"{name} in {az.name}'s SB")
        az.sbctl("lsp-bind", name, f"hv{name[-1]}")


def ports(az):
    return {row["logical_port"]: row["chassis"] for row in rows(
        az.sbctl, "Port_Binding", "logical_port chassis")}


def vms_bound(tb):
    return all(ports(az).get(VMS[az.name][0]) for az in tb.azs)


def health_check(az, lb, vip, backend, port, interval):
    """Load balancer ``lb`` on ts1 checking ``backend`` (an IP) through ``port``."""
    az.nbctl("lb-add", lb, vip, f"{backend}:8080")
    az.nbctl("ls-lb-add", "ts1", lb)
    az.nbctl("--", "--id=@hc", "create", "Load_Balancer_Health_Check", f'vip="{vip}"',
             f"options:interval={interval}", "options:failure_count=3",
             "--", "add", "Load_Balancer", lb, "health_check", "@hc")
    az.nbctl("set", "Load_Balancer", lb, f'ip_port_mappings:"{backend}"="{port}"')


def balance_across(tb, sides):
    az1, az2 = tb.azs
    health_check(az1, "lb1", "30.0.0.1:80", VMS["az2"][1],
                 f"{VMS['az2'][0]}:{SOURCE_IPS['az1']}:az2", 5)
    health_check(az2, "lb2", "30.0.0.2:80", VMS["az1"][1],
                 f"{VMS['az1'][0]}:{SOURCE_IPS['az2']}:az1", 6)


def both_ways(tb):
    return (len(rows(tb.ic_sbctl, "Service_Monitor", "logical_port")) == 2
            and all(sorted((row["remote"], row["ic_learned"]) for row in monitors(az))
                    == [(False, True), (True, False)] for az in tb.azs))


def set_status(tb, sides):
    for az, status in zip(tb.azs, ("online", "offline"), strict=True):
        (learned,) = [row for row in monitors(az) if row["ic_learned"]]
        az.sbctl("set", "Service_Monitor", learned["_uuid"], f"status={status}")


def statuses_back(tb):
    found = {row["logical_port"]: row["status"] for az in tb.azs for row in monitors(az)
             if row["remote"]}
    return found == {"vm2": "offline", "vm1": "online"}


def balance_locally(tb, sides):
    """az2 checks its own vm2 too, from az1's source IP, so northd takes the monitor over."""
    health_check(tb.azs[1], "lb3", "30.0.0.3:80", VMS["az2"][1],
                 f"{VMS['az2'][0]}:{SOURCE_IPS['az1']}", 7)


def taken_over(tb):
    (vm2,) = [row for row in monitors(tb.azs[1]) if row["logical_port"] == "vm2"]
    return not vm2["ic_learned"] and vm2["options"].get("interval") == "7"


def remove_balancers(tb, sides):
    tb.azs[0].nbctl("lb-del", "lb1")
    tb.azs[1].nbctl("lb-del", "lb2")


def gone(tb):
    return (not rows(tb.ic_sbctl, "Service_Monitor", "logical_port")
            and not monitors(tb.azs[0])
            and [row["logical_port"] for row in monitors(tb.azs[1])] == ["vm2"])


STEPS = [
    Step("AZ registration", start_all, registered),
    Step("transit switch and VMs", add_switch_and_vms, vms_bound),
    Step("health checks across AZs", balance_across, both_ways),
    Step("status written back", set_status, statuses_back),
    Step("northd takes a learned monitor over", balance_locally, taken_over),
    Step("load balancers removed", remove_balancers, gone),
]


def service_monitor_writes(az):
    """How many transactions of the AZ's SB database file wrote a Service_Monitor row."""
    return sum(line.count('"Service_Monitor"') for line in az._sb.db_file.read_text().splitlines())


@pytest.mark.parametrize("release", [RELEASE, "26.09"])
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_health_checks_are_those_of_the_all_c_run(release_testbed, release, deployment):
    tb = release_testbed
    sides = run_compared(tb, DEPLOYMENTS[deployment], all_c_run(release, STEPS), STEPS)
    assert_idle([side.controller for side in sides])
    # tests/ovn-ic.at's check for the fight with northd: some 20 writes, not thousands.
    assert all(service_monitor_writes(az) < 50 for az in tb.azs)


def peer_monitor(tb, source, port, src_ip, status=None):
    """An IC SB row of AZ ``source`` checking vm1 (in az1) on ``port``; its UUID."""
    return tb.ic_sbctl("create", "Service_Monitor", "type=load-balancer", "logical_port=vm1",
                       f'ip="{VMS["az1"][1]}"', f"port={port}", "protocol=tcp",
                       f'src_ip="{src_ip}"', 'src_mac="0a:00:00:00:09:09"',
                       "target_availability_zone=az1", f"source_availability_zone={source}",
                       "options:interval=3", *([f"status={status}"] if status else []))


@pytest.mark.parametrize("release", [RELEASE])
def test_hostile_rows_are_refused_counted_and_the_good_one_checked(release_testbed):
    """Rows that would break the SB's unique index (a backend northd checks from another
    source IP; two AZs claiming one backend with different source IPs) or put text into
    northd's flows are refused; the good row is checked and its status written back."""
    tb = release_testbed
    az1 = tb.azs[0]
    ours = Controller(tb, az1).start()
    wait_until(lambda: "az1" in {row["name"] for row in rows(
        tb.ic_sbctl, "Availability_Zone", "name")}, timeout=TIMEOUT, message="az1 registered")
    tb.ic_nbctl("ts-add", "ts1")
    wait_until(lambda: "ts1" in {row["name"] for row in rows(az1.nbctl, "Logical_Switch",
                                                               "name")}, timeout=TIMEOUT)
    az1.nbctl("lsp-add", "ts1", "vm1", "--", "lsp-set-addresses", "vm1",
              f"0a:00:00:00:00:01 {VMS['az1'][1]}")
    health_check(az1, "lb1", "30.0.0.1:80", VMS["az1"][1], "vm1:10.0.0.250", 5)
    wait_until(lambda: [row["logical_port"] for row in monitors(az1)] == ["vm1"],
               timeout=TIMEOUT, message="northd checks vm1 itself")
    good = peer_monitor(tb, "zz-peer", 9090, "10.0.0.251")
    peer_monitor(tb, "zz-peer2", 9090, "10.0.0.252")  # duplicate: another source IP
    peer_monitor(tb, "zz-peer", 8080, "10.0.0.252")  # conflict: northd's, from .250
    peer_monitor(tb, "zz-peer", 9091, "10.0.0.1 && 1")  # address
    for reason in ("duplicate", "conflict", "address"):
        ours.wait_metric("ovn_ic_controller_service_monitors_refused", 1.0,
                         direction="pull", reason=reason)
    wait_until(lambda: sorted((row["ic_learned"], row["options"].get("interval"))
                              for row in monitors(az1)) == [(False, "5"), (True, "3")],
               timeout=TIMEOUT, message="the good row checked, northd's left alone")
    (learned,) = [row for row in monitors(az1) if row["ic_learned"]]
    az1.sbctl("set", "Service_Monitor", learned["_uuid"], "status=online")
    wait_until(lambda: rows(tb.ic_sbctl, "Service_Monitor", "status") and {
        row["_uuid"]: row["status"] for row in rows(tb.ic_sbctl, "Service_Monitor", "status")
    }[good] == "online", timeout=TIMEOUT, message="status written back")
    assert len(warnings(ours, "service_monitor.refused")) == 3
    assert_idle([ours])


@pytest.mark.parametrize("release", [RELEASE])
def test_leaving_takes_this_azs_checks_along_and_rejoining_restores_them(release_testbed):
    tb = release_testbed
    ours = [Controller(tb, az).start() for az in tb.azs]
    wait_until(lambda: registered(tb), timeout=TIMEOUT, message="both AZs registered")
    add_switch_and_vms(tb, ours)
    balance_across(tb, ours)
    wait_until(lambda: both_ways(tb), timeout=TIMEOUT, message="checks across AZs")
    ours[0].write_config(enable_ic="false")
    ours[0].send(signal.SIGHUP)
    wait_until(lambda: [row["source_availability_zone"] for row in rows(
        tb.ic_sbctl, "Service_Monitor", "source_availability_zone")] == ["az2"]
        and [row["ic_learned"] for row in monitors(tb.azs[0])] == [False]
        and [row["remote"] for row in monitors(tb.azs[1])] == [True],
        timeout=TIMEOUT, message="az1's published and learned checks gone, and az2's "
                                 "learned check of vm2 with them")
    ours[0].write_config(enable_ic="true")
    ours[0].send(signal.SIGHUP)
    wait_until(lambda: both_ways(tb), timeout=TIMEOUT, message="checks across AZs again")
    assert_idle(ours)
