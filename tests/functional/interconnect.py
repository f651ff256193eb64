"""A joined interconnection for the leave/reset/clean/show tests, and ways to read it.

Each AZ gets the router ``ovn-cluster`` with one subnet port and a gateway
chassis (made by hand: no ovn-controller runs here), and our daemon with
``auto-route=true``, ``gw-nodes`` and ``ts-num``: the automation creates the
transit-switch ports, and every AZ learns the others' subnets over ``ts-num``
paths (ECMP).
"""

from __future__ import annotations

import re

from controller import Controller
from icview import TIMEOUT, rows
from testbed import wait_until

from ovn_ic_controller.constants import MANAGED_OPTIONS_KEY, OWNER_KEY

SUBNETS = {"az1": "10.16.0.1/24", "az2": "10.17.0.1/24", "az3": "10.18.0.1/24"}
AZ_TABLES = ("Availability_Zone", "Gateway", "Port_Binding", "Route")


def learned(az):
    """{prefix: sorted next hops} of the routes this AZ learned."""
    found = {}
    for route in rows(az.nbctl, "Logical_Router_Static_Route", "ip_prefix nexthop external_ids"):
        if "ic-learned-route" in route["external_ids"]:
            found.setdefault(route["ip_prefix"], []).append(route["nexthop"])
    return {prefix: sorted(hops) for prefix, hops in found.items()}


def interconnection_state(az):
    """What an IC controller made in this AZ's NB and SB: all empty once it left or reset."""
    marked = [(table, row["name"]) for table in ("Logical_Router_Port", "Logical_Switch_Port",
                                                 "Gateway_Chassis")
              for row in rows(az.nbctl, table, "name external_ids")
              if OWNER_KEY in row["external_ids"]]
    nb_global = rows(az.nbctl, "NB_Global", "options external_ids")[0]
    return {
        "mirrors": sorted(r["name"] for r in rows(az.nbctl, "Logical_Switch", "name other_config")
                          if "interconn-ts" in r["other_config"]),
        "marked": sorted(marked),
        "remote_ports": sorted(r["name"] for r in rows(az.nbctl, "Logical_Switch_Port", "name type")
                               if r["type"] == "remote"),
        "learned": learned(az),
        "route_options": sorted(key for key in nb_global["options"]
                                if key.startswith("ic-route")),
        "managed_list": nb_global["external_ids"].get(MANAGED_OPTIONS_KEY, ""),
        "remote_chassis": sorted(r["name"] for r in rows(az.sbctl, "Chassis", "name other_config")
                                 if r["other_config"].get("is-remote") == "true"),
    }


def is_empty(state):
    return not any(state.values())


def foreign_rows(az):
    """UUIDs of the NB rows no IC controller made, which leave and reset must keep."""
    found = {r["_uuid"] for table in ("Logical_Router", "Logical_Router_Port", "Gateway_Chassis")
             for r in rows(az.nbctl, table, "external_ids") if OWNER_KEY not in r["external_ids"]}
    found |= {r["_uuid"] for r in rows(az.nbctl, "Logical_Switch", "other_config")
              if "interconn-ts" not in r["other_config"]}
    found |= {r["_uuid"] for r in rows(az.nbctl, "Logical_Switch_Port", "type external_ids")
              if r["type"] != "remote" and OWNER_KEY not in r["external_ids"]}
    found |= {r["_uuid"] for r in rows(az.nbctl, "Logical_Router_Static_Route", "external_ids")
              if "ic-learned-route" not in r["external_ids"]}
    return found


def add_foreign_rows(az):
    """Objects an operator made by hand: a static route and a switch with a VM port."""
    gateway = SUBNETS[az.name].split("/")[0]
    az.nbctl("lr-route-add", "ovn-cluster", f"192.168.{gateway.split('.')[1]}.0/24", gateway)
    az.nbctl("ls-add", "vms", "--", "lsp-add", "vms", "vm1")


def ic_rows_of(tb, az_name):
    """{table: UUIDs} of the AZ's IC SB rows (AZ_TABLES); empty lists once it is gone."""
    zone = [r["_uuid"] for r in rows(tb.ic_sbctl, "Availability_Zone", "name")
            if r["name"] == az_name]
    found = {"Availability_Zone": zone}
    for table in AZ_TABLES[1:]:
        found[table] = [r["_uuid"] for r in rows(tb.ic_sbctl, table, "availability_zone")
                        if r["availability_zone"] in zone]
    return found


def prepare(az, index):
    """Router ovn-cluster with the AZ's subnet, and gateway chassis gw-<az>."""
    az.nbctl("lr-add", "ovn-cluster")
    az.nbctl("lrp-add", "ovn-cluster", f"{az.name}-subnet", f"0a:00:00:00:00:{index:02x}",
             SUBNETS[az.name])
    az.sbctl("chassis-add", f"gw-{az.name}", "geneve", f"172.16.0.{index}")


def join(tb, ts_num=2):
    """Prepare every AZ, start our daemon in each; return them once all routes are learned."""
    daemons = {}
    for index, az in enumerate(tb.azs, start=1):
        prepare(az, index)
        daemons[az.name] = Controller(tb, az, auto_route="true", gw_nodes=f"gw-{az.name}",
                                      ts_num=ts_num).start()
    for az in tb.azs:
        wait_learns_all(tb, az, ts_num)
    return daemons


def wait_learns_all(tb, az, ts_num):
    """Wait until ``az`` learned every other AZ's subnet over ``ts_num`` next hops."""
    wanted = {SUBNETS[other.name] for other in tb.azs if other is not az}
    wait_until(lambda: wanted <= {prefix for prefix, hops in learned(az).items()
                                  if len(hops) == ts_num},
               timeout=TIMEOUT, message=f"{az.name} learns {sorted(wanted)} over {ts_num} paths")


_RECORD = re.compile(r"^record \d+: (\S+ \S+)")
_DELETED_ROW = re.compile(r"^  table (\S+) (?:row|insert row) .*\((\w{8})\)")


def transactions(tb, db_file):
    """The database file's transactions: [(time, {(table, uuid[:8]) deleted})]."""
    log = tb.run("ovsdb-tool", "-mm", "show-log", db_file)
    found, current = [], None
    for line in log.splitlines():
        if match := _RECORD.match(line):
            found.append((match.group(1), set()))
        elif match := _DELETED_ROW.match(line):
            current = (match.group(1), match.group(2))
        elif line.strip() == "delete row" and found and current:
            found[-1][1].add(current)
    return found


def deleting(tb, db_file, table, uuid):
    """The one transaction of ``db_file`` that deleted that row: (time, deleted rows)."""
    matches = [record for record in transactions(tb, db_file) if (table, uuid[:8]) in record[1]]
    assert len(matches) == 1, f"{table} {uuid} deleted by {len(matches)} transactions"
    return matches[0]
