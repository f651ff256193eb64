"""``doctor`` and the dry runs against a real interconnection (issue 13).

One testbed for everything, to keep the runtime modest: two AZs joined by our
daemons (interconnect.join), made healthy as ovn-controller would (gateways
marked is-interconn, gateway ports claimed), then broken one thing at a time;
each time ``doctor`` names what is wrong.  No ovn-controller runs here, so the
test plays its part with ovn-sbctl.
"""

from __future__ import annotations

import json
import signal

from controller import run_cli
from interconnect import TIMEOUT, ic_rows_of, interconnection_state, join, rows
from testbed import wait_until

from ovn_ic_controller.sync.gateways import FIX_IS_INTERCONN


def doctor(daemon):
    """(exit code, JSON document) of ``doctor --format json`` with ``daemon``'s config."""
    result = run_cli("--config", str(daemon.config_path), "doctor", "--format", "json",
                     timeout=TIMEOUT)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def problems(doc, check=None):
    """The errors and warnings of ``check`` (of every check when None), as (check, text)."""
    return [(c["name"], f["problem"]) for c in doc["checks"] if check in (None, c["name"])
            for f in c["findings"] if f["severity"] != "info"]


def wait_for(daemon, check, text):
    """Wait until ``doctor`` reports a problem of ``check`` containing ``text``; that finding."""
    found = []

    def reported():
        code, doc = doctor(daemon)
        found[:] = [(code, f) for c in doc["checks"] if c["name"] == check
                    for f in c["findings"] if f["severity"] != "info" and text in f["problem"]]
        return bool(found)
    wait_until(reported, timeout=TIMEOUT,
               message=f"doctor of {daemon.az.name} reports {check}: {text!r}")
    code, finding = found[0]
    assert code == 1, finding
    return finding


def wait_healthy(*daemons):
    for daemon in daemons:
        wait_one_healthy(daemon)


def wait_one_healthy(daemon):
    last = []

    def healthy():
        last[:] = [doctor(daemon)]
        return last[0][0] == 0
    try:
        wait_until(healthy, timeout=TIMEOUT)
    except AssertionError:
        raise AssertionError(f"{daemon.az.name} not healthy: {problems(last[0][1])}") from None


def claim_gateway_ports(az):
    """What ovn-controller on the gateway does: claim each chassisredirect port."""
    for port in rows(az.sbctl, "Port_Binding", "logical_port type chassis"):
        if port["type"] == "chassisredirect" and not port["chassis"]:
            az.sbctl("lsp-bind", port["logical_port"], f"gw-{az.name}")


def mark_interconn(az):
    az.sbctl("set", "Chassis", f"gw-{az.name}", "other_config:is-interconn=true")


def cli(daemon, *args):
    return run_cli("--config", str(daemon.config_path), *args, timeout=TIMEOUT + 10)


