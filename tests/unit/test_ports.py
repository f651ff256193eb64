"""The transit-switch ports concern's decisions (docs/behaviour.md §5, Q11, Q12), on plain data.

``World`` is a tiny fake of the four replicas (a ``Replica``, so it can apply a
plan), so each scenario can check that planning again over the result changes nothing.
"""

from __future__ import annotations

import uuid as uuidlib

import pytest
from fakes import Replica, row
from structlog.testing import capture_logs

from ovn_ic_controller.sync.ports import TransitSwitchPorts

ADDRESS = "aa:aa:aa:aa:aa:01 169.254.100.1/24 2001:db8:1::1/64"
ROUTER_ID = uuidlib.UUID("6d5f0c8e-0b7a-4a0c-9a53-1f6f2a0c1d11")
TABLES = {
    "nb": ("Logical_Switch", "Logical_Switch_Port"),
    "sb": ("Port_Binding", "Datapath_Binding", "Chassis"),
    "ic_nb": ("Transit_Switch", "Transit_Switch_Port"),
    "ic_sb": ("Availability_Zone", "Port_Binding"),
}

# Columns an insert may leave out, with the value OVSDB then gives them.
INSERT_DEFAULTS = {
    ("nb", "Logical_Switch_Port"): {"addresses": [], "options": {}},
    ("ic_sb", "Port_Binding"): {"address": "", "gateway": "", "external_ids": {}},
}


class World(Replica):
    """Fake replicas of one AZ (az1) plus the IC databases."""

    plain_uuids = frozenset({("ic_sb", "Port_Binding", "nb_ic_uuid")})

    def __init__(self) -> None:
        super().__init__({db: {table: [] for table in names} for db, names in TABLES.items()},
                         non_root={("nb", "Logical_Switch_Port")},
                         insert_defaults=INSERT_DEFAULTS)
        self.az = self.add("ic_sb", "Availability_Zone", name="az1")
        self.peer_az = self.add("ic_sb", "Availability_Zone", name="az2")

    # ----------------------------------------------------------- topology
    def transit_switch(self, name="ts1", in_nb=True):
        self.add("ic_nb", "Transit_Switch", name=name)
        if in_nb:
            return self.add("nb", "Logical_Switch", name=name, ports=[],
                            other_config={"interconn-ts": name, "requested-tnl-key": "16711682"})
        return None

    def router_port(self, switch, name="lsp1", lrp="lrp1", address=ADDRESS, gateway=None,
                    options=None, northd=True):
        """A router LSP on ``switch`` and, with ``northd``, the SB rows northd makes."""
        lsp = self.add("nb", "Logical_Switch_Port", name=name, type="router", addresses=["router"],
                       options={"router-port": lrp, **(options or {})})
        switch.ports.append(lsp)
        if northd:
            datapath = self.add("sb", "Datapath_Binding",
                                external_ids={"logical-router": str(ROUTER_ID)})
            self.add("sb", "Port_Binding", logical_port=name, options={"peer": lrp},
                     mac=["router"], chassis=[], datapath=datapath)
            self.add("sb", "Port_Binding", logical_port=lrp, options={"peer": name},
                     mac=[address] if address else [], chassis=[], datapath=datapath)
            if gateway is not None:
                chassis = self.chassis(gateway)
                self.add("sb", "Port_Binding", logical_port=f"cr-{lrp}", options={},
                         mac=[], chassis=[chassis], datapath=datapath)
        return lsp

    def chassis(self, name, other_config=None):
        return self.add("sb", "Chassis", name=name, other_config=other_config or {})

    def declared_port(self, name, ts="ts1", chassis="", type="", peer="", addresses=()):
        """An IC NB Transit_Switch_Port (26.09) on ``ts``."""
        port = self.add("ic_nb", "Transit_Switch_Port", name=name, chassis=chassis, type=type,
                        peer=peer, addresses=list(addresses))
        switch = self.one("ic_nb", "Transit_Switch", name=ts)
        switch.ports = [*getattr(switch, "ports", []), port]
        return port

    def binding(self, name, az=None, ts="ts1", key=1, address=ADDRESS, gateway="",
                external_ids=None):
        return self.add("ic_sb", "Port_Binding", logical_port=name, transit_switch=ts,
                        availability_zone=az or self.peer_az, tunnel_key=key, address=address,
                        gateway=gateway, external_ids=external_ids or {})

    def northd_binds_remote_ports(self):
        """What northd does after we create remote LSPs: an SB binding each."""
        for lsp in self.find("nb", "Logical_Switch_Port", type="remote"):
            if not self.find("sb", "Port_Binding", logical_port=lsp.name):
                self.add("sb", "Port_Binding", logical_port=lsp.name, options={}, mac=[],
                         chassis=[], datapath=None)


