"""The single writer of the IC SB's global rows, as ovn-ic 26.09 has it.

Every AZ used to create the transit switches' datapath bindings, racing each
other; the 26.03 schema made that worse (its unique index is ``(nb_ic_uuid,
tunnel_key)``, so two AZs' rows for one switch can both commit), and 26.09's
ovn-ic opens a second IC SB connection holding lock ``ovn_ic_sb``: only the
holder creates, stamps and deletes the global rows, always through that
connection, whose transactions assert the lock.  We do the same whenever the
IC SB schema is 26.03's or later (it has ``Datapath_Binding.nb_ic_uuid``):
26.09 peers then share the one writer with us, and 26.03 peers, which take
no lock, lose nothing.  On older schemas there is no such connection and every
AZ writes the global rows, as with 23.03.
"""

from __future__ import annotations

from .. import logs
from ..constants import IC_SB, IC_SB_LOCK, IC_SB_LOCKED
from .connection import Database
from .schema import has_column

log = logs.get("db.ic_sb_lock")


def needs_single_writer(ic_sb_schema: dict | None) -> bool:
    return has_column(ic_sb_schema, "Datapath_Binding", "nb_ic_uuid")


class GlobalWriter:
    """Opens the locked connection once the IC SB schema calls for it (as ``dbs[IC_SB_LOCKED]``,
    so it is waited on, committed through and closed like the others) and says through which
    database the global rows may be written now."""

    def __init__(self) -> None:
        self.held: bool | None = None

    def run(self, dbs: dict[str, Database], wanted: dict[str, set[str]], *, active: bool,
            probe_interval: int | None) -> bool:
        """Open or run the connection; True when the lock was just taken or lost.

        Only an ``active`` controller (holding its AZ's ``ovn_ic`` lock, enable-ic true)
        asks for the lock: a standby or leaving one would keep every AZ from writing the
        global rows (26.09's ovn-ic asks for it on standby too).
        """
        if not active:
            held = self.held
            self.close(dbs)
            if held:
                log.info("ic_sb_lock.released", lock=IC_SB_LOCK,
                         message="not active here: another AZ writes the IC SB's global rows")
            return bool(held)
        writer = dbs.get(IC_SB_LOCKED)
        if writer is None:
            ic_sb = dbs[IC_SB]
            if not needs_single_writer(ic_sb.schema):
                return False
            writer = dbs[IC_SB_LOCKED] = Database(IC_SB_LOCKED, ic_sb.remote, wanted,
                                                  probe_interval=probe_interval,
                                                  lock=IC_SB_LOCK)
        writer.run()
        held = writer.has_lock and writer.connected
        if held == self.held:
            return False
        if held or self.held is not None:
            log.info("ic_sb_lock.acquired" if held else "ic_sb_lock.released", lock=IC_SB_LOCK,
                     message="this AZ writes the IC SB's global rows" if held else
                     "another AZ writes the IC SB's global rows")
        self.held = held
        return True

    def database(self, dbs: dict[str, Database]) -> str | None:
        """The key of the database to write the global rows through: the IC SB itself on
        schemas before 26.03, the locked connection while it holds the lock, else None."""
        if IC_SB_LOCKED not in dbs:
            return IC_SB
        return IC_SB_LOCKED if self.held else None

    def close(self, dbs: dict[str, Database]) -> None:
        """Drop the connection (it is opened again, e.g. after the IC SB remote changed)."""
        self.held = None
        writer = dbs.pop(IC_SB_LOCKED, None)
        if writer is not None:
            writer.close()
