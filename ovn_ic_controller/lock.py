"""Who holds the ``ovn_ic`` lock on the local SB: nobody, this configuration's daemon, or
another instance.

OVSDB tells a client only whether a lock it asks for is granted or contended,
never who holds it, and an ``ovn-ic`` leaves no mark of its own in the
databases.  So the one-shot commands ask for the lock for a moment (granted:
nobody held it; closing the connection releases it) and, when it is contended,
ask the daemon this configuration describes, at its ``metrics-address``,
whether it is the holder (its ``ovn_ic_controller_lock_held`` gauge).  Only a
daemon that answers 1 there is "ours"; any other holder is "another
instance": OVN's C ``ovn-ic``, or an ovn-ic-controller with another
configuration (e.g. an HA peer on another host), which cannot be told apart.
"""

from __future__ import annotations

import dataclasses
import urllib.request

from .config import Config
from .constants import LOCK_NAME, SB
from .db.oneshot import Databases

NOBODY, OURS, OTHER = "nobody", "ours", "other"
LOCK_GAUGE = "ovn_ic_controller_lock_held"
PAUSED_GAUGE = "ovn_ic_controller_paused"


@dataclasses.dataclass(frozen=True)
class LockHolder:
    holder: str  # NOBODY, OURS or OTHER
    detail: str  # who, in words, for an operator
    paused: bool = False  # OURS only: `ovn-appctl … pause` stopped its writing

    @property
    def held(self) -> bool:
        return self.holder != NOBODY


def lock_holder(config: Config, dbs: Databases) -> LockHolder:
    """Whom the lock requested on ``dbs``' SB (``open_databases(..., lock=True)``) is held by."""
    remote = dbs.dbs[SB].remote
    if dbs.lock_is_free(SB):
        return LockHolder(NOBODY, f"nobody holds the {LOCK_NAME} lock on {remote}: "
                                  f"no controller is active in this AZ")
    host, port = config.metrics_address
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics"
    gauges = _gauges(url) if port else {}
    held = gauges.get(LOCK_GAUGE)
    if held == 1:
        return LockHolder(OURS, f"the ovn-ic-controller daemon of {config.path} (metrics "
                                f"at {url}) holds the {LOCK_NAME} lock on {remote}",
                          paused=gauges.get(PAUSED_GAUGE) == 1)
    daemon = ("that configuration's daemon is on standby" if held == 0
              else "no daemon of that configuration answers at its metrics-address")
    return LockHolder(OTHER, f"another instance holds the {LOCK_NAME} lock on {remote}: "
                             f"OVN's ovn-ic or an ovn-ic-controller not configured by "
                             f"{config.path} ({daemon})")


def _gauges(url: str) -> dict[str, float]:
    """LOCK_GAUGE's and PAUSED_GAUGE's values at ``url``; none when nothing of ours answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            body = reply.read().decode(errors="replace")
    except (OSError, ValueError):
        return {}
    found = {}
    for line in body.splitlines():
        name, _, value = line.partition(" ")
        if name in (LOCK_GAUGE, PAUSED_GAUGE):
            try:
                found[name] = float(value)
            except ValueError:
                pass
    return found