def converge(world, concern, rounds=3):
    """Plan and apply (northd binding the new remote ports) until nothing changes."""
    world.settle(concern, rounds, after=world.northd_binds_remote_ports)


def kinds(plan):
    return [(op.kind, op.db, op.table) for op in plan.ops]


@pytest.fixture
def world():
    return World()


@pytest.fixture
def concern():
    return TransitSwitchPorts()


# ------------------------------------------------------------- local ports
def test_router_port_is_published_with_address_gateway_and_router(world, concern):
    ts1 = world.transit_switch()
    lsp = world.router_port(ts1, gateway="gw1")
    plan = concern.plan(world.ctx())
    assert kinds(plan) == [("insert", "ic_sb", "Port_Binding")]
    assert plan.ops[0].value == {
        "availability_zone": world.az.uuid, "transit_switch": "ts1", "logical_port": "lsp1",
        "tunnel_key": 1, "address": ADDRESS, "gateway": "gw1",
        "external_ids": {"router-id": str(ROUTER_ID)}}
    world.apply(plan)
    # The key goes back to NB only once the binding is committed.
    assert concern.plan(world.ctx()).ops[0].value == "1"
    converge(world, concern)
    assert lsp.options["requested-tnl-key"] == "1"


def test_published_port_follows_address_gateway_and_router_changes(world, concern):
    ts1 = world.transit_switch()
    world.router_port(ts1, gateway="gw2", options={"requested-tnl-key": "7"})
    published = world.binding("lsp1", az=world.az, key=7, address="aa:aa:aa:aa:aa:09",
                              gateway="gw1", external_ids={"router-id": str(uuidlib.uuid4())})
    converge(world, concern)
    assert (published.address, published.gateway) == (ADDRESS, "gw2")
    assert published.external_ids == {"router-id": str(ROUTER_ID)}


def test_lost_peer_clears_address_and_gateway_and_keeps_router_id(world, concern):
    ts1 = world.transit_switch()
    world.router_port(ts1, northd=False, options={"requested-tnl-key": "1"})
    world.add("sb", "Port_Binding", logical_port="lsp1", options={}, mac=["router"],
              chassis=[], datapath=None)
    published = world.binding("lsp1", az=world.az, gateway="gw1",
                              external_ids={"router-id": str(ROUTER_ID)})
    with capture_logs() as logs:
        converge(world, concern)
    assert (published.address, published.gateway) == ("", "")
    assert published.external_ids == {"router-id": str(ROUTER_ID)}
    assert any(entry["event"] == "port.router_unknown" for entry in logs)


def test_port_without_sb_binding_yet_is_neither_published_nor_withdrawn(world, concern):
    ts1 = world.transit_switch()
    world.router_port(ts1, northd=False)
    assert not concern.plan(world.ctx())
    world.binding("lsp1", az=world.az)
    assert not concern.plan(world.ctx())


def test_removed_router_port_is_withdrawn(world, concern):
    world.transit_switch()
    published = world.binding("lsp1", az=world.az)
    plan = concern.plan(world.ctx())
    assert kinds(plan) == [("delete", "ic_sb", "Port_Binding")]
    assert plan.ops[0].target == published.uuid


