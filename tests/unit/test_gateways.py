"""The gateway concern's decisions, on plain data."""

from fakes import context, replay, row
from structlog.testing import capture_logs

from ovn_ic_controller.metrics import Metrics
from ovn_ic_controller.sync.gateways import FIX_IS_INTERCONN, Gateways

AZ1, AZ2 = row(name="az1"), row(name="az2")


def encap(type_="geneve", ip="192.168.0.1", **options):
    return row(type=type_, ip=ip, options=options, chassis_name="", gateway_name="")


def owned(encaps, column, name):
    return [row(**{**vars(e), column: name}) for e in encaps]


def chassis(name, *encaps, hostname=None, **other_config):
    return row(name=name, hostname=hostname or f"{name}host", other_config=other_config,
               encaps=owned(encaps, "chassis_name", name))


def gateway(name, *encaps, az=AZ2, hostname=None):
    return row(name=name, availability_zone=az, hostname=hostname or f"{name}host",
               encaps=owned(encaps, "gateway_name", name))


def tables(chassis_rows=(), gateways=()):
    return {"sb": {"Chassis": list(chassis_rows)},
            "ic_sb": {"Gateway": list(gateways), "Availability_Zone": [AZ1, AZ2]}}


def plan_for(concern, state, **config):
    return concern.plan(context(config, az_name="az1", az=AZ1, **state))


def converge(concern, state, **config):
    """Plan and apply until nothing changes; the state reached, after at most two passes."""
    for _ in range(2):
        plan = plan_for(concern, state, **config)
        if not plan:
            return state
        state = replay(plan, **state)
    assert not plan_for(concern, state, **config), "a third pass still changes rows"
    return state


def summary(rows):
    return {r.name: (r.hostname, sorted((e.type, e.ip, tuple(sorted(e.options.items())))
                                        for e in r.encaps)) for r in rows}


def test_interconn_chassis_becomes_a_gateway_of_this_az():
    gw1 = chassis("gw1", encap(csum="true"), encap("vxlan"), **{"is-interconn": "True"})
    state = converge(Gateways(), tables([gw1, chassis("hv1", encap(ip="10.0.0.1"))]))
    (gw,) = state["ic_sb"]["Gateway"]
    assert gw.availability_zone.uuid == AZ1.uuid
    assert summary([gw]) == {"gw1": ("gw1host", [("geneve", "192.168.0.1", (("csum", "true"),)),
                                                 ("vxlan", "192.168.0.1", ())])}
    assert {e.gateway_name for e in gw.encaps} == {"gw1"}


def test_gateway_follows_hostname_and_encap_changes_reusing_unchanged_encaps():
    concern = Gateways()
    kept = encap("vxlan")
    gw = gateway("gw1", encap(), kept, az=AZ1)
    gw1 = chassis("gw1", encap(csum="true"), encap("vxlan"), encap("stt"), hostname="new",
                  **{"is-interconn": "true"})
    plan = plan_for(concern, tables([gw1], [gw]))
    assert sum(op.kind == "insert" for op in plan.ops) == 1  # only stt is new
    assert ("set", "options", {"csum": "true"}) in [(op.kind, op.column, op.value)
                                                    for op in plan.ops]
    state = converge(concern, tables([gw1], [gw]))
    assert summary(state["ic_sb"]["Gateway"])["gw1"][0] == "new"
    assert len(state["ic_sb"]["Gateway"][0].encaps) == 3


def test_gateway_withdrawn_when_chassis_stops_being_interconn():
    gw = gateway("gw1", encap(), az=AZ1)
    plan = plan_for(Gateways(), tables([chassis("gw1", encap())], [gw]))
    assert [(op.kind, op.target) for op in plan.ops] == [("delete", gw.uuid)]


def test_remote_gateway_becomes_a_remote_chassis_and_idles():
    remote = gateway("gw2", encap(ip="192.168.1.1", csum="true"))
    state = converge(Gateways(), tables([], [remote]))
    (mirror,) = state["sb"]["Chassis"]
    assert mirror.other_config == {"is-remote": "true"}
    assert summary([mirror]) == {"gw2": ("gw2host",
                                         [("geneve", "192.168.1.1", (("csum", "true"),))])}
    assert mirror.encaps[0].chassis_name == "gw2"


