"""Fake databases that plans can be applied to, for convergence tests of the automation.

A ``fakes.Replica`` applies a concern's plan to plain rows the way OVSDB would,
so a test can run a concern pass after pass and check that it settles, and what
each pass changed.
"""

from __future__ import annotations

from fakes import Replica

# Rows of these tables are garbage-collected once no parent references them.
NON_ROOT = {("nb", "Logical_Router_Port"), ("nb", "Logical_Switch_Port"),
            ("nb", "Gateway_Chassis")}


class World(Replica):
    """db -> table -> rows, plus the configuration and AZ a pass runs with."""

    passes = 6  # switches, then their mirrors, ports, addresses, gateways: a few passes

    def __init__(self, az_name: str = "az1", **settings) -> None:
        super().__init__(non_root=NON_ROOT, az_name=az_name, settings=settings)
        self.zones: dict[str, object] = {}
        self.az = self.zone(az_name)

    # ------------------------------------------------------------ building
    def zone(self, name: str):
        if name not in self.zones:
            self.zones[name] = self.add("ic_sb", "Availability_Zone", name=name)
        return self.zones[name]

    def router(self, name: str = "ovn-cluster", networks=()):
        ports = [self.add("nb", "Logical_Router_Port", name=f"{name}-p{i}", mac="00:00:00:00:00:01",
                          networks=[network], gateway_chassis=[], external_ids={})
                 for i, network in enumerate(networks)]
        return self.add("nb", "Logical_Router", name=name, ports=ports)

    def mirror(self, ts: str):
        """What the transit_switches concern creates once the IC SB binding exists."""
        return self.add("nb", "Logical_Switch", name=ts, ports=[],
                        other_config={"interconn-ts": ts})

    def chassis(self, name: str, hostname: str = "", remote: bool = False):
        return self.add("sb", "Chassis", name=name, hostname=hostname or name,
                        other_config={"is-remote": "true"} if remote else {})

    def binding(self, ts: str, az: str, logical_port: str, address: str):
        return self.add("ic_sb", "Port_Binding", transit_switch=ts, availability_zone=self.zone(az),
                        logical_port=logical_port, address=address)

    # ------------------------------------------------------------ checking
    def snapshot(self, db: str, table: str) -> dict:
        """name -> uuid, to check which rows a change left untouched."""
        return {r.name: r.uuid for r in self.rows(db, table)}
