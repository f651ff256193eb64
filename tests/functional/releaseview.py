"""One scenario run on a release's testbed, and its rows dumped for a row-for-row comparison.

The acceptance of ours as a peer of a newer release: the same scenario, run once
with that release's ovn-ic in both AZs and once with ours in one of them, must
leave the same rows in the IC NB and IC SB and in every AZ's NB and SB.  Here:

- ``Side``: the IC daemon of one AZ (ours or the release's), which a step may
  stop and start again;
- ``dump``: the rows that matter, as plain data with every UUID replaced by the
  name of what it points at, so that two runs compare;
- ``STEPS``: the scenario, each step an action, the condition of it being
  done (for the all-C run, which has nothing to compare with) and whether the
  connected schemas have what it needs;
- ``KNOWN_DIFFERENCES``: what ours does not do yet, left out of the comparison
  explicitly, in the AZ where ours runs;
- ``run_reference`` and ``run_compared``: the all-C run, recording a dump per
  step once it settled; and a run of a mixed deployment, waiting after each step
  until its dump equals the reference's.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import pprint
import sys
import time
from collections.abc import Callable

from controller import Controller
from icview import OURS, REFERENCE, ic_sb_frozen, query, rows
from routeview import connect, enable_routes, learned
from testbed import temporary_testbed, wait_until

TIMEOUT = 30
SETTLED_S = 1.5  # how long the all-C run's dump must stay the same to count as settled


# ------------------------------------------------------------------ daemons
class Side:
    """The IC daemon of one AZ: ours or the release's ovn-ic."""

    def __init__(self, tb, az, kind):
        self.tb, self.az, self.kind = tb, az, kind
        self.controller = Controller(tb, az) if kind == OURS else None

    def start(self):
        if self.controller is None:
            self.az.start_reference_ic()
        else:
            self.controller.start()

    def stop(self):
        if self.controller is None:
            self.az.stop_reference_ic()
        else:
            self.controller.stop()


# ------------------------------------------------------------------ schemas
def tables_of(tb, db):
    """{table: set of columns} of the server schema of ``db`` (ic_nb, ic_sb, nb, sb)."""
    cache = tb.__dict__.setdefault("_schemas", {})
    if db not in cache:
        remote, name = {"ic_nb": (tb.ic_nb, "OVN_IC_Northbound"),
                        "ic_sb": (tb.ic_sb, "OVN_IC_Southbound"),
                        "nb": (tb.azs[0].nb, "OVN_Northbound"),
                        "sb": (tb.azs[0].sb, "OVN_Southbound")}[db]
        schema = json.loads(tb.run("ovsdb-client", "get-schema", remote, name))
        cache[db] = {table: set(spec["columns"]) | {"_uuid"}
                     for table, spec in schema["tables"].items()}
        cache[db + ".origins"] = set(
            schema["tables"]["Route"]["columns"]["origin"]["type"]["key"]["enum"][1]
            if db == "ic_sb" else ())
    return cache[db]


def existing(tb, db, **tables):
    """``tables`` ("col1 col2") cut to the tables and columns the server's schema has."""
    schema = tables_of(tb, db)
    return {table: " ".join(column for column in columns.split() if column in schema[table])
            for table, columns in tables.items() if table in schema}


def _one(cell):
    """An optional column's value: None when empty."""
    if isinstance(cell, list):
        return cell[0] if cell else None
    return cell


def _as_list(cell):
    return cell if isinstance(cell, list) else [cell]


