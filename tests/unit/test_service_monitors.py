"""Cross-AZ load-balancer health checks (IC SB Service_Monitor), on plain data."""

import random

from fakes import Replica, context, row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from ovn_ic_controller.metrics import Metrics
from ovn_ic_controller.sync.leave import local_plan, withdrawal_plan
from ovn_ic_controller.sync.service_monitors import ServiceMonitors

AZ1 = row(name="az1")
MAC = "0a:00:00:00:00:01"
DEFAULTS = {("sb", "Service_Monitor"): {"status": [], "chassis_name": ""},
            ("ic_sb", "Service_Monitor"): {"status": []}}


def _column(enum=None, optional=False):
    key = {"type": "string", "enum": ["set", enum]} if enum else "string"
    return {"type": {"key": key, "min": 0, "max": 1} if optional else key}


def schemas(typed=True):
    """The Service_Monitor tables as 26.03 has them (``typed``) or 25.09 (no ``type``)."""
    common = {name: _column() for name in ("ip", "logical_port", "src_ip", "src_mac")}
    common.update(port={"type": "integer"}, options={"type": {"key": "string",
                                                             "value": "string"}},
                  status=_column(["online", "offline", "error"], optional=True))
    sb = {**common, "chassis_name": _column(), "ic_learned": {"type": "boolean"},
          "remote": {"type": "boolean"},
          "protocol": _column(["tcp", "udp", "icmp"], optional=True)}
    ic_sb = {**common, "target_availability_zone": _column(),
             "source_availability_zone": _column(),
             "protocol": _column(["tcp", "udp"], optional=True)}
    if typed:
        sb["type"] = _column(["load-balancer", "network-function", "logical-switch-port"],
                             optional=True)
        ic_sb["type"] = _column(["load-balancer"], optional=True)
    return {"sb": {"tables": {"Service_Monitor": {"columns": sb}}},
            "ic_sb": {"tables": {"Service_Monitor": {"columns": ic_sb}}}}


def sb_monitor(port="vm2", ip="10.0.2.10", remote=True, ic_learned=False, src_ip="10.0.1.254",
               status=(), chassis_name="", protocol="tcp", type_="load-balancer", **options):
    return row(type=[type_], ip=ip, port=8080, protocol=[protocol], logical_port=port,
               src_ip=src_ip, src_mac="ee:ee:ee:ee:ee:ee", chassis_name=chassis_name,
               status=list(status), ic_learned=ic_learned, remote=remote, options=options)


def ic_monitor(port="vm1", ip="10.0.1.10", source="az2", target="az1", src_ip="10.0.2.254",
               status=(), protocol="tcp", **options):
    return row(type=["load-balancer"], ip=ip, port=8080, protocol=[protocol], logical_port=port,
               src_ip=src_ip, src_mac="22:22:22:22:22:22", status=list(status),
               target_availability_zone=target, source_availability_zone=source,
               options=options)


def binding(name="vm1", up=(False,), chassis=None):
    return row(logical_port=name, up=list(up), chassis=[chassis] if chassis else [])


def state(sb_monitors=(), ic_monitors=(), bindings=(), mac=MAC):
    options = {"svc_monitor_mac": mac} if mac else {}
    return {"sb": {"SB_Global": [row(options=options)], "Service_Monitor": list(sb_monitors),
                   "Port_Binding": list(bindings)},
            "ic_sb": {"Service_Monitor": list(ic_monitors)}}


def plan_for(concern, tables, typed=True):
    return concern.plan(context(az_name="az1", az=AZ1, schemas=schemas(typed), **tables))


def converge(concern, tables, typed=True):
    """The tables once the plans, applied as OVSDB would (unset columns at their
    defaults), change nothing any more."""
    replica = Replica(tables, insert_defaults=DEFAULTS)
    replica.schemas, replica.az = schemas(typed), AZ1
    replica.settle(concern)
    return replica.tables


def columns_of(monitor, *names):
    return {name: getattr(monitor, name) for name in names}


