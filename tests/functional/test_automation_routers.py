"""Several routers: two AZs, each with two VPCs in [router NAME] sections beside the cluster
router; each router learns only its counterparts' routes, and a section added or removed by
SIGHUP changes only its own rows."""

from automation_setup import (
    add_cluster_router,
    add_gateway,
    gateway_chassis,
    learned_routes,
    link_address,
    reload,
    uuids,
)
from controller import Controller
from testbed import wait_until

TIMEOUT = 30
OWN_B = ("az1-b-ts", "b-ts-az1")  # az1's rows for vpc-b: LRP, LSP, Gateway_Chassis
VPCS = {"vpc-a": {"ts-prefix": "a-ts", "ts-num": "2"}, "vpc-b": {"ts-prefix": "b-ts"}}


def prefixes(number):
    """router -> the subnet it has in az<number>.  The VPCs overlap crosswise: vpc-b of each
    AZ has the subnet of vpc-a of the other, which is neither a conflict nor learned across."""
    return {"ovn-cluster": f"10.{15 + number}.0.0/24", "vpc-a": f"10.50.{number}.0/24",
            "vpc-b": f"10.50.{3 - number}.0/24"}


def vpc_az(tb, az, number):
    """An AZ with the cluster router and two VPC routers, one gateway per router."""
    for router, prefix in prefixes(number).items():
        add_cluster_router(az, prefix.replace(".0/24", ".1/24"), router=router)
    for gateway, index in (("gw", 1), ("gw-b", 2)):
        add_gateway(az, f"{gateway}{number}", f"127.0.{number}.{index}")
    routers = {**VPCS, "vpc-b": {**VPCS["vpc-b"], "gw-nodes": f"gw-b{number}"}}
    return Controller(tb, az, gw_nodes=f"gw{number}", auto_route="true", log_level="info",
                      routers=routers)


def learned_prefixes(az, router):
    return {prefix for prefix, _ in learned_routes(az, router)}


def wait_learned(az, router, wanted):
    wait_until(lambda: learned_prefixes(az, router) == wanted, timeout=TIMEOUT,
               message=f"{az.name} {router} learns exactly {sorted(wanted)}")


def rows(az):
    """UUIDs by name of the rows the automation makes in the local NB."""
    return {table: uuids(az, table) for table in ("Logical_Router_Port", "Logical_Switch_Port",
                                                  "Gateway_Chassis", "Logical_Switch")}


def keep(snapshot, *exclude):
    """``snapshot`` without the rows whose name contains one of ``exclude``."""
    return {table: {name: uuid for name, uuid in named.items()
                    if not any(part in name for part in exclude)}
            for table, named in snapshot.items()}


def test_each_vpc_learns_only_its_counterpart_and_a_section_reload_touches_only_it(testbed):
    az1, az2 = testbed.azs
    ours = vpc_az(testbed, az1, 1).start(wait_ready=False)
    vpc_az(testbed, az2, 2).start(wait_ready=False)
    for az, other in ((az1, 2), (az2, 1)):
        for router, prefix in prefixes(other).items():
            wait_learned(az, router, {prefix})
    assert not ours.events("routes.conflict")  # the crosswise overlap is in other routers
    # Two ECMP paths for vpc-a (ts-num 2), over its own switches' next hops only.
    hops = {hop for _, hop in learned_routes(az1, "vpc-a")}
    assert hops == {link_address(testbed, "a-ts-az2"), link_address(testbed, "a-ts1-az2")}
    assert {hop for _, hop in learned_routes(az1, "vpc-b")} == {link_address(testbed,
                                                                              "b-ts-az2")}
    switches = testbed.ic_nbctl("--bare", "--columns=name", "list", "Transit_Switch").split()
    assert sorted(switches) == ["a-ts", "a-ts1", "b-ts", "ts"]
    assert gateway_chassis(az1, "az1-a-ts") == [("gw1", 100)]
    assert gateway_chassis(az1, "az1-b-ts") == [("gw-b1", 100)]

    # Removing [router vpc-b] removes only vpc-b's port rows; the peer's vpc-b forgets az1.
    before = rows(az1)
    reload(ours, routers={"vpc-a": VPCS["vpc-a"]})
    wait_until(lambda: "az1-b-ts" not in uuids(az1, "Logical_Router_Port"), timeout=TIMEOUT,
               message="vpc-b's port removed")
    wait_learned(az2, "vpc-b", set())
    wait_learned(az1, "vpc-b", set())
    after = rows(az1)
    assert keep(after, *OWN_B) == keep(before, *OWN_B)
    assert not any(part in name for named in after.values() for name in named for part in OWN_B)
    assert "b-ts" in testbed.ic_nbctl("--bare", "--columns=name", "list",
                                      "Transit_Switch").split()  # az2 still has a port on it
    for router in ("ovn-cluster", "vpc-a"):
        assert learned_prefixes(az1, router) == {prefixes(2)[router]}

    # Adding it back adds only vpc-b's rows, and the two vpc-b learn each other again.
    before = after
    reload(ours, routers=VPCS)
    wait_learned(az1, "vpc-b", {prefixes(2)["vpc-b"]})
    wait_learned(az2, "vpc-b", {prefixes(1)["vpc-b"]})
    after = rows(az1)
    assert keep(after, *OWN_B) == keep(before, *OWN_B)
    assert "az1-b-ts" in after["Logical_Router_Port"]
    assert "b-ts-az1" in after["Logical_Switch_Port"]
    for router in ("ovn-cluster", "vpc-a"):
        assert learned_prefixes(az1, router) == {prefixes(2)[router]}


def test_leaving_removes_every_routers_rows_and_rejoining_restores_them(testbed):
    """enable-ic=false with [router NAME] sections: what the automation made for each router
    goes, every router forgets what it learned, the peer's routers forget this AZ; and
    enable-ic=true brings all of it back."""
    az1, az2 = testbed.azs
    ours = vpc_az(testbed, az1, 1)
    baseline = rows(az1)  # the routers and gateways, before any interconnection
    ours.start(wait_ready=False)
    vpc_az(testbed, az2, 2).start(wait_ready=False)
    for router, prefix in prefixes(2).items():
        wait_learned(az1, router, {prefix})
    joined = rows(az1)
    assert joined != baseline

    reload(ours, enable_ic="false")
    wait_until(lambda: rows(az1) == baseline, timeout=TIMEOUT,
               message="az1 keeps only what it had before joining")
    for router in prefixes(1):
        assert learned_prefixes(az1, router) == set()
        wait_learned(az2, router, set())

    reload(ours, enable_ic="true")
    for az, other in ((az1, 2), (az2, 1)):
        for router, prefix in prefixes(other).items():
            wait_learned(az, router, {prefix})
    assert set(rows(az1)["Logical_Router_Port"]) == set(joined["Logical_Router_Port"])
