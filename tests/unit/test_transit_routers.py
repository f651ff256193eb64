"""The transit-router concern's decisions (26.03, docs/behaviour.md §3.5), on plain data."""

from __future__ import annotations

import pytest
from fakes import Replica, row
from structlog.testing import capture_logs

from ovn_ic_controller.sync.leave import local_plan
from ovn_ic_controller.sync.transit_routers import TransitRouters, is_remote_port

TABLES = {
    "nb": ("Logical_Router", "Logical_Router_Port"),
    "sb": ("Chassis",),
    "ic_nb": ("Transit_Router", "Transit_Router_Port"),
    "ic_sb": ("Availability_Zone", "Datapath_Binding", "Port_Binding"),
}
SCHEMAS = {"ic_nb": {"tables": {"Transit_Router": {"columns": {"name": {}}}}},
           "ic_sb": {"tables": {"Port_Binding": {"columns": {"type": {}, "nb_ic_uuid": {}}}}}}
TR_KEY = 16711682
# Columns an insert may leave out, with the value OVSDB then gives them.
INSERT_DEFAULTS = {("nb", "Logical_Router"): {"ports": [], "static_routes": []},
                   ("nb", "Logical_Router_Port"): {"external_ids": {}, "gateway_chassis": []},
                   ("ic_sb", "Port_Binding"): {"gateway": "", "external_ids": {}}}


class World(Replica):
    """az1's NB and SB, with gateway gw1 and the mirror of az2's gw2, and the IC databases."""

    passes = 4  # router; our port's binding and NB port; the binding's key on the NB port

    def __init__(self) -> None:
        super().__init__({db: {table: [] for table in names} for db, names in TABLES.items()},
                         non_root={("nb", "Logical_Router_Port")},
                         insert_defaults=INSERT_DEFAULTS)
        self.schemas = SCHEMAS
        self.az = self.add("ic_sb", "Availability_Zone", name="az1")
        self.peer_az = self.add("ic_sb", "Availability_Zone", name="az2")
        self.add("sb", "Chassis", name="gw1", other_config={"is-interconn": "true"})
        self.add("sb", "Chassis", name="gw2", other_config={"is-remote": "true"})

    def _index(self):
        # Port_Binding.nb_ic_uuid holds an IC NB row's UUID (not a reference).
        index = super()._index()
        index.setdefault("ic_sb", {}).update(index.get("ic_nb", {}))
        return index

    def transit_router(self, name="tr1", bound=True):
        tr = self.add("ic_nb", "Transit_Router", name=name, ports=[])
        if bound:
            self.add("ic_sb", "Datapath_Binding", transit_switch="", tunnel_key=TR_KEY,
                     type=["transit-router"], nb_ic_uuid=[tr.uuid])
        return tr

    def port(self, tr, name, chassis, mac="00:00:00:00:01:01", networks=("10.0.0.1/24",)):
        trp = self.add("ic_nb", "Transit_Router_Port", name=name, chassis=chassis, mac=mac,
                       networks=list(networks))
        tr.ports.append(trp)
        return trp

    def peer_binding(self, tr, name, key=7):
        return self.add("ic_sb", "Port_Binding", availability_zone=self.peer_az,
                        transit_switch=tr.name, logical_port=name, tunnel_key=key,
                        address="00:00:00:00:02:01", type=["transit-router-port"],
                        nb_ic_uuid=[tr.uuid])

    def lrps(self):
        return {lrp.name: (lrp.mac, lrp.networks, lrp.options)
                for lrp in self.rows("nb", "Logical_Router_Port")}

    def bindings(self):
        return {pb.logical_port: (pb.availability_zone.name, pb.transit_switch, pb.tunnel_key,
                                  pb.address) for pb in self.rows("ic_sb", "Port_Binding")}


@pytest.fixture
def world():
    return World()


@pytest.fixture
def concern():
    return TransitRouters()


def test_whose_port_it_is():
    """ovn-ic's rule: this AZ's only if its chassis is an SB chassis not marked is-remote."""
    chassis = {"gw1": row(other_config={}), "gw2": row(other_config={"is-remote": "true"})}
    assert not is_remote_port("gw1", chassis)
    assert is_remote_port("gw2", chassis)
    assert is_remote_port("gw9", chassis)
    assert is_remote_port("", chassis)


def test_a_transit_router_gets_its_nb_router_with_the_bindings_key(world, concern):
    world.transit_router()
    world.settle(concern)
    [router] = world.rows("nb", "Logical_Router")
    assert (router.name, router.options) == (
        "tr1", {"interconn-tr": "tr1", "requested-tnl-key": str(TR_KEY)})


def test_the_key_follows_the_binding_created_later(world, concern):
    tr = world.transit_router(bound=False)
    world.settle(concern)
    [router] = world.rows("nb", "Logical_Router")
    assert router.options == {"interconn-tr": "tr1"}
    world.add("ic_sb", "Datapath_Binding", transit_switch="", tunnel_key=TR_KEY + 5,
              type=["transit-router"], nb_ic_uuid=[tr.uuid])
    world.settle(concern)
    assert router.options["requested-tnl-key"] == str(TR_KEY + 5)


def test_our_port_is_published_then_gets_its_nb_port(world, concern):
    tr = world.transit_router()
    world.port(tr, "tr1-az1", "gw1", networks=("fd10::1/64", "10.0.0.1/24"))
    plans = world.settle(concern)
    assert len(plans) == 3  # router; binding and port; port's key
    assert world.bindings() == {"tr1-az1": ("az1", "tr1", 1, "00:00:00:00:01:01")}
    [pb] = world.rows("ic_sb", "Port_Binding")
    assert (pb.type, pb.nb_ic_uuid.uuid) == ("transit-router-port", tr.uuid)
    assert world.lrps() == {"tr1-az1": ("00:00:00:00:01:01", ["10.0.0.1/24", "fd10::1/64"], {
        "interconn-tr": "tr1-az1", "requested-chassis": "gw1", "requested-tnl-key": "1"})}


