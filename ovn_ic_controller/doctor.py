"""``doctor``: what keeps this AZ's interconnection from working, and what fixes it.

Connects like ``show``, reads one snapshot of the four databases and runs the
checks below in order, each a small function over that snapshot (a
``Survey``) returning findings: a severity (error, warning or info), what is
wrong and the command that fixes it.  Where the daemon decides something (the
AZ's identity and idle reasons, gateway problems, route refusals, conflicts),
the check runs the daemon's own code on the snapshot, so both always agree.

1. databases: each answers, with its schema name and version;
2. lock: who holds ``ovn_ic`` on the local SB: nobody, ours or another (lock.py);
3. identity: enable-ic, NB_Global, a name (sync/az.py's idle reasons);
4. az: registered in the IC SB, and its name not used by another deployment;
5. gateways: gw-nodes entries, is-interconn, encaps peers can use;
6. transit switches: present in the IC NB and mirrored in the local NB;
7. ports: this AZ's transit-switch ports bound in the SB (ovn-northd), their
   gateway port claimed by a chassis (ovn-controller), published in the IC SB;
8. peers: every other AZ has a gateway and a port on each switch this AZ uses;
9. routes: ic-route-adv/learn set, routes refused by reason, conflicts.

Checks 4 and later need this AZ's name; 5 and later its IC SB row: without
them they are skipped.  Exit codes: 0 nothing but information, 1 a warning or
an error, 2 a database did not answer.  Pausing (``ovn-appctl``) is not checked.

JSON keys (``--format json``)::

    az       this AZ's name ("" when unknown)
    config   the configuration file read
    status   "healthy", "findings" or "unreachable"
    checks   [{name, skipped ("" or why), findings: [{severity, problem, fix}]}]
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import types
from collections.abc import Callable
from typing import Any

from . import show as show_command
from .commands import open_databases, use_ssl
from .config import Config
from .constants import DATABASE_ORDER, DB_NAMES, IC_NB, IC_SB, LSP, NB, ROUTER_PORT, SB
from .db import schema
from .db.oneshot import Unreachable
from .lock import NOBODY, LockHolder, lock_holder
from .sync import az as az_sync
from .sync import build_concerns
from .sync.base import Context, merge_columns
from .sync.common import is_remote_chassis, mirror_switches
from .sync.gateways import FIX_IS_INTERCONN, Gateways
from .sync.routes import Routes
from .sync.routes.reasons import (
    ADVERTISE,
    REFUSED_BLACKLIST,
    REFUSED_CONFLICT,
    REFUSED_DEFAULT,
    REFUSED_DENY,
    REFUSED_DUPLICATE,
    REFUSED_DYNAMIC,
    REFUSED_FAMILY,
    REFUSED_FILTER,
    REFUSED_LB,
    REFUSED_LINK_LOCAL,
    REFUSED_LOADBALANCER,
    REFUSED_LOCAL_WINS,
    REFUSED_NO_NEXTHOP,
    REFUSED_TAG,
    REFUSED_UNPARSABLE,
)
from .sync.routes.records import TopologyCache, read_options, read_topology

ERROR, WARNING, INFO = "error", "warning", "info"
EXIT_HEALTHY, EXIT_FINDINGS, EXIT_UNREACHABLE = 0, 1, 2
START_DAEMON = "systemctl start ovn-ic-controller"
SEE_ACTIVE = ("the active controller does this: see the lock check, and the log of the "
              "instance holding the lock")

WANTED = merge_columns([*build_concerns(),
                        types.SimpleNamespace(reads=show_command.SHOWN, writes={})])


@dataclasses.dataclass(frozen=True)
class Finding:
    severity: str
    problem: str
    fix: str = ""


@dataclasses.dataclass
class Survey:
    """What the checks read: the snapshot (ctx.az_name, ctx.az resolved) and the lock."""

    ctx: Context
    lock: LockHolder

    @property
    def path(self) -> str:
        return self.ctx.config.path

    def rows(self, db: str, table: str):
        return self.ctx.rows(db, table)

    def ours(self, row: Any) -> bool:
        """Whether an IC SB row belongs to this AZ."""
        return row.availability_zone.uuid == self.ctx.az.uuid


# ------------------------------------------------------------------- checks
def check_lock(survey: Survey) -> list[Finding]:
    if survey.lock.holder == NOBODY:
        return [Finding(ERROR, survey.lock.detail + ": nothing is kept in sync",
                        f"{START_DAEMON} (or OVN's ovn-ic)")]
    if survey.lock.paused:
        return [Finding(WARNING, survey.lock.detail + ", but is paused: it writes nothing "
                                 "and no standby takes over",
                        "ovn-appctl -t ovn-ic-controller resume")]
    return [Finding(INFO, survey.lock.detail)]


_IDLE = {
    "ic-disabled": (WARNING, "enable-ic is false in {path}: this AZ leaves the "
                             "interconnection, and stays out of it",
                    "set enable-ic = true in {path}, then systemctl reload ovn-ic-controller"),
    "no-nb-global": (ERROR, "the local NB has no NB_Global row: ovn-northd has never run "
                            "against it",
                     "systemctl start ovn-northd"),
    "no-az-name": (ERROR, "this AZ has no name: az-name is empty in {path}, and so is "
                          "NB_Global.name",
                   "set az-name in {path} and systemctl reload ovn-ic-controller (or: "
                   "ovn-nbctl set NB_Global . name=NAME)"),
}


def check_identity(survey: Survey) -> list[Finding]:
    """The daemon's idle reasons (sync/az.py): while one holds, it does nothing else."""
    reason = az_sync.resolve(survey.ctx).idle_reason
    if reason is None:
        return []
    severity, problem, fix = _IDLE.get(reason, (WARNING, f"idle: {reason}", ""))
    return [Finding(severity, problem.format(path=survey.path), fix.format(path=survey.path))]