# ------------------------------------------------------------------ the dump
def dump(tb):
    """The rows of the scenario, as plain data with UUIDs replaced by names."""
    ic_nb = query(tb.ic_nbctl, **existing(tb, "ic_nb", IC_NB_Global="nb_ic_cfg sb_ic_cfg options",
                                           Transit_Switch="name", Transit_Router="name"))
    ic_sb = query(tb.ic_sbctl, **existing(
        tb, "ic_sb", IC_SB_Global="nb_ic_cfg", Availability_Zone="name nb_ic_cfg",
        Gateway="name availability_zone hostname encaps", Encap="type ip options",
        Datapath_Binding="transit_switch tunnel_key type nb_ic_uuid external_ids",
        Port_Binding="logical_port transit_switch availability_zone tunnel_key address "
                     "gateway external_ids type nb_ic_uuid",
        Route="transit_switch availability_zone route_table ip_prefix nexthop origin "
              "external_ids",
        Address_Set="name availability_zone addresses external_ids"))
    zones = {row["_uuid"]: row["name"] for row in ic_sb["Availability_Zone"]}
    ic_objects = {row["_uuid"]: f"ts:{row['name']}" for row in ic_nb["Transit_Switch"]}
    ic_objects.update({row["_uuid"]: f"tr:{row['name']}"
                       for row in ic_nb.get("Transit_Router", ())})
    azs = {az.name: _az_rows(az) for az in tb.azs}
    names = {uuid: f"{az}/{name}" for az, found in azs.items()
             for uuid, name in found.pop("_names").items()}
    routes = {row["_uuid"]: (zones.get(row["availability_zone"]), row["transit_switch"],
                             row["route_table"], row["ip_prefix"], row["nexthop"])
              for row in ic_sb["Route"]}
    found = {
        "ic_nb.IC_NB_Global": [_without_uuid(row) for row in ic_nb["IC_NB_Global"]],
        "ic_sb.IC_SB_Global": [_without_uuid(row) for row in ic_sb.get("IC_SB_Global", ())],
        "ic_sb.Availability_Zone": sorted((row["name"], row.get("nb_ic_cfg"))
                                          for row in ic_sb["Availability_Zone"]),
        "ic_sb.Gateway": _gateways(ic_sb, zones),
        "ic_sb.Datapath_Binding": sorted(
            (row["transit_switch"], row["tunnel_key"], _one(row.get("type")),
             ic_objects.get(_one(row.get("nb_ic_uuid")), _one(row.get("nb_ic_uuid"))),
             row["external_ids"]) for row in ic_sb["Datapath_Binding"]),
        "ic_sb.Port_Binding": {row["logical_port"]: {
            **_without_uuid(row), "availability_zone": zones.get(row["availability_zone"]),
            "external_ids": _named_ids(row["external_ids"], names),
            "nb_ic_uuid": ic_objects.get(_one(row.get("nb_ic_uuid")), _one(row.get("nb_ic_uuid")))}
            for row in ic_sb["Port_Binding"]},
        "ic_sb.Route": sorted(
            (zones.get(row["availability_zone"]), row["transit_switch"], row["route_table"],
             row["ip_prefix"], row["nexthop"], row["origin"],
             sorted(_named_ids(row["external_ids"], names).items()))
            for row in ic_sb["Route"]),
        "ic_sb.Address_Set": sorted(
            (zones.get(row["availability_zone"]), row["name"], sorted(_as_list(row["addresses"])),
             row["external_ids"]) for row in ic_sb.get("Address_Set", ())),
    }
    if "Advertised_Route" in tables_of(tb, "sb"):  # dynamic routing (25.03+)
        for az in tb.azs:
            azs[az.name]["sb.advertised_routes"] = advertised_routes(az)
    found.update(_service_monitors(tb))
    for az, sections in azs.items():
        for section, value in sections.items():
            if section == "learned":
                value = sorted((router, prefix, nexthop, table, options, routes.get(source))
                               for router, prefix, nexthop, table, options, source in value)
            found[f"{az}.{section}"] = value
    return found


def _without_uuid(row):
    return {key: value for key, value in row.items() if key != "_uuid"}


def _named_ids(external_ids, names):
    """external_ids with every UUID value replaced by the name of what it points at."""
    return {key: names.get(value, value) for key, value in external_ids.items()}


def _gateways(ic_sb, zones):
    encaps = {row["_uuid"]: (row["type"], row["ip"], row["options"]) for row in ic_sb["Encap"]}
    return {row["name"]: (zones.get(row["availability_zone"]), row["hostname"],
                          sorted(encaps[uuid] for uuid in _as_list(row["encaps"])))
            for row in ic_sb["Gateway"]}


def advertised_routes(az):
    """(router, prefix) of each route northd has dynamic routing advertise, e.g. a route
    learned over IC with origin connected-dynamic under hub-spoke (26.09)."""
    found = query(az.sbctl, Advertised_Route="datapath ip_prefix",
                  Datapath_Binding="external_ids")
    names = {row["_uuid"]: row["external_ids"].get("name") for row in found["Datapath_Binding"]}
    return sorted((names.get(row["datapath"]), row["ip_prefix"])
                  for row in found["Advertised_Route"])


