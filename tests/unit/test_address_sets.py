"""Address-set sync (sync/address_sets.py) on plain data: the rules of ovn-ic 26.09, the
refusals, and the work one changed set costs."""

from __future__ import annotations

import dataclasses

import pytest
from fakes import Replica, context, row
from structlog.testing import capture_logs

from ovn_ic_controller.metrics import Metrics
from ovn_ic_controller.sync import address_sets
from ovn_ic_controller.sync.address_sets import AddressSets
from ovn_ic_controller.sync.leave import local_plan, withdrawal_plan

IC_SB_26_09 = {"tables": {"Address_Set": {"columns": {
    "name": {}, "addresses": {}, "availability_zone": {}, "external_ids": {}}}}}


class World(Replica):
    """Replicas of one AZ (az1) and the IC SB, told which rows changed as the IDL does."""

    def __init__(self, adv=True, learn=True, schema=IC_SB_26_09):
        self.az1, self.az2, self.az3 = (row(name=f"az{i}") for i in (1, 2, 3))
        self.global_row = row(name="az1", options={}, external_ids={})
        super().__init__({"nb": {"NB_Global": [self.global_row], "Address_Set": [],
                                 "Port_Group": []},
                          "sb": {"Address_Set": []},
                          "ic_sb": {"Availability_Zone": [self.az1, self.az2, self.az3],
                                    "Address_Set": []}})
        self.az = self.az1
        self.schemas = {"ic_sb": schema} if schema else {}
        self.changed = None  # None: unknown, the first pass recomputes everything
        self.set_options(adv=adv, learn=learn)

    # ------------------------------------------------------------ changes
    def touch(self, db, table, target):
        if self.changed is not None:
            self.changed.setdefault((db, table), set()).add(target.uuid)

    def set_options(self, adv, learn):
        self.global_row.options = {"ic-as-adv": str(adv).lower(),
                                   "ic-as-learn": str(learn).lower()}
        self.touch("nb", "NB_Global", self.global_row)

    def local_set(self, name, *addresses, adv=True, **external_ids):
        """An operator's NB set, and the SB copy northd makes of it."""
        options = {"ic-adv": "true"} if adv else {}
        nb = self.add("nb", "Address_Set", name=name, addresses=list(addresses),
                      external_ids=external_ids)
        sb = self.add("sb", "Address_Set", name=name, addresses=list(addresses),
                      options=options)
        self.touch("nb", "Address_Set", nb)
        self.touch("sb", "Address_Set", sb)
        return nb, sb

    def northd_set(self, name, *addresses):
        """A set northd makes in the SB alone (a port group's, say)."""
        self.touch("sb", "Address_Set", self.add("sb", "Address_Set", name=name,
                                                 addresses=list(addresses), options={}))

    def port_group(self, name):
        self.touch("nb", "Port_Group", self.add("nb", "Port_Group", name=name))

    def change(self, db, target, **columns):
        for key, value in columns.items():
            setattr(target, key, value)
        self.touch(db, "Address_Set", target)

    def remove(self, db, table, target):
        self.tables[db][table].remove(target)
        self.touch(db, table, target)

    def peer_set(self, az, name, *addresses):
        published = self.add("ic_sb", "Address_Set", name=name, availability_zone=az,
                             addresses=list(addresses), external_ids={})
        self.touch("ic_sb", "Address_Set", published)
        return published

    # ------------------------------------------------------------ running
    def run(self, concern):
        ctx = dataclasses.replace(self.ctx(), changed_rows=self.changed)
        plan = concern.plan(ctx)
        before = {(db, table): {r.uuid for r in rows}
                  for db, tables in self.tables.items() for table, rows in tables.items()}
        self.apply(plan)
        self.changed = {}
        for op in plan.ops:
            if op.kind != "insert":
                self.changed.setdefault((op.db, op.table), set()).add(op.target)
        for (db, table), uuids in before.items():
            for r in self.tables[db][table]:
                if r.uuid not in uuids:
                    self.touch(db, table, r)
        return plan

    # ------------------------------------------------------------ reading
    def published(self, az=None):
        az = az or self.az1
        return {r.name: r.addresses for r in self.rows("ic_sb", "Address_Set")
                if r.availability_zone is az}

    def learned(self):
        return {r.name: r.addresses for r in self.rows("nb", "Address_Set")
                if r.external_ids.get("ic-learnt") == "true"}


def sample(metrics, name, **labels):
    return metrics.registry.get_sample_value("ovn_ic_controller_" + name, labels)


