"""Apply a plan to fake tables, to check that planning again over the result is a no-op.

Fake rows reference each other as row objects (as the IDL does); plan values
name rows by uuid or NewRow.  The replay copies every row first, so the caller's
rows are never changed, then resolves plan references to those copies.
"""

from __future__ import annotations

import types
import uuid as uuidlib

from fakes import row

from ovn_ic_controller.db.plan import NewRow, Plan


def _is_row(value) -> bool:
    return isinstance(value, types.SimpleNamespace) and hasattr(value, "uuid")


def replay(plan: Plan, **dbs: dict[str, list]) -> dict[str, dict[str, list]]:
    """``dbs`` as after ``plan``: ``replay(plan, sb={"Chassis": [...]})`` → same shape."""
    copies: dict[uuidlib.UUID, types.SimpleNamespace] = {}

    def collect(value):
        """Copy ``value`` if it is a row, and every row it references."""
        if isinstance(value, list):
            for item in value:
                collect(item)
        elif _is_row(value) and value.uuid not in copies:
            copies[value.uuid] = types.SimpleNamespace(**vars(value))
            for column in vars(value).values():
                collect(column)

    for tables in dbs.values():
        for rows in tables.values():
            collect(list(rows))
    state = {db: {table: {r.uuid: copies[r.uuid] for r in rows} for table, rows in tables.items()}
             for db, tables in dbs.items()}

    def relink(value):
        if _is_row(value):
            return copies.get(value.uuid, value)
        if isinstance(value, list):
            return [relink(item) for item in value]
        return value

    for copy in copies.values():
        for column, value in vars(copy).items():
            if column != "uuid":
                setattr(copy, column, relink(value))

    inserted: dict[NewRow, uuidlib.UUID] = {}

    def resolve(value):
        if isinstance(value, NewRow):
            value = inserted[value]
        if isinstance(value, uuidlib.UUID):
            return copies.get(value, value)
        if isinstance(value, (list, tuple, set, frozenset)):
            return [resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        return value

    for op in plan.ops:
        table = state.setdefault(op.db, {}).setdefault(op.table, {})
        if op.kind == "insert":
            new = row(**{column: resolve(value) for column, value in op.value.items()})
            inserted[op.target] = new.uuid
            copies[new.uuid] = table[new.uuid] = new
            continue
        target_uuid = inserted[op.target] if isinstance(op.target, NewRow) else op.target
        target = copies.get(target_uuid)  # rows reached only through references count too
        if target is None:
            continue
        if op.kind == "delete":
            table.pop(target_uuid, None)
        elif op.kind == "set":
            setattr(target, op.column, resolve(op.value))
        elif op.kind in ("setkey", "delkey"):
            mapping = dict(getattr(target, op.column))
            if op.kind == "setkey":
                mapping[op.key] = resolve(op.value)
            else:
                mapping.pop(op.key, None)
            setattr(target, op.column, mapping)
        elif op.kind in ("addvalue", "delvalue"):
            values = [v for v in getattr(target, op.column) if v != resolve(op.value)]
            if op.kind == "addvalue":
                values.append(resolve(op.value))
            setattr(target, op.column, values)
    return {db: {table: list(rows.values()) for table, rows in tables.items()}
            for db, tables in state.items()}
