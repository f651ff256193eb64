"""The automation concern on plain data: switches, ports, addresses, gateways, minimal diffs."""

import ipaddress

from automation_world import World

from ovn_ic_controller.constants import OWNER_KEY, TS_KEY
from ovn_ic_controller.sync.automation import Automation, rotated
from ovn_ic_controller.sync.automation.link_addresses import link_mac, preferred_offset


def kinds(plan):
    return sorted({(op.kind, op.table) for op in plan.ops})


def world_with_switches(ts_num=2, **settings):
    """An engaged AZ whose switches exist in the IC NB and are mirrored locally."""
    world = World(ts_num=str(ts_num), **settings)
    world.router(networks=["10.16.0.1/24"])
    concern = Automation()
    world.run(concern)  # creates the switches in the IC NB
    for ts in world.rows("ic_nb", "Transit_Switch"):
        world.mirror(ts.name)
    return world, concern


def port_pair(world, ts, az="az1"):
    lrp = world.named("nb", "Logical_Router_Port", f"{az}-{ts}")
    lsp = world.named("nb", "Logical_Switch_Port", f"{ts}-{az}")
    return lrp, lsp


def test_without_the_cluster_router_nothing_happens():
    world = World(ts_num="3", gw_nodes="gw1")
    world.router(name="lr1")
    world.chassis("gw1")
    assert not Automation().plan(world.ctx())


def test_switches_are_created_with_subnets_and_the_owner_mark():
    world = World(ts_num="2", link_ipv6="true")
    world.router()
    plan = world.run(Automation())
    assert kinds(plan) == [("insert", "Transit_Switch")]
    switches = {ts.name: ts.external_ids for ts in world.rows("ic_nb", "Transit_Switch")}
    assert switches == {
        "ts": {"subnet": "169.254.100.0/24,fe80:a9fe:64::/112", OWNER_KEY: "az1"},
        "ts1": {"subnet": "169.254.101.0/24,fe80:a9fe:65::/112", OWNER_KEY: "az1"}}


def test_ports_wait_for_the_mirror_then_come_in_one_plan_and_settle():
    world = World(ts_num="1")
    world.router()
    concern = Automation()
    world.run(concern)
    assert not concern.plan(world.ctx())  # no mirror yet: nothing to do
    world.mirror("ts")
    plans = world.settle(concern)
    assert len(plans) == 1
    lrp, lsp = port_pair(world, "ts")
    offset = preferred_offset("az1", ipaddress.ip_network("169.254.100.0/24"))
    assert lrp.networks == [f"169.254.100.{offset}/24"]
    assert lrp.mac == link_mac("az1", "ts")
    assert lrp.external_ids == {OWNER_KEY: "az1", TS_KEY: "ts"}
    assert lrp in world.named("nb", "Logical_Router", "ovn-cluster").ports
    assert (lsp.type, lsp.addresses, lsp.options) == ("router", ["router"],
                                                      {"router-port": "az1-ts"})
    assert lsp in world.named("nb", "Logical_Switch", "ts").ports


def test_gateways_rotate_per_switch_with_falling_priorities():
    world, concern = world_with_switches(ts_num=3, gw_nodes="gw1,host-b,gw3")
    world.chassis("gw1")
    world.chassis("chassis-b", hostname="host-b")
    world.chassis("gw3")
    world.chassis("gw9", remote=True)
    world.settle(concern)
    for ts, expected in (("ts", ["gw1", "chassis-b", "gw3"]),
                         ("ts1", ["chassis-b", "gw3", "gw1"]),
                         ("ts2", ["gw3", "gw1", "chassis-b"])):
        lrp, _ = port_pair(world, ts)
        rows = sorted(lrp.gateway_chassis, key=lambda gc: -gc.priority)
        assert [(gc.chassis_name, gc.priority) for gc in rows] == list(
            zip(expected, (100, 99, 98), strict=True))
        assert rows[0].name == f"az1-{ts}-{expected[0]}"


