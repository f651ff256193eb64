"""The leave planner (sync/leave.py) on fake rows: what goes, what stays, and in which order."""

from fakes import context, row

from ovn_ic_controller.constants import MANAGED_OPTIONS_KEY, OWNER_KEY
from ovn_ic_controller.sync.leave import Leave, local_plan, own_az_name, withdrawal_plan

OURS = {OWNER_KEY: "az1"}


def changes(plan):
    """The plan's operations as comparable tuples."""
    return {(op.kind, op.db, op.table, op.target, op.column, op.key or op.value)
            for op in plan.ops}


def lsp(name, type="", ours=False, options=None):
    return row(name=name, type=type, options=options or {},
               external_ids=dict(OURS) if ours else {})


def switch(name, ports, mirror=True):
    other_config = {"interconn-ts": name} if mirror else {}
    return row(name=name, ports=ports, other_config=other_config)


def nb_global(name="az1", options=None, managed=None):
    external_ids = {MANAGED_OPTIONS_KEY: managed} if managed is not None else {}
    return row(name=name, options=dict(options or {}), external_ids=external_ids)


def nb(**tables):
    tables.setdefault("NB_Global", [nb_global()])
    return tables


def test_learned_routes_leave_every_router_and_static_routes_stay():
    learned = [row(ip_prefix=f"10.17.{i}.0/24", nexthop="169.254.100.2",
                   external_ids={"ic-learned-route": "x"}) for i in range(2)]
    static = row(ip_prefix="10.99.0.0/16", nexthop="10.0.0.1", external_ids={})
    r1 = row(name="ovn-cluster", ports=[], static_routes=[learned[0], static], options={})
    r2 = row(name="other", ports=[], static_routes=[learned[1]], options={})
    plan = local_plan(context(nb=nb(Logical_Router=[r1, r2])))
    assert changes(plan) == {
        ("delvalue", "nb", "Logical_Router", r1.uuid, "static_routes", learned[0].uuid),
        ("delvalue", "nb", "Logical_Router", r2.uuid, "static_routes", learned[1].uuid)}


def test_only_managed_options_go_and_the_name_stays():
    options = {"ic-route-adv": "true", "ic-route-learn": "true", "ic-route-blacklist": "1/8",
               "ic-route-adv-default": "true"}
    glob = nb_global(options=options, managed="ic-route-adv,ic-route-learn,ic-route-blacklist")
    plan = local_plan(context(nb={"NB_Global": [glob]}))
    assert changes(plan) == {
        ("delkey", "nb", "NB_Global", glob.uuid, "options", "ic-route-adv"),
        ("delkey", "nb", "NB_Global", glob.uuid, "options", "ic-route-learn"),
        ("delkey", "nb", "NB_Global", glob.uuid, "options", "ic-route-blacklist"),
        ("delkey", "nb", "NB_Global", glob.uuid, "external_ids", MANAGED_OPTIONS_KEY)}


def test_operator_options_without_the_managed_list_stay():
    glob = nb_global(options={"ic-route-adv": "true", "ic-route-learn": "true"})
    assert not local_plan(context(nb={"NB_Global": [glob]}))


def test_every_mirror_goes_with_its_remote_and_marked_ports():
    ts = switch("ts", [lsp("ts-az1", "router", ours=True), lsp("ts-az2", "remote")])
    ts1 = switch("ts1", [lsp("ts1-az2", "remote")])
    plain = switch("ls1", [lsp("vm1")], mirror=False)
    plan = local_plan(context(nb=nb(Logical_Switch=[ts, ts1, plain])))
    assert changes(plan) == {("delete", "nb", "Logical_Switch", ts.uuid, "", None),
                             ("delete", "nb", "Logical_Switch", ts1.uuid, "", None)}


def test_a_mirror_holding_an_operators_port_stays_with_that_port():
    manual = lsp("ts-manual", "router")
    remote, marked = lsp("ts-az2", "remote"), lsp("ts-az1", "router", ours=True)
    ts = switch("ts", [manual, remote, marked])
    plan = local_plan(context(nb=nb(Logical_Switch=[ts])))
    assert changes(plan) == {
        ("delvalue", "nb", "Logical_Switch", ts.uuid, "ports", remote.uuid),
        ("delvalue", "nb", "Logical_Switch", ts.uuid, "ports", marked.uuid)}


def test_declared_ports_go_with_the_remote_ones():
    """26.09's Transit_Switch_Port LSPs are an IC controller's, whatever their type."""
    declared = lsp("p1", "router", options={"interconn-tsp": "p1"})
    ts1 = switch("ts1", [declared])
    ts = switch("ts", [lsp("ts-manual", "router"), declared])
    assert changes(local_plan(context(nb=nb(Logical_Switch=[ts1])))) == {
        ("delete", "nb", "Logical_Switch", ts1.uuid, "", None)}
    assert changes(local_plan(context(nb=nb(Logical_Switch=[ts])))) == {
        ("delvalue", "nb", "Logical_Switch", ts.uuid, "ports", declared.uuid)}


