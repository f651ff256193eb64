"""``show``: the interconnection as this AZ sees it, from the databases alone.

What the seed shows with ``ovn-ic-sbctl show`` and ``ovn-nbctl lr-route-list``:
every AZ with its gateways (and their encaps), transit-switch ports (every
port, not only those bound to a gateway) and advertised routes; this AZ's
learned routes grouped by prefix, so that ECMP groups show as one prefix with
several next hops, each with the local networks it overlaps; route conflicts
(another AZ's routes overlapping a local network), computed from the databases
by route sync's own code under this configuration (denied: not learned); the
route controls (tags, allow-lists, deny lists) set on routers and their ports,
and the tag of each advertised route; and
whether a controller is active (holds the ovn_ic lock, which ``show`` requests
for the moment it runs).

JSON keys (``--format json``), stable; lists are sorted, absent values are ""::

    az                  this AZ's name ("" when unknown)
    enable_ic           the configuration's enable-ic
    ovn_ic_lock         "held" (some instance is active) or "free" (none is)
    availability_zones  [{name, this_az, gateways: [{name, hostname,
                          encaps: [{type, ip, options}]}],
                          ports: [{name, transit_switch, tunnel_key, address, gateway}],
                          routes: [{prefix, nexthop, origin, transit_switch, route_table,
                                    tag}]}]
    learned_routes      [{router, route_table, prefix, ecmp,
                          nexthops: [{nexthop, from_az}], overlaps: [local network]}]
    conflicts           [{router, local, remote, az, denied}]
    route_controls      [{router, port, options: {option: value}}] (port "": the router's)
    transit_routers     [{name, tunnel_key, ports: [{name, chassis, mac, networks,
                          availability_zone, tunnel_key}]}] (26.03+; a port not
                          bound yet has availability_zone "" and tunnel_key null)
"""

from __future__ import annotations

import json
import types
from collections import defaultdict
from typing import Any

from . import logs
from .commands import open_databases
from .config import Config
from .constants import IC_NB, IC_SB, LEARNED_ROUTE_KEY, LOCK_NAME, NB, SB, TR_DATAPATH, TR_PORT
from .db.values import column, optional_ref
from .sync.base import Context, columns, merge_columns
from .sync.common import binding_type
from .sync.leave import own_az_name
from .sync.prefixes import parse_cidr
from .sync.routes import Routes, find_conflicts, zone_name
from .sync.routes.filters import LIST_KEYS, PORT_KEYS, ROUTE_TAG
from .sync.routes.overlaps import network

log = logs.get("show")

SHOWN = {
    NB: columns(NB_Global="name options", Logical_Router="name static_routes ports options",
                Logical_Router_Port="name options",
                Logical_Router_Static_Route="ip_prefix nexthop route_table external_ids"),
    SB: columns(SB_Global="options"),  # only for the lock; the smallest table there is
    IC_NB: columns(Transit_Router="name ports",
                   Transit_Router_Port="name mac networks chassis"),
    IC_SB: columns(Availability_Zone="name", Datapath_Binding="tunnel_key type nb_ic_uuid",
                   Gateway="name hostname availability_zone encaps",
                   Encap="type ip options",
                   Port_Binding="logical_port transit_switch tunnel_key address gateway "
                                "availability_zone type",
                   Route="availability_zone transit_switch ip_prefix nexthop origin "
                         "route_table external_ids"),
}
READER = types.SimpleNamespace(reads=SHOWN, writes={})  # the daemon replicates these too
WANTED = merge_columns([Routes(), READER])


def show(config: Config, *, fmt: str, timeout: float) -> int:
    """Print the state; the ovn_ic lock is requested only to learn whether it is held."""
    with open_databases(config, WANTED, timeout, lock=True) as dbs:
        dbs.connect()
        lock = "free" if dbs.lock_is_free(SB) else "held"
        doc = gather(Context(config=config, tables=dbs.tables()), lock)
    print(json.dumps(doc, indent=2, sort_keys=True) if fmt == "json" else render(doc))
    return 0