def test_router_port_without_router_port_option_is_not_published(world, concern):
    """Q11: not exporting it at all avoids 23.03.1's delete/re-create churn."""
    ts1 = world.transit_switch()
    lsp = world.router_port(ts1)
    del lsp.options["router-port"]
    assert not concern.plan(world.ctx())
    world.binding("lsp1", az=world.az)
    assert kinds(concern.plan(world.ctx())) == [("delete", "ic_sb", "Port_Binding")]


def test_bindings_of_vanished_transit_switches_are_deleted(world, concern):
    """Q12: a binding whose TS left IC NB (or the local NB) is deleted, no lookup of the TS."""
    world.transit_switch("ts1", in_nb=False)
    world.binding("on-ts1", az=world.az, ts="ts1")
    world.binding("on-gone", az=world.az, ts="gone")
    world.binding("theirs", ts="gone")
    converge(world, concern)
    assert [pb.logical_port for pb in world.tables["ic_sb"]["Port_Binding"]] == ["theirs"]


def test_transit_router_ports_are_not_this_concerns(world, concern):
    """A transit router's port bindings (26.03) are left alone, ours as well as a peer's,
    even on a switch of that name."""
    ts1 = world.transit_switch()
    world.add("ic_sb", "Port_Binding", logical_port="trp1", transit_switch="ts1",
              availability_zone=world.az, tunnel_key=1, address="", gateway="", external_ids={},
              type=["transit-router-port"])
    world.add("ic_sb", "Port_Binding", logical_port="trp2", transit_switch="ts1",
              availability_zone=world.peer_az, tunnel_key=2, address="", gateway="",
              external_ids={}, type=["transit-router-port"])
    world.router_port(ts1, name="trp2")
    with capture_logs() as logs:
        assert not concern.plan(world.ctx())
    assert [entry["owner"] for entry in logs if entry["event"] == "port.name_taken"] == ["az2"]


def test_non_router_ports_are_ignored(world, concern):
    ts1 = world.transit_switch()
    ts1.ports.append(world.add("nb", "Logical_Switch_Port", name="vif", type="",
                               addresses=[], options={}))
    assert not concern.plan(world.ctx())


def test_name_taken_by_another_az_is_skipped_with_a_warning(world, concern):
    ts1 = world.transit_switch()
    world.router_port(ts1)
    world.binding("lsp1", ts="ts2")
    with capture_logs() as logs:
        plan = concern.plan(world.ctx())
    assert not plan
    assert [entry["owner"] for entry in logs if entry["event"] == "port.name_taken"] == ["az2"]


# ------------------------------------------------------------- tunnel keys
def test_keys_unique_per_switch_with_one_hint_across_switches(world, concern):
    ts1, ts2 = world.transit_switch("ts1"), world.transit_switch("ts2")
    world.binding("theirs", key=1)
    world.router_port(ts1, name="a1", lrp="lrp-a1")
    world.router_port(ts1, name="a2", lrp="lrp-a2")
    world.router_port(ts2, name="b1", lrp="lrp-b1")
    converge(world, concern)
    keys = {pb.logical_port: pb.tunnel_key for pb in world.tables["ic_sb"]["Port_Binding"]}
    assert keys == {"theirs": 1, "a1": 2, "a2": 3, "b1": 4}
    for lsp in world.find("nb", "Logical_Switch_Port", type="router"):
        assert lsp.options["requested-tnl-key"] == str(keys[lsp.name])


def test_exhausted_keys_skip_the_port(world, concern):
    ts1 = world.transit_switch()
    world.router_port(ts1)
    concern.port_keys.allocate = lambda used: None
    with capture_logs() as logs:
        assert not concern.plan(world.ctx())
    assert any(entry["event"] == "port.keys_exhausted" for entry in logs)


