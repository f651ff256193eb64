"""The IC databases as Raft clusters, as they are deployed: three servers each.

The daemons are given every member (comma-separated) and must follow the
leader: routes keep flowing both ways after the IC SB leader is killed, with
ours in both AZs and with the reference ovn-ic as the peer; and ours finds the
new leader at once, not after the ovs library's 1, 2, 4, 8 s backoff.
"""

import signal
import time

import pytest
from icview import DEPLOYMENTS, OURS, start
from routeview import learned_prefixes, routers_on_ts1, wait_for
from testbed import temporary_testbed, wait_until


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
    routers_on_ts1(tb)
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


KILLS = 4
#: Seconds from a new leader's election to routes added then being learned across.
AFTER_ELECTION = 3.0


def test_ours_follows_a_new_ic_sb_leader_within_3s_of_its_election(raft_testbed):
    """Kill the IC SB leader several times; each time a route is added in each AZ as soon
    as the survivors have elected a leader, and both must be learned across in 3 s."""
    tb = raft_testbed
    for az in tb.azs:
        start(tb, az, OURS)
    routers_on_ts1(tb)
    az1, az2 = tb.azs
    cluster = tb._ic_sb
    timings = []
    for kill in range(KILLS):
        killed = cluster.leader()
        killed.stop(signal.SIGKILL)
        at_kill = time.monotonic()
        wait_until(lambda killed=killed: any(member.role() == "leader"
                                             for member in cluster.members
                                             if member is not killed),
                   timeout=30, interval=0.02,
                   message="the survivors elect a leader")
        elected = time.monotonic()
        az1.nbctl("lr-route-add", "lr1", f"10.1.{kill}.0/24", "169.254.100.254")
        az2.nbctl("lr-route-add", "lr2", f"10.2.{kill}.0/24", "169.254.100.254")
        wait_until(lambda kill=kill: f"10.1.{kill}.0/24" in learned_prefixes(az2, "lr2")
                   and f"10.2.{kill}.0/24" in learned_prefixes(az1, "lr1"),
                   timeout=30, interval=0.02, message=f"both routes of kill {kill} learned")
        learned_at = time.monotonic()
        timings.append((elected - at_kill, learned_at - elected))
        killed.start()  # back as a follower, so that the next kill leaves a majority
    print("\nIC SB leader kills: (s to the election, s from it to both routes learned)",
          [(round(election, 2), round(learned, 2)) for election, learned in timings])
    assert learned_prefixes(az2, "lr2") == [f"10.1.{kill}.0/24" for kill in range(KILLS)]
    assert learned_prefixes(az1, "lr1") == [f"10.2.{kill}.0/24" for kill in range(KILLS)]
    slow = [learned for _, learned in timings if learned > AFTER_ELECTION]
    assert not slow, f"learned more than {AFTER_ELECTION} s after the election: {timings}"
