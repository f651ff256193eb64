"""When the automation acts: only while the cluster router exists.

All automation (the ``Automation`` and ``AutoRoute`` concerns) acts only while
the local NB has a Logical_Router named ``cluster-router`` (default
``ovn-cluster``).  Without one the daemon behaves exactly like OVN's ovn-ic and
creates no transit switch, port, gateway row or route option.  Several routers
with that name: the one with the lowest UUID is used, with a warning.  If the
router goes away later, what the automation made stays as it is (its router
ports go with the router); ``reset`` removes the rest.
"""

from __future__ import annotations

from typing import Any

from ...constants import LR, NB
from ..base import Context
from ..common import LogOnce


def cluster_router(ctx: Context, findings: LogOnce) -> Any | None:
    """The router named ``cluster-router``, or None: then no automation at all."""
    name = ctx.config.cluster_router
    routers = sorted((lr for lr in ctx.rows(NB, LR) if lr.name == name),
                     key=lambda lr: str(lr.uuid))
    if len(routers) > 1:
        findings("warning", "automation.router_ambiguous", router=name,
                 rows=",".join(str(lr.uuid) for lr in routers),
                 reason="several routers have this name; using the lowest UUID")
    return routers[0] if routers else None