# ------------------------------------------------------------ remote ports
def test_remote_binding_becomes_a_remote_port(world, concern):
    ts1 = world.transit_switch()
    world.binding("lsp-az2", key=5)
    plan = concern.plan(world.ctx())
    assert kinds(plan) == [("insert", "nb", "Logical_Switch_Port"),
                           ("addvalue", "nb", "Logical_Switch")]
    assert plan.ops[0].value == {"name": "lsp-az2", "type": "remote", "up": [True],
                                 "options": {"requested-tnl-key": "5"},
                                 "addresses": [ADDRESS]}
    converge(world, concern)
    assert [lsp.name for lsp in ts1.ports] == ["lsp-az2"]


def test_remote_port_follows_address_and_key(world, concern):
    ts1 = world.transit_switch()
    binding = world.binding("lsp-az2", key=5)
    converge(world, concern)
    lsp = ts1.ports[0]
    binding.address, binding.tunnel_key = "aa:aa:aa:aa:aa:02 10.0.0.2/24", 6
    converge(world, concern)
    assert (lsp.addresses, lsp.options) == (["aa:aa:aa:aa:aa:02 10.0.0.2/24"],
                                            {"requested-tnl-key": "6"})
    binding.address = ""
    converge(world, concern)
    assert lsp.addresses == []


def test_malformed_address_is_skipped_with_a_warning(world, concern):
    ts1 = world.transit_switch()
    binding = world.binding("lsp-az2")
    converge(world, concern)
    binding.address = "garbage"
    with capture_logs() as logs:
        assert not concern.plan(world.ctx())
    assert [entry["port"] for entry in logs if entry["event"] == "port.bad_address"] == [
        "lsp-az2"]
    assert ts1.ports[0].addresses == [ADDRESS]
    world.binding("new-az2", key=2, address="aa:aa:aa:aa:aa:03 10.0.0.x")
    plan = concern.plan(world.ctx())
    assert "addresses" not in plan.ops[0].value


def test_vanished_remote_binding_removes_the_port(world, concern):
    ts1 = world.transit_switch()
    binding = world.binding("lsp-az2")
    converge(world, concern)
    world.tables["ic_sb"]["Port_Binding"].remove(binding)
    plan = concern.plan(world.ctx())
    assert kinds(plan) == [("delvalue", "nb", "Logical_Switch")]
    converge(world, concern)
    assert ts1.ports == [] and world.tables["nb"]["Logical_Switch_Port"] == []


@pytest.mark.parametrize("kind, on_transit_switch", [("", True), ("remote", False)])
def test_remote_name_clashing_with_a_local_port_is_skipped(world, concern, kind,
                                                            on_transit_switch):
    ts1 = world.transit_switch()
    switch = ts1 if on_transit_switch else world.add("nb", "Logical_Switch", name="sw",
                                                     ports=[], other_config={})
    switch.ports.append(world.add("nb", "Logical_Switch_Port", name="vm1", type=kind,
                                  addresses=[], options={}))
    world.binding("vm1")
    with capture_logs() as logs:
        assert not concern.plan(world.ctx())
    assert any(entry["event"] == "port.remote_skipped" for entry in logs)


def test_remote_port_moving_to_another_switch_is_recreated_next_time(world, concern):
    world.transit_switch("ts1")
    ts2 = world.transit_switch("ts2")
    binding = world.binding("lsp-az2")
    converge(world, concern)
    binding.transit_switch = "ts2"
    first = concern.plan(world.ctx())
    assert kinds(first) == [("delvalue", "nb", "Logical_Switch")]
    world.apply(first)
    converge(world, concern)
    assert [lsp.name for lsp in ts2.ports] == ["lsp-az2"]


# ---------------------------------------------------------- gateway binding
def remote_sb_port(world, concern, gateway="gw1", options=None):
    world.transit_switch()
    binding = world.binding("lsp-az2", gateway=gateway)
    converge(world, concern)
    lsp = world.one("nb", "Logical_Switch_Port", name="lsp-az2")
    lsp.options.update(options or {})
    return binding, world.one("sb", "Port_Binding", logical_port="lsp-az2")


