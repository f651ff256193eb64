"""The one-shot commands leave, reset and clean (``show`` lives in show.py).

Each connects to the databases it needs, computes its plan with the daemon's own
planners (sync/leave.py), prints it, and applies it unless ``--dry-run``.
``reset`` and ``leave`` write the local NB/SB, so they first take the ``ovn_ic``
lock on the local SB and refuse while a controller (ours or OVN's ovn-ic)
holds it.  A dry run only reads, so it needs no lock: while one is held it
prints the plan anyway, saying who holds it (lock.py), since what a controller
keeps up may differ once it is stopped.  ``clean`` writes only the IC SB
(another AZ's rows), so it never takes the local lock.  Applying an already
applied command finds nothing to do.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable

from .config import Config
from .constants import IC_SB, LOCK_NAME, NB, SB
from .db.connection import apply_ssl
from .db.oneshot import Databases
from .db.plan import Op, Plan
from .db.values import column
from .lock import lock_holder
from .sync.base import Context, merge_columns
from .sync.leave import Leave, local_plan, own_az_name, withdrawal_plan

LEAVE_COLUMNS = merge_columns([Leave()])


class Refused(Exception):
    """The command will not do this (exit code 2); the text says why and what to do."""


def reset(config: Config, *, dry_run: bool, timeout: float) -> int:
    with _locked(config, (NB, SB), timeout, dry_run) as dbs:
        ctx = Context(config=config, tables=dbs.tables())
        _carry_out("reset", ctx, [local_plan(ctx)], dbs, dry_run)
    return 0


def leave(config: Config, *, dry_run: bool, timeout: float) -> int:
    with _locked(config, (NB, SB, IC_SB), timeout, dry_run) as dbs:
        ctx = Context(config=config, tables=dbs.tables())
        name = own_az_name(ctx)
        if not name:
            print("leave: this AZ has no name (az-name and NB_Global.name are empty): "
                  "its IC SB rows, if any, are left alone")
        plans = [local_plan(ctx)] + ([withdrawal_plan(ctx, name)] if name else [])
        _carry_out("leave", ctx, plans, dbs, dry_run)
    return 0


def clean(config: Config, az_name: str, *, yes: bool, dry_run: bool, timeout: float) -> int:
    if not (yes or dry_run):
        raise Refused(f"clean deletes AZ {az_name!r} from the IC SB that every AZ shares; "
                      f"run it again with --yes (or with --dry-run to see what it would do)")
    needs_nb = config.enable_ic and not config.az_name  # to learn this AZ's own name
    keys = (NB, IC_SB) if needs_nb else (IC_SB,)
    with open_databases(config, _leave_tables(keys), timeout) as dbs:
        dbs.connect()
        ctx = Context(config=config, tables=dbs.tables())
        if config.enable_ic and az_name == own_az_name(ctx):
            raise Refused(f"{az_name!r} is this AZ and enable-ic is true: set enable-ic=false "
                          f"to make the daemon leave, or stop it and run `leave`")
        plan = withdrawal_plan(ctx, az_name)
        if not plan:
            print(f"clean: no AZ named {az_name!r} in the IC SB: nothing to do")
            return 0
        _carry_out(f"clean {az_name}", ctx, [plan], dbs, dry_run)
    return 0


# ----------------------------------------------------------------- helpers
def use_ssl(config: Config) -> None:
    """The configuration's ssl-* keys, for ssl: remotes (as the daemon sets them)."""
    apply_ssl(config.ssl_private_key, config.ssl_certificate, config.ssl_ca_cert)


def open_databases(config: Config, wanted: dict, timeout: float, *, lock: bool = False):
    """The databases named by ``wanted`` (db → table → columns), the SB lock requested."""
    use_ssl(config)
    return Databases(config.remotes, wanted, timeout=timeout,
                     lock=(SB, LOCK_NAME) if lock else None)


def _leave_tables(keys: Iterable[str]) -> dict:
    return {key: LEAVE_COLUMNS.get(key, {}) for key in keys}


@contextlib.contextmanager
def _locked(config: Config, keys: Iterable[str], timeout: float, dry_run: bool):
    """Databases connected, with the ovn_ic lock held on the local SB, or Refused; for a
    dry run, whoever holds the lock, which is then said."""
    with open_databases(config, _leave_tables(keys), timeout, lock=True) as dbs:
        dbs.connect()
        holder = lock_holder(config, dbs)
        if holder.held and not dry_run:
            raise Refused(f"{holder.detail}: stop the daemon holding it and try again (or "
                          f"set enable-ic=false: the daemon then leaves by itself)")
        if holder.held:
            print(f"note: {holder.detail}; a dry run only reads, but applying needs that "
                  f"instance stopped, and the plan may differ by then")
        yield dbs


def _carry_out(title: str, ctx: Context, plans: list[Plan], dbs: Databases,
               dry_run: bool) -> None:
    """Print the plans, then (unless dry_run) commit them one after the other."""
    ops = [op for plan in plans for op in plan.ops]
    if not ops:
        print(f"{title}: nothing to do")
        return
    print(f"{title}: {len(ops)} change{'s' if len(ops) != 1 else ''}"
          f"{' (dry run: nothing applied)' if dry_run else ''}")
    describe = _Describer(ctx)
    for op in ops:
        print(f"  {op.db:<6} {describe.op(op)}")
    sys.stdout.flush()
    if dry_run:
        return
    for plan in plans:
        if plan:
            dbs.commit(plan)
    print(f"{title}: done")


class _Describer:
    """Names rows the way an operator knows them, for printed plans."""

    def __init__(self, ctx: Context) -> None:
        self.by_uuid = {(db, uuid): (table, row) for db, tables in ctx.tables.items()
                        for table, rows in tables.items() for uuid, row in rows.items()}

    def op(self, op: Op) -> str:
        subject = f"{op.table} {self._label(op.db, op.target)}"
        if op.kind == "delete":
            _, row = self.by_uuid.get((op.db, op.target), ("", None))
            ports = sorted(port.name for port in column(row, "ports", ()))
            return f"delete {subject}" + (f" with its ports {', '.join(ports)}" if ports else "")
        if op.kind == "delkey":
            return f"{subject}: remove {op.column}:{op.key}"
        if op.kind == "delvalue":
            table, _ = self.by_uuid.get((op.db, op.value), ("", None))
            return f"{subject}: remove {op.column} {table} {self._label(op.db, op.value)}"
        return f"{subject}: {op.kind} {op.column}"

    def _label(self, db: str, uuid) -> str:
        _, row = self.by_uuid.get((db, uuid), ("", None))
        if row is None:
            return str(uuid)
        for attribute in ("name", "logical_port"):
            if column(row, attribute):
                return column(row, attribute)
        if column(row, "ip_prefix"):
            return f"{row.ip_prefix} via {column(row, 'nexthop', '?')}"
        return str(uuid)
