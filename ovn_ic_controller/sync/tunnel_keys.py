"""Tunnel-key allocation as ovn-ic does it: with a persistent hint (docs/behaviour.md §3.4),
and for datapaths since 25.03 from the bottom of the range every time (``lowest_free``).

The hint lives as long as the process, so keys are handed out round-robin
rather than always reusing the lowest free one: a key freed a moment ago is not
given to a new object at once, while another AZ may still be using it.
"""

from __future__ import annotations

from .. import logs

log = logs.get("sync.tunnel_keys")


class TunnelKeyAllocator:
    """Keys in the inclusive range [minimum, maximum], scanned from after the hint."""

    def __init__(self, name: str, minimum: int, maximum: int, hint: int) -> None:
        if minimum > maximum:
            raise ValueError(f"empty tunnel key range [{minimum}, {maximum}]")
        self.name = name
        self.minimum = minimum
        self.maximum = maximum
        self.hint = hint

    def _after(self, key: int) -> int:
        following = key + 1
        return following if self.minimum <= following <= self.maximum else self.minimum

    def allocate(self, used: set[int]) -> int | None:
        """A key not in ``used`` (which it is then added to), or None when all are taken.

        The hint itself is tried last of all, never in the same call, exactly as
        ovn-ic; unlike ovn-ic the scan also ends when the hint lies outside the
        range (ovn-ic loops forever if such a range is full).
        """
        key = self.hint
        for _ in range(self.maximum - self.minimum + 1):
            key = self._after(key)
            if key == self.hint:
                break
            if key not in used:
                used.add(key)
                self.hint = key
                return key
        log.warning("tunnel_keys.exhausted", keys=self.name,
                    message=f"all {self.name} tunnel ids exhausted",
                    range=f"{self.minimum}-{self.maximum}")
        return None


def lowest_free(name: str, minimum: int, maximum: int, used: set[int]) -> int | None:
    """ovn-ic 25.03+'s allocation of datapath keys: with a hint that starts at ``minimum``
    on every call, the lowest free key above it, and ``minimum`` itself only when all
    others are taken; added to ``used``.  None (with a warning) when the range is full."""
    for key in range(minimum + 1, maximum + 1):
        if key not in used:
            used.add(key)
            return key
    if minimum not in used:
        used.add(minimum)
        return minimum
    log.warning("tunnel_keys.exhausted", keys=name, message=f"all {name} tunnel ids exhausted",
                range=f"{minimum}-{maximum}")
    return None
