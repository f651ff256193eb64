"""``show`` against two joined AZs (two transit switches, so learned routes are ECMP;
a conflict), and how the one-shot commands fail when a database is unreachable."""

from __future__ import annotations

import json

from controller import run_cli
from interconnect import SUBNETS, TIMEOUT, join
from testbed import wait_until

DOCUMENTED_KEYS = {"az", "enable_ic", "ovn_ic_lock", "availability_zones", "learned_routes",
                   "conflicts", "route_controls", "transit_routers"}


def show(daemon, *args):
    result = run_cli("--config", str(daemon.config_path), "show", *args, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_show_lists_zones_gateways_ports_ecmp_routes_and_the_lock(testbed):
    daemons = join(testbed, ts_num=2)
    ours = daemons["az1"]

    doc = json.loads(show(ours, "--format", "json"))
    assert set(doc) == DOCUMENTED_KEYS
    assert (doc["az"], doc["enable_ic"], doc["ovn_ic_lock"]) == ("az1", True, "held")
    zones = {zone["name"]: zone for zone in doc["availability_zones"]}
    assert sorted(zones) == ["az1", "az2"]
    assert zones["az1"]["this_az"] and not zones["az2"]["this_az"]
    gateway = zones["az2"]["gateways"][0]
    assert gateway["name"] == "gw-az2"
    assert [(e["type"], e["ip"]) for e in gateway["encaps"]] == [("geneve", "172.16.0.2")]
    ports = {port["transit_switch"]: port for port in zones["az2"]["ports"]}
    assert sorted(ports) == ["ts", "ts1"]
    link_ips = sorted(port["address"].split()[1].split("/")[0] for port in ports.values())
    assert all(ip.startswith("169.254.") for ip in link_ips)
    assert {route["prefix"] for route in zones["az2"]["routes"]} >= {SUBNETS["az2"]}

    ecmp = [group for group in doc["learned_routes"] if group["prefix"] == SUBNETS["az2"]]
    assert len(ecmp) == 1 and ecmp[0]["ecmp"] and ecmp[0]["router"] == "ovn-cluster"
    assert [hop["nexthop"] for hop in ecmp[0]["nexthops"]] == link_ips
    assert {hop["from_az"] for hop in ecmp[0]["nexthops"]} == {"az2"}

    text = show(ours)
    assert "availability-zone az1 (this AZ)" in text
    assert "    gateway gw-az2" in text and "encap: geneve 172.16.0.2" in text
    assert "    port ts1-az2\n        transit switch: ts1" in text
    hops = ", ".join(f"{ip} (from az2)" for ip in link_ips)
    assert f"        {SUBNETS['az2']} via {hops} [ecmp]" in text
    assert "ovn_ic lock: held" in text
    assert "conflicts: none" in text

    # az1 adds a subnet inside az2's: each refuses to learn the other's.
    testbed.az("az1").nbctl("lrp-add", "ovn-cluster", "az1-overlap", "0a:00:00:00:01:01",
                            "10.17.0.129/25")
    denied = {"router": "ovn-cluster", "local": "10.17.0.0/24", "remote": "10.17.0.128/25",
              "az": "az1", "denied": True}
    wait_until(lambda: json.loads(show(daemons["az2"], "--format", "json"))["conflicts"]
               == [denied], timeout=TIMEOUT, message="az2 shows the conflict it refuses")
    assert ("ovn-cluster: local 10.17.0.0/24 overlaps 10.17.0.128/25 from az1: "
            "not learned (conflict-policy=deny)" in show(daemons["az2"]))

    ours.stop()
    assert json.loads(show(ours, "--format", "json"))["ovn_ic_lock"] == "free"


def test_an_unreachable_database_is_named_and_exits_1(tmp_path):
    config = tmp_path / "controller.conf"
    missing = tmp_path / "missing.sock"
    config.write_text("[controller]\naz-name = az1\n"
                      f"ovn-nb-db = unix:{missing}\novn-sb-db = unix:{missing}\n"
                      f"ic-nb-db = unix:{missing}\nic-sb-db = unix:{missing}\n")
    for command in (["show"], ["reset"], ["clean", "--az", "az9", "--yes"]):
        result = run_cli("--config", str(config), *command, "--timeout", "1")
        assert result.returncode == 1, (command, result.stderr)
        assert f"at unix:{missing} did not answer within 1 s" in result.stderr
