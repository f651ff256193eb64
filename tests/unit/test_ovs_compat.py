"""ovs_compat.install(): each fast path is on only while ovs is as it was written for;
otherwise stock ovs does the work, and one warning and the metrics say so."""

from __future__ import annotations

import collections
import configparser
from pathlib import Path

import ovs.db.custom_index
import ovs.db.idl
import ovs.json
import ovs.jsonrpc
import ovs.version
import pytest
from ovs_changes import process_update2_calling
from structlog.testing import capture_logs

from ovn_ic_controller.db import ovs_compat
from ovn_ic_controller.db.ovs_compat import fastidl, fastjson, selfcheck, utf8stream
from ovn_ic_controller.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
Idl = ovs.db.idl.Idl
ACTIVE, FALLBACK = ovs_compat.ACTIVE, ovs_compat.FALLBACK


@pytest.fixture(autouse=True)
def _stock_ovs_after():
    yield
    ovs_compat.uninstall()


def install():
    """install()'s status and the log records it wrote (not the probe's own ovs vlog lines,
    which reach structlog once a test before this one set up logging)."""
    with capture_logs() as logs:
        status = ovs_compat.install()
    return status, [record for record in logs if record.get("component") != "ovs"]


def exported():
    """The fast_idl gauge by state, and the build_info labels, of a new Metrics."""
    registry = Metrics().registry
    gauge = {state: registry.get_sample_value("ovn_ic_controller_fast_idl", {"state": state})
             for state in ovs_compat.STATES}
    [info] = [sample.labels for metric in registry.collect() if metric.name.endswith("build")
              for sample in metric.samples]
    return gauge, info


def test_every_fast_path_is_on_with_this_ovs():
    status, logs = install()
    assert status == ovs_compat.Status(ACTIVE, ACTIVE, ACTIVE, ACTIVE, ())
    assert logs == [{"event": "ovs_compat.installed", "log_level": "info",
                     "component": "ovs_compat", "ovs_version": ovs.version.VERSION,
                     "fast_json": ACTIVE,
                     "fast_idl": ACTIVE, "utf8_fix": ACTIVE, "leader_follow": ACTIVE}]
    assert ovs_compat.fast_idl_active() and ovs_compat.leader_follow_active()
    assert type(ovs.json.Parser()) is fastjson.FastParser
    assert ovs.jsonrpc.Connection.__init__ is utf8stream._init
    gauge, info = exported()
    assert gauge == {ACTIVE: 1, FALLBACK: 0, ovs_compat.OFF: 0}
    assert (info["fast_json"], info["fast_idl"], info["utf8_fix"],
            info["leader_follow"]) == (ACTIVE,) * 4


def test_before_install_stock_ovs_does_the_work():
    assert not ovs_compat.fast_idl_active() and not ovs_compat.leader_follow_active()
    assert type(ovs.json.Parser()) is ovs.json.Parser
    assert exported()[0] == {ACTIVE: 0, FALLBACK: 0, ovs_compat.OFF: 1}


def _rename_the_call(monkeypatch, name):
    """An ovs that calls its method ``name`` by another name (and keeps the old one)."""
    monkeypatch.setattr(Idl, "_Idl__process_update2", process_update2_calling(name, name + "2"))
    monkeypatch.setattr(Idl, name + "2", getattr(Idl, name), raising=False)


def _rows_elsewhere(monkeypatch):
    """An IndexedRows that keeps its rows in something other than a dictionary by UUID."""
    init = ovs.db.custom_index.IndexedRows.__init__

    def keep_elsewhere(self, table, *args, **kwargs):
        init(self, table, *args, **kwargs)
        self.data = collections.OrderedDict()

    monkeypatch.setattr(ovs.db.custom_index.IndexedRows, "__init__", keep_elsewhere)