def check_az(survey: Survey) -> list[Finding]:
    name = survey.ctx.az_name
    if survey.ctx.az is None:
        return [Finding(ERROR, f"AZ {name!r} is not registered in the IC SB (no "
                               f"Availability_Zone row)", SEE_ACTIVE)]
    chassis = {row.name for row in survey.rows(SB, "Chassis") if not is_remote_chassis(row)}
    router_ports = {lsp.name for lsp in survey.rows(NB, LSP) if lsp.type == "router"}
    strangers = sorted(
        [f"gateway {gw.name}" for gw in survey.rows(IC_SB, "Gateway")
         if survey.ours(gw) and gw.name not in chassis]
        + [f"port {pb.logical_port}" for pb in survey.rows(IC_SB, "Port_Binding")
           if survey.ours(pb) and pb.logical_port not in router_ports])
    if not strangers:
        return []
    return [Finding(ERROR, f"the AZ name {name!r} seems taken by another deployment: the IC "
                           f"SB has, under that name, {', '.join(strangers)}, which this AZ "
                           f"does not have (their controllers undo each other's rows)",
                    f"give one of them another name: az-name in {survey.path} (or ovn-nbctl "
                    f"set NB_Global . name=NEW), then restart its controller")]


_GATEWAY_FIXES = {
    "no-such-chassis": "correct gw-nodes in {path} (the chassis: ovn-sbctl "
                       "--columns=name,hostname list Chassis), or start ovn-controller there",
    "not-is-interconn": "on that host: " + FIX_IS_INTERCONN,
    "name-conflict": "rename one chassis: on its host, ovs-vsctl set open . "
                     "external_ids:system-id=NEW-NAME, then restart ovn-controller",
    "bad-encap": "on that host: ovs-vsctl set open . external_ids:ovn-encap-type=geneve "
                 "external_ids:ovn-encap-ip=IP",
    "encap-conflict": "give each chassis its own tunnel endpoint: on that host, ovs-vsctl set "
                      "open . external_ids:ovn-encap-ip=IP",
}


def check_gateways(survey: Survey) -> list[Finding]:
    """The gateways concern's own problems, a gateway at all, and encaps peers can use."""
    concern = Gateways()
    plan = concern.plan(survey.ctx)
    findings = [Finding(ERROR, message, _GATEWAY_FIXES[kind].format(path=survey.path))
                for (_, kind), message in sorted(concern.problems.items())]
    ours = [gw for gw in survey.rows(IC_SB, "Gateway") if survey.ours(gw)]
    pending = any(op.db == IC_SB and op.table == "Gateway" and op.kind == "insert"
                  for op in plan.ops)
    if not ours and not pending:
        findings.append(Finding(
            ERROR, "this AZ has no gateway: no chassis has other_config:is-interconn=true, "
                   "and gw-nodes names none",
            f"on a gateway host: {FIX_IS_INTERCONN} (or name it in gw-nodes in {survey.path})"))
    elif not ours:
        findings.append(Finding(ERROR, "this AZ's gateways are not published in the IC SB",
                                SEE_ACTIVE))
    findings += _unusable_endpoints(survey, ours)
    return findings