def test_remote_chassis_follows_its_gateway_and_goes_with_it():
    concern = Gateways()
    mirror = chassis("gw2", encap(ip="192.168.1.1"), **{"is-remote": "true", "keep": "x"})
    moved = gateway("gw2", encap(ip="192.168.1.2"), hostname="h2")
    state = converge(concern, tables([mirror], [moved]))
    (updated,) = state["sb"]["Chassis"]
    assert updated.uuid == mirror.uuid and updated.other_config["keep"] == "x"
    assert summary([updated]) == {"gw2": ("h2", [("geneve", "192.168.1.2", ())])}
    plan = plan_for(concern, tables([mirror], []))
    assert [(op.kind, op.target) for op in plan.ops] == [("delete", mirror.uuid)]


def test_gw_nodes_selects_by_hostname_or_name_and_reports_problems():
    concern = Gateways()
    by_host = chassis("c1", encap(), hostname="edge1")
    by_name = chassis("c2", encap(ip="192.168.0.2"), **{"is-interconn": "true"})
    state = tables([by_host, by_name])
    plan = plan_for(concern, state, gw_nodes="edge1, c2, ghost")
    assert {op.value["name"] for op in plan.ops if op.table == "Gateway"} == {"c1", "c2"}
    assert set(concern.problems) == {("ghost", "no-such-chassis"), ("c1", "not-is-interconn")}
    assert FIX_IS_INTERCONN in concern.problems["c1", "not-is-interconn"]
    assert not any(op.key == "is-interconn" for op in plan.ops)


def test_a_router_sections_gw_nodes_are_gateways_too():
    concern = Gateways()
    state = tables([chassis("c1", encap(), hostname="edge1"),
                    chassis("c2", encap(ip="192.168.0.2"), hostname="edge2")])
    plan = plan_for(concern, state, gw_nodes="edge1", routers={"vpc-a": {"gw-nodes": "edge2"}})
    assert {op.value["name"] for op in plan.ops if op.table == "Gateway"} == {"c1", "c2"}


def test_problems_are_logged_once_and_published_as_metrics():
    concern, metrics = Gateways(), Metrics()
    state = tables([chassis("c1", encap(), hostname="edge1")])
    with capture_logs() as logs:
        for _ in range(2):
            plan_for(concern, state, gw_nodes="edge1")
            concern.report(metrics)
    assert [(r["event"], r["chassis"]) for r in logs if "problem" in r["event"]] == [
        ("gateway.problem", "c1")]
    sample = ("ovn_ic_controller_gateway_problems",
              {"chassis": "c1", "problem": "not-is-interconn"})
    assert metrics.registry.get_sample_value(*sample) == 1
    with capture_logs() as logs:
        plan_for(concern, state)
        concern.report(metrics)
    assert metrics.registry.get_sample_value(*sample) is None
    assert [r["event"] for r in logs if "problem" in r["event"]] == ["gateway.problem_resolved"]


def test_remote_chassis_is_never_a_gw_nodes_match():
    mirror = chassis("gw2", encap(ip="192.168.1.1"), hostname="edge", **{"is-remote": "true"})
    concern = Gateways()
    plan = plan_for(concern, tables([mirror], [gateway("gw2", encap(ip="192.168.1.1"),
                                                       hostname="edge")]), gw_nodes="edge")
    assert not plan
    assert set(concern.problems) == {("edge", "no-such-chassis")}


def test_bad_peer_encap_is_skipped_and_the_rest_still_mirrored():
    concern = Gateways()
    bad = gateway("bad", encap(ip="not-an-ip"))
    partly = gateway("partly", encap(ip="192.168.9.9"), encap("vxlan", ip=""))
    good = gateway("good", encap(ip="192.168.1.1"))
    state = converge(concern, tables([], [bad, partly, good]))
    assert summary(state["sb"]["Chassis"]) == {
        "good": ("goodhost", [("geneve", "192.168.1.1", ())]),
        "partly": ("partlyhost", [("geneve", "192.168.9.9", ())])}
    assert set(concern.problems) == {("bad", "bad-encap"), ("partly", "bad-encap")}


