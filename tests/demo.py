#!/usr/bin/env python3
"""`make demo`: two AZs joined by ovn-ic-controller, in a temporary work dir.

Starts the IC NB and IC SB ovsdb-servers and two AZs (NB, SB, ovn-northd each),
runs one ovn-ic-controller per AZ from generated config files, shows what an
operator looks at, then stops everything it started.  DEMO_KEEP=1 leaves it all
running and prints how to stop it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from controller import Controller  # noqa: E402
from testbed import Testbed, wait_until  # noqa: E402

SHOWN_METRICS = ("ovn_ic_controller_lock_held", "ovn_ic_controller_db_connected",
                 "ovn_ic_controller_transactions_total", "ovn_ic_controller_rows_changed_total")


def heading(text: str) -> None:
    print(f"\n== {text}")


def show_metrics(controller: Controller) -> None:
    _, body = controller.http("/metrics")
    for line in body.splitlines():
        if line.startswith(SHOWN_METRICS):
            print("   ", line)


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="ovnic-demo-")
    keep = os.environ.get("DEMO_KEEP") == "1"
    testbed = Testbed(workdir, n_azs=2)
    controllers: list[Controller] = []
    try:
        heading(f"starting IC NB/SB and two AZs (NB, SB, ovn-northd) in {workdir}")
        testbed.start()
        for az in testbed.azs:
            controller = Controller(testbed, az)
            controllers.append(controller.start())
            print(f"   {az.name}: ovn-ic-controller pid {controller.process.pid}, "
                  f"config {controller.config_path}, "
                  f"metrics http://127.0.0.1:{controller.metrics_port}/metrics")

        def registered():
            names = testbed.ic_sbctl("--bare", "--columns=name", "list", "Availability_Zone")
            return sorted(names.split()) == ["az1", "az2"]
        wait_until(registered, timeout=30, message="AZs did not register")

        heading("IC SB Availability_Zone (both AZs registered)")
        print(testbed.ic_sbctl("--columns=_uuid,name", "list", "Availability_Zone"))
        for controller in controllers:
            heading(f"{controller.az.name}: state and a few metrics")
            state = "active" if controller.metric("ovn_ic_controller_lock_held") == 1 else "standby"
            print(f"   {state} (holds the ovn_ic lock on its SB); /readyz: "
                  f"{controller.http('/readyz')[1].strip()}")
            show_metrics(controller)
        if keep:
            heading("DEMO_KEEP=1: left running")
            pids = " ".join(str(c.process.pid) for c in controllers)
            print(f"   stop it with: kill {pids}; "
                  f"{sys.executable} -c 'import sys; sys.path.insert(0, \"tests\"); "
                  f"import testbed; testbed.Testbed(\"{workdir}\").stop()'")
        return 0
    finally:
        if not keep:
            for controller in controllers:
                controller.stop()
            testbed.stop()
            heading("stopped everything the demo started")


if __name__ == "__main__":
    sys.exit(main())