def test_a_gw_nodes_change_touches_only_gateway_rows():
    world, concern = world_with_switches(ts_num=2, gw_nodes="gw1,gw2")
    for name in ("gw1", "gw2", "gw3"):
        world.chassis(name)
    world.settle(concern)
    before = {table: world.snapshot("nb", table)
              for table in ("Logical_Router_Port", "Logical_Switch_Port", "Gateway_Chassis")}
    world.settings["gw_nodes"] = "gw2,gw3"
    plans = world.settle(concern)
    assert {(op.table, op.kind) for plan in plans for op in plan.ops} <= {
        ("Gateway_Chassis", "insert"), ("Gateway_Chassis", "set"),
        ("Logical_Router_Port", "addvalue"), ("Logical_Router_Port", "delvalue")}
    assert all(op.column in ("", "gateway_chassis", "priority") for plan in plans
               for op in plan.ops)
    assert world.snapshot("nb", "Logical_Router_Port") == before["Logical_Router_Port"]
    assert world.snapshot("nb", "Logical_Switch_Port") == before["Logical_Switch_Port"]
    after = world.snapshot("nb", "Gateway_Chassis")
    for kept in ("az1-ts-gw2", "az1-ts1-gw2"):  # the chassis that stays keeps its row
        assert after[kept] == before["Gateway_Chassis"][kept]
    assert "az1-ts-gw1" not in after and "az1-ts-gw3" in after


def test_lowering_ts_num_removes_only_the_extra_ports_then_the_unused_switch():
    world, concern = world_with_switches(ts_num=3)
    world.settle(concern)
    kept = {name: uuid for name, uuid in world.snapshot("nb", "Logical_Router_Port").items()
            if name in ("az1-ts", "az1-ts1")}
    world.binding("ts2", "az1", "ts2-az1", "aa:00:00:00:00:01 169.254.102.9/24")
    world.settings["ts_num"] = "2"
    plan = world.run(concern)
    assert kinds(plan) == [("delvalue", "Logical_Router"), ("delvalue", "Logical_Switch")]
    assert port_pair(world, "ts2") == (None, None)
    assert {name: uuid for name, uuid in world.snapshot("nb", "Logical_Router_Port").items()
            if name in kept} == kept
    assert not concern.plan(world.ctx())  # ts2 still has a binding: the switch stays
    world.tables["ic_sb"]["Port_Binding"].clear()
    plan = world.run(concern)
    assert [(op.kind, op.table) for op in plan.ops] == [("delete", "Transit_Switch")]
    assert sorted(world.snapshot("ic_nb", "Transit_Switch")) == ["ts", "ts1"]


def test_a_switch_created_by_someone_else_is_never_deleted():
    world, concern = world_with_switches(ts_num=1)
    world.add("ic_nb", "Transit_Switch", name="ts5", external_ids={OWNER_KEY: "az7"})
    world.add("ic_nb", "Transit_Switch", name="ts6", external_ids={})
    world.settle(concern)
    assert {"ts5", "ts6"} <= set(world.snapshot("ic_nb", "Transit_Switch"))


def test_existing_switch_subnet_is_honoured():
    world = World(ts_num="1")
    world.router()
    world.add("ic_nb", "Transit_Switch", name="ts",
              external_ids={"subnet": "169.254.200.0/24", "vendor": "kube-ovn"})
    world.mirror("ts")
    world.settle(Automation())
    lrp, _ = port_pair(world, "ts")
    assert ipaddress.ip_interface(lrp.networks[0]).network == ipaddress.ip_network(
        "169.254.200.0/24")


def test_an_address_used_by_another_az_is_skipped():
    world, concern = world_with_switches(ts_num=1)
    offset = preferred_offset("az1", ipaddress.ip_network("169.254.100.0/24"))
    world.binding("ts", "az2", "ts-az2", f"0a:00:00:00:00:02 169.254.100.{offset}/24")
    world.settle(concern)
    lrp, _ = port_pair(world, "ts")
    assert lrp.networks == [f"169.254.100.{offset % 254 + 1}/24"]


