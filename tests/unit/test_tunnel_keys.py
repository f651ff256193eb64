"""The hint allocator of docs/behaviour.md §3.4, including its wrap-around and exhaustion."""

import pytest

from ovn_ic_controller.sync.tunnel_keys import TunnelKeyAllocator

TS_MIN, TS_MAX = 16711681, 16777215


def test_first_transit_switch_key_is_one_past_the_initial_hint():
    allocator = TunnelKeyAllocator("transit switch datapath", TS_MIN, TS_MAX, hint=TS_MIN)
    assert allocator.allocate(set()) == 16711682


def test_port_keys_start_at_one_from_hint_zero():
    allocator = TunnelKeyAllocator("transit port", 1, 32767, hint=0)
    assert allocator.allocate(set()) == 1


def test_keys_are_added_to_the_used_set_and_skipped():
    allocator = TunnelKeyAllocator("transit port", 1, 32767, hint=0)
    used = {2}
    assert [allocator.allocate(used) for _ in range(3)] == [1, 3, 4]
    assert used == {1, 2, 3, 4}


def test_hint_persists_so_a_freed_key_is_not_reused_at_once():
    """As verified with ovn-ic: once 1 and 2 were handed out, the next key is 3 though 1 is free."""
    allocator = TunnelKeyAllocator("transit port", 1, 32767, hint=0)
    assert allocator.allocate(set()) == 1
    assert allocator.allocate({1}) == 2
    assert allocator.allocate(set()) == 3


def test_wraps_around_to_the_minimum():
    allocator = TunnelKeyAllocator("small", 1, 4, hint=3)
    assert allocator.allocate({4}) == 1
    assert allocator.hint == 1


def test_the_hint_itself_is_not_tried():
    allocator = TunnelKeyAllocator("small", 1, 4, hint=2)
    assert allocator.allocate({1, 3, 4}) is None
    assert allocator.hint == 2


def test_exhaustion_returns_none_even_with_a_hint_outside_the_range():
    allocator = TunnelKeyAllocator("small", 1, 3, hint=0)
    assert allocator.allocate({1, 2, 3}) is None
    assert allocator.hint == 0


def test_hint_below_the_range_starts_at_the_minimum():
    allocator = TunnelKeyAllocator("offset", 10, 12, hint=3)
    assert allocator.allocate(set()) == 10


def test_empty_range_is_a_programming_error():
    with pytest.raises(ValueError):
        TunnelKeyAllocator("none", 5, 4, hint=0)