def gather(ctx: Context, lock: str) -> dict:
    """The JSON document described in the module docstring."""
    own = own_az_name(ctx)
    # Route sync reads this AZ from the context, as in the daemon.
    ctx.az_name = own
    ctx.az = next((az for az in ctx.rows(IC_SB, "Availability_Zone") if az.name == own), None)
    zones = {az.uuid: {"name": az.name, "this_az": az.name == own, "gateways": [],
                       "ports": [], "routes": []}
             for az in ctx.rows(IC_SB, "Availability_Zone")}
    for gateway in ctx.rows(IC_SB, "Gateway"):
        encaps = [{"type": e.type, "ip": e.ip, "options": dict(e.options)}
                  for e in gateway.encaps]
        _zone(zones, gateway)["gateways"].append(
            {"name": gateway.name, "hostname": gateway.hostname,
             "encaps": sorted(encaps, key=lambda e: (e["type"], e["ip"]))})
    for port in ctx.rows(IC_SB, "Port_Binding"):
        _zone(zones, port)["ports"].append(
            {"name": port.logical_port, "transit_switch": port.transit_switch,
             "tunnel_key": port.tunnel_key, "address": port.address, "gateway": port.gateway})
    for route in ctx.rows(IC_SB, "Route"):
        _zone(zones, route)["routes"].append(
            {"prefix": route.ip_prefix, "nexthop": route.nexthop, "origin": route.origin,
             "transit_switch": route.transit_switch, "route_table": route.route_table,
             "tag": route.external_ids.get(ROUTE_TAG, "")})
    for zone in zones.values():
        zone["gateways"].sort(key=lambda g: g["name"])
        zone["ports"].sort(key=lambda p: (p["transit_switch"], p["name"]))
        zone["routes"].sort(key=lambda r: (r["transit_switch"], r["route_table"],
                                           r["prefix"], r["nexthop"]))
    found = conflicts(ctx)
    return {"az": own, "enable_ic": ctx.config.enable_ic, "ovn_ic_lock": lock,
            "availability_zones": sorted(zones.values(), key=lambda z: z["name"]),
            "learned_routes": _learned_routes(ctx, found), "conflicts": found,
            "route_controls": route_controls(ctx),
            "transit_routers": _transit_routers(ctx)}


def route_controls(ctx: Context) -> list[dict]:
    """The routers and router ports with route controls (sync/routes/filters.py)."""
    found = []
    for router in ctx.rows(NB, "Logical_Router"):
        rows = [("", router, LIST_KEYS), *((port.name, port, PORT_KEYS) for port in router.ports)]
        found += [{"router": router.name, "port": name,
                   "options": {key: row.options[key] for key in keys if key in row.options}}
                  for name, row, keys in rows if any(key in row.options for key in keys)]
    return sorted(found, key=lambda c: (c["router"], c["port"]))


def _zone(zones: dict, row: Any) -> dict:
    return zones[row.availability_zone.uuid]


def _learned_routes(ctx: Context, conflicts: list[dict]) -> list[dict]:
    """This AZ's learned routes, one entry per (router, table, prefix): ECMP shows as several
    next hops, each with the AZ it was learned from (via the IC SB Route it names), and the
    local networks the prefix overlaps (the learned ``conflicts``)."""
    overlaps = defaultdict(set)
    for conflict in conflicts:
        if not conflict["denied"]:
            overlaps[conflict["router"], conflict["remote"]].add(conflict["local"])
    origin_az = {str(route.uuid): route.availability_zone.name
                 for route in ctx.rows(IC_SB, "Route")}
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for router in ctx.rows(NB, "Logical_Router"):
        for route in router.static_routes:
            source = route.external_ids.get(LEARNED_ROUTE_KEY)
            if source is None:
                continue
            groups[(router.name, route.route_table, route.ip_prefix)].append(
                {"nexthop": route.nexthop, "from_az": origin_az.get(source, "")})
    return [{"router": router, "route_table": table, "prefix": prefix,
             "ecmp": len(hops) > 1,
             "nexthops": sorted(hops, key=lambda h: (h["nexthop"], h["from_az"])),
             "overlaps": sorted(overlaps.get((router, _network(prefix)), ()))}
            for (router, table, prefix), hops in sorted(groups.items())]


def _transit_routers(ctx: Context) -> list[dict]:
    """Every IC NB transit router with its datapath key and its ports, each with the AZ
    that published its binding and the binding's key."""
    keys = {optional_ref(column(dp, "nb_ic_uuid", [])): dp.tunnel_key
            for dp in ctx.rows(IC_SB, "Datapath_Binding")
            if binding_type(dp) == TR_DATAPATH}
    bindings = {(pb.transit_switch, pb.logical_port): pb
                for pb in ctx.rows(IC_SB, "Port_Binding")
                if binding_type(pb) == TR_PORT}
    found = []
    for router in sorted(ctx.rows(IC_NB, "Transit_Router"), key=lambda tr: tr.name):
        ports = []
        for port in sorted(router.ports, key=lambda trp: trp.name):
            binding = bindings.get((router.name, port.name))
            ports.append({"name": port.name, "chassis": port.chassis, "mac": port.mac,
                          "networks": sorted(port.networks),
                          "availability_zone": (binding.availability_zone.name
                                                if binding is not None else ""),
                          "tunnel_key": binding.tunnel_key if binding is not None else None})
        found.append({"name": router.name, "tunnel_key": keys.get(router.uuid),
                      "ports": ports})
    return found