_MONITOR = "type ip port protocol logical_port src_ip src_mac status options"


def _service_monitors(tb):
    """The health checks in the IC SB and each AZ's SB, where the schemas have them."""
    found = {}
    if "Service_Monitor" in tables_of(tb, "ic_sb"):
        ic_sb = query(tb.ic_sbctl, **existing(tb, "ic_sb", Service_Monitor=_MONITOR + (
            " source_availability_zone target_availability_zone")))
        found["ic_sb.Service_Monitor"] = _unordered(ic_sb["Service_Monitor"])
    for az in tb.azs:
        sb = query(az.sbctl, **existing(tb, "sb", Service_Monitor=_MONITOR + (
            " chassis_name remote ic_learned")))
        found[f"{az.name}.sb.service_monitors"] = _unordered(sb["Service_Monitor"])
    return found


def _unordered(found):
    """Rows without their UUIDs, in an order that does not depend on them."""
    return sorted((_without_uuid(row) for row in found), key=lambda row: sorted(
        (key, repr(value)) for key, value in row.items()))


def _az_rows(az):
    """One AZ's NB and SB rows that IC daemons write, and names for its NB UUIDs."""
    nb = query(az.nbctl, NB_Global="name", Logical_Router="name options ports static_routes",
               Logical_Router_Port="name mac networks options", Load_Balancer="name",
               Logical_Router_Static_Route="ip_prefix nexthop route_table options external_ids",
               Logical_Switch="name other_config ports",
               **existing(az.testbed, "nb",
                          Logical_Switch_Port="name type addresses options up peer"))
    address_sets = query(az.nbctl, **existing(az.testbed, "nb", Address_Set="name addresses "
                                                                         "options external_ids"))
    sb = query(az.sbctl, Chassis="name hostname other_config encaps", Encap="type ip options",
               Port_Binding="logical_port chassis type",
               Datapath_Binding="tunnel_key external_ids")
    routers = {row["_uuid"]: row["name"] for row in nb["Logical_Router"]}
    names = {uuid: f"lr:{name}" for uuid, name in routers.items()}
    names.update({row["_uuid"]: f"lrp:{row['name']}" for row in nb["Logical_Router_Port"]})
    names.update({row["_uuid"]: f"lb:{row['name']}" for row in nb["Load_Balancer"]})
    names.update({row["_uuid"]: f"route:{row['ip_prefix']}>{row['nexthop']}"
                  for row in nb["Logical_Router_Static_Route"]})
    statics = {row["_uuid"]: row for row in nb["Logical_Router_Static_Route"]}
    learned = []
    for router in nb["Logical_Router"]:
        for uuid in _as_list(router["static_routes"]):
            route = statics[uuid]
            source = route["external_ids"].get("ic-learned-route")
            if source is not None:
                learned.append((router["name"], route["ip_prefix"], route["nexthop"],
                                route["route_table"], sorted(route["options"].items()), source))
    ports = {row["_uuid"]: row for row in nb["Logical_Switch_Port"]}
    mirrors = [row for row in nb["Logical_Switch"] if "interconn-ts" in row["other_config"]]
    chassis = {row["_uuid"]: row["name"] for row in sb["Chassis"]}
    encaps = {row["_uuid"]: (row["type"], row["ip"], row["options"]) for row in sb["Encap"]}
    remote_ports = [ports[uuid] for mirror in mirrors for uuid in _as_list(mirror["ports"])
                    if ports[uuid]["type"] == "remote"]
    sb_ports = {row["logical_port"]: row for row in sb["Port_Binding"]}
    return {
        "_names": names,
        "nb.name": nb["NB_Global"][0]["name"],
        "nb.mirrors": {row["name"]: row["other_config"] for row in mirrors},
        "nb.transit_switch_ports": {
            ports[uuid]["name"]: {key: ports[uuid][key] for key in
                                  ("type", "addresses", "options", "up", "peer")
                                  if key in ports[uuid]}
            for mirror in mirrors for uuid in _as_list(mirror["ports"])},
        "nb.transit_routers": {row["name"]: row["options"] for row in nb["Logical_Router"]
                               if "interconn-tr" in row["options"]},
        "nb.transit_router_ports": {  # with the type and chassis northd gave the SB binding
            row["name"]: (row["mac"], sorted(_as_list(row["networks"])), row["options"],
                          *((sb_ports[row["name"]]["type"],
                             chassis.get(_one(sb_ports[row["name"]]["chassis"])))
                            if row["name"] in sb_ports else ()))
            for row in nb["Logical_Router_Port"] if "interconn-tr" in row["options"]},
        "learned": learned,
        "nb.address_sets": {row["name"]: (sorted(_as_list(row["addresses"])), row["external_ids"],
                                          row.get("options"))
                            for row in address_sets["Address_Set"]},
        "sb.remote_chassis": {
            row["name"]: (row["hostname"], row["other_config"],
                          sorted(encaps[uuid] for uuid in _as_list(row["encaps"])))
            for row in sb["Chassis"] if row["other_config"].get("is-remote") == "true"},
        "sb.remote_port_chassis": {
            port["name"]: chassis.get(_one(sb_ports[port["name"]]["chassis"]))
            for port in remote_ports if port["name"] in sb_ports},
        "sb.transit_switch_keys": {row["external_ids"]["interconn-ts"]: row["tunnel_key"]
                                   for row in sb["Datapath_Binding"]
                                   if "interconn-ts" in row["external_ids"]},
    }


