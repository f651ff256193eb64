"""The IC databases as Raft clusters, as they are deployed: three servers each.

The daemons are given every member (comma-separated) and must follow the
leader: routes keep flowing both ways after the IC SB leader is killed, with
ours in both AZs and with the reference ovn-ic as the peer.
"""

import signal

import pytest
from icview import DEPLOYMENTS, start
from routeview import add_transit_switches, connect, enable_routes, learned_prefixes, wait_for
from testbed import temporary_testbed


@pytest.fixture
def raft_testbed():
    with temporary_testbed(2, ic_cluster=3) as tb:
        yield tb


@pytest.mark.parametrize("kinds", [DEPLOYMENTS["ours-ours"], DEPLOYMENTS["ours-reference"]],
                         ids=["ours-ours", "ours-reference"])
def test_routes_flow_through_clustered_ic_databases_across_a_leader_failover(raft_testbed,
                                                                            kinds):
    tb = raft_testbed
    assert tb.ic_sb.count(",") == 2 and tb.ic_nb.count(",") == 2
    for az, kind in zip(tb.azs, kinds, strict=True):
        start(tb, az, kind)
    add_transit_switches(tb, "ts1")
    for i, az in enumerate(tb.azs, start=1):
        enable_routes(az)
        connect(az, f"lr{i}", "ts1", f"aa:aa:aa:aa:aa:0{i}", f"169.254.100.{i}/24")
    az1, az2 = tb.azs
    az1.nbctl("lr-route-add", "lr1", "10.11.0.0/24", "169.254.100.254")
    az2.nbctl("lr-route-add", "lr2", "10.22.0.0/24", "169.254.100.254")
    wait_for(lambda: learned_prefixes(az2, "lr2") == ["10.11.0.0/24"], "az2 learns az1's route")
    wait_for(lambda: learned_prefixes(az1, "lr1") == ["10.22.0.0/24"], "az1 learns az2's route")

    leader = tb._ic_sb.leader()
    leader.stop(signal.SIGKILL)
    assert tb._ic_sb.leader() is not leader  # the other two elect one of themselves

    az1.nbctl("lr-route-add", "lr1", "10.12.0.0/24", "169.254.100.254")
    az2.nbctl("lr-route-add", "lr2", "10.23.0.0/24", "169.254.100.254")
    wait_for(lambda: learned_prefixes(az2, "lr2") == ["10.11.0.0/24", "10.12.0.0/24"],
             "az2 learns az1's route added after the failover")
    wait_for(lambda: learned_prefixes(az1, "lr1") == ["10.22.0.0/24", "10.23.0.0/24"],
             "az1 learns az2's route added after the failover")