def test_doctor_names_each_breakage_and_dry_runs_work_beside_a_daemon(testbed):
    daemons = join(testbed)
    az1, az2 = testbed.azs
    ours, peer = daemons["az1"], daemons["az2"]
    # Without ovn-controller, the gateways lack is-interconn and nobody claims their ports.
    wait_for(ours, "gateways", "lacks other_config:is-interconn")
    wait_for(ours, "ports", "no chassis claims cr-az1-ts")
    for az in testbed.azs:
        mark_interconn(az)
        claim_gateway_ports(az)
    wait_healthy(ours, peer)
    code, doc = doctor(ours)
    assert (code, doc["status"], doc["az"]) == (0, "healthy", "az1")
    assert [c["name"] for c in doc["checks"]] == [
        "databases", "lock", "identity", "az", "gateways", "transit_switches", "ports", "peers",
        "routes"]
    databases = [f["problem"] for f in doc["checks"][0]["findings"]]
    assert databases[0].startswith("nb: OVN_Northbound ") and "ic_sb: OVN_IC_Southbound" in \
        databases[3]
    (lock,) = doc["checks"][1]["findings"]
    assert lock["severity"] == "info"
    assert lock["problem"].startswith(f"the ovn-ic-controller daemon of {ours.config_path}")
    text = cli(ours, "doctor")
    assert text.returncode == 0 and "healthy: nothing keeps" in text.stdout

    # Dry runs only read: beside the running daemon they print the plan and change nothing.
    state, ic_before = interconnection_state(az1), ic_rows_of(testbed, "az2")
    for command in (["reset"], ["leave"], ["clean", "--az", "az2"]):
        dry = cli(ours, *command, "--dry-run")
        assert dry.returncode == 0, (command, dry.stderr)
        assert "(dry run: nothing applied)" in dry.stdout, dry.stdout
        if command[0] != "clean":  # clean writes only the IC SB: it needs no local lock
            assert f"note: the ovn-ic-controller daemon of {ours.config_path}" in dry.stdout
    assert "delete Logical_Switch ts1" in cli(ours, "reset", "--dry-run").stdout
    assert "ic_sb  delete Availability_Zone az1" in cli(ours, "leave", "--dry-run").stdout
    assert (interconnection_state(az1), ic_rows_of(testbed, "az2")) == (state, ic_before)
    for command in (["reset"], ["leave"]):
        refused = cli(ours, *command)
        assert refused.returncode == 2 and "stop the daemon" in refused.stderr
    assert interconnection_state(az1) == state

    # A gateway chassis without is-interconn.
    az1.sbctl("remove", "Chassis", "gw-az1", "other_config", "is-interconn")
    finding = wait_for(ours, "gateways", "'gw-az1' (hostname")
    assert FIX_IS_INTERCONN in finding["fix"]
    mark_interconn(az1)
    # A gw-nodes entry that matches no chassis (the file the daemon reads).
    ours.write_config(gw_nodes="gw-az1,gw-nowhere")
    finding = wait_for(ours, "gateways", "'gw-nowhere' matches no chassis")
    assert "gw-nodes" in finding["fix"]
    # No gateway at all: this AZ says so, and the peer sees an AZ without a gateway.
    az1.sbctl("remove", "Chassis", "gw-az1", "other_config", "is-interconn")
    ours.write_config(gw_nodes="")
    ours.send(signal.SIGHUP)
    wait_for(ours, "gateways", "this AZ has no gateway")
    wait_for(peer, "peers", "AZ az1 has no gateway")
    mark_interconn(az1)
    ours.write_config(gw_nodes="gw-az1")
    ours.send(signal.SIGHUP)
    wait_for(ours, "ports", "no chassis claims cr-az1-ts1")  # gateway ports made anew
    claim_gateway_ports(az1)
    wait_healthy(ours, peer)

    # A transit switch this AZ has no port on, then a port ovn-northd does not bind, then
    # one without a gateway chassis, then a peer without a port on it.
    testbed.ic_nbctl("ts-add", "extra")
    wait_for(ours, "ports", "this AZ has no router port on transit switch extra")
    az1.kill_northd()
    az1.nbctl("lrp-add", "ovn-cluster", "az1-extra", "0a:00:00:00:99:01", "10.99.0.1/24",
              "--", "lsp-add", "extra", "extra-az1", "--", "lsp-set-type", "extra-az1", "router",
              "--", "lsp-set-addresses", "extra-az1", "router",
              "--", "lsp-set-options", "extra-az1", "router-port=az1-extra")
    finding = wait_for(ours, "ports", "port extra-az1 on transit switch extra has no SB "
                                      "Port_Binding: ovn-northd is not running")
    assert finding["fix"] == "systemctl start ovn-northd"
    az1.start_northd()
    wait_for(ours, "ports", "router port az1-extra (on transit switch extra) has no gateway")
    az1.nbctl("lrp-set-gateway-chassis", "az1-extra", "gw-az1")
    wait_until(lambda: "cr-az1-extra" in az1.sbctl("--bare", "--columns=logical_port", "list",
                                                   "Port_Binding"), timeout=TIMEOUT)
    claim_gateway_ports(az1)
    wait_for(ours, "peers", "AZ az2 has no port on transit switch extra")
    code, doc = doctor(ours)
    assert problems(doc) == [("peers", "AZ az2 has no port on transit switch extra")]
    testbed.ic_nbctl("ts-del", "extra")
    az1.nbctl("lrp-del", "az1-extra")
    wait_healthy(ours, peer)

    # Nobody holds the lock; then what nobody keeps in sync shows: route options removed,
    # a new transit switch not mirrored.
    ours.stop()
    code, doc = doctor(ours)
    (lock,) = problems(doc, "lock")
    assert lock[1].startswith("nobody holds the ovn_ic lock")
    az1.nbctl("remove", "NB_Global", ".", "options", "ic-route-adv", "ic-route-learn")
    testbed.ic_nbctl("ts-add", "extra2")
    code, doc = doctor(ours)
    assert ("transit_switches", "transit switch extra2 is not mirrored in this AZ's NB (no "
                                "Logical_Switch with other_config:interconn-ts=extra2)") \
        in problems(doc)
    assert [text.split(" is not")[0] for _, text in problems(doc, "routes")] == [
        "NB_Global options:ic-route-adv", "NB_Global options:ic-route-learn"]
    dry = cli(ours, "reset", "--dry-run")
    assert dry.returncode == 0 and "note:" not in dry.stdout

    # OVN's ovn-ic holds the lock: another instance, not this configuration's daemon.
    az1.start_reference_ic()
    code, doc = doctor(ours)
    (lock,) = [f["problem"] for c in doc["checks"] if c["name"] == "lock"
               for f in c["findings"]]
    assert lock.startswith("another instance holds the ovn_ic lock") and \
        "no daemon of that configuration answers" in lock
    az1.stop_reference_ic()

    # Another deployment takes the name az1: az2 leaves, and its daemon, renamed, joins as az1.
    peer.stop()
    assert cli(peer, "leave").returncode == 0
    peer.write_config(az_name="az1")
    peer.start()
    finding = wait_for(ours, "az", "the AZ name 'az1' seems taken by another deployment")
    assert "gateway gw-az2" in finding["problem"] and "az-name" in finding["fix"]

    # The IC SB does not answer: exit 2, nothing else checked.
    testbed.kill_ic_sb()
    code, doc = doctor(ours)
    assert (code, doc["status"]) == (2, "unreachable")
    assert [c["name"] for c in doc["checks"]] == ["databases"]
    (down,) = problems(doc)
    assert down[1].startswith(f"the ic_sb database OVN_IC_Southbound at {testbed.ic_sb} "
                              f"does not answer")