# ------------------------------------------------------------ known differences
#: Sections of the AZ where ours runs that differ from ovn-ic's on purpose or for now,
#: with the reason; each is left out of both dumps in that AZ.
KNOWN_DIFFERENCES: dict[str, str] = {}


def comparable(found, ours_in):
    """``found`` without the KNOWN_DIFFERENCES of the AZs in ``ours_in``."""
    left_out = {f"{az}.{known}" for az in ours_in for known in KNOWN_DIFFERENCES}
    return {section: value for section, value in found.items() if section not in left_out}


def keys_as_ranges(found):
    """``found`` with datapath keys reduced to whether they are VXLAN keys, and checked to
    agree between the IC SB, every mirror and every northd (the order in which switches
    are re-keyed, hence which gets which key, depends on timing in ovn-ic itself)."""
    found = dict(found)
    bindings = {row[0]: row[1] for row in found["ic_sb.Datapath_Binding"] if row[0]}
    agree = True
    for section in [key for key in found if key.endswith(".nb.mirrors")]:
        mirrors = {}
        for ts, other_config in found[section].items():
            agree &= other_config.get("requested-tnl-key") == str(bindings.get(ts))
            mirrors[ts] = {**other_config, "requested-tnl-key": _range(
                int(other_config.get("requested-tnl-key", 0)))}
        found[section] = mirrors
    for section in [key for key in found if key.endswith(".sb.transit_switch_keys")]:
        agree &= found[section] == {ts: key for ts, key in found[section].items()
                                    if bindings.get(ts) == key}
        found[section] = {ts: _range(key) for ts, key in found[section].items()}
    found["ic_sb.Datapath_Binding"] = sorted(
        (row[0], _range(row[1]), *row[2:]) for row in found["ic_sb.Datapath_Binding"])
    found["keys agree everywhere"] = agree
    return found


def _range(key):
    return "vxlan" if 1024 <= key <= 4095 else "global" if key >= 16711681 else key


# ------------------------------------------------------------------ steps
@dataclasses.dataclass
class Step:
    name: str
    action: Callable  # (tb, sides) -> None
    done: Callable    # (tb) -> bool: the all-C run reached the step's outcome
    applies: Callable = lambda tb: True  # the connected schemas have what it needs
    keys_as_ranges: bool = False


def registered(tb):
    return {row["name"] for row in rows(tb.ic_sbctl, "Availability_Zone", "name")} == {
        az.name for az in tb.azs}


def start_all(tb, sides):
    for side in sides:
        side.start()


def add_gateway(az, name, encap, ip):
    """What ovn-controller does on a host with ovn-is-interconn=true, in the SB."""
    az.sbctl("chassis-add", name, encap, ip, "--", "set", "Chassis", name,
             f"hostname={name}host", "other_config:is-interconn=true")


def add_gateways(tb, sides):
    for i, az in enumerate(tb.azs, 1):
        add_gateway(az, f"gw{i}", "geneve", f"192.168.0.{i}")


def gateways_mirrored(tb):
    return all(len([row for row in rows(az.sbctl, "Chassis", "other_config")
                    if row["other_config"].get("is-remote") == "true"]) == 1 for az in tb.azs)


