"""Where this instance stands: active or standby, idle and why, in sync or not.

Each change is told once to the log and the metrics; the current state is what
/readyz answers and what systemd hears (READY=1 with a STATUS= line).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .. import logs, sdnotify
from ..constants import LOCK_NAME
from ..db.connection import Database
from ..metrics import Health
from ..sync.az import AzIdentity

log = logs.get("daemon")

IDLE_MESSAGES = {
    "ic-disabled": "enable-ic is false: leaving the interconnection, then idle",
    "no-nb-global": "the local NB has no NB_Global row yet (is ovn-northd running?)",
    "no-az-name": "neither az-name in the configuration nor NB_Global.name is set",
}


class Status:
    """The lock, the AZ identity and the sync state, and what they are reported as."""

    def __init__(self, metrics: Any, health: Health) -> None:
        self.metrics = metrics
        self.health = health
        self.active: bool | None = None     # holds the ovn_ic lock; None: not known yet
        self.identity: tuple | None = None  # (AZ name, UUID of its IC SB row or None)
        self.idle_reason: str | None = "starting"
        self.converged_once = False

    # ------------------------------------------------------------------ lock
    def track_lock(self, sb: Database) -> bool:
        """Follow the ovn_ic lock on the local SB; True when this instance just became active."""
        if not sb.synced:
            return False
        active = sb.has_lock
        if active == self.active:
            return False
        if active:
            log.info("lock.acquired", lock=LOCK_NAME, state="active",
                     message="ovn-ic lock acquired. This instance is now active.")
        elif self.active is not None or sb.is_lock_contended:
            log.info("lock.lost" if self.active else "lock.standby", lock=LOCK_NAME,
                     state="standby",
                     message="This instance is on standby: another holds the ovn_ic lock.")
        self.active = active
        self.metrics.lock_held.set(1 if active else 0)
        return active

    def forget_lock(self) -> None:
        """A new SB connection: the lock is requested again."""
        self.active = None

    # ------------------------------------------------------------ readiness
    def waiting_for(self, keys: list[str]) -> None:
        self.health.set(False, "waiting for databases: " + ", ".join(keys))

    def standby(self, sb: Database) -> None:
        if sb.is_lock_contended:
            self.health.set(True, "standby: another instance holds the ovn_ic lock")
            _notify_ready("standby")

    def track_identity(self, identity: AzIdentity) -> bool:
        """Follow the AZ and why this instance idles; True when the AZ changed."""
        key = (identity.name, identity.row.uuid if identity.row is not None else None)
        changed, self.identity = key != self.identity, key
        if identity.idle_reason != self.idle_reason:
            self.idle_reason = identity.idle_reason
            self.metrics.set_idle_reason(identity.idle_reason)
            if identity.idle_reason:
                log.warning("daemon.idle", reason=identity.idle_reason,
                            message=IDLE_MESSAGES[identity.idle_reason])
        return changed

    def converged(self, failing: Collection[str]) -> None:
        """All that can be computed is written; in sync unless some concerns keep failing."""
        if not failing:
            self.metrics.last_sync.set_to_current_time()
        if not self.converged_once:
            self.converged_once = True
            log.info("daemon.synced", az=self.identity[0] if self.identity else "",
                     idle_reason=self.idle_reason, failing=sorted(failing))
        if failing:
            state = "active, failing: " + ", ".join(sorted(failing))
        elif self.idle_reason:
            state = f"active, idle: {self.idle_reason}"
        else:
            state = "active: in sync"
        self.health.set(True, state)
        _notify_ready(state)


def _notify_ready(state: str) -> None:
    sdnotify.notify(f"READY=1\nSTATUS={state}")
