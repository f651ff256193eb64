"""Plain-data stand-ins for IDL rows, contexts and replicas, for unit tests of sync concerns.

Concerns only read attributes of rows, so a namespace with a ``uuid`` is enough.
Rows reference each other as row objects, as the IDL gives them.  A ``Replica``
holds such rows and applies a plan to them as OVSDB would, so that a test can
plan again over the result and check that nothing changes any more.
"""

from __future__ import annotations

import types
import uuid as uuidlib
from collections.abc import Callable, Iterable

from ovn_ic_controller import config
from ovn_ic_controller.db.plan import NewRow, Op, Plan
from ovn_ic_controller.sync.base import Context


def row(**columns) -> types.SimpleNamespace:
    """A fake row; ``uuid`` is generated unless given."""
    columns.setdefault("uuid", uuidlib.uuid4())
    return types.SimpleNamespace(**columns)


def make_config(routers=None, **settings) -> config.Config:
    """``routers``: the [router NAME] sections, {NAME: {key: value}}."""
    raw = {"ic-nb-db": "unix:/nonexistent/nb.sock", "ic-sb-db": "unix:/nonexistent/sb.sock"}
    raw.update({key.replace("_", "-"): value for key, value in settings.items()})
    return config.from_mapping(raw, sections=routers)


def context(config_settings=None, az_name="", az=None, schemas=None, **dbs) -> Context:
    """A Context over fake tables: ``context(nb={"NB_Global": [row(...)]}, ic_sb={...})``;
    ``schemas``: db → server schema, as far as a test needs one (none: 23.03's)."""
    tables = {db: {table: {r.uuid: r for r in rows} for table, rows in spec.items()}
              for db, spec in dbs.items()}
    return Context(config=make_config(**(config_settings or {})), tables=tables,
                   az_name=az_name, az=az, schemas=schemas or {})


# ------------------------------------------------------------------ replicas
def is_row(value) -> bool:
    return isinstance(value, types.SimpleNamespace) and hasattr(value, "uuid")


