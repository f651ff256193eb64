"""Newer OVN releases as the peer: their real daemons, from the release chroots.

Each newer release runs its own ovsdb-servers (databases created from its
schemas), ovn-northd and ovn-ic; ours runs on the host and reaches them over
the same unix sockets.  A smoke test of that set-up: the release's ovn-ic on
both sides interconnects (so the chroot is sound), and ours in az1 with the
release's ovn-ic in az2 registers and exchanges routes.  Issue 11 lists the
known incompatibilities of the mixed deployment, which are tested elsewhere.
"""

from __future__ import annotations

import pytest
from controller import Controller
from icview import TIMEOUT, rows
from routeview import learned, routers_on_ts1
from testbed import HOST_RELEASE, NEWER_RELEASES, wait_until

# Schema versions of each release's IC NB and IC SB, as Debian ships them.
IC_SCHEMAS = {"23.03": ("1.0.0", "1.1.1"), "25.03": ("1.2.0", "1.3.0"),
              "26.03": ("1.3.0", "2.4.0"), "26.09": ("1.4.0", "2.7.0")}


def mounts_of(path):
    """The mount points in this process's namespace under ``path``."""
    with open("/proc/self/mountinfo") as mountinfo:
        return [line.split()[4] for line in mountinfo if str(path) in line.split()[4]]


def zones(tb):
    return sorted(row["name"] for row in rows(tb.ic_sbctl, "Availability_Zone", "name"))


def add_subnets(tb):
    """In the i-th AZ: router lr{i} on ts1 (169.254.100.i), its subnet 192.168.i.0/24 and
    a static route 10.i0.0.0/24 behind it, both advertised."""
    routers_on_ts1(tb)
    for i, az in enumerate(tb.azs, 1):
        az.nbctl("lrp-add", f"lr{i}", f"lrp-lr{i}-inside", f"00:00:00:00:00:0{i}",
                 f"192.168.{i}.1/24")
        az.nbctl("lr-route-add", f"lr{i}", f"10.{i}0.0.0/24", f"192.168.{i}.254")


def learned_routes(az):
    """{(router, prefix, nexthop)} that ``az`` learned."""
    return {route[:3] for route in learned(az)}


def wait_routes_each_way(tb):
    """Each AZ learns the other's subnet and static route, through the other's ts1 port."""
    for i, az in enumerate(tb.azs, 1):
        j = 3 - i
        wanted = {(f"lr{i}", f"192.168.{j}.1/24", f"169.254.100.{j}"),
                  (f"lr{i}", f"10.{j}0.0.0/24", f"169.254.100.{j}")}
        wait_until(lambda az=az, wanted=wanted: wanted <= learned_routes(az), timeout=TIMEOUT,
                   interval=0.1, message=f"{az.name} learns {sorted(wanted)}")


def test_each_release_runs_its_own_daemons_and_schemas(release_testbed, release):
    versions = release_testbed.versions()
    assert versions["release"] == release and versions["ovn"].startswith(f"{release}.")
    assert (versions["ic_nb"], versions["ic_sb"]) == IC_SCHEMAS[release]
    assert (release_testbed.root is None) == (release == HOST_RELEASE)


@pytest.mark.parametrize("release", NEWER_RELEASES)
def test_a_release_testbed_leaves_no_mount_behind(release_testbed):
    tb = release_testbed
    # Nothing is mounted where the host sees it: the mounts live in each daemon's namespace.
    assert mounts_of(tb.workdir) == []
    mountpoint = tb.root / tb.workdir.relative_to("/")
    assert mountpoint.is_dir()
    tb.stop()
    assert not mountpoint.exists()


@pytest.mark.parametrize("release", NEWER_RELEASES)
def test_the_release_ovn_ic_on_both_sides(release_testbed):
    tb = release_testbed
    for az in tb.azs:
        az.start_reference_ic()
    wait_until(lambda: zones(tb) == ["az1", "az2"], timeout=TIMEOUT, message="AZs registered")
    add_subnets(tb)
    wait_routes_each_way(tb)


@pytest.mark.parametrize("release", NEWER_RELEASES)
def test_ours_beside_the_release_ovn_ic(release_testbed):
    tb = release_testbed
    az1, az2 = tb.azs
    Controller(tb, az1).start()
    az2.start_reference_ic()
    wait_until(lambda: zones(tb) == ["az1", "az2"], timeout=TIMEOUT, message="AZs registered")
    add_subnets(tb)
    wait_routes_each_way(tb)
