"""Prefix rules of route sync (docs/behaviour.md §6.2, §6.4-§6.6, Q2, Q4)."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovn_ic_controller.sync.prefixes import (
    Prefix,
    PrefixMatcher,
    format_address,
    is_link_local_prefix,
    nexthop_for,
    parse_cidr,
    parse_port_addresses,
    parse_prefix_list,
    parse_route_prefixes,
)
from ovn_ic_controller.sync.routes.reasons import (
    REFUSED_BLACKLIST,
    REFUSED_DEFAULT,
    REFUSED_LINK_LOCAL,
    refusal_reason,
)

TS_PORT = "aa:aa:aa:aa:aa:01 169.254.100.1/24 2001:db8:1::1/64"


def cidr(text: str) -> Prefix:
    prefix = parse_cidr(text)
    assert prefix is not None, text
    return prefix


def matcher(*entries: str) -> PrefixMatcher:
    return PrefixMatcher(cidr(entry) for entry in entries)


# ------------------------------------------------------------------ parse_cidr


@pytest.mark.parametrize(
    ("text", "family", "expected"),
    [
        ("192.168.1.1/24", 4, "192.168.1.1/24"),  # host bits kept
        ("10.99.0.5", 4, "10.99.0.5/32"),
        ("0.0.0.0/0", 4, "0.0.0.0/0"),
        ("10.0.0.0/255.255.255.0", 4, "10.0.0.0/24"),
        ("10.0.0.0/0.0.0.0", 4, "10.0.0.0/0"),
        ("10.0.0.1/255.255.255.255", 4, "10.0.0.1/32"),
        ("  10.0.0.0/8", 4, "10.0.0.0/8"),
        ("\t\n10.0.0.0/8", 4, "10.0.0.0/8"),
        ("010.001.000.001/024", 4, "10.1.0.1/24"),  # OVS reads octets as decimal
        ("2002:db8:1::1/64", 6, "2002:db8:1::1/64"),
        ("2002:DB8:1:0:0:0:0:1/64", 6, "2002:db8:1::1/64"),
        ("2001:db8::1", 6, "2001:db8::1/128"),
        ("::/0", 6, "::/0"),
        ("2001:db8::/ffff:ffff::", 6, "2001:db8::/32"),
        ("2001:db8::/::", 6, "2001:db8::/0"),
        (" 2001:db8::/32", 6, "2001:db8::/32"),
        ("::ffff:1.2.3.4/120", 6, "::ffff:1.2.3.4/120"),  # stays IPv6
    ],
)
def test_parse_cidr_accepts(text: str, family: int, expected: str) -> None:
    prefix = cidr(text)
    assert prefix.family == family
    assert str(prefix) == expected
    assert parse_cidr(str(prefix)) == prefix


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "discard",
        "10.0.0.0/24 ",  # trailing garbage, even whitespace
        "10.0.0.0/24x",
        "10.0.0.1 x",
        "10.0.0.0/",
        "10.0.0.0/33",
        "10.0.0.0/-1",
        "10.0.0.0/255.0.255.0",  # non-contiguous mask
        "256.0.0.1/8",
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.4/24/24",
        "2001:db8::/64 ",
        "2001:db8::/",
        "2001:db8::/129",
        "2001:db8::/ffff:0:ffff::",
        "2001:db8::/8000::",  # OVS reads "/8000" as a length, out of range
        "2001:db8::1%eth0",
        "2001:db8:::1",
        "10.0.0.0/２４",  # non-ASCII digits
    ],
)
def test_parse_cidr_rejects(text: str) -> None:
    assert parse_cidr(text) is None


def test_prefix_value_semantics() -> None:
    prefix = cidr("192.168.1.1/24")
    assert prefix.address == ipaddress.IPv4Address("192.168.1.1")
    assert format_address(prefix.address) == "192.168.1.1"
    assert prefix.plen == 24
    assert prefix == cidr(" 192.168.1.1/255.255.255.0")
    assert prefix != cidr("192.168.1.0/24")  # host bits are part of the identity
    assert len({prefix, cidr("192.168.1.1/24"), cidr("192.168.1.1/25")}) == 2
    assert cidr("2002:db8:1::1/64").address == ipaddress.IPv6Address("2002:db8:1::1")
    assert format_address(cidr("2002:db8:1::1/64").address) == "2002:db8:1::1"
    # Same integer, different families: not equal.
    assert cidr("0.0.0.1/32") != cidr("::1/32")


def test_format_helpers_match_inet_ntop() -> None:
    assert str(cidr("2002:0db8:0001::0001/64")) == "2002:db8:1::1/64"
    assert format_address(ipaddress.ip_address("10.0.0.1")) == "10.0.0.1"
    for text in (
        "fe80::a8aa:aaff:feaa:aa31",
        "::",
        "::1",
        "::ffff:1.2.3.4",
        "::ffff:0.0.0.0",
        "::1.2.3.4",
        "::100",
        "1::1:0:0:1:1",  # ties: the first run of zeros is compressed
        "1:0:1:0:1:0:1:0",
    ):
        address = ipaddress.IPv6Address(text)
        assert format_address(address) == text == socket.inet_ntop(socket.AF_INET6, address.packed)


# -------------------------------------------------------- parse_route_prefixes


def test_parse_route_prefixes() -> None:
    prefix, nexthop = parse_route_prefixes("10.11.1.0/24", "169.254.0.1")
    assert prefix == cidr("10.11.1.0/24")
    assert nexthop.address == ipaddress.IPv4Address("169.254.0.1")
    # The next hop's length is ignored.
    assert parse_route_prefixes("10.11.1.0/24", "169.254.0.1/24")[1].address == nexthop.address
    assert parse_route_prefixes("2001:db8:99::/64", "2001:db8:1::10")[1].address == (
        ipaddress.IPv6Address("2001:db8:1::10")
    )


@pytest.mark.parametrize(
    ("prefix_text", "nexthop_text"),
    [
        ("10.0.0.0/8", "discard"),
        ("10.0.0.0/8", ""),
        ("bogus", "169.254.0.1"),
        ("2001:db8::/64", "fe80::1"),
        ("2001:db8::/64", "fe80::a8aa:aaff:feaa:aa31/64"),
    ],
)
def test_parse_route_prefixes_rejects(prefix_text: str, nexthop_text: str) -> None:
    assert parse_route_prefixes(prefix_text, nexthop_text) is None


def test_only_fe80_slash_64_next_hops_count_as_link_local() -> None:
    assert parse_route_prefixes("2001:db8::/64", "fe80:0:0:1::1") is not None
    assert parse_route_prefixes("2001:db8::/64", "febf::1") is not None


# --------------------------------------------------------- is_link_local_prefix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("169.254.0.0/16", True),
        ("169.254.100.1/24", True),
        ("169.254.0.0/15", False),  # shorter than /16: never link-local
        ("169.255.0.0/16", False),
        ("169.254.0.0/0", False),
        ("fe80::/10", True),
        ("febf:ffff::/32", True),
        ("fe80::a8aa:aaff:feaa:aa31", True),
        ("fe80::/9", False),
        ("fec0::/10", False),
        ("2001:db8::/64", False),
    ],
)
def test_is_link_local_prefix(text: str, expected: bool) -> None:
    assert is_link_local_prefix(cidr(text)) is expected


# ------------------------------------------------------------ parse_prefix_list


def test_parse_prefix_list_skips_empty_entries_and_reports_invalid() -> None:
    prefixes, invalid = parse_prefix_list(" 10.0.0.0/8 ,,bogus, 2001:db8::/32 ,,, 1.2.3.4/40,")
    assert prefixes == [cidr("10.0.0.0/8"), cidr("2001:db8::/32")]
    assert invalid == ["bogus", "1.2.3.4/40"]


@pytest.mark.parametrize("text", ["", " ", ",", " , ,"])
def test_parse_prefix_list_empty(text: str) -> None:
    assert parse_prefix_list(text) == ([], [])


# ---------------------------------------------------------------- PrefixMatcher


def test_matcher_needs_prefix_at_least_as_long_as_entry() -> None:
    assert not matcher("192.168.0.0/17").matches(cidr("192.168.0.0/16"))
    assert matcher("192.168.0.0/16").matches(cidr("192.168.0.0/16"))
    assert matcher("192.168.0.0/16").matches(cidr("192.168.200.1/24"))
    assert not matcher("192.168.0.0/16").matches(cidr("192.169.0.0/24"))


def test_matcher_ignores_entry_host_bits() -> None:
    assert matcher("192.168.1.1/16").matches(cidr("192.168.200.0/24"))


def test_matcher_q4_regression_compares_ipv6_bits() -> None:
    # 23.03.1 suppressed this: any IPv6 entry matched every longer IPv6 prefix.
    blacklist = matcher("3fff:1234::/48")
    assert not blacklist.matches(cidr("2002:db8:1::1/64"))
    assert blacklist.matches(cidr("3fff:1234:0:1::/64"))
    assert not blacklist.matches(cidr("3fff:1234:1::/64"))


def test_matcher_families_are_separate() -> None:
    assert not matcher("0.0.0.0/0").matches(cidr("::/0"))
    assert not matcher("::/0").matches(cidr("10.0.0.0/8"))
    assert matcher("::/0").matches(cidr("2001:db8::/32"))
    assert matcher("0.0.0.0/0").matches(cidr("0.0.0.0/0"))


def test_matcher_with_several_lengths() -> None:
    blacklist = matcher("10.0.0.0/8", "172.16.0.0/12", "192.168.5.0/24", "2001:db8::/32")
    assert blacklist.matches(cidr("172.31.0.0/16"))
    assert not blacklist.matches(cidr("172.32.0.0/16"))
    assert blacklist.matches(cidr("192.168.5.7"))
    assert not blacklist.matches(cidr("192.168.0.0/16"))
    assert blacklist.matches(cidr("2001:db8:ffff::/48"))


def test_empty_matcher_matches_nothing() -> None:
    assert not PrefixMatcher([]).matches(cidr("10.0.0.0/8"))


# -------------------------------------------------------- parse_port_addresses


def test_parse_port_addresses() -> None:
    port = parse_port_addresses(TS_PORT)
    assert port.mac == "aa:aa:aa:aa:aa:01"
    assert port.ipv4 == (cidr("169.254.100.1/24"),)
    assert port.ipv6 == (cidr("2001:db8:1::1/64"),)
    assert port.first_ipv4() == ipaddress.IPv4Address("169.254.100.1")
    assert nexthop_for(cidr("::/0"), port) == ipaddress.IPv6Address("2001:db8:1::1")


def test_parse_port_addresses_keeps_order_and_normalises_mac() -> None:
    port = parse_port_addresses(
        "  0A:b:0c:0d:0E:f 2001:db8::2/64 10.0.0.2/24 10.0.0.1 2001:db8::1 "
    )
    assert port.mac == "0a:0b:0c:0d:0e:0f"
    assert port.ipv4 == (cidr("10.0.0.2/24"), cidr("10.0.0.1/32"))
    assert port.ipv6 == (cidr("2001:db8::2/64"), cidr("2001:db8::1/128"))


def test_parse_port_addresses_mac_only() -> None:
    port = parse_port_addresses("aa:aa:aa:aa:aa:01")
    assert (port.ipv4, port.ipv6) == ((), ())
    assert port.first_ipv4() is None
    assert nexthop_for(cidr("::/0"), port) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "router",
        "aa:aa:aa:aa:aa 10.0.0.1/24",
        "aa:aa:aa:aa:aa:01:02 10.0.0.1/24",
        "aa:aa:aa:aa:aa:g1 10.0.0.1/24",
        "10.0.0.1/24",
        "aa:aa:aa:aa:aa:01 10.0.0.1/24 bogus",
        "aa:aa:aa:aa:aa:01 10.0.0.1/33",
    ],
)
def test_parse_port_addresses_rejects(text: str) -> None:
    assert parse_port_addresses(text) is None


# ----------------------------------------------------------------- nexthop_for


def test_nexthop_uses_first_address_of_the_prefix_family() -> None:
    port = parse_port_addresses(TS_PORT)
    assert nexthop_for(cidr("10.11.1.0/24"), port) == ipaddress.IPv4Address("169.254.100.1")
    assert nexthop_for(cidr("2002:db8:1::1/64"), port) == ipaddress.IPv6Address("2001:db8:1::1")


def test_no_nexthop_without_an_address_of_that_family() -> None:
    ipv4_only = parse_port_addresses("aa:aa:aa:aa:aa:31 169.254.100.1/24")
    # 23.03.1 would use the EUI-64 fe80::a8aa:aaff:feaa:aa31 here (Q2).
    assert nexthop_for(cidr("2001:db8:99::/64"), ipv4_only) is None
    ipv6_only = parse_port_addresses("aa:aa:aa:aa:aa:31 2001:db8:1::1/64")
    assert nexthop_for(cidr("10.0.0.0/8"), ipv6_only) is None


def test_nexthop_is_never_link_local() -> None:
    only_lla = parse_port_addresses("aa:aa:aa:aa:aa:31 fe80::1/64")
    assert nexthop_for(cidr("2001:db8:99::/64"), only_lla) is None
    lla_first = parse_port_addresses("aa:aa:aa:aa:aa:31 fe80::1/64 2001:db8:1::1/64")
    assert nexthop_for(cidr("2001:db8:99::/64"), lla_first) == ipaddress.IPv6Address(
        "2001:db8:1::1"
    )


# -------------------------------------------------------------- refusal_reason


@pytest.mark.parametrize(
    ("text", "allow_default", "expected"),
    [
        ("10.11.1.0/24", False, None),
        ("0.0.0.0/0", False, REFUSED_DEFAULT),
        ("::/0", False, REFUSED_DEFAULT),
        ("0.0.0.0/0", True, None),
        ("169.254.100.0/24", True, REFUSED_LINK_LOCAL),
        ("fe80::/64", True, REFUSED_LINK_LOCAL),
        ("192.168.3.0/24", False, REFUSED_BLACKLIST),
        ("3fff:1234:0:5::/64", False, REFUSED_BLACKLIST),
        ("2002:db8:1::1/64", False, None),
    ],
)
def test_refusal_reason(text: str, allow_default: bool, expected: str) -> None:
    blacklist = matcher("192.168.0.0/16", "3fff:1234::/48")
    reason = refusal_reason(cidr(text), allow_default=allow_default, matcher=blacklist)
    assert reason == expected


# -------------------------------------------------- properties against an oracle

_WIDTH = {4: 32, 6: 128}
# Values near the boundaries the rules care about, so random values hit them.
_INTERESTING = {
    4: [0xA9FE_0000, 0xA9FF_0000, 0xA9FC_0000, 0xC0A8_0000, 0x0A00_0000, 0],
    6: [
        0xFE80 << 112,
        0xFEBF << 112,
        0xFEC0 << 112,
        0xFE00 << 112,
        0x2002_0DB8_0001 << 80,
        0x3FFF_1234 << 96,
        0xFFFF << 32,
        0,
    ],
}


@st.composite
def prefix_values(draw: st.DrawFn) -> tuple[int, int, int]:
    """(family, value, plen), often sharing leading bits with an interesting value."""
    family = draw(st.sampled_from([4, 6]))
    width = _WIDTH[family]
    value = draw(st.integers(0, (1 << width) - 1))
    if draw(st.booleans()):
        low_mask = (1 << draw(st.integers(0, width))) - 1
        value = (draw(st.sampled_from(_INTERESTING[family])) & ~low_mask) | (value & low_mask)
    return family, value, draw(st.integers(0, width))


def oracle_network(family: int, value: int, plen: int):
    address = ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)
    return ipaddress.ip_network((address, plen), strict=False)


def inet_ntop(family: int, value: int) -> str:
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    return socket.inet_ntop(af, value.to_bytes(_WIDTH[family] // 8, "big"))


@given(prefix_values(), st.booleans())
def test_parse_cidr_round_trip(triple: tuple[int, int, int], exploded: bool) -> None:
    family, value, plen = triple
    address = ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)
    text = address.exploded if exploded else address.compressed
    prefix = cidr(f"{text}/{plen}")
    assert (prefix.family, prefix.value, prefix.plen) == triple
    assert prefix.address == address
    assert str(prefix) == f"{inet_ntop(family, value)}/{plen}"
    assert format_address(address) == inet_ntop(family, value)
    assert parse_cidr(str(prefix)) == prefix
    if plen == _WIDTH[family]:
        assert cidr(text) == prefix


@given(prefix_values())
def test_parse_cidr_mask_form(triple: tuple[int, int, int]) -> None:
    family, value, plen = triple
    mask = oracle_network(family, value, plen).netmask
    prefix = parse_cidr(f"{inet_ntop(family, value)}/{mask}")
    if family == 6 and str(mask)[0].isdigit() and plen != 0:
        # OVS reads an IPv6 mask starting with a digit as a length ("/8000::").
        assert prefix is None
    else:
        assert prefix == Prefix(family, value, plen)


@given(st.text(max_size=60))
def test_parse_cidr_never_raises_and_is_stable(text: str) -> None:
    prefix = parse_cidr(text)
    if prefix is not None:
        assert parse_cidr(str(prefix)) == prefix


@given(prefix_values())
def test_is_link_local_prefix_against_oracle(triple: tuple[int, int, int]) -> None:
    family, value, plen = triple
    link_local = ipaddress.ip_network("169.254.0.0/16" if family == 4 else "fe80::/10")
    expected = oracle_network(family, value, plen).subnet_of(link_local)
    assert is_link_local_prefix(Prefix(family, value, plen)) is expected


@st.composite
def prefix_and_entries(draw: st.DrawFn) -> tuple[Prefix, list[Prefix]]:
    """A prefix and a blacklist whose entries are often near it (a bit flipped)."""
    prefix = Prefix(*draw(prefix_values()))
    entries = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            entries.append(Prefix(*draw(prefix_values())))
            continue
        width = _WIDTH[prefix.family]
        value = prefix.value
        if draw(st.booleans()):
            value ^= 1 << draw(st.integers(0, width - 1))
        entries.append(Prefix(prefix.family, value, draw(st.integers(0, width))))
    return prefix, entries


@given(prefix_and_entries())
def test_prefix_matcher_against_oracle(case: tuple[Prefix, list[Prefix]]) -> None:
    prefix, entries = case
    network = oracle_network(prefix.family, prefix.value, prefix.plen)
    expected = any(
        entry.family == prefix.family
        and network.subnet_of(oracle_network(entry.family, entry.value, entry.plen))
        for entry in entries
    )
    assert PrefixMatcher(entries).matches(prefix) is expected
    # The list parser feeds the matcher the same entries.
    parsed, invalid = parse_prefix_list(",".join(str(entry) for entry in entries))
    assert (parsed, invalid) == (entries, [])


@given(prefix_and_entries(), st.booleans())
def test_refusal_reason_against_oracle(
    case: tuple[Prefix, list[Prefix]], allow_default: bool
) -> None:
    """Default-route gating, then link-local, then the deny list."""
    prefix, entries = case
    network = oracle_network(prefix.family, prefix.value, prefix.plen)
    link_local = ipaddress.ip_network("169.254.0.0/16" if prefix.family == 4 else "fe80::/10")
    if network.prefixlen == 0 and not allow_default:
        expected = REFUSED_DEFAULT
    elif network.subnet_of(link_local):
        expected = REFUSED_LINK_LOCAL
    elif any(entry.family == prefix.family
             and network.subnet_of(oracle_network(entry.family, entry.value, entry.plen))
             for entry in entries):
        expected = REFUSED_BLACKLIST
    else:
        expected = None
    reason = refusal_reason(prefix, allow_default=allow_default, matcher=PrefixMatcher(entries))
    assert reason == expected