def test_a_peers_port_appears_once_its_binding_does(world, concern):
    tr = world.transit_router()
    world.port(tr, "tr1-az2", "gw2")
    world.settle(concern)
    assert world.lrps() == {} and world.bindings() == {}
    world.peer_binding(tr, "tr1-az2")
    world.settle(concern)
    assert world.lrps() == {"tr1-az2": ("00:00:00:00:01:01", ["10.0.0.1/24"], {
        "interconn-tr": "tr1-az2", "requested-chassis": "gw2", "requested-tnl-key": "7"})}


def test_a_port_without_chassis_is_nobodys(world, concern):
    tr = world.transit_router()
    world.port(tr, "tr1-p", "")
    world.settle(concern)
    assert world.lrps() == {} and world.bindings() == {}


def test_changes_of_the_ic_nb_port_reach_the_nb_port_not_the_binding(world, concern):
    """As ovn-ic: the binding's address is the MAC the port had when it was published."""
    tr = world.transit_router()
    trp = world.port(tr, "tr1-az1", "gw1")
    world.settle(concern)
    trp.mac, trp.networks = "00:00:00:00:01:02", ["10.0.1.1/24"]
    world.settle(concern)
    assert world.lrps()["tr1-az1"][:2] == ("00:00:00:00:01:02", ["10.0.1.1/24"])
    assert world.bindings()["tr1-az1"][3] == "00:00:00:00:01:01"


def test_a_deleted_port_leaves_the_nb_but_its_binding_stays_with_the_router(world, concern):
    tr = world.transit_router()
    world.port(tr, "tr1-az1", "gw1")
    world.settle(concern)
    tr.ports = []
    world.settle(concern)
    assert world.lrps() == {}
    assert set(world.bindings()) == {"tr1-az1"}
    world.tables["ic_nb"]["Transit_Router"] = []
    world.settle(concern)
    assert world.rows("nb", "Logical_Router") == [] and world.bindings() == {}


def test_an_nb_router_of_no_transit_router_and_duplicates_are_deleted(world, concern):
    world.transit_router()
    world.add("nb", "Logical_Router", name="x", options={"interconn-tr": "tr1"},
                      ports=[])
    kept = world.add("nb", "Logical_Router", name="tr1", options={"interconn-tr": "tr1"},
                     ports=[])
    world.add("nb", "Logical_Router", name="tr9", options={"interconn-tr": "tr9"},
                     ports=[])
    operators = world.add("nb", "Logical_Router", name="lr1", options={}, ports=[])
    world.settle(concern)
    assert world.rows("nb", "Logical_Router") == [kept, operators]


def test_a_taken_port_name_is_skipped_with_a_warning(world, concern):
    tr = world.transit_router()
    world.peer_binding(tr, "tr1-az2")
    world.port(tr, "tr1-az2", "gw2")
    world.add("nb", "Logical_Router", name="lr1", options={}, ports=[
        world.add("nb", "Logical_Router_Port", name="tr1-az2", mac="", networks=[],
                  options={})])
    with capture_logs() as logs:
        world.settle(concern)
        world.settle(concern)
    assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == [
        "transit_router.port_name_taken"]
    assert world.lrps()["tr1-az2"][2] == {}


def test_nothing_without_transit_routers_in_the_ic_nb_schema(world, concern):
    world.add("nb", "Logical_Router", name="tr1", options={"interconn-tr": "tr1"}, ports=[])
    world.schemas = {}
    assert not concern.plan(world.ctx())


def test_leave_removes_our_routers_but_not_an_operators_ports(world, concern):
    tr = world.transit_router()
    world.port(tr, "tr1-az1", "gw1")
    world.transit_router("tr2")
    world.settle(concern)
    router = world.named("nb", "Logical_Router", "tr2")
    router.ports = [*router.ports, world.add(
        "nb", "Logical_Router_Port", name="inside", mac="", networks=[], options={},
        external_ids={}, gateway_chassis=[])]
    world.apply(local_plan(world.ctx()))
    assert [lr.name for lr in world.rows("nb", "Logical_Router")] == ["tr2"]
    assert [lrp.name for lrp in router.ports] == ["inside"]


def test_ports_published_in_one_pass_get_distinct_keys_past_the_routers(world, concern):
    """Keys avoid this AZ's bindings and any on the router (a peer's there would make the
    IC SB reject the transaction)."""
    tr = world.transit_router()
    world.peer_binding(tr, "tr1-az2", key=2)
    world.port(tr, "tr1-a", "gw1")
    world.port(tr, "tr1-b", "gw1")
    world.settle(concern)
    keys = {name: key for name, (_, _, key, _) in world.bindings().items()}
    assert sorted(keys.values()) == [1, 2, 3] and keys["tr1-az2"] == 2


def test_a_port_of_another_transit_router_by_that_name_is_not_a_clash(world, concern):
    """A port moved to another transit router: its old NB port goes, then the new one
    comes, without a warning."""
    tr1, tr2 = world.transit_router(), world.transit_router("tr2")
    trp = world.port(tr1, "p", "gw2")
    world.peer_binding(tr1, "p")
    world.settle(concern)
    tr1.ports, tr2.ports = [], [trp]
    world.one("ic_sb", "Port_Binding", logical_port="p").transit_switch = "tr2"
    with capture_logs() as logs:
        world.settle(concern)
    assert not [entry for entry in logs if entry["log_level"] == "warning"]
    assert [lrp.name for lrp in world.named("nb", "Logical_Router", "tr2").ports] == ["p"]
