"""The daemon on ovs as installed, and on an ovs whose private ``Idl.__apply_diff`` is
renamed (renamed_ovs/sitecustomize.py): the second runs on stock ovs's Idl, says so once
in its log and in the fast_idl metric, and syncs routes the same."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from icview import assert_idle, ours_everywhere
from routeview import exchange_withdraw_and_readd

RENAMED_OVS = Path(__file__).resolve().parent / "renamed_ovs"
M = "ovn_ic_controller_"
CASES = {  # ovs -> (fast_idl state, the class of the daemon's IDLs, its ovs_compat log level)
    "as-installed": ("active", "FastTrackingIdl", "info"),
    "renamed-apply-diff": ("fallback", "TrackingIdl", "warning"),
}


@pytest.mark.parametrize("ovs", CASES)
def test_routes_sync_with_the_fast_idl_or_stock_ovs(testbed, ovs):
    state, idl_class, level = CASES[ovs]
    env = {}
    if ovs == "renamed-apply-diff":
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(RENAMED_OVS), testbed.env.get("PYTHONPATH")]))
    ours = ours_everywhere(testbed, env=env)
    for ctl in ours:
        [record] = [record for record in ctl.logs() if record.get("component") == "ovs_compat"]
        assert (record["level"], record["fast_idl"]) == (level, state)
        assert record["fast_json"] == record["utf8_fix"] == "active"
        if state == "fallback":
            assert record["problems"] == ["fast_idl: ovs.db.idl.Idl._Idl__apply_diff is missing"]
        assert {record["idl"] for record in ctl.events("db.schema_loaded")} == {idl_class}
        assert ctl.metric(M + "fast_idl", state=state) == 1.0
        assert ctl.metric(M + "fast_idl", state="active" if state == "fallback"
                          else "fallback") == 0.0

    exchange_withdraw_and_readd(testbed)
    assert_idle(ours)
