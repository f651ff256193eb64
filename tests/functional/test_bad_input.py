"""Bad input does not stop the daemon: files that are not text, unusable metrics addresses,
and values made to flood a log or drive a terminal.

At start each is one line naming the file (and the line or key) and exit 78, from every
command; on SIGHUP the reload is refused and counted, the configuration and the metrics
listener in force stay, and the daemon runs on.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys

import pytest
from controller import Controller
from testbed import find_free_port, wait_until

M = "ovn_ic_controller_"
TIMEOUT = 30
HUGE = 10_000_000


def _write(data: bytes):
    return lambda path: path.write_bytes(data)


def _mkdir(path):
    path.mkdir()


def _mkfifo(path):
    os.mkfifo(path)


def bad_files(good: str) -> dict:
    """name -> (make it at a path, what the error line says)."""
    head = good.encode()
    garbage = b"\x89PNG\r\n\x1a\n" + random.Random(15).randbytes(4000)
    return {
        "latin-1": (_write(head + "az-name = café\n".encode("latin-1")),
                    f"not UTF-8 text: byte 0xe9 at offset {len(head) + 13} (line "
                    f"{good.count(chr(10)) + 1})"),
        "UTF-16": (_write(good.encode("utf-16")), "starts with a UTF-16 byte-order mark"),
        "binary": (_write(garbage), "not UTF-8 text: byte 0x89 at offset 0 (line 1)"),
        "NUL": (_write(head + b"az-name = az\x001\n"), r"control character '\x00'"),
        "ESC": (_write(head + b"az-name = \x1b[2J\x1b]0;owned\x07\n"),
                r"control character '\x1b'"),
        "10 MB value": (_write(head + b"enable-ic = " + b"y" * HUGE + b"\n"),
                        f"key 'enable-ic' = '{'y' * 200}'… ({HUGE - 200} more characters): "
                        f"expected a boolean"),
        "directory": (_mkdir, "cannot read: a directory"),
        "FIFO": (_mkfifo, "cannot read: not a regular file"),
    }


def assert_one_short_line(text: str, path) -> None:
    assert "Traceback" not in text
    assert str(path) in text
    assert len(text) < 700, len(text)
    assert not any(ord(char) < 32 or 0x7f <= ord(char) < 0xa0 for char in text), repr(text)


# ------------------------------------------------------------------ at start

def _start(*args):
    return subprocess.Popen([sys.executable, "-m", "ovn_ic_controller", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _finish(proc, timeout=20):
    """(exit code, stdout, stderr); a daemon that runs instead of refusing is killed."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running after {timeout}s: {out}{err}") from None
    return proc.returncode, out, err


ONE_SHOTS = [["show"], ["leave", "--dry-run"], ["reset", "--dry-run"],
             ["clean", "--az", "gone", "--dry-run"]]
CONFIG = ("[controller]\nic-nb-db = unix:/nonexistent/ic_nb.sock\n"
          "ic-sb-db = unix:/nonexistent/ic_sb.sock\nmetrics-address = 127.0.0.1:0\n")


def assert_config_error(proc, path, expected):
    code, out, err = _finish(proc)
    assert code == 78, (code, out, err)
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"ovn-ic-controller: configuration error: {path}: "), err
    assert expected in err, err
    assert_one_short_line(err[:-1], path)


def test_a_file_that_is_not_text_is_one_line_and_78_from_every_command(tmp_path):
    kinds = bad_files(CONFIG)
    for index, (name, (make, expected)) in enumerate(kinds.items()):
        path = tmp_path / f"{index}.conf"
        make(path)
        commands = [["run"], ["check-config"], ONE_SHOTS[index % len(ONE_SHOTS)]]
        # The three at once: the machine is shared, and each start costs an interpreter.
        procs = {command[0]: _start("--config", str(path), *command) for command in commands}
        for command, proc in procs.items():
            try:
                assert_config_error(proc, path, expected)
            except AssertionError as exc:
                raise AssertionError(f"{name}, {command}: {exc}") from None