CHANGES = {  # how ovs could change under fastidl, and the problem install() reports
    "missing": (lambda mp: mp.delattr(Idl, "_Idl__apply_diff"),
                "fast_idl: ovs.db.idl.Idl._Idl__apply_diff is missing"),
    "signature": (lambda mp: mp.setattr(Idl, "_Idl__row_update",
                                        lambda self, table, row, row_json, strict: False),
                  "fast_idl: Idl._Idl__row_update(self, table, row, row_json, strict) differs "
                  "from FastInsertIdl._Idl__row_update("),
    **{f"not-called-{name}": (lambda mp, name=name: _rename_the_call(mp, name),
                              f"fast_idl: ovs did not call FastInsertIdl.{name}")
       for name in selfcheck.CALLED},
    "rows-layout": (_rows_elsewhere,
                    "fast_idl: IndexedRows does not keep its rows in a dictionary by UUID"),
    "values": (lambda mp: mp.setattr(fastidl, "_read_string", lambda kind, json: json + "!"),
               "fast_idl: rows or values differ from ovs's Idl"),
    "probe-raises": (lambda mp: mp.delattr(Idl, "_Idl__do_parse_update"),
                     "fast_idl: the probe raised AttributeError("),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_changed_ovs_gets_stock_idl_with_one_warning(monkeypatch, change):
    make, problem = CHANGES[change]
    make(monkeypatch)
    status, logs = install()
    assert (status.fast_json, status.fast_idl, status.utf8_fix) == (ACTIVE, FALLBACK, ACTIVE)
    assert not ovs_compat.fast_idl_active()
    [record] = logs
    assert (record["event"], record["log_level"], record["fast_idl"]) == (
        "ovs_compat.fallback", "warning", FALLBACK)
    assert any(reported.startswith(problem) for reported in record["problems"]), record
    gauge, info = exported()
    assert gauge == {ACTIVE: 0, FALLBACK: 1, ovs_compat.OFF: 0}
    assert info["fast_idl"] == FALLBACK


@pytest.mark.parametrize(("version", "outside"), [
    ("3.3.9", True), ("3.4.0", False), ("3.4.90", False), ("4.0.0", False), ("4.0.9", False),
    ("4.1.0", True), ("5.0.0", True), ("2.17.1.post1", True),
])
def test_version_range(version, outside):
    assert bool(ovs_compat.version_problem(version)) == outside


def test_an_untested_ovs_gets_stock_ovs_throughout(monkeypatch):
    monkeypatch.setattr(ovs.version, "VERSION", "4.1.0")
    status, [record] = install()
    assert status.paths() == {"fast_json": FALLBACK, "fast_idl": FALLBACK, "utf8_fix": FALLBACK,
                              "leader_follow": FALLBACK}
    assert record["problems"] == [
        f"ovs 4.1.0 is outside the tested range {ovs_compat.REQUIREMENT}"]
    assert type(ovs.json.Parser()) is ovs.json.Parser


def test_a_fast_json_parser_that_reads_wrong_is_turned_off(monkeypatch):
    monkeypatch.setattr(fastjson.FastParser, "finish", lambda self: {})
    status, [record] = install()
    assert (status.fast_json, status.fast_idl, status.utf8_fix) == (FALLBACK, ACTIVE, ACTIVE)
    assert record["problems"][0].startswith("fast_json: read ")
    assert type(ovs.json.Parser()) is ovs.json.Parser


def test_a_utf8_fix_that_does_not_hold_characters_back_is_turned_off(monkeypatch):
    monkeypatch.setattr(utf8stream, "complete_length", len)
    status, [record] = install()
    assert (status.fast_json, status.fast_idl, status.utf8_fix) == (ACTIVE, ACTIVE, FALLBACK)
    assert record["problems"][0].startswith("utf8_fix: a split character read as ")
    assert ovs.jsonrpc.Connection.__init__ is not utf8stream._init


SESSION_CHANGES = {  # how ovs could change under leader_follow, and the problem reported
    "no-session": (lambda mp: mp.setattr(ovs.jsonrpc.Session, "open_multiple",
                                         staticmethod(lambda remotes, probe_interval=None:
                                                      None)),
                   "leader_follow: Idl._session is not an ovs.jsonrpc.Session"),
    "no-reset": (lambda mp: mp.setattr(ovs.jsonrpc.Session, "reset_backoff", lambda self: None),
                 "leader_follow: backoffs after failed connections were [0, 1000, 2000, 4000, "
                 "8000]"),
    "probe-raises": (lambda mp: mp.delattr(ovs.jsonrpc.Session, "get_num_of_remotes"),
                     "leader_follow: the probe raised AttributeError("),
}


@pytest.mark.parametrize("change", SESSION_CHANGES)
def test_a_changed_session_keeps_ovs_reconnect_backoff(monkeypatch, change):
    make, problem = SESSION_CHANGES[change]
    make(monkeypatch)
    status, [record] = install()
    assert (status.fast_json, status.fast_idl, status.utf8_fix,
            status.leader_follow) == (ACTIVE, ACTIVE, ACTIVE, FALLBACK)
    assert not ovs_compat.leader_follow_active()
    assert record["problems"][0].startswith(problem), record
    assert exported()[1]["leader_follow"] == FALLBACK


def test_the_c_parser_is_left_alone(monkeypatch):
    # Only fast_json can be judged here: no ovs._json stands behind PARSER_C.
    monkeypatch.setattr(ovs.json, "PARSER", ovs.json.PARSER_C)
    status, _ = install()
    assert status.fast_json == ovs_compat.C_PARSER
    assert not [problem for problem in status.problems if problem.startswith("fast_json")]


def test_setup_cfg_requires_the_tested_range():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    requires = setup["options"]["install_requires"].split()
    assert [line for line in requires if line.startswith("ovs")] == [ovs_compat.REQUIREMENT]
