"""The lowest ovs that setup.cfg allows passes ovs_compat's self-check and the unit tests
of the code that leans on ovs internals; the main virtualenv (``make venv``) has the
highest allowed, as pip picks it.

The lowest gets a virtualenv of its own, from PyPI, cached outside the clone under
``${XDG_CACHE_HOME:-~/.cache}/ovn-ic-controller/`` and keyed by the ovs version, the
Python version and the requirements; this tree is tested in it through PYTHONPATH, not
installed, so clones can share it.  Building it takes a minute, once; then a few seconds.
"""

from __future__ import annotations

import configparser
import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ovn_ic_controller.db import ovs_compat

ROOT = Path(__file__).resolve().parents[2]
UNIT_TESTS = ["tests/unit/test_fastidl.py", "tests/unit/test_fastjson.py",
              "tests/unit/test_utf8stream.py", "tests/unit/test_ovs_compat.py"]
BUILD_TIMEOUT, RUN_TIMEOUT = 600, 300
SELF_CHECK = ("import json, ovs.version; from ovn_ic_controller.db import ovs_compat; "
              "status = ovs_compat.install(); "
              "print(json.dumps([ovs.version.VERSION, status.paths(), status.problems]))")


def requirements() -> list[str]:
    """setup.cfg's dependencies and test extras, with ovs pinned to the lowest allowed."""
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    options = setup["options"]
    found = options["install_requires"].split() + setup["options.extras_require"]["test"].split()
    assert ovs_compat.REQUIREMENT in found
    return sorted(f"ovs=={ovs_compat.OVS_LOWEST}" if line == ovs_compat.REQUIREMENT else line
                  for line in found)


def cached_venv(wanted: list[str]) -> Path:
    """A virtualenv with ``wanted`` installed: made once, then reused."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:12]
    python = f"py{sys.version_info.major}.{sys.version_info.minor}"
    path = cache / "ovn-ic-controller" / f"ovs-{ovs_compat.OVS_LOWEST}-{python}-{key}"
    path.parent.mkdir(parents=True, exist_ok=True)
    done = path / "installed"
    with open(path.parent / ".lock", "w") as lock:  # one builder at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True,
                           timeout=BUILD_TIMEOUT)
            subprocess.run([path / "bin" / "python", "-m", "pip", "install", "-q",
                            "--disable-pip-version-check", *wanted],
                           check=True, timeout=BUILD_TIMEOUT)
            done.write_text("\n".join(wanted) + "\n")
    return path


@pytest.fixture(scope="module")
def lowest_ovs():
    """Runs a command with the lowest ovs, this tree on its path; the CompletedProcess."""
    python = cached_venv(requirements()) / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}

    def run(*args):
        return subprocess.run([python, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=RUN_TIMEOUT)
    return run


def test_the_self_check_passes_on_the_lowest_ovs(lowest_ovs):
    done = lowest_ovs("-c", SELF_CHECK)
    assert done.returncode == 0, done.stderr
    version, paths, problems = json.loads(done.stdout.splitlines()[-1])
    assert version == ovs_compat.OVS_LOWEST
    assert (paths, problems) == ({"fast_json": "active", "fast_idl": "active",
                                  "utf8_fix": "active", "leader_follow": "active"}, [])


def test_the_ovs_internals_unit_tests_pass_on_the_lowest_ovs(lowest_ovs):
    done = lowest_ovs("-m", "pytest", "-q", "-p", "no:cacheprovider", *UNIT_TESTS)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
