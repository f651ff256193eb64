"""IC semantics: one sync concern per module or package; ``build_concerns`` orders them.

Every concern plans from the same snapshot, in this order, and their plans
are joined in it into one transaction per database: ``az`` (the others need
the AZ row), ``gateways``, the automation (``automation``: transit switches,
link ports and gateway chassis; then its ``auto_route``: the route options),
``transit_switches``, ``ports``, ``transit_routers`` (its ports take their keys from
the allocator of ``ports``, as in ovn-ic), ``routes``, ``address_sets``,
``service_monitors`` and, last, ``sequence_numbers``, which counts this AZ's step of
the IC NB's changes in the same transaction.  ovn-ic 23.03 runs AZ, transit
switches, gateways, ports, routes; as a concern never sees another's planned
writes, only the replicas, the order changes only that of the operations.
``leave`` is not among them: the daemon runs it alone while enable-ic is false.
``common`` holds what several concerns share, ``prefixes`` the address and
prefix parsing of ports, automation and routes.
"""

from __future__ import annotations

from .address_sets import AddressSets
from .automation import Automation, AutoRoute
from .az import AvailabilityZone
from .base import Concern
from .gateways import Gateways
from .ports import TransitSwitchPorts
from .routes import Routes
from .sequence import SequenceNumbers
from .service_monitors import ServiceMonitors
from .transit_routers import TransitRouters
from .transit_switches import TransitSwitches


def build_concerns() -> list[Concern]:
    ports = TransitSwitchPorts()
    return [AvailabilityZone(), Gateways(), Automation(), AutoRoute(), TransitSwitches(),
            ports, TransitRouters(ports.port_keys), Routes(), AddressSets(), ServiceMonitors(),
            SequenceNumbers()]
