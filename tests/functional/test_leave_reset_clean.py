"""Leaving (enable-ic=false), rejoining, ``reset``, ``leave`` and ``clean --az``, on real
ovsdb-servers and ovn-northd with our daemon in every AZ, and ``leave`` with the
reference ovn-ic as the peer (issue 5, docs/behaviour.md §2; what Kube-OVN removes
when its ConfigMap is deleted)."""

from __future__ import annotations

import re
import signal

from controller import run_cli
from icview import OURS, REFERENCE, start
from interconnect import (
    AZ_TABLES,
    SUBNETS,
    TIMEOUT,
    add_foreign_rows,
    deleting,
    foreign_rows,
    ic_rows_of,
    interconnection_state,
    is_empty,
    join,
    learned,
    rows,
    wait_learns_all,
)
from routeview import add_transit_switches, connect, enable_routes, learned_prefixes, wait_for
from testbed import wait_until


def cli(daemon, *args):
    return run_cli("--config", str(daemon.config_path), *args, timeout=TIMEOUT + 10)


def ic_sb_file(tb):
    return str(tb.workdir / "ic" / "sb.db")


def assert_withdrawn_in_one_transaction(tb, before):
    """The AZ row and all its Route/Port_Binding/Gateway rows went in the same transaction."""
    zone = before["Availability_Zone"][0]
    when, deleted = deleting(tb, ic_sb_file(tb), "Availability_Zone", zone)
    rows_of_az = {(table, uuid[:8]) for table in AZ_TABLES for uuid in before[table]}
    assert rows_of_az <= deleted
    return when


def peer_forgot(tb, peer, gone):
    """``peer`` no longer learns from, mirrors ports of, or tunnels to AZ ``gone``."""
    state = interconnection_state(peer)
    return (SUBNETS[gone] not in state["learned"]
            and not any(port.endswith(f"-{gone}") for port in state["remote_ports"])
            and f"gw-{gone}" not in state["remote_chassis"])


def test_leaving_withdraws_everything_then_rejoining_restores_it(testbed):
    daemons = join(testbed)
    az1, az2 = testbed.azs
    ours = daemons["az1"]
    add_foreign_rows(az1)
    foreign = foreign_rows(az1)
    before = ic_rows_of(testbed, "az1")
    assert all(before[table] for table in AZ_TABLES), before
    assert all(interconnection_state(az1).values()), interconnection_state(az1)
    learned_before = [r["_uuid"] for r in rows(az1.nbctl, "Logical_Router_Static_Route",
                                                "external_ids")
                      if "ic-learned-route" in r["external_ids"]]

    ours.write_config(enable_ic="false")
    ours.send(signal.SIGHUP)
    wait_until(lambda: not any(ic_rows_of(testbed, "az1").values()), timeout=TIMEOUT,
               message="az1's IC SB rows withdrawn")
    assert is_empty(interconnection_state(az1)), interconnection_state(az1)
    assert foreign_rows(az1) == foreign
    withdrawn_at = assert_withdrawn_in_one_transaction(testbed, before)
    # Learning stopped first: the learned routes left the NB before the IC SB rows went.
    unlearned_at, _ = deleting(testbed, str(az1.dir / "nb.db"), "Logical_Router_Static_Route",
                               learned_before[0])
    assert unlearned_at <= withdrawn_at
    # Before that, learning was switched off on its own (kube-ovn #7265): one transaction
    # removed only the route options, and came before any other removal.
    records = testbed.run("ovsdb-tool", "-mm", "show-log", str(az1.dir / "nb.db")).split(
        "\nrecord ")
    off = [i for i, text in enumerate(records) if "leave: stop advertising and learning" in text]
    removed = [i for i, text in enumerate(records) if "leave: remove interconnection" in text]
    assert len(off) == 1 and removed and off[0] < min(removed), (off, removed)
    assert set(re.findall(r"^  table (\S+)", records[off[0]], re.M)) == {"NB_Global"}
    wait_until(lambda: peer_forgot(testbed, az2, "az1"), timeout=TIMEOUT,
               message="az2 withdraws what it learned from az1")
    wait_until(lambda: ours.http("/readyz")[0] == 200, timeout=TIMEOUT)
    assert ours.metric("ovn_ic_controller_idle", reason="ic-disabled") == 1

    ours.write_config(enable_ic="true")
    ours.send(signal.SIGHUP)
    wait_learns_all(testbed, az1, 2)
    wait_learns_all(testbed, az2, 2)
    assert ours.metric("ovn_ic_controller_idle", reason="ic-disabled") == 0
    assert foreign_rows(az1) >= foreign


