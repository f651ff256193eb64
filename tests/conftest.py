"""Shared pytest fixtures: real OVN databases from :mod:`testbed`.

A missing ovsdb-server makes the testbed fixtures fail rather than skip, so
that a CI image without the OVN packages cannot pass by testing nothing.
Set ``KEEP_TESTBED=1`` to keep each testbed's directory (DBs and logs) for
post-mortem inspection; its daemons are stopped either way.
"""

import sys
from pathlib import Path

import pytest

# Lets tests, demo and bench code alike `import testbed` without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from testbed import temporary_testbed  # noqa: E402


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