# ------------------------------------------------------------------ push
def test_remote_monitor_published_with_this_azs_mac_and_both_azs():
    local = sb_monitor(interval="5", **{"az-name": "az2"})
    found = converge(ServiceMonitors(), state([local]))
    (published,) = found["ic_sb"]["Service_Monitor"]
    assert columns_of(published, "type", "ip", "port", "protocol", "logical_port", "src_ip",
                      "src_mac", "target_availability_zone", "source_availability_zone",
                      "options") == {
        "type": ["load-balancer"], "ip": "10.0.2.10", "port": 8080, "protocol": ["tcp"],
        "logical_port": "vm2", "src_ip": "10.0.1.254", "src_mac": MAC,
        "target_availability_zone": "az2", "source_availability_zone": "az1",
        "options": {"interval": "5", "az-name": "az2"}}


def test_local_and_unmarked_monitors_are_not_published():
    tables = state([sb_monitor(remote=False, **{"az-name": "az2"}), sb_monitor(port="vm3")])
    assert not plan_for(ServiceMonitors(), tables)


def test_target_azs_status_copied_back_and_options_follow_northd():
    concern = ServiceMonitors()
    tables = converge(concern, state([sb_monitor(interval="5", **{"az-name": "az2"})]))
    published = tables["ic_sb"]["Service_Monitor"][0]
    published.status = ["offline"]
    tables["sb"]["Service_Monitor"][0].options["interval"] = "7"
    tables = converge(concern, tables)
    local = tables["sb"]["Service_Monitor"][0]
    assert local.status == ["offline"]
    assert tables["ic_sb"]["Service_Monitor"][0].options["interval"] == "7"


def test_withdrawn_with_the_local_monitor_and_only_our_own_rows():
    concern = ServiceMonitors()
    others = ic_monitor(port="vm9", source="az3", target="az2")
    tables = converge(concern, state([sb_monitor(**{"az-name": "az2"})], [others]))
    tables["sb"]["Service_Monitor"].clear()
    tables = converge(concern, tables)
    assert [m.uuid for m in tables["ic_sb"]["Service_Monitor"]] == [others.uuid]


def test_another_azs_row_for_the_same_check_is_shared_not_rewritten():
    """ovn-ic rewrites its options too: two AZs with different options would fight."""
    shared = ic_monitor(port="vm2", ip="10.0.2.10", source="az3", target="az2",
                        src_ip="10.0.1.254", status=["online"], interval="9")
    tables = state([sb_monitor(interval="5", **{"az-name": "az2"})], [shared])
    plan = plan_for(ServiceMonitors(), tables)
    assert [(op.kind, op.db, op.column, op.value) for op in plan.ops] == [
        ("set", "sb", "status", ["online"])]


def test_nothing_without_the_monitor_mac_or_the_table():
    tables = state([sb_monitor(**{"az-name": "az2"})], [ic_monitor()], [binding()], mac=None)
    assert not plan_for(ServiceMonitors(), tables)
    tables = state([sb_monitor(**{"az-name": "az2"})], [ic_monitor()], [binding()])
    assert not ServiceMonitors().plan(context(az_name="az1", az=AZ1, **tables))


def test_icmp_monitor_refused_by_the_ic_sb_schema_counted_and_named():
    concern, metrics = ServiceMonitors(), Metrics()
    icmp = sb_monitor(protocol="icmp", **{"az-name": "az2"})
    with capture_logs() as logs:
        assert not plan_for(concern, state([icmp]))
    concern.report(metrics)
    assert [(log["reason"], log["row"]) for log in logs
            if log["event"] == "service_monitor.refused"] == [("schema", str(icmp.uuid))]
    assert metrics.registry.get_sample_value(
        "ovn_ic_controller_service_monitors_refused",
        {"direction": "push", "reason": "schema"}) == 1


def test_25_09_schemas_have_no_type():
    found = converge(ServiceMonitors(), state([sb_monitor(**{"az-name": "az2"})]), typed=False)
    assert not hasattr(found["ic_sb"]["Service_Monitor"][0], "type")