def test_local_router_ports_and_remote_ports_on_the_switch_count_as_used():
    world, concern = world_with_switches(ts_num=1)
    offset = preferred_offset("az1", ipaddress.ip_network("169.254.100.0/24"))
    taken = [f"169.254.100.{(offset + step - 1) % 254 + 1}" for step in range(3)]
    hand_made = world.add("nb", "Logical_Router_Port", name="lr-x-ts", mac="0a:00:00:00:00:07",
                          networks=[f"{taken[0]}/24"], gateway_chassis=[], external_ids={})
    world.add("nb", "Logical_Router", name="lr-x", ports=[hand_made])
    mirror = world.named("nb", "Logical_Switch", "ts")
    mirror.ports += [
        world.add("nb", "Logical_Switch_Port", name="ts-x", type="router", addresses=["router"],
                  options={"router-port": "lr-x-ts"}, external_ids={}),
        world.add("nb", "Logical_Switch_Port", name="ts-az7", type="remote", options={},
                  addresses=[f"0a:00:00:00:00:08 {taken[1]}/24"], external_ids={})]
    world.binding("ts", "az8", "ts-az8", f"0a:00:00:00:00:09 {taken[2]}/24")
    world.settle(concern)
    lrp, _ = port_pair(world, "ts")
    assert lrp.networks == [f"169.254.100.{(offset + 2) % 254 + 1}/24"]


def test_a_dual_stack_switch_gives_an_address_of_each_family():
    world, concern = world_with_switches(ts_num=1, link_ipv6="true")
    world.settle(concern)
    lrp, _ = port_pair(world, "ts")
    networks = [ipaddress.ip_interface(network) for network in lrp.networks]
    assert sorted(interface.network.version for interface in networks) == [4, 6]
    assert ipaddress.ip_network("fe80:a9fe:64::/112") in {n.network for n in networks}


def collide(world, concern, peer):
    """Our port exists; a peer AZ (automated: its MAC follows the rule) shows up on our address."""
    world.settle(concern)
    lrp, _ = port_pair(world, "ts")
    address = lrp.networks[0]
    world.binding("ts", peer, f"ts-{peer}", f"{link_mac(peer, 'ts')} {address}")
    return lrp, address


def test_on_a_collision_the_higher_name_moves_and_the_lower_stays():
    world, concern = world_with_switches(ts_num=1)
    lrp, address = collide(world, concern, "az0")  # "az1" > "az0": we move
    plans = world.settle(concern)
    assert [(op.kind, op.column) for plan in plans for op in plan.ops] == [("set", "networks")]
    assert lrp.networks != [address]

    world, concern = world_with_switches(ts_num=1)
    lrp, address = collide(world, concern, "az2")  # "az1" < "az2": the peer moves
    assert not world.settle(concern) and lrp.networks == [address]


def test_a_collision_with_a_hand_made_port_always_moves_us():
    world, concern = world_with_switches(ts_num=1)
    world.settle(concern)
    lrp, _ = port_pair(world, "ts")
    address = lrp.networks[0]
    world.binding("ts", "az2", "manual-port", f"00:00:00:00:00:99 {address}")
    world.settle(concern)
    assert lrp.networks != [address]


def test_a_restart_keeps_addresses_and_an_az_rename_renames_in_place():
    world, concern = world_with_switches(ts_num=1, gw_nodes="gw1")
    world.chassis("gw1")
    world.settle(concern)
    lrp, lsp = port_pair(world, "ts")
    lrp.networks = ["169.254.100.77/24"]  # e.g. allocated before a collision moved it
    assert not world.settle(Automation())  # a new process keeps what is there
    world.az_name, world.az = "az9", world.zone("az9")
    world.settle(Automation())
    assert port_pair(world, "ts", az="az9") == (lrp, lsp)
    assert lrp.networks == ["169.254.100.77/24"] and lsp.options["router-port"] == "az9-ts"
    assert [gc.name for gc in lrp.gateway_chassis] == ["az9-ts-gw1"]


def test_a_name_taken_by_a_foreign_row_is_left_alone():
    world, concern = world_with_switches(ts_num=1)
    foreign = world.add("nb", "Logical_Router_Port", name="az1-ts", mac="00:00:00:00:00:05",
                        networks=["169.254.100.5/24"], gateway_chassis=[], external_ids={})
    world.add("nb", "Logical_Router", name="hand-made", ports=[foreign])
    assert not concern.plan(world.ctx())


def test_helpers():
    assert rotated(["a", "b", "c"], 4) == ["b", "c", "a"] and rotated([], 2) == []


