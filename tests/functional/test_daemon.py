"""The daemon as a real process on real databases: AZ registration, signals, metrics, health.

Every test runs ``ovn-ic-controller run`` (tests/controller.py) against the
ovsdb-servers and ovn-northd of the ``testbed`` fixture and observes it only
from outside: the databases, /metrics, /healthz, /readyz, its log and exit code.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from pathlib import Path

import pytest
from controller import Controller
from testbed import wait_until

import ovn_ic_controller
from ovn_ic_controller.constants import DATABASE_ORDER as DATABASES

TIMEOUT = 30
M = "ovn_ic_controller_"

README = Path(__file__).resolve().parents[2] / "README.md"


# ------------------------------------------------------------------ helpers

def az_rows(tb) -> list[tuple[str, str]]:
    """(uuid, name) of every IC SB Availability_Zone row, sorted by name."""
    out = tb.ic_sbctl("--format=csv", "--data=bare", "--no-headings",
                      "--columns=_uuid,name", "list", "Availability_Zone")
    return sorted((tuple(line.split(",", 1)) for line in out.splitlines()),
                  key=lambda row: row[1])


def az_names(tb) -> list[str]:
    return [name for _uuid, name in az_rows(tb)]


def wait_for_azs(tb, *names, timeout=TIMEOUT) -> dict[str, str]:
    """Wait until the IC SB holds exactly ``names``, each once; return name -> uuid."""
    wait_until(lambda: az_names(tb) == sorted(names), timeout=timeout,
               message=f"IC SB Availability_Zone names == {sorted(names)}")
    return {name: uuid for uuid, name in az_rows(tb)}


def nb_global_name(az) -> str:
    return az.nbctl("--bare", "--columns=name", "list", "NB_Global")


def gateway_rows(tb) -> list[tuple[str, str, str]]:
    out = tb.ic_sbctl("--format=csv", "--data=bare", "--no-headings",
                      "--columns=_uuid,name,availability_zone", "list", "Gateway")
    return sorted(tuple(line.split(",")) for line in out.splitlines())


def transactions(ctl) -> float:
    """All transactions the daemon committed so far, whatever the database or outcome."""
    _status, body = ctl.http("/metrics")
    return sum(float(line.rpartition(" ")[2]) for line in body.splitlines()
               if line.startswith(M + "transactions_total{"))


def histogram(body, name) -> tuple[dict[str, float], float, float]:
    """The buckets (le -> cumulative count), count and sum of histogram ``name``."""
    samples = {line.rpartition(" ")[0]: float(line.rpartition(" ")[2])
               for line in body.splitlines() if line.startswith(name)}
    buckets = {key.split('le="')[1].split('"')[0]: value for key, value in samples.items()
               if key.startswith(name + "_bucket{")}
    return buckets, samples[name + "_count"], samples[name + "_sum"]


def cpu_ticks(pid) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


# ------------------------------------------------------------ registration

def test_each_daemon_registers_its_az_and_names_nb_global(testbed):
    az1, az2 = testbed.azs
    Controller(testbed, az1).start()
    Controller(testbed, az2).start()
    wait_for_azs(testbed, "az1", "az2")
    assert nb_global_name(az1) == "az1"
    assert nb_global_name(az2) == "az2"


def test_rename_in_place_keeps_rows_that_reference_the_az(testbed):
    """A new az-name (SIGHUP) renames the row: a referencing Gateway stays valid (Q5)."""
    az1 = testbed.azs[0]
    ctl = Controller(testbed, az1).start()
    az_uuid = wait_for_azs(testbed, "az1")["az1"]
    assert ctl.stop() == 0
    # A gateway of az1 as ovn-controller and ovn-ic leave it: a local chassis marked
    # is-interconn and its IC SB Gateway row, which references the AZ row strongly and
    # owns an Encap.  Inserted while no daemon runs, so nothing races the test.
    az1.sbctl("chassis-add", "gw1", "geneve", "192.0.2.1", "--",
              "set", "Chassis", "gw1", "hostname=gw1-host", "other_config:is-interconn=true")
    testbed.ic_sbctl("--id=@e", "create", "Encap", "type=geneve", "ip=192.0.2.1",
                     "options:csum=true", "gateway_name=gw1", "--",
                     "create", "Gateway", "name=gw1", f"availability_zone={az_uuid}",
                     "hostname=gw1-host", "encaps=@e")
    [(gw_uuid, _, _)] = gateway_rows(testbed)
    ctl.start()
    assert wait_for_azs(testbed, "az1") == {"az1": az_uuid}

    ctl.write_config(az_name="east")
    ctl.send(signal.SIGHUP)
    assert wait_for_azs(testbed, "east") == {"east": az_uuid}
    assert gateway_rows(testbed) == [(gw_uuid, "gw1", az_uuid)]
    wait_until(lambda: nb_global_name(az1) == "east", timeout=TIMEOUT,
               message="NB_Global.name == east")
    ctl.wait_metric(M + "config_reloads_total", 1.0, outcome="applied")
    assert ctl.events("az.rename", old="az1", new="east")
    assert not ctl.events("az.register", name="east")


def test_without_any_name_the_daemon_idles_until_nb_global_is_named(testbed):
    az1 = testbed.azs[0]
    ctl = Controller(testbed, az1, az_name="").start()
    ctl.wait_metric(M + "idle", 1.0, reason="no-az-name")
    assert ctl.metric(M + "lock_held") == 1.0
    [record] = ctl.events("daemon.idle", reason="no-az-name")
    assert "az-name" in record["message"] and "NB_Global.name" in record["message"]
    assert az_names(testbed) == []
    assert nb_global_name(az1) == ""
    assert transactions(ctl) == 0

    az1.set_name("azX")
    wait_for_azs(testbed, "azX")
    ctl.wait_metric(M + "idle", 0.0, reason="no-az-name")
    assert nb_global_name(az1) == "azX"


# --------------------------------------------------------- database outages

def test_ic_sb_killed_and_restarted_reconnects_with_one_az_row(testbed):
    az1 = testbed.azs[0]
    ctl = Controller(testbed, az1).start()
    az_uuid = wait_for_azs(testbed, "az1")["az1"]

    testbed.kill_ic_sb()
    ctl.wait_metric(M + "db_connected", 0.0, db="ic_sb")
    ctl.wait_until(lambda: ctl.http("/readyz") == (503, "waiting for databases: ic_sb\n"),
                   timeout=TIMEOUT, message="/readyz: 503 waiting for ic_sb")
    assert ctl.metric(M + "db_connected", db="nb") == 1.0

    testbed.start_ic_sb()
    ctl.wait_metric(M + "db_connected", 1.0, db="ic_sb")
    ctl.wait_ready(timeout=TIMEOUT)
    assert az_rows(testbed) == [(az_uuid, "az1")]

    # A deleted AZ row comes back, once.
    testbed.ic_sbctl("destroy", "Availability_Zone", az_uuid)
    new_uuid = wait_until(lambda: [uuid for uuid, name in az_rows(testbed)
                                   if name == "az1" and uuid != az_uuid],
                          timeout=TIMEOUT, message="az1 registered again")[0]
    time.sleep(0.5)  # long enough for a duplicate insert to show up, if there were one
    assert az_rows(testbed) == [(new_uuid, "az1")]


def test_az_row_lost_while_ic_sb_was_down_is_registered_again(testbed):
    """The IC SB comes back without our row (say, restored from an older copy): after a
    reconnect everything is recomputed, not only what a change notice names."""
    ctl = Controller(testbed, testbed.azs[0]).start()
    az_uuid = wait_for_azs(testbed, "az1")["az1"]
    testbed.kill_ic_sb()
    ctl.wait_metric(M + "db_connected", 0.0, db="ic_sb")
    testbed.run("ovsdb-tool", "transact", testbed.workdir / "ic" / "sb.db",
                '["OVN_IC_Southbound", {"op": "delete", "table": "Availability_Zone", '
                '"where": []}]')
    testbed.start_ic_sb()
    new_uuid = wait_until(lambda: [uuid for uuid, name in az_rows(testbed)
                                   if name == "az1" and uuid != az_uuid],
                          timeout=TIMEOUT, message="az1 registered again")[0]
    time.sleep(0.5)  # long enough for a duplicate insert to show up, if there were one
    assert az_rows(testbed) == [(new_uuid, "az1")]


def test_a_database_down_at_start_is_waited_for(testbed):
    """Not ready (503 naming ic_sb) while the IC SB is down; registers once it appears."""
    testbed.kill_ic_sb()
    ctl = Controller(testbed, testbed.azs[0]).start(wait_ready=False)
    ctl.wait_until(lambda: ctl.http("/readyz") == (503, "waiting for databases: ic_sb\n"),
                   timeout=TIMEOUT, message="/readyz: 503 waiting for ic_sb")
    for db in ("nb", "sb", "ic_nb"):
        assert ctl.metric(M + "db_connected", db=db) == 1.0, db
    assert ctl.metric(M + "db_connected", db="ic_sb") == 0.0
    assert ctl.http("/healthz")[0] == 200

    testbed.start_ic_sb()
    ctl.wait_ready(timeout=TIMEOUT)
    wait_for_azs(testbed, "az1")


def test_readyz_names_a_database_whose_socket_does_not_exist(testbed):
    missing = testbed.workdir / "ic" / "missing.sock"
    ctl = Controller(testbed, testbed.azs[0], ic_sb_db=f"unix:{missing}").start(
        wait_ready=False)
    ctl.wait_until(lambda: ctl.http("/readyz") == (503, "waiting for databases: ic_sb\n"),
                   timeout=TIMEOUT, message="/readyz: 503 waiting for ic_sb")
    assert ctl.events("db.unreachable", db="ic_sb")
    # Waiting for a database does not delay a stop.
    started = time.monotonic()
    assert ctl.stop(timeout=5) == 0
    assert time.monotonic() - started < 2


# ------------------------------------------------------------ metrics, health

def test_metrics_healthz_readyz(testbed):
    ctl = Controller(testbed, testbed.azs[0]).start()
    wait_for_azs(testbed, "az1")
    ctl.wait_metric(M + "rows_changed_total", 1.0, concern="az", op="create")

    status, body = ctl.http("/metrics")
    assert status == 200
    types = dict(line.split()[2:4] for line in body.splitlines()
                 if line.startswith("# TYPE "))
    expected = {
        "build_info": "gauge", "db_connected": "gauge", "lock_held": "gauge", "idle": "gauge",
        "loop_iterations_total": "counter", "iteration_duration_seconds": "histogram",
        "transactions_total": "counter", "last_sync_timestamp_seconds": "gauge",
        "rows_changed_total": "counter", "recomputes_total": "counter",
        "config_reloads_total": "counter", "concern_errors_total": "counter",
    }
    for name, kind in expected.items():
        assert types.get(M + name) == kind, name
    # Every metric the README documents is exported.
    documented = set(re.findall(r"`(ovn_ic_controller_[a-z0-9_]+)", README.read_text()))
    assert documented, "README documents no metric"
    assert documented <= types.keys(), documented - types.keys()

    assert ctl.metric(M + "build_info", version=ovn_ic_controller.__version__,
                      ovs_version=re.search(r'ovs_version="([^"]*)"', body).group(1),
                      fast_json="active", fast_idl="active", utf8_fix="active",
                      leader_follow="active") == 1.0
    assert ctl.metric(M + "fast_idl", state="active") == 1.0
    for db in DATABASES:
        assert ctl.metric(M + "db_connected", db=db) == 1.0, db
    assert ctl.metric(M + "lock_held") == 1.0
    for reason in ("no-az-name", "ic-disabled", "no-nb-global"):
        assert ctl.metric(M + "idle", reason=reason) == 0.0
    assert ctl.metric(M + "loop_iterations_total") >= 1
    # From one scrape, as the loop may iterate between two: every iteration was timed,
    # each took some time, and none stalled the loop.
    buckets, count, total = histogram(body, M + "iteration_duration_seconds")
    assert count >= 1
    assert total > 0
    assert buckets["5.0"] == count, buckets
    assert ctl.metric(M + "transactions_total", db="ic_sb", outcome="success") >= 1
    assert ctl.metric(M + "transactions_total", db="nb", outcome="success") >= 1
    assert abs(ctl.metric(M + "last_sync_timestamp_seconds") - time.time()) < 60

    assert ctl.http("/healthz") == (200, "ok\n")
    status, body = ctl.http("/readyz")
    assert status == 200 and "active" in body
    assert ctl.http("/nothing-here")[0] == 404


# ----------------------------------------------------------------- signals

def test_sighup_with_a_bad_file_keeps_the_configuration_in_force(testbed):
    ctl = Controller(testbed, testbed.azs[0]).start()
    az_uuid = wait_for_azs(testbed, "az1")["az1"]
    good = ctl.config_path.read_text()
    # Invalid as a whole, so its new az-name must not be taken either.
    ctl.config_path.write_text(good.replace("az-name = az1", "az-name = az9")
                               + "enable-ic = maybe\n")
    ctl.send(signal.SIGHUP)
    ctl.wait_metric(M + "config_reloads_total", 1.0, outcome="rejected")
    [record] = ctl.events("config.reload_rejected")
    assert record["level"] == "error"
    assert "key 'enable-ic' = 'maybe'" in record["error"]
    assert str(ctl.config_path) in record["error"]

    # Still running, still az1: a deleted AZ row is registered again under the old name.
    testbed.ic_sbctl("destroy", "Availability_Zone", az_uuid)
    wait_until(lambda: az_rows(testbed) and az_rows(testbed)[0][0] != az_uuid,
               timeout=TIMEOUT, message="AZ registered again")
    assert az_names(testbed) == ["az1"]
    assert ctl.metric(M + "config_reloads_total", outcome="applied") is None

    # The file fixed, the next SIGHUP applies it.
    ctl.config_path.write_text(good)
    ctl.send(signal.SIGHUP)
    ctl.wait_metric(M + "config_reloads_total", 1.0, outcome="applied")
    assert ctl.metric(M + "config_reloads_total", outcome="rejected") == 1.0
    assert ctl.http("/readyz")[0] == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_exits_0_within_2s(testbed, sig):
    ctl = Controller(testbed, testbed.azs[0]).start()
    wait_for_azs(testbed, "az1")
    started = time.monotonic()
    ctl.send(sig)
    assert ctl.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 2.0
    assert ctl.events("daemon.stopped")
    assert "Traceback" not in ctl.log_path.read_text()


def test_idle_means_idle(testbed):
    """Converged and nothing changes: no transactions, few wakeups, next to no CPU."""
    ctl = Controller(testbed, testbed.azs[0]).start()
    wait_for_azs(testbed, "az1")
    ctl.wait_ready()
    pid = ctl.process.pid
    before = (transactions(ctl), ctl.metric(M + "loop_iterations_total"), cpu_ticks(pid))
    time.sleep(1.0)  # proves that nothing happens
    after = (transactions(ctl), ctl.metric(M + "loop_iterations_total"), cpu_ticks(pid))
    assert after[0] == before[0], "transactions while idle"
    assert after[1] - before[1] <= 10, f"{after[1] - before[1]} loop iterations in 1 s idle"
    assert after[2] - before[2] <= 10, f"{after[2] - before[2]} CPU ticks in 1 s idle"


# ---------------------------------------------------------------- sd_notify

def _notifications(sock, until, timeout=TIMEOUT):
    """Datagrams received on ``sock`` up to and including the one containing ``until``."""
    messages = []
    deadline = time.monotonic() + timeout
    while not any(until in message for message in messages):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {until} in {messages}")
        sock.settimeout(remaining)
        messages.append(sock.recv(4096).decode())
    return messages


def test_sd_notify_ready_after_the_first_sync_and_stopping(testbed):
    path = testbed.workdir / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        ctl = Controller(testbed, testbed.azs[0], env={"NOTIFY_SOCKET": str(path)})
        ctl.start(wait_ready=False)
        messages = _notifications(sock, "READY=1")
        # READY=1 comes after the first sync: the AZ is registered by then.
        assert az_names(testbed) == ["az1"]
        assert nb_global_name(testbed.azs[0]) == "az1"
        assert not any("READY=1" in message for message in messages[:-1])
        assert "STATUS=" in messages[-1]
        assert ctl.http("/readyz")[0] == 200
        ctl.send(signal.SIGTERM)
        _notifications(sock, "STOPPING=1", timeout=10)
        assert ctl.process.wait(timeout=10) == 0


def test_sd_notify_abstract_socket(testbed):
    name = f"ovnic-test-{testbed.workdir.name}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        ctl = Controller(testbed, testbed.azs[0], env={"NOTIFY_SOCKET": "@" + name})
        ctl.start(wait_ready=False)
        _notifications(sock, "READY=1")
