"""What the automation tests (and ``make demo``) set up in an AZ, and how they look at it.

An AZ gets what Kube-OVN would have made: a cluster router with a subnet, and
emulated gateway chassis (``ovn-sbctl chassis-add``, no ovn-controller).
Everything else comes from the daemon's controller.conf.
"""

from __future__ import annotations

import csv
import io
import signal

from testbed import wait_until

ROUTER = "ovn-cluster"


def add_cluster_router(az, *subnets, router=ROUTER):
    """The router the automation attaches to, with one port per subnet (``10.16.0.1/24``)."""
    az.nbctl("lr-add", router)
    for index, subnet in enumerate(subnets):
        add_subnet(az, f"{router}-{index}", subnet, router=router)


def add_subnet(az, port, subnet, router=ROUTER):
    number = sum(map(ord, port)) % 256
    az.nbctl("lrp-add", router, port, f"0a:00:00:00:01:{number:02x}", subnet)


def add_gateway(az, name, ip):
    """A gateway chassis as ovn-controller would register it, marked is-interconn."""
    az.sbctl("chassis-add", name, "geneve", ip, "--", "set", "chassis", name,
             f"hostname={name}", "other_config:is-interconn=true")


def table(ctl, table_name, *columns):
    """Rows of ``table_name`` as dicts of ``columns``; ``ctl`` is e.g. ``az.nbctl``."""
    text = ctl("--format=csv", "--no-headings", "--data=bare",
                f"--columns={','.join(columns)}", "list", table_name)
    return [dict(zip(columns, fields, strict=True)) for fields in csv.reader(io.StringIO(text))]


def uuids(az, table_name):
    """name -> _uuid of every row, to check which rows a change left alone."""
    return {row["name"]: row["_uuid"] for row in table(az.nbctl, table_name, "name", "_uuid")}


def learned_routes(az, router=ROUTER):
    """{(prefix, nexthop)} of the learned routes ``lr-route-list`` shows."""
    routes = set()
    for line in az.nbctl("lr-route-list", router).splitlines():
        fields = line.split()
        if "(learned)" in fields:
            routes.add((fields[0], fields[1]))
    return routes


def port_bindings(tb):
    """IC SB logical_port -> address."""
    return {row["logical_port"]: row["address"]
            for row in table(tb.ic_sbctl, "Port_Binding", "logical_port", "address")}


def link_address(tb, port):
    """The first IP of an IC SB port binding's address, or None."""
    fields = port_bindings(tb).get(port, "").split()
    return fields[1].split("/")[0] if len(fields) > 1 else None


def gateway_chassis(az, lrp):
    """[(chassis, priority)] of a router port, highest priority first."""
    rows = [line.split() for line in az.nbctl("lrp-get-gateway-chassis", lrp).splitlines()]
    return [(name.removeprefix(f"{lrp}-"), int(priority)) for name, priority in rows]


def nb_options(az):
    return az.nbctl("get", "NB_Global", ".", "options")


def reload(controller, timeout=30, **changes):
    """Change controller.conf and send SIGHUP; return once the reload is logged."""
    before = sum(1 for record in controller.logs() if record.get("event") == "config.reloaded")
    controller.write_config(**changes)
    controller.send(signal.SIGHUP)
    wait_until(lambda: sum(1 for record in controller.logs()
                           if record.get("event") == "config.reloaded") > before,
               timeout=timeout, message="reload logged")
