#!/usr/bin/env python3
"""`make demo`: two AZs joined by ovn-ic-controller, in a temporary work dir.

Starts the IC NB and IC SB ovsdb-servers and two AZs (NB, SB, ovn-northd each).
Each AZ gets what its CMS would have made, a router ``ovn-cluster`` with one
subnet (az1 10.16.0.0/24, az2 10.17.0.0/24) and an emulated gateway chassis;
everything else comes from its controller.conf (``ts-num = 2``, ``gw-nodes``,
``auto-route = true``): transit switches, link ports, gateway chassis and route
options.  It then shows what an operator looks at, the learned ECMP routes
included, ``ovn-appctl -t <control socket> status`` of each AZ's daemon, and
what ``ovn-ic-controller doctor`` finds in each AZ, and stops
everything it started.  As no ovn-controller runs, the demo claims the gateway
ports itself, as ovn-controller on the gateway would.  DEMO_KEEP=1 leaves it
all running and prints how to stop it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from automation_setup import ROUTER, add_cluster_router, add_gateway, learned_routes  # noqa: E402
from controller import Controller, run_cli  # noqa: E402
from testbed import Testbed, wait_until  # noqa: E402

SUBNETS = {"az1": "10.16.0.1/24", "az2": "10.17.0.1/24"}
TS_NUM = 2

SHOWN_METRICS = ("ovn_ic_controller_lock_held", "ovn_ic_controller_db_connected",
                 "ovn_ic_controller_transactions_total", "ovn_ic_controller_rows_changed_total")


def heading(text: str) -> None:
    print(f"\n== {text}")


def show_metrics(controller: Controller) -> None:
    _, body = controller.http("/metrics")
    for line in body.splitlines():
        if line.startswith(SHOWN_METRICS):
            print("   ", line)


def claim_gateway_ports(az, gateway: str) -> None:
    """What ovn-controller on the gateway does: claim the chassisredirect ports."""
    ports = az.sbctl("--bare", "--columns=logical_port", "find", "Port_Binding",
                     "type=chassisredirect", "chassis=[]").split()
    for port in ports:
        az.sbctl("lsp-bind", port, gateway)


def doctor(controller: Controller) -> tuple[int, str]:
    result = run_cli("--config", str(controller.config_path), "doctor", timeout=30)
    return result.returncode, result.stdout + result.stderr


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="ovnic-demo-")
    keep = os.environ.get("DEMO_KEEP") == "1"
    testbed = Testbed(workdir, n_azs=2)
    controllers: list[Controller] = []
    try:
        heading(f"starting IC NB/SB and two AZs (NB, SB, ovn-northd) in {workdir}")
        testbed.start()
        for number, az in enumerate(testbed.azs, 1):
            gateway = f"gw-{az.name}"
            add_cluster_router(az, SUBNETS[az.name])
            add_gateway(az, gateway, f"172.16.0.{number}")
            controller = Controller(testbed, az, ts_num=TS_NUM, gw_nodes=gateway,
                                    auto_route="true", log_level="info")
            controllers.append(controller.start(wait_ready=False))
            print(f"   {az.name}: router {ROUTER} with {SUBNETS[az.name]}, gateway chassis "
                  f"{gateway}; ovn-ic-controller pid {controller.process.pid}, "
                  f"metrics http://127.0.0.1:{controller.metrics_port}/metrics")
        heading(f"{controllers[0].az.name}'s controller.conf (the other differs only in names)")
        print(controllers[0].config_path.read_text().rstrip())

        def learned_everywhere():
            return all(len(learned_routes(az)) == TS_NUM for az in testbed.azs)
        try:
            wait_until(learned_everywhere, timeout=30)
        except AssertionError:
            print(f"\n!! the AZs did not learn each other's subnet over {TS_NUM} paths within "
                  "30 s; the output below shows how far they got (see the controller logs)")

        heading("ovn-ic-sbctl show: the AZs and their gateways")
        print(testbed.ic_sbctl("show"))
        heading("IC SB Port_Binding: each AZ's port on each transit switch, link address")
        print(testbed.ic_sbctl("--format=table", "--columns=logical_port,transit_switch,address",
                               "list", "Port_Binding"))
        for az in testbed.azs:
            heading(f"{az.name}: ovn-nbctl show {ROUTER} (link ports, addresses, gateways)")
            print(az.nbctl("show", ROUTER))
            heading(f"{az.name}: ovn-nbctl lr-route-list {ROUTER} (learned ECMP routes)")
            print(az.nbctl("lr-route-list", ROUTER))
        for controller in controllers:
            heading(f"{controller.az.name}: state and a few metrics")
            state = "active" if controller.metric("ovn_ic_controller_lock_held") == 1 else "standby"
            print(f"   {state} (holds the ovn_ic lock on its SB); /readyz: "
                  f"{controller.http('/readyz')[1].strip()}")
            show_metrics(controller)
            heading(f"{controller.az.name}: ovn-appctl -t {controller.ctl_path} status")
            status = controller.appctl("status")
            print("  ", (status.stdout + status.stderr).strip())
        for az in testbed.azs:
            claim_gateway_ports(az, f"gw-{az.name}")
        for controller in controllers:
            heading(f"{controller.az.name}: ovn-ic-controller doctor")
            try:  # the peers publish the claimed ports' gateway within moments
                wait_until(lambda c=controller: doctor(c)[0] == 0, timeout=15)
            except AssertionError:
                pass  # the output below says what is wrong
            print(doctor(controller)[1].rstrip())
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
            shutil.rmtree(workdir, ignore_errors=True)
            heading("stopped everything the demo started and removed its work dir")


if __name__ == "__main__":
    sys.exit(main())
