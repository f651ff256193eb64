"""Fake databases that plans can be applied to, for convergence tests of the automation.

A concern's plan is applied to plain rows the way OVSDB would (references
resolved, unreferenced non-root rows garbage-collected), so a test can run a
concern pass after pass and check that it settles, and what each pass changed.
"""

from __future__ import annotations

import uuid as uuidlib

from fakes import make_config, row

from ovn_ic_controller.db.plan import NewRow, Plan
from ovn_ic_controller.sync.base import Context

# (table, column) -> referenced table, for the reference columns the automation writes.
REFS = {("Logical_Router", "ports"): "Logical_Router_Port",
        ("Logical_Switch", "ports"): "Logical_Switch_Port",
        ("Logical_Router_Port", "gateway_chassis"): "Gateway_Chassis"}
NON_ROOT = {"Logical_Router_Port", "Logical_Switch_Port", "Gateway_Chassis"}


class World:
    """db -> table -> uuid -> row, plus the configuration and AZ a pass runs with."""

    def __init__(self, az_name: str = "az1", **settings) -> None:
        self.tables: dict[str, dict[str, dict]] = {}
        self.settings = settings
        self.az_name = az_name
        self.zones: dict[str, object] = {}
        self.az = self.zone(az_name)

    # ------------------------------------------------------------ building
    def add(self, db: str, table: str, **columns):
        new = row(**columns)
        self.tables.setdefault(db, {}).setdefault(table, {})[new.uuid] = new
        return new

    def rows(self, db: str, table: str) -> list:
        return list(self.tables.get(db, {}).get(table, {}).values())

    def named(self, db: str, table: str, name: str):
        return next((r for r in self.rows(db, table) if r.name == name), None)

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

    # ------------------------------------------------------------ running
    def context(self) -> Context:
        return Context(config=make_config(**self.settings), tables=self.tables,
                       az_name=self.az_name, az=self.az)

    def run(self, concern) -> Plan:
        """One pass: plan, then apply the plan."""
        plan = concern.plan(self.context())
        self.apply(plan)
        return plan

    def settle(self, concern, passes: int = 6) -> list[Plan]:
        """Passes until one plans nothing; the non-empty plans, in order."""
        plans = []
        for _ in range(passes):
            plan = self.run(concern)
            if not plan:
                return plans
            plans.append(plan)
        raise AssertionError(f"no convergence: last plan {[op for op in plans[-1].ops]}")

    # ------------------------------------------------------------ applying
    def apply(self, plan: Plan) -> None:
        inserted: dict[NewRow, object] = {}

        def resolve(value, table=None):
            if isinstance(value, NewRow):
                return inserted[value]
            if isinstance(value, uuidlib.UUID) and table is not None:
                return self.tables["nb"][table][value]
            if isinstance(value, list):
                return [resolve(item, table) for item in value]
            if isinstance(value, dict):
                return dict(value)
            return value

        for op in plan.ops:
            if op.kind == "insert":
                values = {column: resolve(value) for column, value in op.value.items()}
                inserted[op.target] = self.add(op.db, op.table, **values)
                continue
            target = (inserted[op.target] if isinstance(op.target, NewRow)
                      else self.tables[op.db][op.table].get(op.target))
            if target is None:
                continue
            ref = REFS.get((op.table, op.column))
            if op.kind == "set":
                setattr(target, op.column, resolve(op.value, ref))
            elif op.kind == "setkey":
                setattr(target, op.column, {**getattr(target, op.column), op.key: op.value})
            elif op.kind == "delkey":
                setattr(target, op.column, {key: value for key, value
                                            in getattr(target, op.column).items()
                                            if key != op.key})
            elif op.kind == "addvalue":
                setattr(target, op.column, [*getattr(target, op.column), resolve(op.value, ref)])
            elif op.kind == "delvalue":
                setattr(target, op.column, [item for item in getattr(target, op.column)
                                            if item.uuid != op.value])
            elif op.kind == "delete":
                del self.tables[op.db][op.table][target.uuid]
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        referenced = {item.uuid for (table, column) in REFS
                      for parent in self.rows("nb", table) for item in getattr(parent, column)}
        for table in NON_ROOT:
            rows = self.tables.get("nb", {}).get(table, {})
            for uuid in [uuid for uuid in rows if uuid not in referenced]:
                del rows[uuid]

    def snapshot(self, db: str, table: str) -> dict:
        """name -> uuid, to check which rows a change left untouched."""
        return {r.name: r.uuid for r in self.rows(db, table)}
