"""The Debian package (`make deb`) in a fresh Debian bookworm chroot.

`apt install ./ovn-ic-controller_*.deb` pulls ovn-common from the mirror; the
command, its configuration and the unit are in place; an edited conffile
survives an upgrade and a remove; purge leaves the system file for file as
installing only the dependencies would have. The .deb comes from
scripts/build-deb.sh (cached per source content), the chroot from
scripts/bookworm-chroot.sh (a cached debootstrap, unpacked afresh). Needs root.
``KEEP_TESTBED=1`` keeps the chroot.
"""

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from ovn_ic_controller import __version__

ROOT = Path(__file__).resolve().parents[2]
VENV = "/usr/lib/ovn-ic-controller"
CONF = "/etc/ovn-ic/controller.conf"
UNIT = "/lib/systemd/system/ovn-ic-controller.service"
# apt's and dpkg's own state and logs, ldconfig's cache of file times, and what
# the test itself puts in /tmp.
NOT_COMPARED = ("/proc", "/sys", "/dev", "/run", "/tmp", "/var/lib/dpkg", "/var/lib/apt",
                "/var/cache/apt", "/var/log/apt", "/var/log/dpkg.log", "/var/log/alternatives.log",
                "/var/cache/ldconfig")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and chroot need root")


def build_deb() -> Path:
    out = subprocess.run([str(ROOT / "scripts" / "build-deb.sh")], check=True,
                         capture_output=True, text=True, timeout=1200)
    return Path(out.stdout.strip())


def run(root: Path, script: str, check: bool = True) -> subprocess.CompletedProcess:
    """`sh -c script` in the chroot, with a clean environment."""
    result = subprocess.run(
        ["chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
         "DEBIAN_FRONTEND=noninteractive", "LANG=C.UTF-8", "HOME=/root", "sh", "-c", script],
        capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, f"{script}: exit {result.returncode}\n{result.stdout}" \
                                       f"{result.stderr}"
    return result


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file of the chroot: its type, mode, owner and content (or link target)."""
    files = {}
    for directory, dirs, names in os.walk(root):
        rel = os.path.normpath(os.path.join("/", os.path.relpath(directory, root)))
        dirs[:] = [d for d in dirs if os.path.join(rel, d) not in NOT_COMPARED]
        for name in dirs + names:
            path = os.path.join(rel, name)
            if path in NOT_COMPARED:
                continue
            st = os.lstat(os.path.join(directory, name))
            if stat.S_ISLNK(st.st_mode):
                content = os.readlink(os.path.join(directory, name))
            elif stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(Path(directory, name).read_bytes()).hexdigest()
            else:
                content = None
            files[path] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid,
                           st.st_gid, content)
    return files


def installed(root: Path) -> set[str]:
    """The packages dpkg has files or configuration of."""
    lines = run(root, "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n'").stdout.splitlines()
    return {line.split()[0] for line in lines if line.split()[1] != "un"}


def bumped(deb: Path, version: str, dest: Path) -> Path:
    """The same package under a newer version: an upgrade with an unchanged conffile."""
    with tempfile.TemporaryDirectory(prefix="ovnic-deb-") as tmp:
        tree = Path(tmp) / "pkg"
        subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
        control = tree / "DEBIAN" / "control"
        control.write_text("".join(
            f"Version: {version}\n" if line.startswith("Version:") else line
            for line in control.read_text().splitlines(keepends=True)))
        out = dest / f"ovn-ic-controller_{version}_{deb.name.rsplit('_', 1)[1]}"
        subprocess.run(["dpkg-deb", "-b", str(tree), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture
def fresh_chroot():
    """Makes pristine bookworm chroots (each one apt-get updated), removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="ovnic-bookworm-"))

    def make(name: str) -> Path:
        subprocess.run([str(ROOT / "scripts" / "bookworm-chroot.sh"), str(workdir / name)],
                       check=True, capture_output=True, timeout=1200)
        run(workdir / name, "apt-get update -q")
        return workdir / name

    try:
        yield make
    finally:
        if os.environ.get("KEEP_TESTBED") == "1":
            print(f"\nKEEP_TESTBED=1: chroots kept in {workdir}")
        else:
            shutil.rmtree(workdir)