# ------------------------------------------------------------------ pull
def test_peer_monitor_of_a_port_here_learned_with_chassis_and_this_azs_mac():
    peer = ic_monitor(interval="3", **{"az-name": "az1"})
    found = converge(ServiceMonitors(), state([], [peer], [binding(chassis=row(name="hv1"))]))
    (learned,) = found["sb"]["Service_Monitor"]
    assert columns_of(learned, "type", "ip", "port", "protocol", "logical_port", "src_ip",
                      "src_mac", "chassis_name", "remote", "ic_learned", "options") == {
        "type": ["load-balancer"], "ip": "10.0.1.10", "port": 8080, "protocol": ["tcp"],
        "logical_port": "vm1", "src_ip": "10.0.2.254", "src_mac": MAC, "chassis_name": "hv1",
        "remote": False, "ic_learned": True, "options": {"interval": "3", "az-name": "az1"}}


def test_status_written_back_and_learned_monitor_follows_the_peer():
    concern = ServiceMonitors()
    tables = converge(concern, state([], [ic_monitor(interval="3")], [binding()]))
    tables["sb"]["Service_Monitor"][0].status = ["online"]
    tables["ic_sb"]["Service_Monitor"][0].options = {"interval": "4"}
    tables["sb"]["Port_Binding"][0].chassis = [row(name="hv2")]
    tables = converge(concern, tables)
    assert tables["ic_sb"]["Service_Monitor"][0].status == ["online"]
    learned = tables["sb"]["Service_Monitor"][0]
    assert (learned.options, learned.chassis_name) == ({"interval": "4"}, "hv2")


def test_only_ports_with_up_set_and_unlearned_when_gone():
    """ovn-ic checks that Port_Binding.up is set, not that it is true."""
    concern = ServiceMonitors()
    tables = converge(concern, state([], [ic_monitor()], [binding(up=())]))
    assert not tables["sb"]["Service_Monitor"]
    tables["sb"]["Port_Binding"][0].up = [False]
    tables = converge(concern, tables)
    assert len(tables["sb"]["Service_Monitor"]) == 1
    tables["ic_sb"]["Service_Monitor"].clear()
    assert not converge(concern, tables)["sb"]["Service_Monitor"]


def test_monitor_northd_took_over_only_reports_status():
    """25.09.3's fix: a local load balancer on the same backend makes northd clear
    ic_learned; its options and chassis are northd's from then on (25.09.0 rewrote them,
    northd rewrote them back, both at 100 % CPU)."""
    northd = sb_monitor(port="vm1", ip="10.0.1.10", remote=False, src_ip="10.0.2.254",
                        status=["online"], chassis_name="hv1", interval="1")
    tables = state([northd], [ic_monitor(interval="3", **{"az-name": "az1"})],
                   [binding(chassis=row(name="hv2"))])
    plan = plan_for(ServiceMonitors(), tables)
    assert [(op.kind, op.db, op.column, op.value) for op in plan.ops] == [
        ("set", "ic_sb", "status", ["online"])]


def test_learned_monitor_of_a_changed_check_replaced_in_one_pass_not_refused():
    """The peer's load balancer now checks from another source IP: its ovn-ic replaces
    the IC SB row, and the learned monitor holding the SB's index is replaced too."""
    concern = ServiceMonitors()
    tables = converge(concern, state([], [ic_monitor()], [binding()]))
    tables["ic_sb"]["Service_Monitor"] = [ic_monitor(src_ip="10.0.2.253")]
    with capture_logs() as logs:
        plan = plan_for(concern, tables)
    assert sorted(op.kind for op in plan.ops) == ["delete", "insert"]
    assert not [log for log in logs if log["event"] == "service_monitor.refused"]


def test_two_azs_checking_one_backend_share_one_local_monitor():
    concern = ServiceMonitors()
    peers = [ic_monitor(source="az3", interval="3"), ic_monitor(source="az2", interval="2")]
    tables = converge(concern, state([], peers, [binding()]))
    (learned,) = tables["sb"]["Service_Monitor"]
    assert learned.options == {"interval": "2"}  # the first source AZ by name, not both
    learned.status = ["error"]
    tables = converge(concern, tables)
    assert [m.status for m in tables["ic_sb"]["Service_Monitor"]] == [["error"], ["error"]]


