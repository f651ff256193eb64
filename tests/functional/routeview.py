"""Building route topologies in a testbed, and reading routes back as plain data.

Shared by the route functional tests, which run ours, the reference ovn-ic or
both, and compare what each AZ advertised into IC SB and learned into its NB.
"""

from __future__ import annotations

import textwrap

from icview import TIMEOUT, _as_list, query, rows
from testbed import wait_until


def enable_routes(az, **extra):
    """Set NB_Global ic-route-adv/learn=true and any ``extra`` option (``ic_route_adv_default``)."""
    options = {"ic-route-adv": "true", "ic-route-learn": "true",
               **{key.replace("_", "-"): value for key, value in extra.items()}}
    az.nbctl("set", "NB_Global", ".", *(f'options:{key}="{value}"'
                                        for key, value in options.items()))


def set_options(az, **options):
    """Set (or, with None, remove) NB_Global options, e.g. ``ic_route_learn="false"``."""
    for key, value in options.items():
        key = key.replace("_", "-")
        if value is None:
            az.nbctl("remove", "NB_Global", ".", "options", key)
        else:
            az.nbctl("set", "NB_Global", ".", f'options:{key}="{value}"')


def add_transit_switches(tb, *names):
    """Create the transit switches and wait until every AZ's daemon made their NB switch."""
    for name in names:
        tb.ic_nbctl("--may-exist", "ts-add", name)
    for az in tb.azs:
        for name in names:
            wait_until(lambda az=az, name=name: name in az.nbctl(
                "--bare", "--columns=name", "find", "Logical_Switch",
                f"other_config:interconn-ts={name}").split(),
                timeout=TIMEOUT, message=f"{az.name} has transit switch {name}")


def connect(az, router, ts, mac, *networks, route_table=None, lrp=None, lsp=None):
    """Create ``router`` if needed and connect it to ``ts``, as ovn-ic.at does."""
    lrp = lrp or f"lrp-{router}-{ts}"
    lsp = lsp or f"lsp-{ts}-{router}"
    az.nbctl("--may-exist", "lr-add", router, "--", "lrp-add", router, lrp, mac, *networks,
             "--", "lsp-add", ts, lsp, "--", "lsp-set-type", lsp, "router",
             "--", "lsp-set-addresses", lsp, "router",
             "--", "lsp-set-options", lsp, f"router-port={lrp}")
    if route_table is not None:
        az.nbctl("lrp-set-options", lrp, f"route_table={route_table}")


def routers_on_ts1(tb, router="lr{i}", network="169.254.100.{i}/24", mac="aa:aa:aa:aa:aa:0{i}",
                   **options):
    """ovn-ic.at's usual start: transit switch ts1 and, in the i-th AZ, a router on it.

    ``router``, ``network`` and ``mac`` are formatted with ``i``; every AZ advertises and
    learns routes, with any further NB_Global ``options`` (as ``enable_routes`` takes).
    """
    add_transit_switches(tb, "ts1")
    for i, az in enumerate(tb.azs, 1):
        enable_routes(az, **options)
        connect(az, router.format(i=i), "ts1", mac.format(i=i), network.format(i=i))


def ic_routes(tb, az_name=None):
    """IC SB routes as a sorted list of (ts, az, route_table, ip_prefix, nexthop, origin)."""
    zones = {row["_uuid"]: row["name"] for row in rows(tb.ic_sbctl, "Availability_Zone", "name")}
    found = [(row["transit_switch"], zones.get(row["availability_zone"]), row["route_table"],
              row["ip_prefix"], row["nexthop"], row["origin"])
             for row in rows(tb.ic_sbctl, "Route",
                             "transit_switch availability_zone route_table ip_prefix nexthop "
                             "origin")]
    return sorted(route for route in found if az_name in (None, route[1]))


def learned(az, router=None):
    """Learned routes as a sorted list of (router, ip_prefix, nexthop, route_table, origin)."""
    found = query(az.nbctl, Logical_Router="name static_routes",
                  Logical_Router_Static_Route="ip_prefix nexthop route_table options external_ids")
    routes = {row["_uuid"]: row for row in found["Logical_Router_Static_Route"]}
    result = []
    for lr in found["Logical_Router"]:
        if router not in (None, lr["name"]):
            continue
        for uuid in _as_list(lr["static_routes"]):
            route = routes[uuid]
            if "ic-learned-route" in route["external_ids"]:
                result.append((lr["name"], route["ip_prefix"], route["nexthop"],
                               route["route_table"], route["options"].get("origin")))
    return sorted(result)


def learned_prefixes(az, router):
    return [route[1] for route in learned(az, router)]


def route_list(az, router, *options):
    """``ovn-nbctl lr-route-list`` output, as ovn-ic.at compares it."""
    return az.nbctl(*options, "lr-route-list", router)


def listed(az, router, *options):
    """``route_list`` without its surrounding blank lines, to compare with a ``table``."""
    return route_list(az, router, *options).strip("\n")


def table(text):
    """Expected ``lr-route-list`` output, as written in ovn-ic.at (indented, in a string)."""
    return textwrap.dedent(text).strip("\n")


def wait_for(predicate, message):
    return wait_until(predicate, timeout=TIMEOUT, interval=0.1, message=message)


def exchange_withdraw_and_readd(testbed):
    """Each AZ's lr<i> advertises a dst-ip and a src-ip route on ts1; each learns the other's
    dst-ip one only; az1 withdraws its route and adds it back, and az2 follows."""
    az1, az2 = testbed.azs
    routers_on_ts1(testbed)
    for i, az in enumerate(testbed.azs, 1):
        az.nbctl("lr-route-add", f"lr{i}", f"10.11.{i}.0/24", "169.254.0.1")
        az.nbctl("--policy=src-ip", "lr-route-add", f"lr{i}", f"10.22.{i}.0/24", "169.254.0.2")
    for i, az in enumerate(testbed.azs, 1):
        wait_for(lambda az=az, i=i: learned(az, f"lr{i}"), f"lr{i} learned a route")
    assert listed(az1, "lr1") == table("""
        IPv4 Routes
        Route Table <main>:
                     10.11.1.0/24               169.254.0.1 dst-ip
                     10.11.2.0/24             169.254.100.2 dst-ip (learned)
                     10.22.1.0/24               169.254.0.2 src-ip
        """)
    az1.nbctl("lr-route-del", "lr1", "10.11.1.0/24")
    wait_for(lambda: not learned(az2, "lr2"), "az2 unlearned 10.11.1.0/24")
    az1.nbctl("lr-route-add", "lr1", "10.11.1.0/24", "169.254.0.1")
    wait_for(lambda: learned(az2, "lr2"), "az2 learned 10.11.1.0/24 again")
