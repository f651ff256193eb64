"""Makes this Python's ovs one that renamed ``Idl.__apply_diff``, as a later release could.

tests/functional/test_ovs_compat.py starts daemons with this directory on PYTHONPATH;
Python imports ``sitecustomize`` at start-up, before the daemon's code.
"""

import sys
from pathlib import Path

import ovs.db.idl

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit"))
from ovs_changes import process_update2_calling  # noqa: E402

Idl = ovs.db.idl.Idl
Idl._Idl__process_update2 = process_update2_calling("_Idl__apply_diff", "_Idl__apply_diff2")
Idl._Idl__apply_diff2 = Idl._Idl__apply_diff
del Idl._Idl__apply_diff