def test_reset_removes_local_state_only_and_leave_then_the_ic_rows(testbed):
    daemons = join(testbed)
    az1 = testbed.az("az1")
    ours = daemons["az1"]
    add_foreign_rows(az1)

    refused = cli(ours, "reset")
    assert refused.returncode == 2
    assert "stop the daemon" in refused.stderr and "enable-ic=false" in refused.stderr
    ours.stop()
    state, foreign = interconnection_state(az1), foreign_rows(az1)
    assert all(state.values()), state
    ic_before = ic_rows_of(testbed, "az1")

    dry = cli(ours, "reset", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    assert "delete Logical_Switch ts1" in dry.stdout
    assert (interconnection_state(az1), foreign_rows(az1)) == (state, foreign)

    done = cli(ours, "reset")
    assert done.returncode == 0, done.stderr
    assert is_empty(interconnection_state(az1)), interconnection_state(az1)
    assert foreign_rows(az1) == foreign
    assert ic_rows_of(testbed, "az1") == ic_before  # reset is local: the IC SB rows stay
    assert "nothing to do" in cli(ours, "reset").stdout

    left = cli(ours, "leave")
    assert left.returncode == 0, left.stderr
    assert "delete Availability_Zone az1" in left.stdout
    assert not any(ic_rows_of(testbed, "az1").values())
    assert_withdrawn_in_one_transaction(testbed, ic_before)
    wait_until(lambda: peer_forgot(testbed, testbed.az("az2"), "az1"), timeout=TIMEOUT,
               message="az2 withdraws what it learned from az1")
    assert "nothing to do" in cli(ours, "leave").stdout


def test_clean_removes_a_dead_peer_and_the_survivor_withdraws_its_routes(testbed):
    daemons = join(testbed)
    az1 = testbed.az("az1")
    survivor = daemons["az1"]
    daemons["az2"].kill()
    theirs = ic_rows_of(testbed, "az2")
    assert SUBNETS["az2"] in learned(az1)  # nothing is withdrawn automatically

    without_yes = cli(survivor, "clean", "--az", "az2")
    assert without_yes.returncode == 2 and "--yes" in without_yes.stderr
    own = cli(survivor, "clean", "--az", "az1", "--yes")
    assert own.returncode == 2 and "enable-ic" in own.stderr
    dry = cli(survivor, "clean", "--az", "az2", "--dry-run")
    assert dry.returncode == 0 and "delete Availability_Zone az2" in dry.stdout
    assert ic_rows_of(testbed, "az2") == theirs

    done = cli(survivor, "clean", "--az", "az2", "--yes")
    assert done.returncode == 0, done.stderr
    assert not any(ic_rows_of(testbed, "az2").values())
    assert_withdrawn_in_one_transaction(testbed, theirs)
    wait_until(lambda: peer_forgot(testbed, az1, "az2"), timeout=TIMEOUT,
               message="az1 withdraws what it learned from the dead az2")
    assert "nothing to do" in cli(survivor, "clean", "--az", "az2", "--yes").stdout


def test_leaving_cleans_up_locally_while_the_ic_sb_is_down_and_withdraws_once_it_is_back(
        testbed):
    daemons = join(testbed)
    az1 = testbed.az("az1")
    before = ic_rows_of(testbed, "az1")
    daemons["az1"].stop()
    testbed.kill_ic_sb()
    daemons["az1"].write_config(enable_ic="false")
    daemons["az1"].start()  # ready once the local part is done, without the IC SB
    assert is_empty(interconnection_state(az1)), interconnection_state(az1)

    testbed.start_ic_sb()
    wait_until(lambda: not any(ic_rows_of(testbed, "az1").values()), timeout=TIMEOUT,
               message="az1's IC SB rows withdrawn once the IC SB is back")
    assert_withdrawn_in_one_transaction(testbed, before)
    wait_until(lambda: peer_forgot(testbed, testbed.az("az2"), "az1"), timeout=TIMEOUT,
               message="az2 withdraws what it learned from az1")


def test_leave_with_the_reference_as_the_peer(testbed):
    """A plain deployment (no automation): our az1 leaves, the reference ovn-ic in az2
    removes what it had from az1: learned routes, the remote port, the remote gateway."""
    az1, az2 = testbed.azs
    for index, az in enumerate(testbed.azs, start=1):
        az.sbctl("chassis-add", f"gw-{az.name}", "geneve", f"172.16.0.{index}")
        az.sbctl("set", "Chassis", f"gw-{az.name}", f"hostname=gw-{az.name}",
                 "other_config:is-interconn=true")
    ours = start(testbed, az1, OURS)
    start(testbed, az2, REFERENCE)
    add_transit_switches(testbed, "ts1")
    for index, az in enumerate(testbed.azs, start=1):
        enable_routes(az)
        connect(az, f"lr{index}", "ts1", f"aa:aa:aa:aa:aa:0{index}", f"169.254.100.{index}/24")
        az.nbctl("lr-route-add", f"lr{index}", f"10.{index}.0.0/24", "169.254.100.254")
    wait_for(lambda: learned_prefixes(az2, "lr2") == ["10.1.0.0/24"], "az2 learns az1's route")
    wait_for(lambda: learned_prefixes(az1, "lr1") == ["10.2.0.0/24"], "az1 learns az2's route")
    wait_for(lambda: interconnection_state(az2)["remote_chassis"] == ["gw-az1"],
             "az2 mirrors az1's gateway")
    assert interconnection_state(az2)["remote_ports"] == ["lsp-ts1-lr1"]
    before = ic_rows_of(testbed, "az1")
    assert all(before[table] for table in AZ_TABLES), before

    ours.stop()
    left = cli(ours, "leave")
    assert left.returncode == 0, left.stderr
    assert not any(ic_rows_of(testbed, "az1").values())
    assert_withdrawn_in_one_transaction(testbed, before)
    assert learned_prefixes(az1, "lr1") == []  # what az1 learned went with the leave
    wait_for(lambda: learned_prefixes(az2, "lr2") == [], "the reference unlearns az1's route")
    wait_for(lambda: interconnection_state(az2)["remote_ports"] == [],
             "the reference removes az1's remote port")
    wait_for(lambda: interconnection_state(az2)["remote_chassis"] == [],
             "the reference removes az1's gateway")