# ------------------------------------------------------------ several routers
VPC = {"vpc-a": {"ts-prefix": "a-ts", "ts-num": "2", "gw-nodes": "gw2"}}


def two_routers(**settings):
    """An AZ with the cluster router and the router of a [router vpc-a] section."""
    world = World(ts_num="1", gw_nodes="gw1", routers=VPC, **settings)
    world.router(networks=["10.16.0.1/24"])
    world.router(name="vpc-a", networks=["10.50.0.1/24"])
    world.chassis("gw1")
    world.chassis("gw2")
    concern = Automation()
    world.run(concern)
    for ts in world.rows("ic_nb", "Transit_Switch"):
        world.mirror(ts.name)
    world.settle(concern)
    return world, concern


def test_a_router_section_gets_its_own_switches_ports_and_gateways():
    world, _ = two_routers()
    assert sorted(world.snapshot("ic_nb", "Transit_Switch")) == ["a-ts", "a-ts1", "ts"]
    cluster = world.named("nb", "Logical_Router", "ovn-cluster")
    vpc = world.named("nb", "Logical_Router", "vpc-a")
    for ts, router, gateway, octet in (("ts", cluster, "gw1", 100), ("a-ts", vpc, "gw2", 100),
                                       ("a-ts1", vpc, "gw2", 101)):
        lrp, lsp = port_pair(world, ts)
        assert lrp in router.ports
        assert lrp.mac == link_mac("az1", ts)
        assert ipaddress.ip_interface(lrp.networks[0]).network == ipaddress.ip_network(
            f"169.254.{octet}.0/24")
        assert [gc.chassis_name for gc in lrp.gateway_chassis] == [gateway]
        assert lsp in world.named("nb", "Logical_Switch", ts).ports
    ours = [lrp for lrp in world.rows("nb", "Logical_Router_Port") if OWNER_KEY in lrp.external_ids]
    assert len({lrp.mac for lrp in ours}) == len(ours) == 3


def test_a_missing_section_router_joins_nothing_and_the_cluster_router_is_unaffected():
    world = World(ts_num="1", routers=VPC)
    world.router(networks=["10.16.0.1/24"])
    world.run(Automation())
    assert sorted(world.snapshot("ic_nb", "Transit_Switch")) == ["ts"]
    alone = World(ts_num="1", routers=VPC, cluster_router="elsewhere")
    alone.router(name="vpc-a")
    alone.run(Automation())
    assert sorted(alone.snapshot("ic_nb", "Transit_Switch")) == ["a-ts", "a-ts1"]


def test_removing_a_section_removes_only_its_ports_then_its_unused_switches():
    world, concern = two_routers()
    tables = ("Logical_Router_Port", "Logical_Switch_Port", "Gateway_Chassis")
    before = {table: world.snapshot("nb", table) for table in tables}
    world.settings["routers"] = {}
    plan = world.run(concern)  # the ports first, the switches once no port is left
    assert kinds(plan) == [("delvalue", "Logical_Router"), ("delvalue", "Logical_Switch")]
    plan = world.run(concern)
    assert kinds(plan) == [("delete", "Transit_Switch")]
    assert sorted(world.snapshot("ic_nb", "Transit_Switch")) == ["ts"]
    for table in tables:
        after = world.snapshot("nb", table)
        assert {name: uuid for name, uuid in before[table].items() if "a-ts" not in name
                } == after
    assert not world.settle(concern)


def test_adding_a_section_adds_only_its_rows():
    world, concern = two_routers()
    world.settings["routers"] = {**VPC, "vpc-b": {"ts-prefix": "b-ts"}}
    world.router(name="vpc-b")
    before = {table: world.snapshot("nb", table)
              for table in ("Logical_Router_Port", "Logical_Switch_Port", "Gateway_Chassis")}
    world.run(concern)
    world.mirror("b-ts")
    world.settle(concern)
    for table, rows in before.items():
        after = world.snapshot("nb", table)
        assert {name: after[name] for name in rows} == rows
    lrp, _ = port_pair(world, "b-ts")
    assert lrp in world.named("nb", "Logical_Router", "vpc-b").ports
    assert [gc.chassis_name for gc in lrp.gateway_chassis] == ["gw1"]  # [controller]'s
