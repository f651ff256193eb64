"""Shared pytest fixtures: real OVN databases from :mod:`testbed`.

A missing ovsdb-server makes the testbed fixtures fail rather than skip, so
that a CI image without the OVN packages cannot pass by testing nothing.
Set ``KEEP_TESTBED=1`` to keep each testbed's directory (DBs and logs) for
post-mortem inspection; its daemons are stopped either way.

``release_testbed`` runs a given OVN release (see ``release``).  A newer
release's chroot is built on first use; when that is impossible (not root, no
Debian mirror) its tests are skipped, saying why, unless
``OVN_IC_RELEASES_REQUIRED=1`` (set by ``make test``, which builds them first).
"""

import os
import sys
from pathlib import Path

import pytest

# Lets tests, demo and bench code alike `import testbed` without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from testbed import (  # noqa: E402
    HOST_RELEASE,
    RELEASES,
    TestbedError,
    release_root,
    temporary_testbed,
)


def _run_testbed(n_azs):
    with temporary_testbed(n_azs) as tb:
        yield tb


@pytest.fixture
def testbed():
    """A started testbed with IC NB/SB and two AZs (az1, az2), each with ovn-northd."""
    yield from _run_testbed(2)


@pytest.fixture
def testbed3():
    """Like ``testbed`` but with three AZs (az1..az3)."""
    yield from _run_testbed(3)


@pytest.fixture(params=RELEASES)
def release(request):
    """The OVN release a test runs: each of testbed.RELEASES, unless the test
    parametrizes ``release`` itself (e.g. over testbed.NEWER_RELEASES)."""
    return request.param


@pytest.fixture
def release_testbed(release):
    """Like ``testbed``, but every OVN daemon and tool is that of ``release``."""
    if release != HOST_RELEASE:
        try:
            release_root(release)
        except TestbedError as exc:
            if os.environ.get("OVN_IC_RELEASES_REQUIRED") == "1":
                raise
            pytest.skip(str(exc))
    with temporary_testbed(2, release=release) as tb:
        yield tb

# Tests import their helpers (fakes, icview, ...) by module name.  pytest runs
# with --import-mode=importlib (setup.cfg), so that unit and functional test
# files may share a basename, and does not add their directories itself.
sys.path.insert(0, str(Path(__file__).resolve().parent / "unit"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "functional"))


@pytest.fixture(autouse=True)
def _stop_controllers():
    """Daemons a test started never outlive it, whatever the test's outcome."""
    from controller import Controller

    yield
    while Controller.started:
        Controller.started.pop().stop(timeout=3)
