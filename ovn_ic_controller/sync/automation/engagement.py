"""When the automation acts: only while an automated router exists.

The automated routers are the ``cluster-router`` (default ``ovn-cluster``) and
the router of each ``[router NAME]`` section.  Each is automated only while the
local NB has a Logical_Router of its name; while none exists the daemon behaves
exactly like OVN's ovn-ic and creates no transit switch, port, gateway row or
route option.  Several routers with one name: the one with the lowest UUID is
used, with a warning.  If a router goes away later, what the automation made
for it stays as it is (its router ports go with the router); ``reset`` removes
the rest.
"""

from __future__ import annotations

from typing import Any

from ...config import RouterConfig
from ...constants import LR, NB
from ..base import Context
from ..common import LogOnce


def engaged_routers(ctx: Context, findings: LogOnce) -> list[tuple[RouterConfig, Any]]:
    """(configuration, NB row) of each automated router that exists; empty: no automation."""
    rows: dict[str, list[Any]] = {}
    for lr in ctx.rows(NB, LR):
        rows.setdefault(lr.name, []).append(lr)
    engaged = []
    for router in ctx.config.automated_routers:
        named = sorted(rows.get(router.name, ()), key=lambda lr: str(lr.uuid))
        if len(named) > 1:
            findings("warning", "automation.router_ambiguous", router=router.name,
                     rows=",".join(str(lr.uuid) for lr in named),
                     reason="several routers have this name; using the lowest UUID")
        if named:
            engaged.append((router, named[0]))
    return engaged
