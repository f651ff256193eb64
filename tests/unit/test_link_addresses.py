"""Link-address allocation on plain data: many AZs, joining one by one or at the same moment."""

import ipaddress
import random
from collections import defaultdict

import pytest

from ovn_ic_controller.sync.automation.link_addresses import (
    Occupant,
    allocate,
    choose,
    default_subnets,
    is_usable,
    link_mac,
    must_move,
    parse_subnets,
    preferred_offset,
)

TS = ipaddress.ip_network("169.254.100.0/24")


def occupants_for(az, held):
    return [Occupant(address, other, True) for other, address in held.items() if other != az]


def join(held, batch, network=TS):
    """AZs of one batch join at the same moment: each sees only what was there before."""
    before = dict(held)
    for az in batch:
        held[az] = choose(az, network, None, occupants_for(az, before)).address


def settle(held, network=TS, max_rounds=50):
    """Every AZ re-decides from the same snapshot, round after round, until nobody moves."""
    for rounds in range(max_rounds):
        snapshot = dict(held)
        for az, address in snapshot.items():
            held[az] = choose(az, network, address, occupants_for(az, snapshot)).address
        if held == snapshot:
            return rounds
    raise AssertionError(f"no convergence after {max_rounds} rounds: {held}")


def assert_distinct_and_usable(held, network=TS):
    assert all(is_usable(address, network) for address in held.values())
    assert len(set(held.values())) == len(held)


def names_sharing_one_offset(count):
    """AZ names whose preferred offsets in TS are equal: the worst case for a simultaneous join."""
    by_offset = defaultdict(list)
    for n in range(5000):
        name = f"zone-{n}"
        by_offset[preferred_offset(name, TS)].append(name)
        if len(by_offset[preferred_offset(name, TS)]) == count:
            return by_offset[preferred_offset(name, TS)]
    raise AssertionError("no such names")


AZS = [f"az{n}" for n in range(1, 31)]


def batchings():
    """Ways 30 AZs can join: one by one, all at once, and random groups joining together."""
    yield [[az] for az in AZS]
    yield [AZS]
    for seed in range(20):
        rng = random.Random(seed)
        names = AZS[:]
        rng.shuffle(names)
        batches = []
        while names:
            size = rng.randint(1, 8)
            batches.append(names[:size])
            names = names[size:]
        yield batches


@pytest.mark.parametrize("batches", list(batchings()))
def test_thirty_azs_get_distinct_addresses_and_earlier_ones_never_move(batches):
    held = {}
    for batch in batches:
        earlier = dict(held)
        join(held, batch)
        settle(held)
        assert {az: held[az] for az in earlier} == earlier
        assert_distinct_and_usable(held)
    # A restart of every daemon recomputes from what is there: nothing changes.
    for az, address in held.items():
        choice = choose(az, TS, address, occupants_for(az, held))
        assert (choice.address, choice.moved_from) == (address, None)


def test_simultaneous_join_of_names_with_the_same_preferred_host_converges():
    names = names_sharing_one_offset(6)
    held = {}
    join(held, names)
    assert len(set(held.values())) == 1  # all picked the same address at the same moment
    settle(held)
    assert_distinct_and_usable(held)
    assert held[min(names)] == TS.network_address + preferred_offset(min(names), TS)


def test_the_lower_name_keeps_a_shared_address_and_the_higher_moves():
    shared = ipaddress.ip_address("169.254.100.7")
    stay = choose("az1", TS, shared, [Occupant(shared, "az2", True)])
    move = choose("az2", TS, shared, [Occupant(shared, "az1", True)])
    assert (stay.address, stay.moved_from) == (shared, None)
    assert move.moved_from == shared and move.address != shared and move.yielded_to == ("az1",)


def test_a_port_outside_the_rule_always_wins():
    shared = ipaddress.ip_address("169.254.100.7")
    assert must_move("az1", [Occupant(shared, "az9", False)])
    assert must_move("az1", [Occupant(shared, "", False)])
    assert not must_move("az1", [Occupant(shared, "az2", True)])


def test_never_the_network_or_broadcast_address_and_full_is_none():
    small = ipaddress.ip_network("169.254.100.0/30")
    assert allocate("az1", small, []) in {ipaddress.ip_address("169.254.100.1"),
                                         ipaddress.ip_address("169.254.100.2")}
    full = [ipaddress.ip_address("169.254.100.1"), ipaddress.ip_address("169.254.100.2")]
    assert allocate("az1", small, full) is None
    assert allocate("az1", ipaddress.ip_network("169.254.100.0/31"), []) is None
    held = {}
    join(held, [f"n{i}" for i in range(254)])
    settle(held, max_rounds=300)
    assert_distinct_and_usable(held)
    assert allocate("late", TS, held.values()) is None


def test_current_address_outside_the_subnet_is_replaced():
    current = ipaddress.ip_address("169.254.200.5")
    choice = choose("az1", TS, current, [])
    assert choice.address in TS and choice.moved_from is None
    assert choose("az1", TS, TS.network_address, []).address != TS.network_address


def test_ipv6_allocation_probes_a_large_subnet_quickly():
    network = ipaddress.ip_network("fe80:a9fe:64::/112")
    first = allocate("az1", network, [])
    second = allocate("az1", network, [first])
    assert first in network and second in network and first != second
    huge = ipaddress.ip_network("fd00::/64")
    assert allocate("az1", huge, []) in huge


def test_mac_is_stable_unicast_locally_administered_and_per_switch():
    mac = link_mac("az1", "ts")
    first = int(mac.split(":")[0], 16)
    assert first & 0x02 and not first & 0x01
    assert mac == link_mac("az1", "ts") != link_mac("az1", "ts1") != link_mac("az2", "ts1")


def test_default_subnets_follow_kube_ovn_numbering():
    assert default_subnets(0, False) == "169.254.100.0/24"
    assert default_subnets(2, True) == "169.254.102.0/24,fe80:a9fe:66::/112"


def test_parse_subnets():
    assert parse_subnets("169.254.100.0/24, fe80:a9fe:64::/112") == [
        ipaddress.ip_network("169.254.100.0/24"), ipaddress.ip_network("fe80:a9fe:64::/112")]
    assert parse_subnets("169.254.100.1/24") == [TS]
    assert parse_subnets("") is None
    assert parse_subnets("nonsense") is None
    assert parse_subnets("10.0.0.0/24,10.1.0.0/24") is None