def _unusable_endpoints(survey: Survey, ours: list[Any]) -> list[Finding]:
    findings = []
    for gw in sorted(ours, key=lambda gw: gw.name):
        for encap in gw.encaps:
            why = _unreachable_ip(encap.ip)
            if why:
                findings.append(Finding(
                    WARNING, f"gateway {gw.name}'s encap {encap.type} {encap.ip} is {why}: "
                             f"other AZs cannot reach it",
                    "on that host: ovs-vsctl set open . external_ids:ovn-encap-ip=IP (an "
                    "address the other AZs' gateways can reach)"))
    types_ours = {encap.type for gw in ours for encap in gw.encaps}
    peers: dict[str, set[str]] = {}
    for gw in survey.rows(IC_SB, "Gateway"):
        if not survey.ours(gw):
            peers.setdefault(gw.availability_zone.name, set()).update(
                encap.type for encap in gw.encaps)
    for az, types_theirs in sorted(peers.items()):
        if types_ours and types_theirs and not types_ours & types_theirs:
            findings.append(Finding(
                ERROR, f"no encap type in common with AZ {az}: this AZ's gateways use "
                       f"{', '.join(sorted(types_ours))}, its {', '.join(sorted(types_theirs))}",
                "give the gateways a common type: ovs-vsctl set open . "
                "external_ids:ovn-encap-type=geneve (on each gateway host)"))
    return findings


def _unreachable_ip(text: str) -> str:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return ""  # the gateways concern reports addresses that do not parse
    for attribute, why in (("is_loopback", "a loopback address"),
                           ("is_unspecified", "the unspecified address"),
                           ("is_link_local", "a link-local address"),
                           ("is_multicast", "a multicast address")):
        if getattr(ip, attribute):
            return why
    return ""


def check_transit_switches(survey: Survey) -> list[Finding]:
    switches = sorted({ts.name for ts in survey.rows(IC_NB, "Transit_Switch")})
    if not switches:
        return [Finding(WARNING, "the IC NB has no transit switch: nothing connects the AZs",
                        f"ovn-ic-nbctl ts-add ts1 (or auto-route = true in {survey.path})")]
    mirrors = mirror_switches(survey.ctx)
    return [Finding(ERROR, f"transit switch {ts} is not mirrored in this AZ's NB (no "
                           f"Logical_Switch with other_config:interconn-ts={ts})", SEE_ACTIVE)
            for ts in switches if ts not in mirrors]


def _used_switches(survey: Survey) -> dict[str, list[Any]]:
    """Each transit switch (present in the IC NB and mirrored) → this AZ's router LSPs on it."""
    mirrors = mirror_switches(survey.ctx)
    return {ts.name: sorted((lsp for lsp in mirrors[ts.name].ports if lsp.type == "router"),
                            key=lambda lsp: lsp.name)
            for ts in survey.rows(IC_NB, "Transit_Switch") if ts.name in mirrors}


def check_ports(survey: Survey) -> list[Finding]:
    sb_ports = {pb.logical_port: pb for pb in survey.rows(SB, "Port_Binding")}
    published = {pb.logical_port for pb in survey.rows(IC_SB, "Port_Binding")
                 if survey.ours(pb)}
    findings = []
    for ts, lsps in sorted(_used_switches(survey).items()):
        if not lsps:
            findings.append(Finding(
                WARNING, f"this AZ has no router port on transit switch {ts}",
                f"ovn-nbctl lsp-add {ts} PORT -- lsp-set-type PORT router -- lsp-set-options "
                f"PORT router-port=LRP (auto-route = true in {survey.path} does it)"))
        for lsp in lsps:
            findings += _port_findings(ts, lsp, sb_ports, published)
    return findings


