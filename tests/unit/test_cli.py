"""The command line as an operator meets it: a real process, its exit code and its output."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ovn_ic_controller import config

EX_CONFIG = 78


def start(*args, columns="80"):
    return subprocess.Popen([sys.executable, "-m", "ovn_ic_controller", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": columns, "PYTHONUNBUFFERED": "1"})


def finish(proc, timeout=15):
    """(exit code, stdout, stderr); a daemon that starts instead of refusing is killed."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running after {timeout}s: {out}{err}") from None
    return proc.returncode, out, err


def run(*args):
    return finish(start(*args))


def test_help_lists_commands_and_options():
    code, out, err = run("--help")
    assert code == 0, err
    for word in ("run", "check-config", "sample-config", "--config", "--log-level",
                 "--log-format", "json", "console"):
        assert word in out, word
    # The default path is printed whole, not broken at its hyphen.
    assert "(default: /etc/ovn-ic/controller.conf)" in " ".join(out.split())


def test_help_says_what_exit_78_covers_and_never_wraps_at_a_hyphen():
    code, out, err = run("--help")
    assert code == 0, err
    assert ("78 configuration error (the file, or a metrics-address that cannot be listened "
            "on)") in " ".join(out.split())
    code, out, err = finish(start("show", "--help", columns="60"))
    assert code == 0, err
    assert "transit-switch ports" in " ".join(out.split())


CASES = {
    "missing file": (None, ["nope.conf: file not found"]),
    "unknown key": ("az-nmae = az1",
                    ["key 'az-nmae' = 'az1'", "did you mean 'az-name'?"]),
    "bad boolean": ("enable-ic = maybe",
                    ["key 'enable-ic' = 'maybe': expected a boolean"]),
    "port out of range": ("ic-nb-port = 65536",
                          ["key 'ic-nb-port' = '65536': expected a TCP port number from 1 "
                           "to 65535"]),
    "bad IPv4 host": ("ic-db-host = 10.0.0.999",
                      ["key 'ic-db-host' = '10.0.0.999': expected comma-separated host "
                       "names or IP addresses"]),
    "bad host name": ("ic-db-host = bad_host!",
                      ["key 'ic-db-host' = 'bad_host!': expected comma-separated host "
                       "names or IP addresses"]),
    "ssl without key": ("ic-db-scheme = ssl\nssl-certificate = /c.pem\nssl-ca-cert = /ca.pem",
                        ["key 'ssl-private-key' = '': expected a file path"]),
    "ssl without cert": ("ic-db-scheme = ssl\nssl-private-key = /k.pem\nssl-ca-cert = /ca.pem",
                         ["key 'ssl-certificate' = '': expected a file path"]),
    "ssl without CA": ("ic-db-scheme = ssl\nssl-private-key = /k.pem\n"
                       "ssl-certificate = /c.pem",
                       ["key 'ssl-ca-cert' = '': expected a file path"]),
    "router section key": ("[router vpc-a]\nauto-route = true",
                           ["[router vpc-a]: key 'auto-route' = 'true': expected in "
                            "[controller] only"]),
}


@pytest.mark.parametrize("case", CASES)
def test_config_error_exits_78_with_one_line_from_run_and_check_config(tmp_path, case):
    body, expected = CASES[case]
    path = tmp_path / "nope.conf"
    if body is not None:
        path = tmp_path / "bad.conf"
        hosts = "" if "ic-db-host" in body else "ic-db-host = 10.0.0.1\n"
        path.write_text(f"[controller]\naz-name = az1\n{hosts}{body}\n")
    # Both at once: the machine is shared, and each start costs an interpreter.
    procs = {command: start("--config", str(path), command) for command in ("run",
                                                                            "check-config")}
    for command, proc in procs.items():
        code, out, err = finish(proc)
        assert code == EX_CONFIG, (command, out, err)
        assert out == "", command
        assert "Traceback" not in err
        assert err.endswith("\n") and err.count("\n") == 1, (command, err)
        assert err.startswith(f"ovn-ic-controller: configuration error: {path}: "), err
        for text in expected:
            assert text in err, (command, err)


def test_check_config_prints_the_effective_configuration(tmp_path):
    path = tmp_path / "c.conf"
    path.write_text("[controller]\naz-name = az1\nic-db-host = 10.0.0.1, fd00::1\n")
    code, out, err = run("--config", str(path), "check-config")
    assert (code, err) == (0, "")
    assert out == config.load(str(path)).render()
    assert "# ic-nb-db in effect: tcp:10.0.0.1:6645,tcp:[fd00::1]:6645" in out.splitlines()
    assert "az-name = az1" in out.splitlines()


def test_check_config_prints_router_sections_with_their_defaults(tmp_path):
    path = tmp_path / "c.conf"
    path.write_text("[controller]\nic-db-host = 10.0.0.1\ngw-nodes = gw1\n[router vpc-a]\n")
    code, out, err = run("--config", str(path), "check-config")
    assert (code, err) == (0, "")
    assert "\n[router vpc-a]\nts-prefix = vpc-a-ts\nts-num = 1\ngw-nodes = gw1\n" in out


def test_sample_config_is_printed_and_is_the_shipped_sample():
    code, out, err = run("sample-config")
    assert (code, err) == (0, "")
    assert out == config.sample()
    assert "[controller]" in out.splitlines()
    shipped = Path(__file__).resolve().parents[2] / "etc" / "controller.conf"
    assert shipped.read_text() == out, (
        "etc/controller.conf differs from the option table: regenerate it with "
        "`ovn-ic-controller sample-config > etc/controller.conf`")