def _network(prefix: str) -> str:
    parsed = parse_cidr(prefix)
    return str(network(parsed)) if parsed is not None else prefix


def conflicts(ctx: Context) -> list[dict]:
    """Other AZs' routes overlapping a local network, as route sync finds them."""
    if ctx.az is None:
        return []
    return [{"router": c.router, "local": c.local, "remote": c.remote,
             "az": zone_name(ctx, c.az), "denied": not c.learned} for c in find_conflicts(ctx)]


def render(doc: dict) -> str:
    """The document as indented text, in the manner of ovn-ic-sbctl show."""
    lines = []
    for zone in doc["availability_zones"]:
        lines.append(f"availability-zone {zone['name']}"
                     + (" (this AZ)" if zone["this_az"] else ""))
        for gateway in zone["gateways"]:
            lines += [f"    gateway {gateway['name']}",
                      f"        hostname: {gateway['hostname'] or '(none)'}"]
            for encap in gateway["encaps"]:
                options = ",".join(f"{k}={v}" for k, v in sorted(encap["options"].items()))
                lines.append(f"        encap: {encap['type']} {encap['ip']}"
                             + (f" ({options})" if options else ""))
        for port in zone["ports"]:
            lines += [f"    port {port['name']}",
                      f"        transit switch: {port['transit_switch']}",
                      f"        tunnel key: {port['tunnel_key']}",
                      f"        address: {port['address'] or '(none)'}",
                      f"        gateway: {port['gateway'] or '(none)'}"]
        if zone["routes"]:
            lines.append(f"    advertised routes: {len(zone['routes'])}")
            lines += [f"        {r['prefix']} via {r['nexthop']} on {r['transit_switch']}"
                      f" ({r['origin']}{_table(r['route_table'])})"
                      + (f" [tag {r['tag']}]" if r["tag"] else "") for r in zone["routes"]]
    if not doc["availability_zones"]:
        lines.append("no availability zone is registered in the IC SB")
    lines.append("")
    lines.append(f"learned routes of {doc['az'] or '(this AZ has no name)'}:"
                 + ("" if doc["learned_routes"] else " none"))
    router = None
    for group in doc["learned_routes"]:
        if group["router"] != router:
            router = group["router"]
            lines.append(f"    router {router}")
        hops = ", ".join(f"{h['nexthop']} (from {h['from_az'] or 'unknown AZ'})"
                         for h in group["nexthops"])
        lines.append(f"        {group['prefix']}{_table(group['route_table'])} via {hops}"
                     + (" [ecmp]" if group["ecmp"] else ""))
        lines += [f"            overlaps local network {local}" for local in group["overlaps"]]
    lines.append("")
    lines.append("conflicts:" + ("" if doc["conflicts"] else " none"))
    lines += [f"    {c['router']}: local {c['local']} overlaps {c['remote']} from {c['az']}: "
              + ("not learned (conflict-policy=deny)" if c["denied"]
                 else "learned (reported only)") for c in doc["conflicts"]]
    for router in doc["transit_routers"]:
        lines += ["", f"transit router {router['name']}"
                  f" (tunnel key {router['tunnel_key'] or '(none yet)'})"]
        for port in router["ports"]:
            bound = (f"published by {port['availability_zone']}, tunnel key "
                     f"{port['tunnel_key']}" if port["availability_zone"] else "not published")
            lines.append(f"    port {port['name']} {port['mac']} {' '.join(port['networks'])}"
                         f" on chassis {port['chassis'] or '(none)'}: {bound}")
    lines.append("")
    lines.append("route controls:" + ("" if doc["route_controls"] else " none"))
    lines += [f"    router {c['router']}" + (f" port {c['port']}" if c["port"] else "") + ": "
              + ", ".join(f"{key}={value}" for key, value in sorted(c["options"].items()))
              for c in doc["route_controls"]]
    lines.append("")
    lines.append(f"enable-ic: {'true' if doc['enable_ic'] else 'false'}")
    lines.append(f"{LOCK_NAME} lock: " + ("held: a controller instance is active"
                                          if doc["ovn_ic_lock"] == "held"
                                          else "free: no controller instance is active"))
    return "\n".join(lines)


def _table(route_table: str) -> str:
    return f", table {route_table}" if route_table else ""
