"""Plain-data stand-ins for IDL rows and contexts, for unit tests of sync concerns.

Concerns only read attributes of rows, so a namespace with a ``uuid`` is enough.
"""

from __future__ import annotations

import types
import uuid as uuidlib

from ovn_ic_controller import config
from ovn_ic_controller.sync.base import Context


def row(**columns) -> types.SimpleNamespace:
    """A fake row; ``uuid`` is generated unless given."""
    columns.setdefault("uuid", uuidlib.uuid4())
    return types.SimpleNamespace(**columns)


def make_config(**settings) -> config.Config:
    raw = {"ic-nb-db": "unix:/nonexistent/nb.sock", "ic-sb-db": "unix:/nonexistent/sb.sock"}
    raw.update({key.replace("_", "-"): value for key, value in settings.items()})
    return config.from_mapping(raw)


def context(config_settings=None, az_name="", az=None, **dbs) -> Context:
    """A Context over fake tables: ``context(nb={"NB_Global": [row(...)]}, ic_sb={...})``."""
    tables = {db: {table: {r.uuid: r for r in rows} for table, rows in spec.items()}
              for db, spec in dbs.items()}
    return Context(config=make_config(**(config_settings or {})), tables=tables,
                   az_name=az_name, az=az)
