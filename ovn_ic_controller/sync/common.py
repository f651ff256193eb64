"""Small helpers that several sync concerns need, each written once."""

from __future__ import annotations

from typing import Any

from ..db.values import is_true


def is_remote_chassis(chassis: Any) -> bool:
    """An SB Chassis standing for another AZ's gateway, as ovn-ic decides it.

    ``is-remote`` marks the rows an IC controller creates; ``is-interconn``
    (which ovn-controller owns) wins over it, so a chassis carrying both is this
    AZ's own gateway: never mirrored over, never deleted on leave.
    """
    return (is_true(chassis.other_config.get("is-remote"))
            and not is_true(chassis.other_config.get("is-interconn")))
