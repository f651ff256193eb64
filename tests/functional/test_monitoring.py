"""The Grafana dashboard and the Prometheus alerts of monitoring/, against the real tools.

The rules go through Debian's promtool (`check rules`, and `test rules` with series
that fire each alert and series that do not); every metric and label the rules and
the dashboard's panels use is checked against the /metrics of running daemons.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import yaml
from automation_setup import add_cluster_router, add_gateway
from controller import Controller
from prometheus_client.parser import text_string_to_metric_families
from promql_labels import TARGET_LABELS, Checker

from ovn_ic_controller.metrics import LAST_SYNC_REFRESH_MS

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
ALERTS = MONITORING / "prometheus" / "alerts.yml"
ALERT_TESTS = MONITORING / "prometheus" / "alerts_test.yml"
DASHBOARD = MONITORING / "grafana" / "ovn-ic-controller.json"
M = "ovn_ic_controller_"
TIMEOUT = 30

# What Grafana puts in for its variables when it runs a panel's query.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
TEMPLATE_LABEL = re.compile(r"\{\{\s*\$?(?:labels\.)?(\w+)\s*\}\}")


def promtool(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: scripts/install-deps.sh installs it"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60,
                          check=False)


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"]
            for rule in group["rules"]]


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


# ------------------------------------------------------------------ promtool

def test_promtool_accepts_the_rules():
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_each_alert_fires_on_its_series_and_not_on_others():
    """alerts_test.yml has, for every alert, a case that fires and one that must not."""
    names = {rule["alert"] for rule in alert_rules()}
    fires, silent = set(), set()
    for case in yaml.safe_load(ALERT_TESTS.read_text())["tests"]:
        for expectation in case["alert_rule_test"]:
            (fires if expectation["exp_alerts"] else silent).add(expectation["alertname"])
    assert fires == names, f"no case fires {names - fires}"
    assert silent == names, f"no case stays silent for {names - silent}"
    result = promtool("test", "rules", str(ALERT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# ------------------------------------------------------------------ dashboard

def test_dashboard_panels_fit_the_grid_without_overlapping():
    panels = dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells = {}
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        assert panel["targets"] and all(target["expr"] for target in panel["targets"])
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[x, y]}"
                cells[x, y] = panel["title"]


# ------------------------------------------------------- against the daemon

def exported(*controllers: Controller) -> dict[str, set[str]]:
    """Sample name (with _total, _bucket, ... as Prometheus stores it) -> its labels."""
    samples: dict[str, set[str]] = {}
    for controller in controllers:
        status, body = controller.http("/metrics")
        assert status == 200
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def check_rules(checker: Checker) -> set[str]:
    """Checks every rule; returns the labels an ALERTS series of theirs can carry."""
    alert_labels = {"alertname", "alertstate"}
    for rule in alert_rules():
        labels = checker.check(rule["expr"])
        used = set(TEMPLATE_LABEL.findall(" ".join(rule["annotations"].values()))) - {"value"}
        checker.need(used, labels, f"annotations of {rule['alert']}")
        alert_labels |= labels | set(rule["labels"])
    return alert_labels


def check_dashboard(checker: Checker) -> int:
    """Checks every panel query, legend and variable; returns how many queries."""
    queries = 0
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            labels = checker.check(expr)
            legend = set(TEMPLATE_LABEL.findall(target.get("legendFormat", "")))
            checker.need(legend, labels, f"legend of {panel['title']!r}")
            queries += 1
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            series, label = re.fullmatch(r"label_values\((.*), (\w+)\)",
                                         variable["query"]["query"]).groups()
            checker.need({label}, checker.check(series), f"variable {variable['name']}")
    return queries


def test_the_dashboard_and_the_rules_use_only_what_the_daemon_exports(testbed):
    """Two AZs with a route conflict, a gw-nodes entry without a chassis and a reload,
    so that every labelled metric has samples."""
    az1, az2 = testbed.azs
    add_cluster_router(az1, "10.16.0.1/24")
    add_cluster_router(az2, "10.16.0.1/16", "10.17.0.1/24")
    add_gateway(az1, "gw-a1", "127.0.1.1")
    one = Controller(testbed, az1, ts_num=1, gw_nodes="gw-a1,gw-nowhere", auto_route="true",
                     conflict_policy="report", log_level="info").start(wait_ready=False)
    two = Controller(testbed, az2, ts_num=1, auto_route="true", conflict_policy="report",
                     log_level="info").start(wait_ready=False)
    one.wait_metric(M + "route_conflicts", 1.0, timeout=TIMEOUT, local="10.16.0.0/24",
                    remote="10.16.0.0/16")
    one.wait_metric(M + "gateway_problems", 1.0, timeout=TIMEOUT, chassis="gw-nowhere",
                    problem="no-such-chassis")
    two.send(signal.SIGHUP)
    two.wait_metric(M + "config_reloads_total", 1.0, timeout=TIMEOUT, outcome="applied")

    samples = exported(one, two)
    assert all(name.startswith(M) for name in samples)
    checker = Checker(samples | {"up": set()})
    alert_labels = check_rules(checker)
    checker.exported["ALERTS"] = alert_labels - TARGET_LABELS
    assert check_dashboard(checker) >= len(dashboard()["panels"])
    assert checker.problems == [], "\n".join(checker.problems)


def test_last_sync_stays_current_while_nothing_changes(testbed):
    """The sync-stalled alert needs the timestamp refreshed while the daemon is in sync,
    also when no database sends anything (unix sockets: no inactivity probes)."""
    ctl = Controller(testbed, testbed.azs[0], log_level="info").start()
    transactions = ctl.metric(M + "transactions_total", db="ic_sb", outcome="success")
    first = ctl.metric(M + "last_sync_timestamp_seconds")
    ctl.wait_until(lambda: ctl.metric(M + "last_sync_timestamp_seconds") > first,
                   timeout=LAST_SYNC_REFRESH_MS / 1000 * 2, message="last sync refreshed")
    assert ctl.metric(M + "last_sync_timestamp_seconds") <= time.time()
    assert ctl.metric(M + "transactions_total", db="ic_sb", outcome="success") == transactions