def _port_findings(ts: str, lsp: Any, sb_ports: dict, published: set[str]) -> list[Finding]:
    lrp = lsp.options.get(ROUTER_PORT)
    if not lrp:
        return [Finding(WARNING, f"port {lsp.name} on transit switch {ts} has no "
                                 f"options:router-port: it is not published",
                        f"ovn-nbctl lsp-set-options {lsp.name} router-port=LRP")]
    if lsp.name not in sb_ports:
        return [Finding(ERROR, f"port {lsp.name} on transit switch {ts} has no SB "
                               f"Port_Binding: ovn-northd is not running (or is behind)",
                        "systemctl start ovn-northd")]
    findings = []
    redirect = sb_ports.get(f"cr-{lrp}")
    if redirect is None:
        findings.append(Finding(
            ERROR, f"router port {lrp} (on transit switch {ts}) has no gateway chassis, so "
                   f"no chassis carries its traffic to other AZs",
            f"ovn-nbctl lrp-set-gateway-chassis {lrp} CHASSIS (gw-nodes with auto-route "
            f"does it)"))
    elif not redirect.chassis:
        findings.append(Finding(
            ERROR, f"no chassis claims cr-{lrp} (router port {lrp} on transit switch {ts}): "
                   f"ovn-controller is not running on any of its gateway chassis",
            f"start ovn-controller on a chassis of: ovn-nbctl lrp-get-gateway-chassis {lrp}"))
    if lsp.name not in published:
        findings.append(Finding(ERROR, f"port {lsp.name} on transit switch {ts} is not "
                                       f"published in the IC SB", SEE_ACTIVE))
    return findings


def check_peers(survey: Survey) -> list[Finding]:
    zones = sorted((az for az in survey.rows(IC_SB, "Availability_Zone")
                    if az.uuid != survey.ctx.az.uuid), key=lambda az: az.name)
    with_gateway = {gw.availability_zone.uuid for gw in survey.rows(IC_SB, "Gateway")}
    ports: dict[tuple[Any, str], list[Any]] = {}
    for pb in survey.rows(IC_SB, "Port_Binding"):
        ports.setdefault((pb.availability_zone.uuid, pb.transit_switch), []).append(pb)
    used = sorted(ts for ts, lsps in _used_switches(survey).items() if lsps)
    findings = []
    for az in zones:
        if az.uuid not in with_gateway:
            findings.append(Finding(
                ERROR, f"AZ {az.name} has no gateway: no tunnel reaches it",
                f"in AZ {az.name}, on a gateway host: {FIX_IS_INTERCONN} (or gw-nodes)"))
        for ts in used:
            found = ports.get((az.uuid, ts), [])
            if not found:
                findings.append(Finding(
                    WARNING, f"AZ {az.name} has no port on transit switch {ts}",
                    f"in AZ {az.name}: connect a router to {ts} (auto-route does it)"))
            findings += [Finding(WARNING, f"AZ {az.name}'s port {pb.logical_port} on {ts} "
                                          f"has no gateway: no chassis claims it there",
                                 f"in AZ {az.name}: ovn-ic-controller doctor")
                         for pb in sorted(found, key=lambda pb: pb.logical_port)
                         if not pb.gateway]
    return findings


_OPTION_FIX = ("ovn-nbctl set NB_Global . options:{option}=true (or auto-route = true in "
               "{path})")
