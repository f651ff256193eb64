"""Inactivity probes set in the databases, as ovn-ic 23.06+ reads them.

``NB_Global options:ic_probe_interval`` sets the probe of the local NB and SB
connections, ``IC_NB_Global options:ic_probe_interval`` that of the IC NB and
IC SB ones, in ms: 0 turns it off, a value under 1000 is raised to 1000, none
(or a negative one) leaves the default.  The ``probe-interval-ms`` key of our
configuration, when set, wins over both.
"""

from __future__ import annotations

from ..constants import IC_NB, IC_SB, IC_SB_LOCKED, NB, SB
from .connection import Database
from .values import parse_int

#: Which database's global row sets each connection's probe.
SOURCES = {NB: (NB, "NB_Global"), SB: (NB, "NB_Global"), IC_NB: (IC_NB, "IC_NB_Global"),
           IC_SB: (IC_NB, "IC_NB_Global"), IC_SB_LOCKED: (IC_NB, "IC_NB_Global")}


def apply(dbs: dict[str, Database], configured: int | None) -> None:
    """Set every connection's probe from the configuration or, if it has none, the DBs."""
    for key, db in dbs.items():
        db.set_probe_interval(configured if configured is not None else from_options(dbs, key))


def from_options(dbs: dict[str, Database], key: str) -> int | None:
    source, table = SOURCES[key]
    rows = dbs[source].tables.get(table)
    row = next(iter(rows.rows.values()), None) if rows is not None else None
    options = getattr(row, "options", None) or {}
    interval = parse_int(options.get("ic_probe_interval"), -1)
    if interval < 0:
        return None
    return interval if interval == 0 else max(interval, 1000)
