"""IC semantics: each module is one sync concern; ``build_concerns`` orders them.

The order is ovn-ic's: AZ first (everything else needs it), then gateways,
transit switches, their ports, and routes last.
"""

from __future__ import annotations

from .az import AvailabilityZone
from .base import Concern


def build_concerns() -> list[Concern]:
    return [AvailabilityZone()]