# reason → (severity, what it means, fix); the policy ones are information only.
_REFUSALS = {
    REFUSED_BLACKLIST: (INFO, "inside ic-route-blacklist (or -denylist)", ""),
    REFUSED_DEFAULT: (INFO, "a default route, and ic-route-{direction}-default is not true",
                      "ovn-nbctl set NB_Global . options:ic-route-{direction}-default=true, "
                      "if wanted"),
    REFUSED_LINK_LOCAL: (INFO, "link-local", ""),
    REFUSED_LOCAL_WINS: (INFO, "the router has a static route to the same prefix", ""),
    REFUSED_UNPARSABLE: (WARNING, "the prefix or next hop does not parse",
                         "correct the route (ovn-nbctl lr-route-list ROUTER)"),
    REFUSED_NO_NEXTHOP: (WARNING, "this AZ's transit-switch port has no address of the "
                                  "route's family",
                         "add an address of that family to the router port on the transit "
                         "switch"),
    REFUSED_DUPLICATE: (WARNING, "several routes advertise the same prefix and next hop: one "
                                 "is kept", "remove the duplicate static route"),
    REFUSED_CONFLICT: (WARNING, "overlaps a network of the learning router "
                                "(conflict-policy=deny): see the conflicts below",
                       "renumber one of the overlapping networks"),
    REFUSED_LOADBALANCER: (INFO, "a peer's load-balancer VIP route, and ic-route-learn-lb is "
                                 "not true",
                           "ovn-nbctl set NB_Global . options:ic-route-learn-lb=true, if wanted"),
    REFUSED_FAMILY: (WARNING, "the next hop is of the other address family",
                     "the peer AZ must advertise it with a next hop of the prefix's family"),
    REFUSED_TAG: (INFO, "its ic-route-tag is the learning port's ic-route-filter-tag", ""),
    REFUSED_FILTER: (INFO, "outside the router's or its transit-switch port's "
                           "ic-route-filter-{direction} list", ""),
    REFUSED_DENY: (INFO, "inside the router's or its transit-switch port's "
                         "ic-route-deny-{direction} list", ""),
    REFUSED_LB: (INFO, "holds a VIP of the learning router's own load balancers", ""),
    REFUSED_DYNAMIC: (INFO, "the router learned the prefix by dynamic routing "
                            "(SB Learned_Route)", ""),
}


def check_routes(survey: Survey) -> list[Finding]:
    """Options, then the route concern's refusals and the automation's conflicts."""
    options, _ = read_options(survey.ctx)
    _, problems = read_topology(survey.ctx, TopologyCache(), survey.ctx.az.uuid)
    findings = [Finding(WARNING, f"NB_Global options:{option} is not true: this AZ {what}",
                        _OPTION_FIX.format(option=option, path=survey.path))
                for option, enabled, what in (
                    ("ic-route-adv", options.advertise, "advertises no route"),
                    ("ic-route-learn", options.learn, "learns no route"))
                if not enabled]
    for problem in problems:
        fields = problem.fields
        row = (f"{fields['table']} {fields['row']}" if "table" in fields else "NB_Global .")
        finding = Finding(WARNING, f"{fields['option']} entry {fields['entry']!r}"
                                   + (f" of {row}" if "table" in fields else "")
                                   + " is not a CIDR: ignored",
                          f"correct it: ovn-nbctl get {row} options:{fields['option']}")
        if finding not in findings:
            findings.append(finding)
    routes = Routes()
    routes.plan(survey.ctx)
    for (direction, reason), count in sorted(routes.tally.refused.items()):
        severity, why, fix = _REFUSALS[reason]
        verb = "advertised" if direction == ADVERTISE else "learned"
        short = "adv" if direction == ADVERTISE else "learn"
        findings.append(Finding(severity, f"{count} route{'s' if count != 1 else ''} not "
                                          f"{verb}: {why.format(direction=short)}",
                                fix.format(direction=short)))
    for conflict in show_command.conflicts(survey.ctx):
        outcome = ("not learned (conflict-policy=deny); ours stays advertised"
                   if conflict["denied"] else "learned, reported only: traffic to "
                                              f"{conflict['local']} may go to that AZ")
        findings.append(Finding(
            WARNING, f"local network {conflict['local']} of router {conflict['router']} overlaps "
                     f"{conflict['remote']} from AZ {conflict['az']}: {outcome}",
            "renumber one of the two subnets"))
    return findings


Check = Callable[[Survey], list[Finding]]
NEEDS_NAME, NEEDS_AZ = "name", "az"
#: In order: name, function, what it needs (None, a name, or the IC SB row).
CHECKS: list[tuple[str, Check, str | None]] = [
    ("lock", check_lock, None),
    ("identity", check_identity, None),
    ("az", check_az, NEEDS_NAME),
    ("gateways", check_gateways, NEEDS_AZ),
    ("transit_switches", check_transit_switches, NEEDS_AZ),
    ("ports", check_ports, NEEDS_AZ),
    ("peers", check_peers, NEEDS_AZ),
    ("routes", check_routes, NEEDS_AZ),
]


