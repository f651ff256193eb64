"""`make install`: package, command, unit and sample config; an existing config is kept."""

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_install(target: Path) -> None:
    dirs = {"PREFIX": target / "opt", "BINDIR": target / "bin", "CONFDIR": target / "etc",
            "UNITDIR": target / "systemd"}
    (target / "bin").mkdir(exist_ok=True)
    (target / "systemd").mkdir(exist_ok=True)
    subprocess.run(["make", "-C", str(ROOT), "install",
                    *(f"{key}={value}" for key, value in dirs.items())],
                   check=True, capture_output=True, timeout=600)


def test_make_install_keeps_an_existing_configuration():
    with tempfile.TemporaryDirectory(prefix="ovnic-install-") as workdir:
        target = Path(workdir)
        make_install(target)
        config = target / "etc" / "controller.conf"
        assert config.read_text() == (ROOT / "etc" / "controller.conf").read_text()
        assert (target / "systemd" / "ovn-ic-controller.service").read_text() == (
            ROOT / "systemd" / "ovn-ic-controller.service").read_text()
        command = target / "bin" / "ovn-ic-controller"
        sample = subprocess.run([str(command), "sample-config"], check=True,
                                capture_output=True, text=True, timeout=60).stdout
        assert sample == config.read_text()

        config.write_text("[controller]\nic-db-host = 192.0.2.1\n")
        make_install(target)
        assert config.read_text() == "[controller]\nic-db-host = 192.0.2.1\n"
