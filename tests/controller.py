"""Run our daemon as a real process against a testbed AZ, as an operator would.

Each instance writes its own controller.conf, listens for metrics on a free
loopback port and logs JSON to a file, which tests can read.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from testbed import find_free_port, wait_until


class Controller:
    """One ovn-ic-controller process for one AZ of a testbed."""

    started: list[Controller] = []  # stopped after each test by conftest, even on failure

    def __init__(self, testbed, az, *, name=None, log_level="debug", env=None, command=None,
                 routers=None, **settings):
        self.testbed, self.az = testbed, az
        # What starts the daemon, before its arguments; a test may wrap it.
        self.command = command or [sys.executable, "-m", "ovn_ic_controller"]
        self.label = name or f"ctl-{az.name}"
        self.log_level = log_level
        self.extra_env = dict(env or {})  # e.g. NOTIFY_SOCKET for the sd_notify test
        self.dir = Path(az.dir)
        self.config_path = self.dir / f"{self.label}.conf"
        self.log_path = self.dir / f"{self.label}.log"
        self.metrics_port = find_free_port()
        self.ctl_path = self.dir / f"{self.label}.ctl"
        self.settings = {
            "az-name": az.name,
            "ovn-nb-db": az.nb,
            "ovn-sb-db": az.sb,
            "ic-nb-db": testbed.ic_nb,
            "ic-sb-db": testbed.ic_sb,
            "metrics-address": f"127.0.0.1:{self.metrics_port}",
            "unixctl": str(self.ctl_path),  # None: the default, in the testbed's OVN_RUNDIR
        }
        self.settings.update({key.replace("_", "-"): value for key, value in settings.items()})
        self.routers = dict(routers or {})  # the [router NAME] sections: {NAME: {key: value}}
        self.process = None
        self.write_config()

    def write_config(self, routers=None, **changes):
        self.settings.update({key.replace("_", "-"): value for key, value in changes.items()})
        if routers is not None:
            self.routers = dict(routers)
        lines = ["[controller]"]
        lines += [f"{key} = {value}" for key, value in self.settings.items() if value is not None]
        for name, keys in self.routers.items():
            lines.append(f"[router {name}]")
            lines += [f"{key.replace('_', '-')} = {value}" for key, value in keys.items()]
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, wait_ready=True):
        env = dict(self.testbed.env)
        env.pop("NOTIFY_SOCKET", None)
        env.update(self.extra_env)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [*self.command, "--config", str(self.config_path),
             "--log-level", self.log_level, "--log-format", "json", "run"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env)
        Controller.started.append(self)
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        self.wait_until(lambda: self.http("/readyz")[0] == 200, timeout=timeout,
                        message="never became ready")

    def wait_until(self, predicate, timeout=30, message=None):
        """testbed.wait_until, with this daemon's log tail (as of the failure) in the error."""
        try:
            return wait_until(predicate, timeout=timeout, message=message)
        except AssertionError as exc:
            raise AssertionError(f"{self.label}: {exc}; log tail:\n{self.log_tail()}") from None

    def http(self, path):
        """(status, body) of a GET on the metrics server; (None, '') when it does not answer."""
        self._check_alive()
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return None, ""

    def metric(self, name, **labels):
        """The value of one sample of /metrics, or None."""
        status, body = self.http("/metrics")
        wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        for line in body.splitlines():
            if line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            metric, _, label_text = series.partition("{")
            if metric != name:
                continue
            found = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
            if found == wanted:
                return float(value)
        return None

    def wait_metric(self, name, value, timeout=30, **labels):
        """Wait until one sample of /metrics equals ``value``; return it."""
        self.wait_until(lambda: self.metric(name, **labels) == value, timeout=timeout,
                        message=f"{name}{labels or ''} != {value}")
        return value

    def events(self, event, **fields):
        """The JSON log records of ``event`` whose fields include ``fields``."""
        return [record for record in self.logs() if record.get("event") == event
                and all(record.get(key) == value for key, value in fields.items())]

    def logs(self):
        """The JSON log records written so far."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"event": line})
        return records

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def appctl(self, *args, target=None, timeout=10):
        """Run the real ``ovn-appctl -t <target> ARGS`` (default: this daemon's socket)."""
        return subprocess.run(["ovn-appctl", "-t", str(target or self.ctl_path), *args],
                              capture_output=True, text=True, timeout=timeout,
                              env=self.testbed.env)

    def send(self, sig):
        self.process.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Stop the process; returns its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is not None:
            self._log.close()
            return self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            self._log.close()

    def kill(self):
        return self.stop(signal.SIGKILL)

    def _check_alive(self):
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.label} exited with {self.process.returncode}; "
                                 f"log tail:\n{self.log_tail()}")


def run_cli(*args, timeout=10):
    """Run the command line (not the daemon) and return the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "ovn_ic_controller", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def elapsed(since):
    return time.monotonic() - since