# ------------------------------------------------------------------ advertising
def test_flagged_sets_are_published_with_their_addresses_others_are_not():
    world = World()
    world.local_set("as1", "10.0.0.2", "10.0.0.1")
    world.local_set("as2", "10.0.1.1", adv=False)
    world.northd_set("pg1_ip4", "10.0.9.9")
    concern = AddressSets()
    world.settle(concern)
    assert world.published() == {"as1": ["10.0.0.1", "10.0.0.2"]}
    assert world.learned() == {}


def test_published_set_follows_its_addresses_flag_and_deletion():
    world = World()
    nb1, sb1 = world.local_set("as1", "10.0.0.1", "10.0.0.2")
    nb2, sb2 = world.local_set("as2", "10.0.1.1", adv=False)
    concern = AddressSets()
    world.settle(concern)
    world.change("sb", sb1, addresses=["10.0.0.1", "10.0.0.3", "10.0.0.4"])
    plan = world.run(concern)
    assert sorted((op.kind, op.value) for op in plan.ops) == [
        ("addvalue", "10.0.0.3"), ("addvalue", "10.0.0.4"), ("delvalue", "10.0.0.2")]
    world.change("sb", sb2, options={"ic-adv": "TRUE"})
    world.change("sb", sb1, options={"ic-adv": "false"})
    world.settle(concern)
    assert world.published() == {"as2": ["10.0.1.1"]}
    world.remove("sb", "Address_Set", sb2)
    world.settle(concern)
    assert world.published() == {}


def test_advertising_off_withdraws_every_set_of_this_az_only():
    world = World()
    world.local_set("as1", "10.0.0.1")
    world.peer_set(world.az2, "as9", "10.9.0.1")
    concern = AddressSets()
    world.settle(concern)
    world.set_options(adv=False, learn=True)
    world.settle(concern)
    assert world.published() == {}
    assert world.published(world.az2) == {"as9": ["10.9.0.1"]}


# ------------------------------------------------------------------ learning
def test_sets_of_one_name_from_several_azs_are_learned_merged_and_follow_them():
    world = World()
    world.peer_set(world.az2, "shared", "6.6.6.2", "6.6.6.1")
    az3_row = world.peer_set(world.az3, "shared", "7.7.7.1", "6.6.6.1")
    world.peer_set(world.az2, "as2", "2001:db8::1")
    concern = AddressSets()
    world.settle(concern)
    assert world.learned() == {"shared": ["6.6.6.1", "6.6.6.2", "7.7.7.1"],
                               "as2": ["2001:db8::1"]}
    world.change("ic_sb", az3_row, addresses=["7.7.7.3"])
    world.settle(concern)
    assert sorted(world.learned()["shared"]) == ["6.6.6.1", "6.6.6.2", "7.7.7.3"]
    world.remove("ic_sb", "Address_Set", az3_row)
    world.settle(concern)
    assert sorted(world.learned()["shared"]) == ["6.6.6.1", "6.6.6.2"]


def test_learned_sets_go_when_their_az_withdraws_them_or_learning_is_off():
    world = World()
    gone = world.peer_set(world.az2, "as1", "10.1.0.1")
    world.peer_set(world.az2, "as2", "10.2.0.1")
    concern = AddressSets()
    world.settle(concern)
    world.remove("ic_sb", "Address_Set", gone)
    world.settle(concern)
    assert world.learned() == {"as2": ["10.2.0.1"]}
    world.set_options(adv=True, learn=False)
    world.settle(concern)
    assert world.learned() == {}
    world.set_options(adv=True, learn=True)
    world.settle(concern)
    assert world.learned() == {"as2": ["10.2.0.1"]}


def test_our_own_published_sets_are_not_learned_back():
    world = World()
    world.local_set("as1", "10.0.0.1")
    concern = AddressSets()
    world.settle(concern)
    assert world.published() == {"as1": ["10.0.0.1"]}
    assert world.learned() == {}
    assert len(world.rows("nb", "Address_Set")) == 1