def test_remote_port_is_bound_to_its_gateway_chassis(world, concern):
    binding, sb_port = remote_sb_port(world, concern)
    assert sb_port.chassis == []  # no such chassis yet: left unbound, retried later
    gw1 = world.chassis("gw1")
    converge(world, concern)
    assert sb_port.chassis == [gw1]
    gw2 = world.chassis("gw2")
    binding.gateway = "gw2"
    converge(world, concern)
    assert sb_port.chassis == [gw2]
    binding.gateway = ""
    converge(world, concern)
    assert sb_port.chassis == []


def test_requested_chassis_leaves_the_binding_to_northd(world, concern):
    world.chassis("gw1")
    _, sb_port = remote_sb_port(world, concern, options={"requested-chassis": "hv1"})
    sb_port.chassis = []
    assert not concern.plan(world.ctx())


def test_peer_nonsense_does_not_stop_the_good_ports(world, concern):
    ts1 = world.transit_switch()
    world.chassis("gw1")
    world.binding("bad", address="garbage", gateway="nochassis", key=1)
    world.binding("good", gateway="gw1", key=2)
    world.binding("", key=3)
    world.binding("empty", address="", key=4)
    with capture_logs():
        converge(world, concern)
    addresses = {lsp.name: lsp.addresses for lsp in ts1.ports}
    assert addresses == {"bad": [], "good": [ADDRESS], "empty": []}
    sb = {pb.logical_port: pb.chassis for pb in world.tables["sb"]["Port_Binding"]}
    assert sb["bad"] == [] and [c.name for c in sb["good"]] == ["gw1"]


def test_switch_without_interconn_marker_is_not_a_transit_switch(world, concern):
    world.add("ic_nb", "Transit_Switch", name="ts1")
    world.add("nb", "Logical_Switch", name="ts1", ports=[], other_config={})
    world.binding("lsp-az2")
    assert not concern.plan(world.ctx())


def test_a_lone_mirror_named_otherwise_is_the_transit_switchs_mirror(world, concern):
    # One rule for every concern (sync/common.py): interconn-ts names the transit switch.
    # transit_switches keeps such a switch, so the ports must be synced on it too.
    world.add("ic_nb", "Transit_Switch", name="ts1")
    renamed = world.add("nb", "Logical_Switch", name="other", ports=[],
                        other_config={"interconn-ts": "ts1"})
    world.binding("lsp-az2")
    converge(world, concern)
    assert [lsp.name for lsp in renamed.ports] == ["lsp-az2"]


# ------------------------------------------------------- newer IC databases
PB_TYPED = {"tables": {"Port_Binding": {"columns": {"type": {}, "nb_ic_uuid": {}}}}}


def test_26_03_bindings_carry_their_type_and_transit_switch(world, concern):
    ts1 = world.transit_switch()
    world.router_port(ts1)
    ctx = world.ctx()
    ctx.schemas = {"ic_sb": PB_TYPED}
    [insert] = [op for op in concern.plan(ctx).ops if op.kind == "insert"]
    assert insert.value["type"] == "transit-switch-port"
    assert insert.value["nb_ic_uuid"] == world.one("ic_nb", "Transit_Switch", name="ts1").uuid


