"""The doctor's checks, on plain data: a healthy AZ, then each thing broken in turn."""

from __future__ import annotations

from fakes import context, row
from route_world import one_router

from ovn_ic_controller import doctor
from ovn_ic_controller.lock import NOBODY, OTHER, OURS, LockHolder
from ovn_ic_controller.sync.gateways import FIX_IS_INTERCONN

SERIOUS = (doctor.ERROR, doctor.WARNING)


def encap(type_="geneve", ip="172.16.0.1"):
    return row(type=type_, ip=ip, options={}, chassis_name="", gateway_name="")


class Az:
    """az1 (ours) joined to az2 over ts1, everything in place; tests break one thing."""

    def __init__(self) -> None:
        self.settings = {"az-name": "az1"}
        self.az1, self.az2 = row(name="az1"), row(name="az2")
        self.nb_global = row(name="az1", options={"ic-route-adv": "true",
                                                  "ic-route-learn": "true"})
        self.chassis = row(name="gw1", hostname="gw1", other_config={"is-interconn": "true"},
                           encaps=[encap()])
        self.gateways = [self.gateway("gw1", self.az1, "172.16.0.1"),
                         self.gateway("gw2", self.az2, "172.16.0.2")]
        self.lsp = row(name="ts1-az1", type="router", options={"router-port": "az1-ts1"},
                       addresses=["router"])
        self.switch = row(name="ts1", other_config={"interconn-ts": "ts1"}, ports=[self.lsp])
        self.transit_switches = [row(name="ts1")]
        self.sb_ports = [row(logical_port="ts1-az1", chassis=[], options={}, mac=[]),
                         row(logical_port="cr-az1-ts1", chassis=[self.chassis], options={},
                             mac=[])]
        self.ic_ports = [self.ic_port("ts1-az1", self.az1, "gw1"),
                         self.ic_port("ts1-az2", self.az2, "gw2")]
        self.lock = LockHolder(OURS, "ours holds it")

    @staticmethod
    def gateway(name, az, ip, type_="geneve"):
        return row(name=name, availability_zone=az, hostname=name, encaps=[encap(type_, ip)],
                   external_ids={})

    @staticmethod
    def ic_port(name, az, gateway, ts="ts1"):
        return row(logical_port=name, availability_zone=az, transit_switch=ts, tunnel_key=1,
                   address="", gateway=gateway, external_ids={})

    def survey(self):
        ctx = context(self.settings,
                      nb={"NB_Global": [self.nb_global] if self.nb_global else [],
                          "Logical_Switch": [self.switch], "Logical_Switch_Port": [self.lsp],
                          "Logical_Router": []},
                      sb={"Chassis": [self.chassis], "Port_Binding": self.sb_ports},
                      ic_nb={"Transit_Switch": self.transit_switches},
                      ic_sb={"Availability_Zone": [self.az1, self.az2],
                             "Gateway": self.gateways, "Port_Binding": self.ic_ports,
                             "Route": [], "Datapath_Binding": []})
        return doctor.Survey(ctx, self.lock)

    def diagnose(self):
        return {check["name"]: check for check in doctor.diagnose(self.survey())}

    def findings(self, name, severities=SERIOUS):
        check = self.diagnose()[name]
        assert not check["skipped"], check
        return [(f["severity"], f["problem"], f["fix"]) for f in check["findings"]
                if f["severity"] in severities]


def only(findings, severity=doctor.ERROR):
    (found,) = findings
    assert found[0] == severity, found
    return found[1], found[2]


def test_a_healthy_az_has_no_finding_and_every_check_runs():
    checks = Az().diagnose()
    assert list(checks) == [name for name, _, _ in doctor.CHECKS]
    assert not any(check["skipped"] for check in checks.values())
    serious = [f for check in checks.values() for f in check["findings"]
               if f["severity"] in SERIOUS]
    assert serious == []
    assert checks["lock"]["findings"] == [{"severity": "info", "problem": "ours holds it",
                                           "fix": ""}]