def mirrors_keyed(tb, *switches):
    """Every NB has a mirror of each switch, with the key of its one binding."""
    keys = {}
    for row in rows(tb.ic_sbctl, "Datapath_Binding", "transit_switch tunnel_key"):
        keys.setdefault(row["transit_switch"], []).append(str(row["tunnel_key"]))
    for az in tb.azs:
        found = {row["other_config"].get("interconn-ts"): row["other_config"].get(
            "requested-tnl-key") for row in rows(az.nbctl, "Logical_Switch", "other_config")}
        if any([found.get(ts)] != keys.get(ts) for ts in switches):
            return False
    return True


def first_on_one_side(ts, creator):
    """The other side stopped: ``creator`` (0 or 1) alone creates the binding of ``ts``."""
    def action(tb, sides):
        other = sides[1 - creator]
        other.stop()
        tb.ic_nbctl("ts-add", ts)
        wait_until(lambda: ts in {row["transit_switch"] for row in rows(
            tb.ic_sbctl, "Datapath_Binding", "transit_switch")}, timeout=TIMEOUT,
            message=f"{tb.azs[creator].name} bound {ts}")
        other.start()
    return action


def both_at_once(tb, sides):
    with ic_sb_frozen(tb):
        tb.ic_nbctl("ts-add", "ts3")
        for az in tb.azs:
            wait_until(lambda az=az: "ts3" in {row["name"] for row in rows(
                az.nbctl, "Logical_Switch", "name")}, timeout=TIMEOUT,
                message=f"{az.name} reacted to ts3")


def port_bindings(tb):
    return {row["logical_port"] for row in rows(tb.ic_sbctl, "Port_Binding", "logical_port")}


def connect_in_turn(tb, ts, network, **options):
    """Each AZ's router lr<i> on ``ts``, one AZ after the other (so tunnel keys do not
    depend on who is faster)."""
    for i, az in enumerate(tb.azs, 1):
        connect(az, f"lr{i}", ts, f"aa:aa:aa:aa:{ts[-1]}{ts[-1]}:0{i}", *network(i), **options)
        wait_until(lambda i=i: f"lsp-{ts}-lr{i}" in port_bindings(tb), timeout=TIMEOUT,
                   message=f"lr{i}'s port on {ts} published")


def add_ports(tb, sides):
    connect_in_turn(tb, "ts1", lambda i: (f"169.254.100.{i}/24", f"fd00::{i}/64"))


def remote_ports(az):
    return {row["name"] for row in rows(az.nbctl, "Logical_Switch_Port", "type name")
            if row["type"] == "remote"}


def learned_prefixes(az):
    return {(row["ip_prefix"], row["route_table"])
            for row in rows(az.nbctl, "Logical_Router_Static_Route",
                            "ip_prefix route_table external_ids")
            if "ic-learned-route" in row["external_ids"]}


def add_routes(tb, sides):
    for i, az in enumerate(tb.azs, 1):
        enable_routes(az)
        az.nbctl("lrp-add", f"lr{i}", f"lr{i}-inside", f"00:00:00:00:0{i}:01",
                 f"192.168.{i}.1/24", f"fd0{i}::1/64")
        az.nbctl("lr-route-add", f"lr{i}", f"10.{i}0.0.0/24", f"192.168.{i}.254")
        az.nbctl("lr-route-add", f"lr{i}", f"fd1{i}::/64", f"fd0{i}::254")


def learned_all(wanted):
    """Each AZ learned the (prefix, route table) pairs ``wanted(j)`` of the other AZ j."""
    return lambda tb: all(wanted(len(tb.azs) - i) <= learned_prefixes(az)
                          for i, az in enumerate(tb.azs))


def add_route_tables(tb, sides):
    connect_in_turn(tb, "ts2", lambda i: (f"169.254.200.{i}/24", f"fd00:200::{i}/64"),
                    route_table="rtb1")
    for i, az in enumerate(tb.azs, 1):
        az.nbctl("--route-table=rtb1", "lr-route-add", f"lr{i}", f"10.{i}1.0.0/24",
                 f"192.168.{i}.253")


def deny(tb, sides):
    tb.azs[0].nbctl("set", "NB_Global", ".", 'options:ic-route-denylist="10.20.0.0/16"')
    tb.azs[1].nbctl("set", "NB_Global", ".", 'options:ic-route-blacklist="fd11::/16"')