def test_hostile_rows_refused_named_and_counted_the_rest_learned():
    concern, metrics = ServiceMonitors(), Metrics()
    good = ic_monitor(port="vm1")
    injected = ic_monitor(port="vm2", src_ip="1.1.1.1 || 1")
    duplicate = ic_monitor(port="vm1", source="az3", src_ip="10.0.3.254")
    conflict = ic_monitor(port="vm3")
    local = sb_monitor(port="vm3", ip="10.0.1.10", remote=False, src_ip="10.0.1.254")
    tables = state([local], [good, injected, duplicate, conflict],
                   [binding("vm1"), binding("vm2"), binding("vm3")])
    with capture_logs() as logs:
        tables = converge(concern, tables)
    refused = {log["row"]: log["reason"] for log in logs
               if log["event"] == "service_monitor.refused"}
    assert refused == {str(injected.uuid): "address", str(duplicate.uuid): "duplicate",
                       str(conflict.uuid): "conflict"}
    assert sorted(m.logical_port for m in tables["sb"]["Service_Monitor"]) == ["vm1", "vm3"]
    concern.report(metrics)
    assert {reason: metrics.registry.get_sample_value(
        "ovn_ic_controller_service_monitors_refused", {"direction": "pull", "reason": reason})
        for reason in ("address", "duplicate", "conflict", "schema")} == {
        "address": 1, "duplicate": 1, "conflict": 1, "schema": 0}


# ------------------------------------------------------------------ leaving
def test_leaving_removes_learned_monitors_and_withdraws_published_ones():
    learned = sb_monitor(remote=False, ic_learned=True)
    northds = [sb_monitor(port="vm3"), sb_monitor(port="vm4", remote=False)]
    plan = local_plan(context(sb={"Service_Monitor": [learned, *northds]}))
    assert [(op.kind, op.target) for op in plan.ops] == [("delete", learned.uuid)]
    ours, theirs = ic_monitor(source="az1", target="az2"), ic_monitor()
    tables = {"Availability_Zone": [AZ1], "Service_Monitor": [ours, theirs]}
    for table in ("Gateway", "Port_Binding", "Route"):
        tables[table] = []
    plan = withdrawal_plan(context(ic_sb=tables), "az1")
    assert [(op.table, op.target) for op in plan.ops] == [
        ("Service_Monitor", ours.uuid), ("Availability_Zone", AZ1.uuid)]


# ------------------------------------------------------------------ random peers
AZS = ["az1", "az2", "az3"]
PORTS = ["vm1", "vm2", "vm3", ""]
IPS = ["10.0.0.1", "10.0.0.2", "fd00::1", "10.0.0.1 || 1", "", "x"]


def random_world(rng):
    """Random SB and IC SB monitors, kept unique where the SB's index says so."""
    def pick(values):
        return rng.choice(values)

    def common():
        return dict(ip=pick(IPS), port=pick([0, 80, 8080]), protocol=pick([[], ["tcp"], ["udp"]]),
                    logical_port=pick(PORTS), src_ip=pick(IPS), src_mac="aa", status=pick(
                        [[], ["online"], ["offline"]]), options=pick([{}, {"interval": "1"}]))

    sb, seen = [], set()
    for _ in range(rng.randrange(6)):
        monitor = row(type=pick([[], ["load-balancer"], ["network-function"]]),
                      chassis_name=pick(["", "hv1"]),
                      remote=pick([True, False]), ic_learned=pick([True, False]), **common())
        if pick([True, False]):
            monitor.options = {**monitor.options, "az-name": pick(AZS)}
        key = (monitor.logical_port, monitor.ip, monitor.port, tuple(monitor.protocol))
        if key not in seen:
            seen.add(key)
            sb.append(monitor)
    ic = [row(type=pick([[], ["load-balancer"]]), target_availability_zone=pick(AZS),
              source_availability_zone=pick(AZS), **common()) for _ in range(rng.randrange(8))]
    bindings = [binding(name, up=pick([(), (False,), (True,)]),
                        chassis=pick([None, row(name="hv2")])) for name in PORTS[:3]]
    return state(sb, ic, bindings)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**64))
def test_random_rows_never_raise_break_the_index_or_keep_changing(seed):
    tables = converge(ServiceMonitors(), random_world(random.Random(seed)))
    keys = [(m.logical_port, m.ip, m.port, tuple(m.protocol))
            for m in tables["sb"]["Service_Monitor"]]
    assert len(keys) == len(set(keys))
