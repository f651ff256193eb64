"""Link addresses and MACs of this AZ's transit-switch ports: deterministic, collision-free.

Kube-OVN draws a random address (network address included) and a random MAC
for each port, checks only part of what is in use, and draws again on every
re-establish; two AZs joining at the same moment can draw the same address.
Here everything follows from names every AZ can see:

- the preferred host of an AZ is a SHA-256 hash of its name (the same offset
  on every switch), and allocation probes linearly past every address in use,
  never handing out the network or the broadcast (all-ones) address;
- the MAC is a hash of (AZ, switch), locally administered and unicast;
- an address a port already has is kept, unless another port uses it too and
  the collision rule below says this AZ is the one that moves.

Collision rule, computed alike on both sides: when two automated AZs (ports
whose MAC is ``link_mac(az, switch)``) hold the same address, the AZ whose name
sorts higher moves.  A port that is not automated (a hand-made port, the C
ovn-ic, Kube-OVN) never moves by itself, so against one of those we always move.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LINK_BASE = 100  # switch i uses 169.254.(100+i).0/24, as Kube-OVN's IC server


def default_subnets(index: int, ipv6: bool) -> str:
    """``external_ids:subnet`` of switch ``index`` when this daemon creates it."""
    octet = LINK_BASE + index
    subnets = [f"169.254.{octet}.0/24"]
    if ipv6:
        subnets.append(f"fe80:a9fe:{octet:x}::/112")
    return ",".join(subnets)


def parse_subnets(text: str) -> list[Network] | None:
    """Comma-separated CIDRs (host bits dropped), at most one per family; None if invalid."""
    networks: list[Network] = []
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return None
        if any(known.version == network.version for known in networks):
            return None
        networks.append(network)
    return networks or None


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode()).digest()


def host_count(network: Network) -> int:
    """How many addresses are neither the network nor the all-ones address."""
    return max(network.num_addresses - 2, 0)


def preferred_offset(az: str, network: Network) -> int:
    """The AZ's preferred host offset in ``network``, in 1 .. host_count."""
    return int.from_bytes(_digest(az)[:8], "big") % host_count(network) + 1


def is_usable(address: Address, network: Network) -> bool:
    return (address.version == network.version and address in network
            and address not in (network.network_address, network.broadcast_address))


def allocate(az: str, network: Network, used: Iterable[Address]) -> Address | None:
    """The first free host from the AZ's preferred offset on, wrapping; None when full."""
    count = host_count(network)
    if count == 0:
        return None
    taken = {address for address in used if is_usable(address, network)}
    base = int(network.network_address)
    offset = preferred_offset(az, network)
    for _ in range(min(count, len(taken) + 1)):
        candidate = ipaddress.ip_address(base + offset)
        if candidate not in taken:
            return candidate
        offset = offset % count + 1
    return None


def link_mac(az: str, switch: str) -> str:
    """A MAC for the AZ's port on ``switch``: locally administered (bit 1), unicast (bit 0)."""
    octets = bytearray(_digest(az, switch)[:6])
    octets[0] = (octets[0] | 0x02) & 0xFE
    return ":".join(f"{octet:02x}" for octet in octets)


@dataclasses.dataclass(frozen=True)
class Occupant:
    """An address some other port on the switch uses."""

    address: Address
    az: str  # "" when not known
    automated: bool  # follows the same rule, so it moves by itself when it must


@dataclasses.dataclass(frozen=True)
class Choice:
    """The address to use, and why it differs from the current one (if it does)."""

    address: Address | None  # None: the subnet is full
    moved_from: Address | None = None  # set when a collision moved us
    yielded_to: tuple[str, ...] = ()  # who holds the address we left ("" = unknown)


def must_move(az: str, holders: Iterable[Occupant]) -> bool:
    """Whether ``az`` leaves an address it shares with ``holders``: it sorts above an
    automated holder, or a holder does not follow this rule at all."""
    return any(not holder.automated or holder.az <= az for holder in holders)


def choose(az: str, network: Network, current: Address | None,
           occupants: Iterable[Occupant]) -> Choice:
    """Keep ``current`` when it is usable and ours to keep; else allocate a free address."""
    occupants = list(occupants)
    used = [occupant.address for occupant in occupants]
    if current is not None and is_usable(current, network):
        holders = [occupant for occupant in occupants if occupant.address == current]
        if not holders or not must_move(az, holders):
            return Choice(current)
        return Choice(allocate(az, network, used), moved_from=current,
                      yielded_to=tuple(sorted({holder.az for holder in holders})))
    return Choice(allocate(az, network, used))
