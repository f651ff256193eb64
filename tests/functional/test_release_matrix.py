"""Ours as the peer of each newer release, both ways round, row for row against all-C.

For each of 25.03, 26.03 and 26.09 the scenario of releaseview.STEPS (AZ
registration, gateways, transit switches created by one side first and by
both at once, ports, IPv4/IPv6 routes, route tables, deny lists, same-AZ
learning, ``--wait=sb``, a peer's transit router, transit switch deletion,
VXLAN mode) runs once with the release's ovn-ic in both AZs, recording the
rows after each step, and then with ours in az1, in az2 and in both: after each
step the rows must become those of the all-C run (releaseview.KNOWN_DIFFERENCES
aside), and at the end ours must be idle.
"""

from __future__ import annotations

import pytest
from icview import DEPLOYMENTS, assert_idle
from releaseview import all_c_run, run_compared
from testbed import NEWER_RELEASES


@pytest.mark.parametrize("release", NEWER_RELEASES)
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_rows_are_those_of_the_all_c_run(release_testbed, release, deployment):
    steps = all_c_run(release)
    sides = run_compared(release_testbed, DEPLOYMENTS[deployment], steps)
    assert_idle([side.controller for side in sides])