def check_installed(root: Path) -> None:
    for package, version in (("ovn-ic-controller", __version__), ("ovn-common", "")):
        status = run(root, f"dpkg-query -W -f '${{Status}} ${{Version}}' {package}").stdout
        assert status.startswith(f"install ok installed {version}"), (package, status)
    assert "ovn-common" in run(root, "apt-mark showauto").stdout.split(), \
        "ovn-common is not pulled in as a dependency"
    assert run(root, "command -v ovn-ic-controller").stdout == "/usr/bin/ovn-ic-controller\n"
    assert run(root, "ovn-ic-controller --version").stdout == f"ovn-ic-controller {__version__}\n"
    assert "check-config" in run(root, "ovn-ic-controller --help").stdout

    # The shipped configuration is the sample: it waits for the IC database's address.
    assert (root / CONF.lstrip("/")).read_text() == (ROOT / "etc" / "controller.conf").read_text()
    assert stat.S_IMODE((root / CONF.lstrip("/")).stat().st_mode) == 0o640
    unset = run(root, "ovn-ic-controller check-config", check=False)
    assert unset.returncode == 78 and "'ic-db-host'" in unset.stderr, unset

    unit = (root / UNIT.lstrip("/")).read_text()
    assert f"ExecStart=/usr/bin/ovn-ic-controller --config {CONF} run\n" in unit
    for line in unit.splitlines():
        if line.startswith(("ExecStart", "ExecStartPre")):
            run(root, f"test -x {line.split('=', 1)[1].split()[0]}")
    assert not (root / "etc/systemd/system/multi-user.target.wants/ovn-ic-controller.service"
                ).exists(), "the unit is enabled before the configuration is edited"

    # Every path in the package is the installed one, none the build directory's.
    for path in run(root, "dpkg -L ovn-ic-controller").stdout.splitlines():
        file = root / path.lstrip("/")
        if file.is_file() and not file.is_symlink():
            data = file.read_bytes()
            assert b"debian/ovn-ic-controller" not in data, f"{path} names the build directory"
            if path.startswith(f"{VENV}/bin/") and data.startswith(b"#!"):
                assert data.startswith(f"#!{VENV}/bin/python".encode()), path


def test_deb_installs_upgrades_removes_and_purges_in_a_fresh_bookworm(fresh_chroot):
    deb = build_deb()
    chroot = fresh_chroot("test")
    pristine = installed(chroot)

    shutil.copy(deb, chroot / "tmp")
    run(chroot, f"cd /tmp && apt install -y -q ./{deb.name}")
    check_installed(chroot)

    configured = (ROOT / "etc" / "controller.conf").read_text().replace(
        "\nic-db-host =\n", "\nic-db-host = 192.0.2.1\n")
    (chroot / CONF.lstrip("/")).write_text(configured)
    assert "192.0.2.1" in run(chroot, "ovn-ic-controller check-config").stdout

    newer = bumped(deb, f"{__version__}+1", chroot / "tmp")
    run(chroot, f"cd /tmp && apt install -y -q ./{newer.name}")
    assert run(chroot, "dpkg-query -W -f '${Version}' ovn-ic-controller").stdout == \
        f"{__version__}+1"
    assert (chroot / CONF.lstrip("/")).read_text() == configured, "upgrade replaced the config"
    assert not list((chroot / "etc/ovn-ic").glob("controller.conf.dpkg-*"))
    run(chroot, "ovn-ic-controller check-config")

    run(chroot, "apt remove -y -q ovn-ic-controller")
    assert run(chroot, "dpkg-query -W -f '${db:Status-Abbrev}' ovn-ic-controller").stdout == "rc "
    for gone in (VENV, "/usr/bin/ovn-ic-controller", UNIT):
        assert not os.path.lexists(chroot / gone.lstrip("/")), f"{gone} is left after remove"
    assert (chroot / CONF.lstrip("/")).read_text() == configured, "remove dropped the config"

    # What an operator adds beside the configuration goes with it on purge.
    (chroot / "etc/ovn-ic/ca.pem").write_text("operator's file\n")
    run(chroot, "apt purge -y -q ovn-ic-controller")
    assert run(chroot, "dpkg -s ovn-ic-controller", check=False).returncode == 1
    assert not (chroot / "etc/ovn-ic").exists()

    # The system is now file for file what installing only the dependencies
    # the package pulled in (same versions) makes of a pristine one. (Not the
    # pristine one after purging them too: ovn-common's purge leaves a directory.)
    pulled = run(chroot, "dpkg-query -W -f '${Package}=${Version} ' "
                         + " ".join(sorted(installed(chroot) - pristine))).stdout
    control = fresh_chroot("control")
    run(control, f"apt-get install -y -q --no-install-recommends {pulled}")
    expected, after = snapshot(control), snapshot(chroot)
    changed = sorted(path for path in expected.keys() | after.keys()
                     if expected.get(path) != after.get(path))
    assert not changed, f"the package left these behind: {changed}"
