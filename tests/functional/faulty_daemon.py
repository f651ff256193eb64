"""``ovn-ic-controller`` with a fault a test can switch on, for tests of concern isolation.

Run as ``python faulty_daemon.py ARGS`` (the daemon's own arguments).  Every
concern raises RuntimeError while the local SB holds a Chassis whose
other_config:test-fault names that concern; nothing else differs from the real
daemon, which runs on real databases.
"""

import sys

from ovn_ic_controller import cli
from ovn_ic_controller.sync import build_concerns

FAULT_KEY = "test-fault"


def _faulty(plan):
    def faulty_plan(self, ctx):
        if any(chassis.other_config.get(FAULT_KEY) == self.name
               for chassis in ctx.rows("sb", "Chassis")):
            raise RuntimeError(f"fault injected into {self.name}")
        return plan(self, ctx)
    return faulty_plan


for concern_class in {type(concern) for concern in build_concerns()}:
    concern_class.plan = _faulty(concern_class.plan)

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