def test_nobody_holding_the_lock_is_an_error_another_holder_is_information():
    az = Az()
    az.lock = LockHolder(NOBODY, "nobody holds it")
    problem, fix = only(az.findings("lock"))
    assert problem.startswith("nobody holds it") and doctor.START_DAEMON in fix
    az.lock = LockHolder(OTHER, "another instance holds it")
    assert az.findings("lock", severities=(doctor.INFO,)) == [
        ("info", "another instance holds it", "")]


def test_our_active_daemon_paused_is_a_warning_with_resume_as_the_fix():
    az = Az()
    az.lock = LockHolder(OURS, "ours holds it", paused=True)
    problem, fix = only(az.findings("lock"), doctor.WARNING)
    assert "paused" in problem and fix == "ovn-appctl -t ovn-ic-controller resume"


def test_idle_reasons_are_findings_and_skip_what_needs_the_name():
    az = Az()
    az.settings["enable-ic"] = "false"
    problem, fix = only(az.findings("identity"), doctor.WARNING)
    assert "enable-ic is false" in problem and "enable-ic = true" in fix
    assert az.diagnose()["gateways"]["skipped"].startswith("idle: ic-disabled")

    az = Az()
    az.nb_global = None
    problem, fix = only(az.findings("identity"))
    assert "no NB_Global" in problem and fix == "systemctl start ovn-northd"

    az = Az()
    az.settings["az-name"] = ""
    az.nb_global.name = ""
    problem, _ = only(az.findings("identity"))
    assert "this AZ has no name" in problem


def test_an_unregistered_az_skips_the_checks_that_need_its_row():
    az = Az()
    az.settings["az-name"] = "az7"
    problem, _ = only(az.findings("az"))
    assert "'az7' is not registered" in problem
    assert az.diagnose()["ports"]["skipped"] == "this AZ is not registered in the IC SB"


def test_rows_under_this_az_name_that_this_az_lacks_mean_the_name_is_taken():
    az = Az()
    az.gateways.append(az.gateway("gw-elsewhere", az.az1, "172.16.0.9"))
    az.ic_ports.append(az.ic_port("ts1-elsewhere", az.az1, "gw-elsewhere"))
    problem, fix = only(az.findings("az"))
    assert "'az1' seems taken" in problem
    assert "gateway gw-elsewhere, port ts1-elsewhere" in problem and "az-name" in fix


def test_gateway_problems_come_from_the_gateways_concern_with_fixes():
    az = Az()
    az.chassis.other_config = {}
    az.settings["gw-nodes"] = "gw1,gw-missing"
    found = az.findings("gateways")
    assert [f[0] for f in found] == ["error", "error"]
    (missing,) = [f for f in found if "gw-missing" in f[1]]
    assert "matches no chassis" in missing[1] and "gw-nodes" in missing[2]
    (not_interconn,) = [f for f in found if "is-interconn" in f[1]]
    assert FIX_IS_INTERCONN in not_interconn[2]


def test_no_gateway_at_all():
    az = Az()
    az.chassis.other_config = {}
    az.gateways = az.gateways[1:]
    problem, fix = only(az.findings("gateways"))
    assert "this AZ has no gateway" in problem and FIX_IS_INTERCONN in fix


def test_encaps_the_peers_cannot_use():
    az = Az()
    az.chassis.encaps = [encap(ip="127.0.0.1")]
    az.gateways[0] = az.gateway("gw1", az.az1, "127.0.0.1")
    problem, _ = only(az.findings("gateways"), doctor.WARNING)
    assert "127.0.0.1 is a loopback address" in problem

    az = Az()
    az.gateways[1] = az.gateway("gw2", az.az2, "172.16.0.2", "vxlan")
    problem, fix = only(az.findings("gateways"))
    assert "no encap type in common with AZ az2" in problem and "ovn-encap-type" in fix


