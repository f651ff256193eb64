"""Link addresses when many AZs share a switch and several join at the very same moment.

Thirty full AZs are too heavy for a test machine, so three real AZs join a
switch on which 27 simulated AZs (rows inserted into the IC SB, as their
daemons would have published them) already hold addresses, some of them the
very ones the real AZs prefer.  The real AZs' names are chosen to prefer the
same address, and they join at the same moment: a SIGHUP raising ``ts-num``
reaches all three daemons before any of them can see another's port.
"""

import ipaddress
import signal

from automation_setup import add_cluster_router, link_address, uuids
from controller import Controller
from testbed import wait_until

from ovn_ic_controller.sync.automation.link_addresses import link_mac, preferred_offset

TIMEOUT = 30
SUBNET = ipaddress.ip_network("169.254.101.0/24")  # ts1's
SIMULATED = 27


def names_preferring_one_address(count):
    by_offset = {}
    for n in range(10000):
        name = f"zone{n}"
        group = by_offset.setdefault(preferred_offset(name, SUBNET), [])
        group.append(name)
        if len(group) == count:
            return group
    raise AssertionError("no such names")


def simulate_azs(tb, preferred):
    """Simulated AZs holding addresses on ts1: the preferred one and the next ones, and more."""
    for n in range(SIMULATED):
        name = f"sim{n:02d}"
        offset = (preferred + n - 1) % 254 + 1 if n < 10 else 7 * n % 254 + 1
        mac = link_mac(name, "ts1") if n % 2 else f"0a:00:00:00:ff:{n:02x}"
        zone = tb.ic_sbctl("create", "Availability_Zone", f"name={name}")
        tb.ic_sbctl("create", "Port_Binding", f"logical_port=ts1-{name}", "transit_switch=ts1",
                    f"availability_zone={zone}", f"tunnel_key={1000 + n}",
                    f'address="{mac} {SUBNET.network_address + offset}/24"')


def link_addresses(tb):
    return {row: link_address(tb, row) for row in
            tb.ic_sbctl("--bare", "--columns=logical_port", "list", "Port_Binding").split()}


def test_azs_joining_one_switch_at_once_get_distinct_addresses_kept_on_restart(testbed3):
    names = names_preferring_one_address(3)
    preferred = preferred_offset(names[0], SUBNET)
    testbed3.ic_nbctl("ts-add", "ts1")  # mirrored everywhere before anyone joins it
    simulate_azs(testbed3, preferred)
    controllers = []
    for number, (az, name) in enumerate(zip(testbed3.azs, names, strict=True), 1):
        add_cluster_router(az, f"10.{15 + number}.0.1/24")
        controllers.append(Controller(testbed3, az, az_name=name, ts_num=1, log_level="info"))
    for controller in controllers:
        controller.start(wait_ready=False)
    for controller, name in zip(controllers, names, strict=True):
        controller.wait_ready(timeout=TIMEOUT)
        wait_until(lambda name=name: link_address(testbed3, f"ts-{name}"), timeout=TIMEOUT)
        wait_until(lambda az=controller.az: "ts1" in uuids(az, "Logical_Switch"),
                   timeout=TIMEOUT)

    for controller in controllers:
        controller.write_config(ts_num=2)
    for controller in controllers:
        controller.send(signal.SIGHUP)

    def settled():
        addresses = link_addresses(testbed3)
        ours = [addresses.get(f"ts1-{name}") for name in names]
        on_ts1 = [address for port, address in addresses.items() if port.startswith("ts1-")]
        return None not in ours and len(set(on_ts1)) == SIMULATED + 3 and addresses
    addresses = wait_until(settled, timeout=TIMEOUT, message="distinct addresses on ts1")
    for name in names:
        address = ipaddress.ip_address(addresses[f"ts1-{name}"])
        assert address in SUBNET and address not in (SUBNET.network_address,
                                                     SUBNET.broadcast_address)
    moved = {controller.settings["az-name"] for controller in controllers
             if any(record.get("event") == "automation.address_moved"
                    for record in controller.logs())}
    assert moved and names[0] not in moved  # they did collide; the lowest name never yields
    ports = [uuids(controller.az, "Logical_Router_Port") for controller in controllers]

    for controller in controllers:
        controller.stop()
    for controller in controllers:
        controller.start(wait_ready=False)
    for controller in controllers:
        controller.wait_ready(timeout=TIMEOUT)
    assert link_addresses(testbed3) == addresses
    assert [uuids(controller.az, "Logical_Router_Port") for controller in controllers] == ports