@pytest.mark.parametrize("address, expected", [
    ("in use", "cannot listen there: Address already in use"),
    ("192.0.2.1:9476", "cannot listen there: Cannot assign requested address (not an "
                       "address of this host)"),
    ("127.0.0.1:http", "expected HOST:PORT"),
])
def test_a_metrics_address_that_cannot_be_listened_on_is_one_line_and_78(tmp_path, address,
                                                                          expected):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        if address == "in use":
            address = f"127.0.0.1:{taken.getsockname()[1]}"
        path = tmp_path / "c.conf"
        path.write_text(CONFIG.replace("127.0.0.1:0", address))
        assert_config_error(_start("--config", str(path), "run"), path,
                            f"key 'metrics-address' = '{address}': {expected}")


# ------------------------------------------------------------------ on SIGHUP

def last_rejection(ctl, count):
    ctl.wait_metric(M + "config_reloads_total", float(count), timeout=TIMEOUT,
                    outcome="rejected")
    records = ctl.events("config.reload_rejected")
    assert len(records) == count
    assert records[-1]["level"] == "error"
    return records[-1]["error"]


def az_names(testbed):
    return testbed.ic_sbctl("--bare", "--columns=name", "list", "Availability_Zone").split()


def test_sighup_with_a_file_that_cannot_be_read_keeps_the_daemon_running(testbed):
    ctl = Controller(testbed, testbed.azs[0]).start()
    wait_until(lambda: az_names(testbed) == ["az1"], timeout=TIMEOUT, message="az1 registered")
    good = ctl.config_path.read_text()
    kinds = bad_files(good)
    kinds["missing"] = (lambda path: None, "file not found")
    for count, (name, (make, expected)) in enumerate(kinds.items(), start=1):
        ctl.config_path.unlink(missing_ok=True)
        make(ctl.config_path)
        ctl.send(signal.SIGHUP)
        error = last_rejection(ctl, count)
        assert expected in error, (name, error)
        assert_one_short_line(error, ctl.config_path)
        if ctl.config_path.is_dir():
            ctl.config_path.rmdir()
        assert ctl.http("/readyz")[0] == 200, name
    assert ctl.metric(M + "config_reloads_total", outcome="applied") is None
    # Nothing of it reached the log raw: no control character, no huge line.
    raw = ctl.log_path.read_bytes()
    assert b"\x1b" not in raw and b"\x00" not in raw and b"Traceback" not in raw
    assert max(len(line) for line in raw.splitlines()) < 2000

    # Still the daemon it was: a good file with a new name is applied.
    ctl.config_path.unlink(missing_ok=True)
    ctl.write_config(az_name="east")
    ctl.send(signal.SIGHUP)
    ctl.wait_metric(M + "config_reloads_total", 1.0, outcome="applied")
    wait_until(lambda: az_names(testbed) == ["east"], timeout=TIMEOUT, message="renamed east")


def test_sighup_onto_a_metrics_address_in_use_keeps_the_old_listener(testbed):
    ctl = Controller(testbed, testbed.azs[0]).start()
    old_port = ctl.metrics_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ctl.write_config(metrics_address=f"127.0.0.1:{busy}", az_name="east")
        ctl.send(signal.SIGHUP)
        error = last_rejection(ctl, 1)  # read from the old listener, still serving
    assert (f"key 'metrics-address' = '127.0.0.1:{busy}': cannot listen there: Address "
            f"already in use") in error
    assert ctl.http("/readyz")[0] == 200
    assert az_names(testbed) == ["az1"]  # refused as a whole: not renamed either

    # A free port: the new listener serves, the old one is closed.
    ctl.metrics_port = find_free_port()
    ctl.write_config(metrics_address=f"127.0.0.1:{ctl.metrics_port}")
    ctl.send(signal.SIGHUP)
    ctl.wait_metric(M + "config_reloads_total", 1.0, outcome="applied")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", old_port), timeout=2).close()
    wait_until(lambda: az_names(testbed) == ["east"], timeout=TIMEOUT, message="renamed east")

    # Another host on the same port: our own socket is not "in use".
    ctl.write_config(metrics_address=f"0.0.0.0:{ctl.metrics_port}")
    ctl.send(signal.SIGHUP)
    ctl.wait_metric(M + "config_reloads_total", 2.0, outcome="applied")
    assert ctl.metric(M + "config_reloads_total", outcome="rejected") == 1.0
