"""``python -m ovn_ic_controller`` is the ``ovn-ic-controller`` command."""

import sys

from .cli import main

sys.exit(main())
