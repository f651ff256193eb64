"""What every sync concern is: declared inputs, and a pure plan from snapshots.

A concern reads the four replicas through a ``Context`` (plain mappings of
table name to rows, so unit tests can pass fake rows) and returns a ``Plan``.
It never opens a transaction.  The daemon recomputes a concern only when a
table it declared as input changed, after a reconnect or failed commit, or when
the AZ or the configuration changed.  An ``incremental`` concern is also told
which rows changed since its previous computation, to redo only their part.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Set
from typing import Any

from ..config import Config
from ..constants import IC_SB
from ..db import schema
from ..db.plan import Plan

Tables = Mapping[str, Mapping[str, Mapping[Any, Any]]]  # db -> table -> uuid -> row
Columns = Mapping[str, Mapping[str, frozenset]]          # db -> table -> columns
ChangedRows = Mapping[tuple[str, str], Set[Any]]         # (db, table) -> row UUIDs


@dataclasses.dataclass
class Context:
    """Read-only inputs of one computation."""

    config: Config
    tables: Tables
    az_name: str = ""
    az: Any | None = None  # this AZ's IC SB Availability_Zone row, once committed
    # For an incremental concern: the rows of its input tables inserted, modified or
    # deleted since its previous plan(); None when unknown, then it recomputes everything.
    changed_rows: ChangedRows | None = None
    # Per database, the schema its server has (as get_schema returns it); behaviour that
    # differs between OVN releases is chosen by what these contain.  Missing: unknown, so
    # nothing newer than ovn-ic 23.03 is assumed.
    schemas: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    # The database to write the IC SB's global rows (the datapath bindings of transit
    # switches and routers) through, or None while another AZ is their writer
    # (db/ic_sb_lock.py).
    global_writer: str | None = IC_SB

    def has_column(self, db: str, table: str, column: str) -> bool:
        """Whether ``db``'s server schema has ``table.column``."""
        return schema.has_column(self.schemas.get(db), table, column)

    def enum(self, db: str, table: str, column: str) -> frozenset | None:
        """The values ``db``'s server schema allows in ``table.column``; None: any."""
        return schema.enum_values(self.schemas.get(db), table, column)

    def rows(self, db: str, table: str):
        """The rows of ``table`` (an empty tuple if the schema lacks it)."""
        found = self.tables.get(db, {}).get(table)
        return found.values() if found is not None else ()

    def row(self, db: str, table: str, uuid: Any) -> Any | None:
        found = self.tables.get(db, {}).get(table)
        return found.get(uuid) if found is not None else None

    def global_rows(self, table: str):
        """The IC SB's rows of ``table`` as the replica of ``global_writer`` has them: the
        global rows are read where they are written, since the locked connection's replica
        has our writes before their transaction is done and the IC SB connection's may not
        yet (a row not seen would be written twice)."""
        return self.rows(self.global_writer or IC_SB, table)


class Concern:
    """Base class: subclasses set ``name``, ``reads``, ``writes`` and implement plan()."""

    name = ""
    reads: Columns = {}
    writes: Columns = {}
    needs_az = True  # computed only once this AZ is registered in the IC SB
    incremental = False  # plan() reads ctx.changed_rows
    # A time.monotonic() instant at which plan() wants to run again although no
    # input changed (e.g. once a peer had time to fix something itself), or None.
    recheck_at: float | None = None
    # plan() left work for later (it plans a big change in parts): run it again as soon
    # as this pass's transactions are done, although no input changed.
    unfinished = False

    def plan(self, ctx: Context) -> Plan:
        raise NotImplementedError

    def report(self, metrics: Any) -> None:
        """Publish what the last plan() found besides row changes (e.g. problems to fix)."""

    def input_tables(self) -> frozenset[tuple[str, str]]:
        """(db, table) pairs of ``reads``; asked on every loop iteration, so built once."""
        found = self.__dict__.get("_input_tables")
        if found is None:
            found = frozenset((db, table) for db, tables in self.reads.items()
                              for table in tables)
            self.__dict__["_input_tables"] = found
        return found


def columns(**tables: str) -> dict[str, frozenset]:
    """``columns(Chassis="name hostname")`` → {"Chassis": frozenset({"name", "hostname"})}."""
    return {table: frozenset(names.split()) for table, names in tables.items()}


def merge_columns(concerns) -> dict[str, dict[str, set[str]]]:
    """Union of what the concerns read and write, per database, for schema registration."""
    wanted: dict[str, dict[str, set[str]]] = {}
    for concern in concerns:
        for spec in (concern.reads, concern.writes):
            for db, tables in spec.items():
                for table, names in tables.items():
                    wanted.setdefault(db, {}).setdefault(table, set()).update(names)
    return wanted