def denied(tb):
    return (("10.20.0.0/24", "") not in learned_prefixes(tb.azs[0])
            and ("fd11::/64", "") not in learned_prefixes(tb.azs[1]))


def same_az_routers(tb, sides):
    az1 = tb.azs[0]
    connect(az1, "lr1b", "ts1", "aa:aa:aa:aa:11:11", "169.254.100.11/24", "fd00::11/64")
    az1.nbctl("lrp-add", "lr1b", "lr1b-inside", "00:00:00:00:11:01", "192.168.11.1/24")


def same_az_learned(tb):
    az1, az2 = tb.azs
    return ("192.168.11.1/24" in learned_prefixes_of(az1, "lr1")
            and "192.168.1.1/24" in learned_prefixes_of(az1, "lr1b")
            and "192.168.11.1/24" in learned_prefixes_of(az2, "lr2"))


def learned_prefixes_of(az, router):
    return {route[1] for route in learned(az, router)}


def wait_sb(tb, sides):
    tb.ic_nbctl("--wait=sb", "ts-add", "ts4")
    tb.ic_nbctl("--wait=sb", "sync")


def numbers_caught_up(tb):
    [inb] = rows(tb.ic_nbctl, "IC_NB_Global", "nb_ic_cfg sb_ic_cfg")
    return inb["nb_ic_cfg"] == inb["sb_ic_cfg"] == 2


def add_transit_router(tb, sides):
    tb.ic_nbctl("tr-add", "tr1")


def router_bound(tb):
    return any(_one(row["type"]) == "transit-router"
               for row in rows(tb.ic_sbctl, "Datapath_Binding", "type"))


def delete_ts2(tb, sides):
    tb.ic_nbctl("ts-del", "ts2")


def ts2_gone(tb):
    return ("ts2" not in {row["transit_switch"] for row in rows(
        tb.ic_sbctl, "Datapath_Binding", "transit_switch")}
        and not any(logical_port.startswith("lsp-ts2") for logical_port in port_bindings(tb))
        and all(("10.21.0.0/24", "rtb1") not in learned_prefixes(az) for az in tb.azs))


def vxlan(tb, sides):
    add_gateway(tb.azs[0], "gw1v", "vxlan", "192.168.1.100")
    wait_until(lambda: "vxlan" in {row["type"] for row in rows(tb.ic_sbctl, "Encap", "type")},
               timeout=TIMEOUT, message="the vxlan gateway exported")
    tb.ic_nbctl("set", "IC_NB_Global", ".", "options:vxlan_mode=true")
    wait_until(lambda: vxlan_keyed(tb, "ts1", "ts3", "ts4"), timeout=TIMEOUT,
               message="transit switches re-keyed into 1024-4095")
    tb.ic_nbctl("ts-add", "ts5")


def vxlan_keyed(tb, *switches):
    keys = {row["transit_switch"]: row["tunnel_key"]
            for row in rows(tb.ic_sbctl, "Datapath_Binding", "transit_switch tunnel_key")}
    return (all(1024 <= keys.get(ts, 0) <= 4095 for ts in switches)
            and mirrors_keyed(tb, *switches))


def has(db, table, column=None):
    return lambda tb: table in tables_of(tb, db) and (column is None
                                                      or column in tables_of(tb, db)[table])


STEPS = [
    Step("AZ registration", start_all, registered),
    Step("gateways", add_gateways, gateways_mirrored),
    Step("transit switch created by az1 first", first_on_one_side("ts1", 0),
         lambda tb: mirrors_keyed(tb, "ts1")),
    Step("transit switch created by az2 first", first_on_one_side("ts2", 1),
         lambda tb: mirrors_keyed(tb, "ts1", "ts2")),
    Step("transit switch created by both at once", both_at_once,
         lambda tb: mirrors_keyed(tb, "ts1", "ts2", "ts3")),
    Step("ports", add_ports, lambda tb: all(remote_ports(az) for az in tb.azs)),
    Step("IPv4 and IPv6 routes", add_routes, learned_all(
        lambda j: {(f"10.{j}0.0.0/24", ""), (f"fd1{j}::/64", ""), (f"192.168.{j}.1/24", ""),
                   (f"fd0{j}::1/64", "")})),
    Step("route tables", add_route_tables,
         learned_all(lambda j: {(f"10.{j}1.0.0/24", "rtb1")})),
    Step("deny list", deny, denied),
    Step("same-AZ learning", same_az_routers, same_az_learned,
         has("ic_sb", "Availability_Zone", "nb_ic_cfg")),
    Step("--wait=sb", wait_sb, numbers_caught_up, has("ic_sb", "IC_SB_Global", "nb_ic_cfg")),
    Step("a peer's transit router", add_transit_router, router_bound,
         has("ic_nb", "Transit_Router")),
    Step("transit switch deleted", delete_ts2, ts2_gone),
    Step("VXLAN mode", vxlan, lambda tb: vxlan_keyed(tb, "ts1", "ts3", "ts4", "ts5"),
         has("ic_sb", "SSL", "ssl_ciphersuites"), keys_as_ranges=True),
]


