"""A fake of the replicas route sync reads, with builders of route topologies.

Scenarios build one AZ (az1, ours) with routers on transit switches, add other
AZs' IC SB routes by hand, and check both the plan and that planning again over
the applied result changes nothing.
"""

from __future__ import annotations

from fakes import Replica, row

from ovn_ic_controller.sync.routes import Routes

TABLES = {
    "nb": ("NB_Global", "Logical_Router", "Logical_Router_Port", "Logical_Router_Static_Route",
           "Logical_Switch_Port"),
    "ic_nb": ("Transit_Switch",),
    "ic_sb": ("Availability_Zone", "Port_Binding", "Route"),
}
# Rows of these tables are garbage-collected once no parent references them.
NON_ROOT = {("nb", "Logical_Router_Static_Route")}
INSERT_DEFAULTS = {
    ("nb", "Logical_Router_Static_Route"): {"route_table": "", "policy": [], "options": {},
                                            "external_ids": {}},
    ("ic_sb", "Route"): {"route_table": "", "external_ids": {}, "options": {}},
}
V4_PORT = "aa:aa:aa:aa:aa:01 169.254.100.1/24"
DUAL_PORT = "aa:aa:aa:aa:aa:01 169.254.100.1/24 2001:db8:1::1/64"


class World(Replica):
    """az1 (ours) and az2/az3 (peers), with helpers to build route topologies."""

    def __init__(self) -> None:
        super().__init__({db: {table: [] for table in names} for db, names in TABLES.items()},
                         non_root=NON_ROOT, insert_defaults=INSERT_DEFAULTS)
        self.az = self.add("ic_sb", "Availability_Zone", name="az1")
        self.peer = self.add("ic_sb", "Availability_Zone", name="az2")
        self.nb_global = self.add("nb", "NB_Global", name="az1",
                                  options={"ic-route-adv": "true", "ic-route-learn": "true"})
        self.concern = Routes()

    # -------------------------------------------------------------- building
    def new_row(self, **columns):
        return row(**columns)  # this module's ``row``, which a test may monkeypatch

    def options(self, **options):
        """Set NB_Global options (``ic_route_adv="false"``); None removes one."""
        for key, value in options.items():
            key = key.replace("_", "-")
            if value is None:
                self.nb_global.options.pop(key, None)
            else:
                self.nb_global.options[key] = value

    def transit_switch(self, name="ts1"):
        return self.add("ic_nb", "Transit_Switch", name=name)

    def router(self, name="lr1"):
        return self.add("nb", "Logical_Router", name=name, ports=[], static_routes=[],
                        options={}, load_balancer=[], load_balancer_group=[])

    def lrp(self, router, name, *networks, route_table=None):
        options = {"route_table": route_table} if route_table is not None else {}
        port = self.add("nb", "Logical_Router_Port", name=name, networks=list(networks),
                        options=options)
        router.ports.append(port)
        return port

    def attach(self, router, ts="ts1", address="aa:aa:aa:aa:aa:01 169.254.100.1/24",
               route_table=None, name=None):
        """Connect ``router`` to ``ts``: its LRP, the TS LSP and our IC SB Port_Binding."""
        name = name or f"{router.name}-{ts}"
        self.lrp(router, f"lrp-{name}", *address.split()[1:], route_table=route_table)
        self.add("nb", "Logical_Switch_Port", name=f"lsp-{name}",
                 options={"router-port": f"lrp-{name}"})
        return self.add("ic_sb", "Port_Binding", availability_zone=self.az, transit_switch=ts,
                        logical_port=f"lsp-{name}", address=address,
                        external_ids={"router-id": str(router.uuid)})

    def static(self, router, ip_prefix, nexthop, route_table="", policy=None, **external_ids):
        route = self.add("nb", "Logical_Router_Static_Route", ip_prefix=ip_prefix,
                         nexthop=nexthop, route_table=route_table,
                         policy=[policy] if policy else [], options={},
                         external_ids=external_ids)
        router.static_routes.append(route)
        return route

    def remote_route(self, ip_prefix, nexthop, ts="ts1", origin="connected", route_table="",
                     az=None, **external_ids):
        return self.add("ic_sb", "Route", transit_switch=ts, availability_zone=az or self.peer,
                        route_table=route_table, ip_prefix=ip_prefix, nexthop=nexthop,
                        origin=origin, external_ids=external_ids)

    # ------------------------------------------------------------- running
    def plan(self):
        return self.concern.plan(self.ctx())

    def sync(self, passes=3):
        """Plan and apply until nothing changes; fail if that takes more than ``passes``."""
        self.settle(self.concern, passes)

    # ------------------------------------------------------------- queries
    def advertised(self, ts=None):
        """Our IC SB routes as sorted (ts, route_table, ip_prefix, nexthop, origin)."""
        return sorted((r.transit_switch, r.route_table, r.ip_prefix, r.nexthop, r.origin)
                      for r in self.tables["ic_sb"]["Route"]
                      if r.availability_zone is self.az and ts in (None, r.transit_switch))

    def own_route(self, ip_prefix):
        (found,) = [r for r in self.tables["ic_sb"]["Route"]
                    if r.availability_zone is self.az and r.ip_prefix == ip_prefix]
        return found

    def learned(self, router):
        """The router's learned routes as sorted (ip_prefix, nexthop, route_table, origin)."""
        return sorted((r.ip_prefix, r.nexthop, r.route_table, r.options.get("origin"))
                      for r in router.static_routes if "ic-learned-route" in r.external_ids)

    def learned_rows(self, router):
        return [r for r in router.static_routes if "ic-learned-route" in r.external_ids]


def kinds(plan):
    return sorted((op.kind, op.db, op.table) for op in plan.ops)


def one_router(address=V4_PORT, **attach):
    """A world whose router lr1 is attached to ts1 through a port with ``address``."""
    world = World()
    world.transit_switch("ts1")
    lr1 = world.router("lr1")
    world.attach(lr1, "ts1", address, **attach)
    return world, lr1