def test_the_global_writer_binds_chassisless_transit_switch_ports(world, concern):
    """26.09: a Transit_Switch_Port without chassis is bound by the ovn_ic_sb holder, in its
    own AZ, through the locked connection; it keeps the address up to date."""
    world.transit_switch()
    world.binding("other", key=1)
    converge(world, concern)  # the peer's port mirrored
    ts = world.one("ic_nb", "Transit_Switch", name="ts1")
    port = world.declared_port("p1", addresses=["00:00:00:00:00:01 10.0.0.1"])
    ctx = world.ctx()
    ctx.global_writer = None
    assert not concern.plan(ctx)
    ctx.global_writer = "ic_sb_locked"
    [insert] = concern.plan(ctx).ops
    assert (insert.db, insert.value) == ("ic_sb_locked", {
        "availability_zone": world.az.uuid, "transit_switch": "ts1", "logical_port": "p1",
        "tunnel_key": 2, "address": "00:00:00:00:00:01 10.0.0.1", "gateway": "",
        "type": "transit-switch-port", "nb_ic_uuid": ts.uuid})
    world.binding("p1", az=world.az, key=2, address="00:00:00:00:00:01 10.0.0.1")
    converge(world, concern)  # its LSP added
    ctx = world.ctx()
    ctx.global_writer = "ic_sb_locked"
    assert not concern.plan(ctx)
    port.addresses = []
    ctx = world.ctx()
    ctx.global_writer = "ic_sb_locked"
    [update] = [op for op in concern.plan(ctx).ops if op.db != "nb"]
    assert (update.db, update.column, update.value) == ("ic_sb_locked", "address", "")


def test_a_chassisless_binding_just_written_through_the_lock_is_not_written_again(world,
                                                                               concern):
    """The locked connection has the binding before its transaction is done, the IC SB
    connection may not yet: the holder goes by the former (as for transit switches)."""
    world.transit_switch()
    world.declared_port("p1", addresses=["00:00:00:00:00:01 10.0.0.1"])
    written = row(availability_zone=world.az, transit_switch="ts1", logical_port="p1",
                  tunnel_key=1, address="00:00:00:00:00:01 10.0.0.1", gateway="",
                  external_ids={}, type="transit-switch-port", nb_ic_uuid=[])
    ctx = world.ctx()
    ctx.global_writer = "ic_sb_locked"
    ctx.tables["ic_sb_locked"] = {"Port_Binding": {written.uuid: written}}
    assert [(op.db, op.kind, op.table) for op in concern.plan(ctx).ops] == [
        ("nb", "insert", "Logical_Switch_Port"), ("nb", "addvalue", "Logical_Switch")]


# ------------------------------------------------------- spine-leaf (25.03)
SPINE_LEAF = {"tables": {"SSL": {"columns": {"ssl_ciphersuites": {}}}}}


def switch_port(world, switch, name="spine-to-ls1", chassis=None):
    """A spine-leaf ``type=switch`` LSP on ``switch`` and its SB binding, claimed by
    ``chassis`` (as ovn-controller does for its requested-chassis)."""
    lsp = world.add("nb", "Logical_Switch_Port", name=name, type="switch", addresses=[],
                    options={"requested-chassis": "hv1"})
    switch.ports.append(lsp)
    world.add("sb", "Port_Binding", logical_port=name, options={"peer": "ls1-to-spine"},
              mac=[], chassis=[chassis] if chassis is not None else [], datapath=None)
    return lsp


def spine_leaf_ctx(world):
    ctx = world.ctx()
    ctx.schemas = {"ic_sb": SPINE_LEAF}
    return ctx


def test_spine_leaf_switch_port_is_published_as_unknown_at_its_chassis(world, concern):
    ts1 = world.transit_switch()
    lsp = switch_port(world, ts1, chassis=world.chassis("hv1"))
    with capture_logs() as logs:
        plan = concern.plan(spine_leaf_ctx(world))
    [insert] = plan.ops
    assert insert.value == {"availability_zone": world.az.uuid, "transit_switch": "ts1",
                            "logical_port": "spine-to-ls1", "tunnel_key": 1,
                            "address": "unknown", "gateway": "hv1"}
    assert not [entry for entry in logs if entry["log_level"] == "warning"]
    world.apply(plan)
    world.apply(concern.plan(spine_leaf_ctx(world)))
    assert lsp.options["requested-tnl-key"] == "1"
    assert not concern.plan(spine_leaf_ctx(world))


