"""Proof that tests/testbed.py runs real, usable OVN databases and cleans up after itself."""

import os
import signal
from pathlib import Path

import pytest
from testbed import CommandError, Testbed, TestbedError, wait_until


def _live_pids_under(workdir):
    """Pids of live (non-zombie) processes whose command line mentions ``workdir``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if str(workdir).encode() in cmdline and state != "Z":
            pids.append(int(proc.name))
    return pids


def _names(output):
    return set(output.split())


def test_all_databases_answer(testbed):
    assert testbed.ic_nbctl("get-connection") == ""
    assert testbed.ic_sbctl("--bare", "--columns=name", "list", "Availability_Zone") == ""
    for az in testbed.azs:
        assert az.nb.startswith("unix:") and az.sb.startswith("unix:")
        # The daemon under test owns NB_Global.name, so the testbed leaves it empty.
        assert az.nbctl("get", "NB_Global", ".", "name") == '""'
        assert az.sbctl("list", "SB_Global")
    assert [az.name for az in testbed.azs] == ["az1", "az2"]
    assert testbed.az("az2") is testbed.azs[1]


def test_ctl_failure_raises_command_error_with_stderr(testbed):
    with pytest.raises(CommandError, match="no-such-table|unknown table") as info:
        testbed.ic_nbctl("list", "no-such-table")
    assert info.value.returncode != 0 and info.value.stderr


def test_transit_switch_shows_up_in_ic_nb(testbed):
    testbed.ic_nbctl("ts-add", "ts1")
    assert testbed.ic_nbctl("--bare", "--columns=name", "list", "Transit_Switch") == "ts1"


def test_reference_ic_registers_azs_and_creates_transit_switch(testbed):
    for az in testbed.azs:
        az.start_reference_ic()
    wait_until(
        lambda: (
            _names(testbed.ic_sbctl("--bare", "--columns=name", "list", "Availability_Zone"))
            == {"az1", "az2"}
        ),
        message="both AZs registered in IC SB",
    )
    testbed.ic_nbctl("ts-add", "ts1")
    for az in testbed.azs:
        wait_until(
            lambda az=az: (
                "ts1" in _names(az.nbctl("--bare", "--columns=name", "list", "Logical_Switch"))
            ),
            message=f"ovn-ic created logical switch ts1 in {az.name}",
        )
    testbed.az("az1").stop_reference_ic()
    assert not (testbed.az("az1").dir / "ic.pid").exists()


def test_ic_sb_restart_keeps_data(testbed):
    testbed.ic_sbctl("create", "Availability_Zone", "name=az-x")
    testbed.kill_ic_sb()
    with pytest.raises(CommandError):
        testbed.run("ovsdb-client", "--timeout=1", "list-dbs", testbed.ic_sb)
    testbed.start_ic_sb()
    assert testbed.ic_sbctl("--bare", "--columns=name", "list", "Availability_Zone") == "az-x"

    testbed.ic_nbctl("ts-add", "ts1")
    testbed.kill_ic_nb(signal.SIGTERM)
    testbed.start_ic_nb()
    assert testbed.ic_nbctl("--bare", "--columns=name", "list", "Transit_Switch") == "ts1"


def test_northd_restart(testbed):
    az = testbed.az("az1")
    az.kill_northd()
    az.nbctl("ls-add", "sw0")
    az.start_northd()
    wait_until(
        lambda: "sw0" in az.sbctl("--bare", "--columns=external_ids", "list", "Datapath_Binding"),
        message="northd created the Datapath_Binding for sw0",
    )


def test_three_azs(testbed3):
    assert [az.name for az in testbed3.azs] == ["az1", "az2", "az3"]
    for az in testbed3.azs:
        az.set_name()
        assert az.nbctl("get", "NB_Global", ".", "name") == az.name


def test_stop_is_idempotent_and_leaves_nothing_running(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tb")
    with Testbed(workdir, n_azs=1) as tb:
        tb.azs[0].start_reference_ic()
        assert len(_live_pids_under(workdir)) == 6  # 2 IC DBs, NB, SB, northd, ic
    assert _live_pids_under(workdir) == []
    tb.stop()
    # Data survives a full stop/start cycle on the same directory.
    tb.start()
    try:
        assert tb.azs[0].nbctl("get", "NB_Global", ".", "name") == "az1"
    finally:
        tb.stop()
    assert _live_pids_under(workdir) == []


def test_failed_start_reports_log_and_stops_what_it_started(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tb")
    (workdir / "az1").mkdir()
    (workdir / "az1" / "nb.db").write_text("not an ovsdb file\n")
    with pytest.raises(TestbedError, match="az1 NB ovsdb-server: failed to start") as info:
        Testbed(workdir, n_azs=1).start()
    assert "tail of" in str(info.value)
    assert _live_pids_under(workdir) == []


def test_subprocesses_get_an_isolated_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OVN_NB_DAEMON", "/nonexistent/ovn-nbctl.ctl")
    isolated = Testbed(tmp_path).env
    assert "OVN_NB_DAEMON" not in isolated
    for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVN_RUNDIR", "OVN_LOGDIR", "OVN_DBDIR"):
        assert isolated[var] == str(tmp_path.resolve())
    assert os.environ["OVN_NB_DAEMON"]  # the caller's own environment is untouched


def test_wait_until_returns_value_or_raises_with_message():
    assert wait_until(lambda: 42, timeout=0.1) == 42
    with pytest.raises(AssertionError, match=r"never ready .*last value: \[\]"):
        wait_until(lambda: [], timeout=0.1, interval=0.01, message="never ready")