def referenced(value) -> Iterable:
    """The rows a column value references."""
    if is_row(value):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from referenced(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from referenced(item)


def _identity(value):
    """What tells set elements apart: a row's uuid, any other value itself."""
    return value.uuid if is_row(value) else value


Tables = dict[str, dict[str, list]]  # db -> table -> rows


class Replica:
    """Fake replicas, ``tables[db][table]`` a list of rows, that plans apply to.

    ``apply`` does what OVSDB does with a plan: references (uuids, NewRow handles)
    become rows, columns an insert leaves out get their ``insert_defaults``, a change
    gives the row a new column value (as the IDL does), and rows of ``non_root`` tables
    that no row references any more are garbage-collected.

    Some plans OVSDB would take fail the test instead: an op on, or a reference to,
    a row that does not exist (in a fake nothing else can have deleted it); adding a
    value a set already has or removing one it lacks (wasted work: the concern
    misread its inputs); and, with ``insert_defaults`` given, an insert into a table
    it does not list.
    """

    passes = 3  # how many plans settle() allows
    #: (db, table, column) holding UUIDs that are not references (nb_ic_uuid, say).
    plain_uuids: frozenset = frozenset()

    def __init__(self, tables: Tables | None = None, *, non_root: Iterable = (),
                 insert_defaults: dict | None = None, az_name: str = "az1",
                 settings: dict | None = None) -> None:
        self.tables: Tables = {db: {table: list(rows) for table, rows in spec.items()}
                               for db, spec in (tables or {}).items()}
        self.non_root = set(non_root)  # {(db, table)}
        self.insert_defaults = insert_defaults
        self.az_name = az_name
        self.az = None  # this AZ's IC SB Availability_Zone row, once a world made it
        self.settings = dict(settings or {})
        self.schemas: dict = {}  # db -> server schema (see ``context``)

    # ------------------------------------------------------------ rows
    def new_row(self, **columns):
        return row(**columns)

    def add(self, db: str, table: str, **columns):
        new = self.new_row(**columns)
        self.tables.setdefault(db, {}).setdefault(table, []).append(new)
        return new

    def rows(self, db: str, table: str) -> list:
        return list(self.tables.get(db, {}).get(table, ()))

    def find(self, db: str, table: str, **match) -> list:
        return [r for r in self.rows(db, table)
                if all(getattr(r, key) == value for key, value in match.items())]

    def one(self, db: str, table: str, **match):
        (found,) = self.find(db, table, **match)
        return found

    def named(self, db: str, table: str, name: str):
        return next(iter(self.find(db, table, name=name)), None)

    # --------------------------------------------------------- running
    def ctx(self) -> Context:
        return context(self.settings, az_name=self.az_name, az=self.az, schemas=self.schemas,
                       **self.tables)

    def run(self, concern) -> Plan:
        """One pass: plan, then apply the plan."""
        plan = concern.plan(self.ctx())
        self.apply(plan)
        return plan

    def settle(self, concern, passes: int | None = None,
               after: Callable[[], None] | None = None) -> list[Plan]:
        """Passes (each followed by ``after``) until one plans nothing; the non-empty plans.

        Fails if ``passes`` (default ``self.passes``) plans were not enough to reach a
        plan that changes nothing.
        """
        passes = passes or self.passes
        plans: list[Plan] = []
        for _ in range(passes):
            plan = self.run(concern)
            if not plan:
                return plans
            plans.append(plan)
            if after is not None:
                after()
        raise AssertionError(f"no fixed point after {passes} passes: {plans[-1].ops}")

    # -------------------------------------------------------- applying
    def apply(self, plan: Plan) -> None:
        index = self._index()
        inserted: dict[NewRow, object] = {}
        deleted: dict[tuple[str, str], set] = {}
        # (row id, column) -> the set column's new list and its elements' identities.  Like
        # the IDL, a change gives the row a new list, but only once per plan: linear work.
        sets: dict[tuple[int, str], tuple[list, set]] = {}

        def resolve(value, db):
            if isinstance(value, NewRow):
                return inserted[value]
            if isinstance(value, uuidlib.UUID):
                if value not in index[db]:
                    raise AssertionError(f"reference to no row of {db}: {value}")
                return index[db][value]
            if isinstance(value, (list, tuple, set, frozenset)):
                return [resolve(item, db) for item in value]
            if isinstance(value, dict):
                return {key: resolve(item, db) for key, item in value.items()}
            return value

        def elements(target, column):
            if (id(target), column) not in sets:
                fresh = list(getattr(target, column))
                setattr(target, column, fresh)
                sets[id(target), column] = fresh, {_identity(item) for item in fresh}
            return sets[id(target), column]

        for op in plan.ops:
            index.setdefault(op.db, {})
            if op.kind == "insert":
                values = {column: value if (op.db, op.table, column) in self.plain_uuids
                          else resolve(value, op.db) for column, value in op.value.items()}
                new = self.add(op.db, op.table, **{**self._defaults(op), **values})
                inserted[op.target] = index[op.db][new.uuid] = new
                continue
            target = (inserted.get(op.target) if isinstance(op.target, NewRow)
                      else index[op.db].get(op.target))
            if target is None:
                raise AssertionError(f"{op.kind} of a row that does not exist: {op}")
            if op.kind == "delete":
                deleted.setdefault((op.db, op.table), set()).add(id(target))
            elif op.kind == "set":
                sets.pop((id(target), op.column), None)
                setattr(target, op.column, op.value if (op.db, op.table, op.column)
                        in self.plain_uuids else resolve(op.value, op.db))
            elif op.kind == "setkey":
                setattr(target, op.column, {**getattr(target, op.column),
                                            op.key: resolve(op.value, op.db)})
            elif op.kind == "delkey":
                setattr(target, op.column, {key: value for key, value
                                            in getattr(target, op.column).items()
                                            if key != op.key})
            elif op.kind == "addvalue":
                value = resolve(op.value, op.db)
                items, identities = elements(target, op.column)
                if _identity(value) in identities:
                    raise AssertionError(f"adds a value the set already has: {op}")
                items.append(value)
                identities.add(_identity(value))
            elif op.kind == "delvalue":
                gone = _identity(resolve(op.value, op.db))
                items, identities = elements(target, op.column)
                if gone not in identities:
                    raise AssertionError(f"removes a value the set does not have: {op}")
                items[:] = [item for item in items if _identity(item) != gone]
                identities.discard(gone)
            else:
                raise AssertionError(f"unknown op {op}")
        for (db, table), doomed in deleted.items():
            rows = self.tables.get(db, {}).get(table, [])
            rows[:] = [r for r in rows if id(r) not in doomed]
        self._collect_garbage()

    def _defaults(self, op: Op) -> dict:
        if self.insert_defaults is None:
            return {}
        if (op.db, op.table) not in self.insert_defaults:
            raise AssertionError(f"unexpected insert into {op.db} {op.table}: {op}")
        return self.insert_defaults[op.db, op.table]

    def _index(self) -> dict[str, dict]:
        """db -> uuid -> row, for every row stored or referenced from one stored."""
        index: dict[str, dict] = {}
        for db, tables in self.tables.items():
            found = index.setdefault(db, {})
            pending = [r for rows in tables.values() for r in rows]
            while pending:
                current = pending.pop()
                if current.uuid not in found:
                    found[current.uuid] = current
                    for value in vars(current).values():
                        pending.extend(referenced(value))
        return index

    def _collect_garbage(self) -> None:
        """Drop rows of non-root tables that no row references (again, until none is left)."""
        collected = True
        while collected:
            collected = False
            for db, table in self.non_root:
                rows = self.tables.get(db, {}).get(table)
                if not rows:
                    continue
                alive = {r.uuid for parents in self.tables[db].values() for parent in parents
                         for value in vars(parent).values() for r in referenced(value)}
                kept = [r for r in rows if r.uuid in alive]
                if len(kept) < len(rows):
                    rows[:] = kept
                    collected = True


def copy_rows(dbs: Tables) -> Tables:
    """A copy of ``dbs`` whose rows are copies referencing each other (never the originals)."""
    copies: dict = {}
    pending = [r for tables in dbs.values() for rows in tables.values() for r in rows]
    while pending:
        original = pending.pop()
        if original.uuid not in copies:
            copies[original.uuid] = types.SimpleNamespace(**vars(original))
            for value in vars(original).values():
                pending.extend(referenced(value))

    def relink(value):
        if is_row(value):
            return copies[value.uuid]
        if isinstance(value, (list, tuple)):
            return [relink(item) for item in value]
        return value

    for copy in copies.values():
        for column, value in vars(copy).items():
            if column != "uuid":
                setattr(copy, column, relink(value))
    return {db: {table: [copies[r.uuid] for r in rows] for table, rows in tables.items()}
            for db, tables in dbs.items()}


def replay(plan: Plan, **dbs) -> Tables:
    """``dbs`` as after ``plan``: ``replay(plan, sb={"Chassis": [...]})`` → same shape.

    The caller's rows are never changed: the plan is applied to copies of them.
    """
    replica = Replica(copy_rows(dbs))
    replica.apply(plan)
    return replica.tables