def diagnose(survey: Survey) -> list[dict]:
    """Every check of CHECKS on ``survey``: [{name, skipped, findings}]."""
    identity = az_sync.resolve(survey.ctx)
    survey.ctx.az_name, survey.ctx.az = identity.name, identity.row
    results = []
    for name, check, needs in CHECKS:
        skipped = ""
        if needs is not None and identity.idle_reason:
            skipped = f"idle: {identity.idle_reason} (see identity)"
        elif needs == NEEDS_AZ and identity.row is None:
            skipped = "this AZ is not registered in the IC SB"
        findings = [] if skipped else check(survey)
        results.append({"name": name, "skipped": skipped,
                        "findings": [dataclasses.asdict(f) for f in findings]})
    return results


# ------------------------------------------------------------------ running
def check_databases(config: Config, timeout: float) -> tuple[list[Finding], bool]:
    """Each database's schema (name, version) as its server gives it; whether all answered."""
    findings, reachable = [], True
    use_ssl(config)
    for key in DATABASE_ORDER:
        remote = config.remotes[key]
        try:
            found = schema.fetch_schema(remote, DB_NAMES[key], int(timeout * 1000))
        except (schema.SchemaUnavailable, OSError) as exc:
            reachable = False
            setting = {NB: "ovn-nb-db", SB: "ovn-sb-db", IC_NB: "ic-nb-db (or ic-hosts)",
                       IC_SB: "ic-sb-db (or ic-hosts)"}[key]
            findings.append(Finding(ERROR, f"the {key} database {DB_NAMES[key]} at {remote} "
                                           f"does not answer: {exc}",
                                    f"start its ovsdb-server, or correct {setting} in "
                                    f"{config.path}"))
            continue
        findings.append(Finding(INFO, f"{key}: {found.get('name')} {found.get('version')} at "
                                      f"{remote}"))
    return findings, reachable


def doctor(config: Config, *, fmt: str, timeout: float) -> int:
    """Print the findings; the exit code says whether there were any (module docstring)."""
    findings, reachable = check_databases(config, timeout)
    checks = [{"name": "databases", "skipped": "",
               "findings": [dataclasses.asdict(f) for f in findings]}]
    az = ""
    if reachable:
        try:
            with open_databases(config, WANTED, timeout, lock=True) as dbs:
                dbs.connect()
                holder = lock_holder(config, dbs)
                survey = Survey(Context(config=config, tables=dbs.tables()), holder)
                checks += diagnose(survey)
                az = survey.ctx.az_name
        except Unreachable as exc:
            reachable = False
            checks[0]["findings"].append(dataclasses.asdict(Finding(
                ERROR, str(exc), "check the database servers and the remotes in "
                                 f"{config.path}")))
    serious = any(f["severity"] != INFO for check in checks for f in check["findings"])
    status = "unreachable" if not reachable else "findings" if serious else "healthy"
    doc = {"az": az, "config": config.path, "status": status, "checks": checks}
    print(json.dumps(doc, indent=2, sort_keys=True) if fmt == "json" else render(doc))
    return {"healthy": EXIT_HEALTHY, "findings": EXIT_FINDINGS}.get(status, EXIT_UNREACHABLE)


def render(doc: dict) -> str:
    lines = [f"ovn-ic-controller doctor: AZ {doc['az'] or '(unknown)'}, configuration "
             f"{doc['config']}"]
    for check in doc["checks"]:
        serious = [f for f in check["findings"] if f["severity"] != INFO]
        state = (f"skipped: {check['skipped']}" if check["skipped"]
                 else f"{len(serious)} problem{'s' if len(serious) != 1 else ''}" if serious
                 else "ok")
        lines.append(f"{check['name']}: {state}")
        for finding in check["findings"]:
            lines.append(f"  {finding['severity'].upper():<7} {finding['problem']}")
            if finding["fix"]:
                lines.append(f"          fix: {finding['fix']}")
    counts = {severity: sum(f["severity"] == severity for check in doc["checks"]
                            for f in check["findings"]) for severity in (ERROR, WARNING)}
    summary = {"healthy": "healthy: nothing keeps the interconnection from working",
               "unreachable": "a database does not answer: nothing else was checked"}.get(
        doc["status"], f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s): see the "
                       f"fixes above")
    lines.append(summary)
    return "\n".join(lines)
