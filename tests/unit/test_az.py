"""The AZ concern's decisions, on plain data."""

from fakes import context, row

from ovn_ic_controller.sync.az import AvailabilityZone, resolve


def ops(plan):
    return [(op.kind, op.db, op.table, op.column, op.value) for op in plan.ops]


def test_registers_configured_name_and_writes_nb_global():
    glob = row(name="")
    plan = AvailabilityZone().plan(context({"az-name": "az1"}, nb={"NB_Global": [glob]},
                                           ic_sb={"Availability_Zone": []}))
    assert ops(plan) == [("set", "nb", "NB_Global", "name", "az1"),
                         ("insert", "ic_sb", "Availability_Zone", "", {"name": "az1"})]


def test_nb_global_name_used_when_az_name_empty():
    ctx = context({}, nb={"NB_Global": [row(name="east")]}, ic_sb={"Availability_Zone": []})
    assert resolve(ctx).name == "east"
    assert ops(AvailabilityZone().plan(ctx)) == [
        ("insert", "ic_sb", "Availability_Zone", "", {"name": "east"})]


def test_both_names_empty_is_idle():
    ctx = context({}, nb={"NB_Global": [row(name="")]}, ic_sb={"Availability_Zone": []})
    assert resolve(ctx).idle_reason == "no-az-name"
    assert not AvailabilityZone().plan(ctx)


def test_registered_name_needs_nothing():
    az = row(name="az1")
    ctx = context({"az-name": "az1"}, nb={"NB_Global": [row(name="az1")]},
                  ic_sb={"Availability_Zone": [az]})
    assert not AvailabilityZone().plan(ctx)
    assert resolve(ctx).row is az


def test_new_name_renames_the_row_in_place():
    az = row(name="az1")
    concern = AvailabilityZone()
    concern.plan(context({"az-name": "az1"}, nb={"NB_Global": [row(name="az1")]},
                         ic_sb={"Availability_Zone": [az]}))
    plan = concern.plan(context({"az-name": "az3"}, nb={"NB_Global": [row(name="az1")]},
                                ic_sb={"Availability_Zone": [az]}))
    assert ("set", "ic_sb", "Availability_Zone", "name", "az3") in ops(plan)
    assert plan.ops[-1].target == az.uuid


def test_rename_while_down_adopts_the_row_named_by_nb_global():
    """After a restart the old name is still in NB_Global.name, which we wrote."""
    az = row(name="old")
    plan = AvailabilityZone().plan(context({"az-name": "new"}, nb={"NB_Global": [row(name="old")]},
                                           ic_sb={"Availability_Zone": [az]}))
    assert ops(plan)[-1] == ("set", "ic_sb", "Availability_Zone", "name", "new")


def test_cleared_name_unregisters_only_when_unreferenced():
    az = row(name="az2")
    concern = AvailabilityZone()
    tables = {"Availability_Zone": [az], "Gateway": [row(availability_zone=az)]}
    concern.plan(context({}, nb={"NB_Global": [row(name="az2")]}, ic_sb=tables))
    blocked = concern.plan(context({}, nb={"NB_Global": [row(name="")]}, ic_sb=tables))
    assert not blocked
    freed = concern.plan(context({}, nb={"NB_Global": [row(name="")]},
                                 ic_sb={"Availability_Zone": [az]}))
    assert ops(freed) == [("delete", "ic_sb", "Availability_Zone", "", None)]


def test_disabled_or_missing_nb_global_plans_nothing():
    assert resolve(context({"enable-ic": "false"}, nb={"NB_Global": [row(name="a")]})
                   ).idle_reason == "ic-disabled"
    assert resolve(context({}, nb={"NB_Global": []})).idle_reason == "no-nb-global"