def test_remote_encap_equal_to_a_local_one_is_not_mirrored():
    local = chassis("hv1", encap(ip="10.0.0.1"))
    clash = gateway("gw2", encap(ip="10.0.0.1"))
    concern = Gateways()
    assert not plan_for(concern, tables([local], [clash]))
    assert set(concern.problems) == {("gw2", "encap-conflict")}


def test_peer_gateways_sharing_an_encap_row_mirror_it_once():
    """Two Gateway rows may refer to one Encap row (a peer's doing): mirroring it for both
    would give the SB two Encaps with one (type, ip), a transaction refused forever."""
    shared = encap(ip="10.0.0.9")
    first, second = gateway("gw2", shared), gateway("gw3", shared, az=row(name="az3"))
    second.encaps = first.encaps  # the very same row
    concern = Gateways()
    state = converge(concern, tables([], [first, second]))
    assert summary(state["sb"]["Chassis"]) == {"gw2": ("gw2host", [("geneve", "10.0.0.9", ())])}
    assert set(concern.problems) == {("gw3", "encap-conflict")}


def test_local_gateways_sharing_an_encap_row_export_it_once():
    shared = encap(ip="192.168.7.7")
    first = chassis("gw1", shared, **{"is-interconn": "true"})
    second = chassis("gw2", **{"is-interconn": "true"})
    second.encaps = first.encaps
    concern = Gateways()
    state = converge(concern, tables([first, second]))
    assert summary(state["ic_sb"]["Gateway"]) == {
        "gw1": ("gw1host", [("geneve", "192.168.7.7", ())])}
    assert set(concern.problems) == {("gw2", "encap-conflict")}


def test_name_clashes_with_another_az_are_skipped_both_ways():
    local = chassis("gw1", encap(), **{"is-interconn": "true"})
    theirs = gateway("gw1", encap(ip="192.168.5.5"))
    concern = Gateways()
    assert not plan_for(concern, tables([local], [theirs]))
    assert set(concern.problems) == {("gw1", "name-conflict")}


def test_local_encap_taken_by_another_az_gateway_is_not_exported():
    local = chassis("gw1", encap(ip="192.168.5.5"), encap("vxlan", ip="192.168.5.5"),
                    **{"is-interconn": "true"})
    theirs = gateway("gw9", encap(ip="192.168.5.5"))
    concern = Gateways()
    plan = plan_for(concern, tables([local], [theirs]))
    exported = [op.value for op in plan.ops if op.kind == "insert" and op.table == "Encap"
                and op.db == "ic_sb"]
    assert [(e["type"], e["ip"]) for e in exported] == [("vxlan", "192.168.5.5")]
    assert ("gw1", "encap-conflict") in concern.problems


def test_stt_encaps_are_left_out_where_the_schema_has_no_stt():
    """IC SB 2.x (25.09) dropped stt from Encap.type: exporting it would fail the whole
    IC SB transaction; a remote stt encap is not mirrored into an SB without stt either."""
    no_stt = {"tables": {"Encap": {"columns": {"type": {"type": {"key": {
        "type": "string", "enum": ["set", ["geneve", "vxlan"]]}}}}}}}
    gw1 = chassis("gw1", encap(), encap("stt"), **{"is-interconn": "true"})
    gw2 = gateway("gw2", encap(ip="192.168.0.2"), encap("stt", ip="192.168.0.2"))
    state = tables([gw1], [gw2])
    concern = Gateways()
    plan = concern.plan(context({}, az_name="az1", az=AZ1, schemas={"ic_sb": no_stt,
                                                                   "sb": no_stt}, **state))
    state = replay(plan, **state)
    assert summary(g for g in state["ic_sb"]["Gateway"] if g.name == "gw1") == {
        "gw1": ("gw1host", [("geneve", "192.168.0.1", ())])}
    assert summary(c for c in state["sb"]["Chassis"] if c.name == "gw2") == {
        "gw2": ("gw2host", [("geneve", "192.168.0.2", ())])}
    assert {problem for _, problem in concern.problems} == {"bad-encap"}
