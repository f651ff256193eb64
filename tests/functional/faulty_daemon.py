"""``ovn-ic-controller`` with a fault a test can switch on, for tests of concern isolation
and of the watchdog.

Run as ``python faulty_daemon.py ARGS`` (the daemon's own arguments).  Every
concern raises RuntimeError while the local SB holds a Chassis whose
other_config:test-fault names that concern, and never returns (a hung loop) once
one's other_config:test-hang names it; nothing else differs from the real daemon,
which runs on real databases.
"""

import sys
import threading

from ovn_ic_controller import cli
from ovn_ic_controller.sync import build_concerns

FAULT_KEY, HANG_KEY = "test-fault", "test-hang"


def _faulty(plan):
    def faulty_plan(self, ctx):
        chassis = ctx.rows("sb", "Chassis")
        if any(row.other_config.get(HANG_KEY) == self.name for row in chassis):
            threading.Event().wait()
        if any(row.other_config.get(FAULT_KEY) == self.name for row in chassis):
            raise RuntimeError(f"fault injected into {self.name}")
        return plan(self, ctx)
    return faulty_plan


for concern_class in {type(concern) for concern in build_concerns()}:
    concern_class.plan = _faulty(concern_class.plan)

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
