"""When to try again after a failure: the one retry policy of the daemon.

A failed commit, a schema that could not be fetched and a concern that raised
all wait ``first`` seconds, then twice as long after each further failure, up
to ``limit``; a success starts over.  The loop never sleeps: it asks whether
it is still ``waiting`` and wakes itself at ``retry_at``.
"""

from __future__ import annotations


class Backoff:
    """Exponential delays between the attempts of one thing, for a non-blocking loop."""

    def __init__(self, first: float, limit: float) -> None:
        self.first = first
        self.limit = limit
        self.delay = first    # seconds to wait after the next failure
        self.retry_at = 0.0   # time.monotonic() instant before which not to try again

    def failed(self, now: float) -> float:
        """Note a failure at ``now``; the seconds until the next attempt."""
        delay = self.delay
        self.retry_at = now + delay
        self.delay = min(delay * 2, self.limit)
        return delay

    def reset(self) -> None:
        """A success: the next failure waits ``first`` again."""
        self.delay, self.retry_at = self.first, 0.0

    def waiting(self, now: float) -> bool:
        return now < self.retry_at
