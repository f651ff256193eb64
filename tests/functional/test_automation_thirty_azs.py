"""Thirty real AZs, each with its own daemon process, join one transit switch at once.

Unlike test_automation_addresses (three daemons among simulated AZs), every
AZ here is complete: NB and SB ovsdb-servers, ovn-northd and our daemon.
ovn-northd is needed in every AZ: a daemon publishes its port's address in the
IC SB only once northd has made the SB Port_Binding of the LSP and of its peer
router port (the address comes from the latter), and the IC SB bindings are
how AZs see each other's addresses.  An AZ without northd would be invisible
to the others, so nothing would keep them off its address.

All thirty names prefer the same host, near the top of the /24 so that probing
wraps past the broadcast and network addresses.  The daemons start together,
find no ``ts``, race to create it and then all pick addresses before they can
see one another's: the collision rule must sort them out.  Then every daemon
stops and all restart together, and nothing may move.
"""

import ipaddress
import signal

import pytest
from automation_setup import add_cluster_router, port_bindings, table
from controller import Controller
from testbed import temporary_testbed, wait_until

from ovn_ic_controller.sync.automation.link_addresses import preferred_offset

AZS = 30
SUBNET = ipaddress.ip_network("169.254.100.0/24")  # ts's
PREFERRED = 240  # 240..254 then 1..15 if they end up side by side
TIMEOUT = 60


@pytest.fixture
def testbed30():
    with temporary_testbed(AZS) as tb:
        yield tb


def names_preferring(offset, count):
    names = [name for name in (f"zone{n}" for n in range(50000))
             if preferred_offset(name, SUBNET) == offset]
    assert len(names) >= count
    return names[:count]


def addresses_on_ts(tb):
    """IC SB logical_port -> IPv4 address, for the ports on ``ts`` that have one."""
    found = {}
    for port, address in port_bindings(tb).items():
        fields = address.split()
        if port.startswith("ts-") and len(fields) > 1:
            found[port] = ipaddress.ip_address(fields[1].split("/")[0])
    return found


def lrps(az, name):
    """(uuid, networks) of the AZ's router port on ``ts``."""
    rows = [row for row in table(az.nbctl, "Logical_Router_Port", "name", "_uuid", "networks")
            if row["name"] == f"{name}-ts"]
    assert len(rows) == 1, rows
    return rows[0]["_uuid"], rows[0]["networks"]


def start_all(controllers):
    for controller in controllers:
        controller.start(wait_ready=False)
    for controller in controllers:
        controller.wait_ready(timeout=TIMEOUT)


def stop_all(controllers):
    """SIGTERM to every daemon at once (once only: Controller.stop would signal again)."""
    for controller in controllers:
        controller.send(signal.SIGTERM)
    for controller in controllers:
        assert controller.process.wait(timeout=TIMEOUT) == 0, controller.log_tail()
        controller.stop()  # closes its log file


def test_thirty_azs_joining_at_once_get_distinct_addresses_kept_on_restart(testbed30):
    tb = testbed30
    names = names_preferring(PREFERRED, AZS)
    ports = {f"ts-{name}" for name in names}
    controllers = []
    for az, name in zip(tb.azs, names, strict=True):
        add_cluster_router(az)
        controllers.append(Controller(tb, az, az_name=name, log_level="info"))
    start_all(controllers)

    def settled():
        found = addresses_on_ts(tb)
        return (set(found) == ports and len(set(found.values())) == AZS) and found
    addresses = wait_until(settled, timeout=TIMEOUT, interval=0.5,
                           message="every AZ on ts with a distinct address")
    for address in addresses.values():
        assert address in SUBNET
        assert address not in (SUBNET.network_address, SUBNET.broadcast_address)
    moved = {c.settings["az-name"] for c in controllers if c.events("automation.address_moved")}
    assert moved and min(names) not in moved  # they did collide; the lowest name never yields
    assert tb.ic_nbctl("--bare", "--columns=name", "list", "Transit_Switch") == "ts"
    before = {}
    for az, name in zip(tb.azs, names, strict=True):
        before[name] = lrps(az, name)
        assert before[name][1] == f"{addresses[f'ts-{name}']}/24"  # its LRP has it too

    stop_all(controllers)
    logged = [len(c.logs()) for c in controllers]
    start_all(controllers)
    assert addresses_on_ts(tb) == addresses
    assert {name: lrps(az, name) for az, name in zip(tb.azs, names, strict=True)} == before
    for controller, skip in zip(controllers, logged, strict=True):
        assert not [r for r in controller.logs()[skip:]
                    if r.get("event") == "automation.address_moved"], controller.label
    stop_all(controllers)