def test_spine_leaf_gateway_follows_the_claiming_chassis(world, concern):
    ts1 = world.transit_switch()
    switch_port(world, ts1)
    published = world.binding("spine-to-ls1", az=world.az, address="unknown", gateway="hv1")
    [update] = [op for op in concern.plan(spine_leaf_ctx(world)).ops if op.db == "ic_sb"]
    assert (update.target, update.column, update.value) == (published.uuid, "gateway", "")


def test_switch_ports_are_ignored_on_23_03_databases(world, concern):
    ts1 = world.transit_switch()
    switch_port(world, ts1, chassis=world.chassis("hv1"))
    assert not concern.plan(world.ctx())


def test_a_peers_spine_leaf_port_becomes_a_remote_port_of_unknown_address(world, concern):
    ts1 = world.transit_switch()
    world.chassis("hv2")
    world.binding("spine-to-ls2", address="unknown", gateway="hv2")
    with capture_logs() as logs:
        converge(world, concern)
    assert not [entry for entry in logs if entry["event"] == "port.bad_address"]
    [lsp] = ts1.ports
    assert (lsp.type, lsp.addresses) == ("remote", ["unknown"])
    [sb_port] = world.find("sb", "Port_Binding", logical_port="spine-to-ls2")
    assert [chassis.name for chassis in sb_port.chassis] == ["hv2"]


# ------------------------------------------------ declared ports (26.09)
def declared_lsp(world, name):
    [lsp] = [lsp for lsp in world.rows("nb", "Logical_Switch_Port") if lsp.name == name]
    return lsp


def test_a_port_on_a_chassis_of_ours_is_published_and_added_as_declared(world, concern):
    ts1 = world.transit_switch()
    world.schemas = {"nb": {"tables": {"Logical_Switch_Port": {"columns": {"peer": {}}}}}}
    world.chassis("hv1")
    port = world.declared_port("p1", chassis="hv1", type="router", peer="lrp-p1",
                               addresses=["aa:aa:aa:aa:aa:01 169.254.1.1/24"])
    plan = concern.plan(world.ctx())
    [insert] = plan.ops
    ts = world.one("ic_nb", "Transit_Switch", name="ts1")
    assert (insert.db, insert.value) == ("ic_sb", {
        "availability_zone": world.az.uuid, "transit_switch": "ts1", "logical_port": "p1",
        "tunnel_key": 1, "address": "aa:aa:aa:aa:aa:01 169.254.1.1/24", "gateway": "hv1",
        "type": "transit-switch-port", "nb_ic_uuid": ts.uuid})
    world.apply(plan)
    converge(world, concern)
    lsp = declared_lsp(world, "p1")
    assert ts1.ports == [lsp]
    assert (lsp.type, lsp.addresses, lsp.options) == (
        "router", ["aa:aa:aa:aa:aa:01 169.254.1.1/24"],
        {"interconn-tsp": "p1", "requested-chassis": "hv1", "requested-tnl-key": "1",
         "router-port": "lrp-p1"})
    # Changes in the IC NB follow: a new address, then another type with a peer.
    port.addresses = ["aa:aa:aa:aa:aa:02 169.254.1.2/24"]
    port.type, port.peer = "switch", "ls1-to-spine"
    converge(world, concern)
    [binding] = world.rows("ic_sb", "Port_Binding")
    assert binding.address == "aa:aa:aa:aa:aa:02 169.254.1.2/24"
    assert (lsp.type, lsp.addresses, lsp.peer, lsp.options) == (
        "switch", ["aa:aa:aa:aa:aa:02 169.254.1.2/24"], ["ls1-to-spine"],
        {"interconn-tsp": "p1", "requested-chassis": "hv1", "requested-tnl-key": "1"})


