"""IC semantics: each module is one sync concern; ``build_concerns`` orders them.

The order is ovn-ic's: AZ first (everything else needs it), then gateways,
transit switches, their ports, and routes last.
"""

from __future__ import annotations

from .automation import Automation
from .automation.auto_route import AutoRoute
from .az import AvailabilityZone
from .base import Concern
from .gateways import Gateways
from .ports import TransitSwitchPorts
from .routes import Routes
from .transit_switches import TransitSwitches


def build_concerns() -> list[Concern]:
    return [AvailabilityZone(), Gateways(), Automation(), AutoRoute(), TransitSwitches(),
            TransitSwitchPorts(), Routes()]
