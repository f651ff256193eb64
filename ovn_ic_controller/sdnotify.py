"""systemd's sd_notify datagram protocol, without libsystemd."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping


def notify(message: str) -> bool:
    """Send ``message`` (e.g. "READY=1") to $NOTIFY_SOCKET; False when not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message.encode(), address)
        except OSError:
            return False
    return True


class Watchdog:
    """systemd's watchdog (``WatchdogSec=``): WATCHDOG=1 every half of $WATCHDOG_USEC.

    The daemon's loop calls :meth:`kick` once per iteration and wakes up by
    :meth:`wake_at`, so the pings stop when the loop stops: a frozen or hung
    daemon cannot keep them going, as a thread could, and systemd kills it,
    which closes its connections and frees the ``ovn_ic`` lock for a standby.
    """

    def __init__(self, interval: float | None, clock: Callable[[], float],
                 send: Callable[[str], bool] = notify) -> None:
        self.interval = interval  # seconds between pings; None: no watchdog
        self.clock = clock
        self.send = send
        self.last: float | None = None

    @classmethod
    def from_environment(cls, clock: Callable[[], float],
                         environ: Mapping[str, str] = os.environ,
                         pid: int | None = None) -> Watchdog:
        """As sd_watchdog_enabled(3): on when WATCHDOG_USEC is a positive number and
        WATCHDOG_PID, if set, is this process."""
        pid = os.getpid() if pid is None else pid
        try:
            usec = int(environ.get("WATCHDOG_USEC", ""))
            owner = int(environ.get("WATCHDOG_PID") or pid)
        except ValueError:
            return cls(None, clock)
        if usec <= 0 or owner != pid:
            return cls(None, clock)
        return cls(usec / 2e6, clock)

    def kick(self) -> None:
        """Ping systemd if half the watchdog timeout has passed since the last ping."""
        if self.interval is None:
            return
        now = self.clock()
        if self.last is None or now - self.last >= self.interval:
            self.send("WATCHDOG=1")
            self.last = now

    def wake_at(self) -> float | None:
        """When the loop must run again to ping in time (None: no watchdog)."""
        if self.interval is None or self.last is None:
            return None
        return self.last + self.interval