def test_a_port_on_another_azs_chassis_is_a_remote_port_once_bound(world, concern):
    ts1 = world.transit_switch()
    world.chassis("gw2", other_config={"is-remote": "true"})  # another AZ's gateway
    world.declared_port("p2", chassis="gw2", addresses=["aa:aa:aa:aa:aa:02"])
    world.declared_port("p3", chassis="hv9")  # a chassis this SB does not know
    assert not concern.plan(world.ctx())
    world.binding("p2", key=4, address="aa:aa:aa:aa:aa:02", gateway="gw2")
    mine = world.binding("p3", az=world.az, key=5)  # ours although its chassis is not
    converge(world, concern)
    assert world.rows("ic_sb", "Port_Binding")[-1].logical_port == "p2"
    assert mine not in world.rows("ic_sb", "Port_Binding")
    [lsp] = ts1.ports
    assert (lsp.name, lsp.type, lsp.addresses, lsp.options) == (
        "p2", "remote", ["aa:aa:aa:aa:aa:02"],
        {"interconn-tsp": "p2", "requested-chassis": "gw2", "requested-tnl-key": "4"})
    assert not [pb for pb in world.rows("sb", "Port_Binding") if pb.chassis]


def test_a_chassisless_port_is_a_local_port_in_every_az_once_bound(world, concern):
    """Its binding is the global writer's, whichever AZ that is."""
    ts1 = world.transit_switch()
    world.declared_port("p3", addresses=["aa:aa:aa:aa:aa:03 10.0.0.3"])
    ctx = world.ctx()
    ctx.global_writer = None
    assert not concern.plan(ctx)
    world.binding("p3", key=3, address="aa:aa:aa:aa:aa:03 10.0.0.3")
    ctx = world.ctx()
    ctx.global_writer = None
    world.apply(concern.plan(ctx))
    [lsp] = ts1.ports
    assert (lsp.type, lsp.addresses, lsp.options) == (
        "", ["aa:aa:aa:aa:aa:03 10.0.0.3"], {"interconn-tsp": "p3", "requested-tnl-key": "3"})


def test_declared_lsps_go_with_their_port_or_binding(world, concern):
    ts1 = world.transit_switch()
    world.chassis("hv1")
    world.declared_port("p1", chassis="hv1")
    world.declared_port("p2", chassis="hv9")
    theirs = world.binding("p2", key=7)
    converge(world, concern)
    assert sorted(lsp.name for lsp in ts1.ports) == ["p1", "p2"]
    world.tables["ic_sb"]["Port_Binding"].remove(theirs)
    ts = world.one("ic_nb", "Transit_Switch", name="ts1")
    ts.ports = [port for port in ts.ports if port.name != "p1"]
    converge(world, concern)
    assert ts1.ports == [] and world.rows("ic_sb", "Port_Binding") == []


def test_a_declared_name_taken_by_a_local_port_is_skipped(world, concern):
    """The declared port takes over the binding, but not the user's LSP of that name."""
    ts1 = world.transit_switch()
    world.chassis("hv1")
    world.router_port(ts1, name="p1")
    converge(world, concern)
    world.declared_port("p1", chassis="hv1")
    with capture_logs() as logs:
        plan = concern.plan(world.ctx())
    assert {(op.db, op.kind) for op in plan.ops} == {("ic_sb", "set")}
    assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == [
        "port.declared_skipped"]


def test_the_router_id_is_the_datapaths_nb_uuid_where_northd_writes_one(world, concern):
    """25.09's northd gives a datapath ``nb_uuid`` and ``type``; ovn-ic reads those first."""
    ts1 = world.transit_switch()
    world.router_port(ts1)
    (datapath,) = world.tables["sb"]["Datapath_Binding"]
    newer = uuidlib.uuid4()
    datapath.nb_uuid, datapath.type = [newer], []  # no type: the old way still
    converge(world, concern)
    (published,) = world.find("ic_sb", "Port_Binding", logical_port="lsp1")
    assert published.external_ids == {"router-id": str(ROUTER_ID)}
    datapath.type = ["logical-router"]
    converge(world, concern)
    assert published.external_ids == {"router-id": str(newer)}
    datapath.external_ids = {}
    converge(world, concern)
    assert published.external_ids == {"router-id": str(newer)}