def test_transit_switches_missing_or_not_mirrored():
    az = Az()
    az.transit_switches.append(row(name="ts2"))
    problem, _ = only(az.findings("transit_switches"))
    assert "transit switch ts2 is not mirrored" in problem
    az.transit_switches = []
    problem, fix = only(az.findings("transit_switches"), doctor.WARNING)
    assert "no transit switch" in problem and "ts-add" in fix


def test_ports_unbound_unclaimed_or_unpublished():
    az = Az()
    az.sb_ports = az.sb_ports[1:]
    problem, fix = only(az.findings("ports"))
    assert "ts1-az1" in problem and "ovn-northd is not running" in problem
    assert fix == "systemctl start ovn-northd"

    az = Az()
    az.sb_ports[1].chassis = []
    problem, fix = only(az.findings("ports"))
    assert "no chassis claims cr-az1-ts1" in problem and "lrp-get-gateway-chassis" in fix

    az = Az()
    az.sb_ports = az.sb_ports[:1]
    problem, fix = only(az.findings("ports"))
    assert "has no gateway chassis" in problem and "lrp-set-gateway-chassis az1-ts1" in fix

    az = Az()
    az.ic_ports = az.ic_ports[1:]
    problem, _ = only(az.findings("ports"))
    assert "not published in the IC SB" in problem

    az = Az()
    az.switch.ports = []
    problem, _ = only(az.findings("ports"), doctor.WARNING)
    assert "no router port on transit switch ts1" in problem


def test_peers_without_gateway_or_port():
    az = Az()
    az.gateways = az.gateways[:1]
    problem, _ = only(az.findings("peers"))
    assert "AZ az2 has no gateway" in problem

    az = Az()
    az.ic_ports = az.ic_ports[:1]
    problem, _ = only(az.findings("peers"), doctor.WARNING)
    assert problem == "AZ az2 has no port on transit switch ts1"

    az = Az()
    az.ic_ports[1].gateway = ""
    problem, _ = only(az.findings("peers"), doctor.WARNING)
    assert "port ts1-az2 on ts1 has no gateway" in problem


def test_route_options_unset():
    az = Az()
    az.nb_global.options = {"ic-route-blacklist": "10.0.0.0/8,nonsense"}
    found = az.findings("routes")
    assert [f[1].split(" is not")[0] for f in found] == [
        "NB_Global options:ic-route-adv", "NB_Global options:ic-route-learn",
        "ic-route-blacklist entry 'nonsense'"]
    assert "options:ic-route-adv=true" in found[0][2]


def test_refused_routes_by_reason_from_the_route_concern():
    world, lr1 = one_router()
    world.static(lr1, "0.0.0.0/0", "169.254.100.254")
    world.static(lr1, "10.1.0.0/24", "169.254.100.254")
    survey = doctor.Survey(world.ctx(), LockHolder(OURS, ""))
    found = [(f.severity, f.problem, f.fix) for f in doctor.check_routes(survey)]
    assert found == [("info", "1 route not advertised: a default route, and "
                              "ic-route-adv-default is not true",
                      "ovn-nbctl set NB_Global . options:ic-route-adv-default=true, if wanted")]


def test_render_gives_each_check_its_state_and_the_fixes():
    az = Az()
    az.sb_ports = az.sb_ports[1:]
    doc = {"az": "az1", "config": "/etc/x.conf", "status": "findings",
           "checks": az.survey() and doctor.diagnose(az.survey())}
    text = doctor.render(doc)
    assert "lock: ok\n  INFO    ours holds it\n" in text
    assert "ports: 1 problem\n  ERROR   port ts1-az1" in text
    assert "\n          fix: systemctl start ovn-northd\n" in text
    assert text.endswith("1 error(s), 0 warning(s): see the fixes above")


def test_every_reason_route_sync_refuses_for_has_an_explanation_and_a_fix():
    from ovn_ic_controller.sync.routes.reasons import REFUSAL_SERIES

    reasons = {reason for _direction, reason in REFUSAL_SERIES}
    assert reasons <= set(doctor._REFUSALS), reasons - set(doctor._REFUSALS)