# ------------------------------------------------------------------ running
def view(tb, step, ours_in=()):
    found = dump(tb)
    if step.keys_as_ranges:
        found = keys_as_ranges(found)
    return comparable(found, ours_in)


_RECORDED: dict[tuple[str, tuple[str, ...]], dict] = {}


def all_c_run(release, steps=STEPS):
    """The all-C run of ``steps`` on ``release`` (``run_reference`` on a testbed of its
    own), made once per release and scenario and kept for every deployment compared with
    it.  A run in which the C daemons miss a step's condition is made once more before
    that fails the test: it measures the timing of the daemons we compare with, not ours,
    and a second miss is a failure."""
    key = (release, tuple(step.name for step in steps))
    if key not in _RECORDED:
        try:
            with temporary_testbed(2, release=release) as tb:
                _RECORDED[key] = run_reference(tb, steps)
        except AssertionError as first:
            print(f"all-C run of {release} missed a step, running it again: {first}",
                  file=sys.stderr)
            with temporary_testbed(2, release=release) as tb:
                _RECORDED[key] = run_reference(tb, steps)
    return _RECORDED[key]


def run_reference(tb, steps=STEPS):
    """The scenario with the release's ovn-ic in every AZ: {step name: settled view}."""
    sides = [Side(tb, az, REFERENCE) for az in tb.azs]
    found = {}
    for step in steps:
        if not step.applies(tb):
            continue
        step.action(tb, sides)
        wait_until(lambda step=step: step.done(tb), timeout=TIMEOUT,
                   message=f"all-C: {step.name} done")
        found[step.name] = settled(lambda step=step: view(tb, step))
    return found


def settled(read):
    """``read()`` once it returned the same thing for SETTLED_S."""
    last, since = read(), time.monotonic()
    deadline = since + TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= SETTLED_S:
            return last
    raise AssertionError(f"never settled; last: {pprint.pformat(last)}")


def run_compared(tb, kinds, reference, steps=STEPS):
    """The scenario with ``kinds`` (OURS or REFERENCE per AZ): after each step, wait until
    the rows are those of ``reference`` (but for KNOWN_DIFFERENCES in our AZ); the sides.
    ``steps`` are those ``reference`` was recorded with (a feature's own scenario, say)."""
    ours_in = [az.name for az, kind in zip(tb.azs, kinds, strict=True) if kind == OURS]
    sides = [Side(tb, az, kind) for az, kind in zip(tb.azs, kinds, strict=True)]
    for step in steps:
        if step.name not in reference:
            continue
        step.action(tb, sides)
        wanted = comparable(reference[step.name], ours_in)
        try:
            wait_until(lambda step=step, wanted=wanted: view(tb, step, ours_in) == wanted,
                       timeout=TIMEOUT, interval=0.3)
        except AssertionError:
            raise AssertionError(f"{step.name}: rows differ from the all-C run "
                                 f"(- all-C, + ours in {', '.join(ours_in)}):\n"
                                 + diff(wanted, view(tb, step, ours_in))) from None
    return sides


def diff(wanted, found):
    lines = []
    for section in sorted(set(wanted) | set(found)):
        if wanted.get(section) != found.get(section):
            lines += [f"@@ {section}"] + list(difflib.unified_diff(
                pprint.pformat(wanted.get(section), width=100).splitlines(),
                pprint.pformat(found.get(section), width=100).splitlines(), lineterm="", n=1))[2:]
    return "\n".join(lines)