# ------------------------------------------------------------------ refusals
def test_a_local_set_of_the_name_wins_and_the_refusal_names_the_rows():
    world = World()
    world.local_set("dup", "5.5.5.1", adv=False)
    peer = world.peer_set(world.az2, "dup", "5.5.5.2")
    concern = AddressSets()
    with capture_logs() as logs:
        world.settle(concern)
    local = world.named("nb", "Address_Set", "dup")
    assert (local.addresses, local.external_ids) == (["5.5.5.1"], {})
    (refused,) = [entry for entry in logs if entry["event"] == "address_set.refused"]
    assert refused["reason"] == "local-wins"
    assert refused["rows"] == [str(peer.uuid)] and refused["availability_zones"] == ["az2"]
    metrics = Metrics()
    concern.report(metrics)
    assert sample(metrics, "address_sets_refused", reason="local-wins") == 1
    assert sample(metrics, "address_sets_refused", reason="reserved") == 0
    world.remove("nb", "Address_Set", local)
    with capture_logs() as logs:
        world.settle(concern)
    assert world.learned() == {"dup": ["5.5.5.2"]}
    assert [entry["event"] for entry in logs if "refus" in entry["event"]] == [
        "address_set.refusal_gone"]
    concern.report(metrics)
    assert sample(metrics, "address_sets_refused", reason="local-wins") == 0
    assert sample(metrics, "address_sets_learned") == 1


@pytest.mark.parametrize("name", ["pg1_ip4", "pg1_ip6", "svc_monitor_mac", "_rtr_lb_7_ip6"])
def test_names_northd_gives_its_own_sets_are_not_learned(name):
    world = World()
    world.port_group("pg1")
    world.peer_set(world.az2, name, "10.5.0.1")
    world.peer_set(world.az3, name, "10.6.0.1")
    concern = AddressSets()
    world.settle(concern)
    assert world.learned() == {}
    metrics = Metrics()
    concern.report(metrics)
    assert sample(metrics, "address_sets_refused", reason="reserved") == 2


def test_a_port_group_created_later_takes_its_names_back_from_learned_sets():
    world = World()
    world.peer_set(world.az2, "web_ip4", "10.5.0.1")
    world.peer_set(world.az2, "web_ip", "10.5.0.2")
    concern = AddressSets()
    world.settle(concern)
    assert set(world.learned()) == {"web_ip4", "web_ip"}
    world.port_group("web")
    plan = world.run(concern)
    assert [(op.kind, op.table) for op in plan.ops] == [("delete", "Address_Set")]
    assert set(world.learned()) == {"web_ip"}


def test_nothing_happens_where_the_ic_sb_has_no_address_sets():
    world = World(schema=None)
    world.local_set("as1", "10.0.0.1")
    world.peer_set(world.az2, "as2", "10.2.0.1")
    assert not world.run(AddressSets())


# ------------------------------------------------------------------ work
def test_one_changed_set_among_a_thousand_is_decided_alone(monkeypatch):
    world = World()
    sources = [world.local_set(f"as{i}", f"10.0.{i // 256}.{i % 256}")[1] for i in range(1000)]
    for i in range(1000):
        world.peer_set(world.az2, f"peer{i}", f"10.1.{i // 256}.{i % 256}")
    concern = AddressSets()
    world.settle(concern)
    assert len(world.published()) == len(world.learned()) == 1000
    decided = []
    original = AddressSets._decide
    monkeypatch.setattr(AddressSets, "_decide", lambda self, ctx, plan, name: (
        decided.append(name), original(self, ctx, plan, name)))
    world.change("sb", sources[7], addresses=["10.0.0.7", "10.0.0.77"])
    peer = world.named("ic_sb", "Address_Set", "peer9")
    world.change("ic_sb", peer, addresses=["10.1.0.9", "10.1.0.99"])
    world.settle(concern)
    assert sorted(set(decided)) == ["as7", "peer9"]
    assert world.published()["as7"] == ["10.0.0.7", "10.0.0.77"]
    assert world.learned()["peer9"] == ["10.1.0.9", "10.1.0.99"]
    full = AddressSets()
    assert not full.plan(world.ctx()), "an incremental pass left something undone"
    metrics = Metrics()
    concern.report(metrics)
    assert sample(metrics, "address_sets_advertised") == 1000
    assert sample(metrics, "address_sets_learned") == 1000


# ------------------------------------------------------------------ leaving
def test_leave_removes_learned_sets_and_this_az_s_published_ones():
    world = World()
    world.local_set("mine", "10.0.0.1")
    world.peer_set(world.az2, "theirs", "10.2.0.1")
    world.settle(AddressSets())
    ctx = context(az_name="az1", **world.tables)
    world.apply(local_plan(ctx))
    assert [r.name for r in world.rows("nb", "Address_Set")] == ["mine"]
    world.apply(withdrawal_plan(context(**world.tables), "az1"))
    assert [r.name for r in world.rows("ic_sb", "Address_Set")] == ["theirs"]
    assert address_sets.is_learnt(row(external_ids={"ic-learnt": "True"}))