def test_marked_router_ports_and_gateway_chassis_go_unmarked_ones_stay():
    marked_gc = row(name="lrp1-gw1", external_ids=dict(OURS))
    manual_gc = row(name="lrp1-gw2", external_ids={})
    manual_lrp = row(name="lrp1", external_ids={}, gateway_chassis=[marked_gc, manual_gc])
    our_lrp = row(name="az1-ts", external_ids=dict(OURS),
                  gateway_chassis=[row(name="az1-ts-gw1", external_ids=dict(OURS))])
    router = row(name="ovn-cluster", ports=[manual_lrp, our_lrp], static_routes=[],
                 options={})
    marked_lsp = lsp("stray", ours=True)
    plain = switch("ls1", [marked_lsp, lsp("vm1")], mirror=False)
    plan = local_plan(context(nb=nb(Logical_Router=[router], Logical_Switch=[plain])))
    assert changes(plan) == {
        ("delvalue", "nb", "Logical_Router", router.uuid, "ports", our_lrp.uuid),
        ("delvalue", "nb", "Logical_Router_Port", manual_lrp.uuid, "gateway_chassis",
         marked_gc.uuid),
        ("delvalue", "nb", "Logical_Switch", plain.uuid, "ports", marked_lsp.uuid)}


def test_remote_gateway_chassis_go_local_chassis_stay():
    remote = row(name="gw-az2", other_config={"is-remote": "true"})
    local = row(name="gw1", other_config={"is-interconn": "true"})
    plan = local_plan(context(nb=nb(), sb={"Chassis": [remote, local]}))
    assert changes(plan) == {("delete", "sb", "Chassis", remote.uuid, "", None)}


def test_a_chassis_marked_both_remote_and_interconn_is_local_and_stays():
    # ovn-controller owns is-interconn: such a chassis is this AZ's gateway, as the
    # gateways concern and ovn-ic treat it, never a mirror of another AZ's.
    both = row(name="gw1", other_config={"is-remote": "true", "is-interconn": "true"})
    assert not local_plan(context(nb=nb(), sb={"Chassis": [both]}))


def ic_sb_rows():
    """Two AZs, each with a gateway, a port binding and a route."""
    zones = {name: row(name=name) for name in ("az1", "az2")}
    tables = {"Availability_Zone": list(zones.values())}
    for table in ("Gateway", "Port_Binding", "Route"):
        tables[table] = [row(availability_zone=zone) for zone in zones.values()]
    return zones, tables


def test_withdrawal_deletes_one_azs_rows_and_the_az_together():
    zones, tables = ic_sb_rows()
    plan = withdrawal_plan(context(ic_sb=tables), "az2")
    expected = {("delete", "ic_sb", table, r.uuid, "", None)
                for table in ("Gateway", "Port_Binding", "Route") for r in tables[table]
                if r.availability_zone is zones["az2"]}
    expected.add(("delete", "ic_sb", "Availability_Zone", zones["az2"].uuid, "", None))
    assert changes(plan) == expected
    assert plan.databases() == {"ic_sb"}  # one database: one transaction


def test_withdrawal_of_an_unknown_az_is_nothing():
    _, tables = ic_sb_rows()
    assert not withdrawal_plan(context(ic_sb=tables), "az9")


def test_leaving_cleans_locally_first_then_withdraws_this_az():
    zones, tables = ic_sb_rows()
    ts = switch("ts", [lsp("ts-az2", "remote")])
    busy = context({"az-name": "az1"}, nb=nb(Logical_Switch=[ts]), ic_sb=tables)
    assert Leave().plan(busy).databases() == {"nb"}
    clean = context({"az-name": "az1"}, nb=nb(), ic_sb=tables)
    plan = Leave().plan(clean)
    assert changes(plan) == changes(withdrawal_plan(clean, "az1"))
    assert ("delete", "ic_sb", "Availability_Zone", zones["az1"].uuid, "", None) \
        in changes(plan)


def test_without_a_configured_name_nb_global_names_this_az():
    assert own_az_name(context(nb=nb(NB_Global=[nb_global("east")]))) == "east"
    assert own_az_name(context({"az-name": "west"},
                               nb=nb(NB_Global=[nb_global("east")]))) == "west"


def test_nothing_left_means_an_empty_plan():
    assert not Leave().plan(context(nb=nb(), ic_sb={"Availability_Zone": []}))
    assert not Leave().plan(context(nb=nb()))  # IC SB unreachable: nothing to withdraw yet


def test_learning_is_switched_off_before_anything_is_removed():
    learned = row(ip_prefix="10.17.0.0/24", nexthop="169.254.100.2",
                  external_ids={"ic-learned-route": "x"})
    router = row(name="ovn-cluster", ports=[], static_routes=[learned], options={})
    glob = nb_global(options={"ic-route-learn": "true", "ic-route-adv": "true", "mine": "1"},
                     managed="ic-route-learn,ic-route-adv")
    zones, tables = ic_sb_rows()
    ctx = context({"az-name": "az1"}, nb=nb(NB_Global=[glob], Logical_Router=[router]),
                  ic_sb=tables)
    first = Leave().plan(ctx)
    assert changes(first) == {
        ("delkey", "nb", "NB_Global", glob.uuid, "options", "ic-route-learn"),
        ("delkey", "nb", "NB_Global", glob.uuid, "options", "ic-route-adv"),
        ("delkey", "nb", "NB_Global", glob.uuid, "external_ids", MANAGED_OPTIONS_KEY)}
    # Once the options are gone, the learned route goes, then this AZ's IC SB rows.
    off = context({"az-name": "az1"},
                  nb=nb(NB_Global=[nb_global(options={"mine": "1"})], Logical_Router=[router]),
                  ic_sb=tables)
    assert changes(Leave().plan(off)) == {
        ("delvalue", "nb", "Logical_Router", router.uuid, "static_routes", learned.uuid)}
