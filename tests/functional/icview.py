"""What the databases of a testbed say about transit switches and gateways, as plain data.

Shared by the functional tests of those concerns, which compare what our daemon
and the reference ovn-ic produce; also starts either kind of daemon for an AZ.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

from controller import Controller

OURS, REFERENCE = "ours", "reference"
# Who runs in (az1, az2): ours everywhere, and a mixed deployment both ways round.
DEPLOYMENTS = {"ours-ours": (OURS, OURS), "reference-ours": (REFERENCE, OURS),
               "ours-reference": (OURS, REFERENCE)}
TIMEOUT = 30


def start(tb, az, kind, **settings):
    """Start ``kind`` of IC daemon for ``az``; our Controller, or None for the reference."""
    if kind == REFERENCE:
        az.start_reference_ic()
        return None
    return Controller(tb, az, **settings).start()


def ours_everywhere(tb, **settings):
    """Start our daemon in every AZ of ``tb``; the Controllers."""
    return [start(tb, az, OURS, **settings) for az in tb.azs]


def start_deployment(tb, deployment, **settings):
    """Start the daemons of ``deployment`` (a DEPLOYMENTS key) in az1 and az2."""
    kinds = DEPLOYMENTS[deployment]
    return [start(tb, az, kind, **settings) for az, kind in zip(tb.azs, kinds, strict=True)]


def _decode(cell):
    """An OVSDB JSON cell (``--data=json``) as plain Python."""
    if isinstance(cell, list) and len(cell) == 2 and cell[0] in ("set", "map", "uuid"):
        kind, payload = cell
        if kind == "set":
            return [_decode(item) for item in payload]
        if kind == "map":
            return {_decode(key): _decode(value) for key, value in payload}
        return payload
    return cell


def _as_list(cell):
    """A set cell; JSON gives a one-element set as the bare element."""
    return cell if isinstance(cell, list) else [cell]


def query(ctl, **tables):
    """Rows of several tables read in one transaction, so they agree with each other:
    ``query(ctl, Table="col1 col2")`` → {table: [dicts of those columns plus ``_uuid``]}."""
    args = []
    for table, columns in tables.items():
        args += ["--", f"--columns=_uuid,{columns.replace(' ', ',')}", "list", table]
    docs = map(json.loads, ctl("--format=json", "--data=json", *args).splitlines())
    return {table: [dict(zip(doc["headings"], map(_decode, row), strict=True))
                    for row in doc["data"]]
            for table, doc in zip(tables, docs, strict=True)}


def rows(ctl, table, columns):
    """The rows of ``table`` as dicts of ``columns`` (space-separated) plus ``_uuid``."""
    return query(ctl, **{table: columns})[table]


def datapath_keys(tb):
    """{transit switch: sorted tunnel keys of its IC SB Datapath_Bindings}."""
    found = {}
    for row in rows(tb.ic_sbctl, "Datapath_Binding", "transit_switch tunnel_key"):
        found.setdefault(row["transit_switch"], []).append(row["tunnel_key"])
    return {ts: sorted(keys) for ts, keys in found.items()}


def nb_transit_switches(az):
    """{name: [requested-tnl-key of each NB switch of that name with interconn-ts]}."""
    found = {}
    for row in rows(az.nbctl, "Logical_Switch", "name other_config"):
        if "interconn-ts" in row["other_config"]:
            found.setdefault(row["name"], []).append(row["other_config"].get("requested-tnl-key"))
    return found


def northd_key(az, ts):
    """The tunnel key ovn-northd gave the SB datapath of transit switch ``ts``."""
    for row in rows(az.sbctl, "Datapath_Binding", "tunnel_key external_ids"):
        if row["external_ids"].get("interconn-ts") == ts:
            return row["tunnel_key"]
    return None


def consistent_keys(tb, switches):
    """{ts: key} once IC SB has one binding per switch and every NB requests that key."""
    keys = datapath_keys(tb)
    if set(keys) != set(switches) or any(len(found) != 1 for found in keys.values()):
        return None
    wanted = {ts: [str(found[0])] for ts, found in keys.items()}
    if any(nb_transit_switches(az) != wanted for az in tb.azs):
        return None
    return {ts: found[0] for ts, found in keys.items()}


@contextlib.contextmanager
def ic_sb_frozen(tb):
    """SIGSTOP the IC SB server, so every daemon's next IC SB transaction waits for it:
    on SIGCONT they all arrive at once, a race that is otherwise hard to hit."""
    pid = tb._ic_sb.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _owners_with_encaps(found, owner_table, encap_table):
    encaps = {row["_uuid"]: (row["type"], row["ip"], row["options"])
              for row in found[encap_table]}
    return {row["name"]: {**{key: value for key, value in row.items()
                             if key not in ("_uuid", "name", "encaps")},
                          "encaps": sorted(encaps[uuid] for uuid in _as_list(row["encaps"]))}
            for row in found[owner_table]}


def chassis_view(az):
    """{chassis: {hostname, other_config, encaps: sorted (type, ip, options)}} of an AZ's SB."""
    found = query(az.sbctl, Chassis="name hostname other_config encaps", Encap="type ip options")
    return _owners_with_encaps(found, "Chassis", "Encap")


def gateway_view(tb):
    """{gateway: {az, hostname, encaps: sorted (type, ip, options)}} of the IC SB."""
    found = query(tb.ic_sbctl, Availability_Zone="name", Encap="type ip options",
                  Gateway="name availability_zone hostname encaps")
    zones = {row["_uuid"]: row["name"] for row in found["Availability_Zone"]}
    gateways = _owners_with_encaps(found, "Gateway", "Encap")
    for gateway in gateways.values():
        gateway["availability_zone"] = zones.get(gateway["availability_zone"])
    return gateways


def committed(controller):
    """Transactions this daemon has committed so far, over all databases and outcomes."""
    _, body = controller.http("/metrics")
    return sum(float(line.rpartition(" ")[2]) for line in body.splitlines()
               if line.startswith("ovn_ic_controller_transactions_total{"))


def assert_idle(controllers, seconds=1.0):
    """Once converged, none of ``controllers`` commits anything (idle means idle)."""
    controllers = [c for c in controllers if c is not None]
    before = [committed(c) for c in controllers]
    time.sleep(seconds)
    assert [committed(c) for c in controllers] == before


def warnings(controller, event):
    """The warning records named ``event`` in the daemon's log."""
    return [record for record in controller.logs()
            if record.get("event") == event and record.get("level") == "warning"]
