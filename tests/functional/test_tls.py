"""TLS remotes: the ssl-* keys make ssl: remotes work, and the CA is really checked."""

import json
import signal
import subprocess

import pytest
from controller import Controller, run_cli
from testbed import find_free_port, wait_until


@pytest.fixture
def pki(testbed):
    """A CA and two certificates it signed (server, client), plus an unrelated CA."""
    directory = testbed.workdir / "pki"
    directory.mkdir()
    env = testbed.env

    def run(*args, cwd=directory):
        subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, timeout=120)

    run("ovs-pki", f"--dir={directory / 'ca'}", "init")
    for name in ("server", "client"):
        run("ovs-pki", f"--dir={directory / 'ca'}", "req+sign", name, "controller")
    run("ovs-pki", f"--dir={directory / 'other'}", "init")
    return {
        "dir": directory,
        "ca": directory / "ca" / "controllerca" / "cacert.pem",
        "other_ca": directory / "other" / "controllerca" / "cacert.pem",
    }


def serve_ic_sb_over_tls(testbed, pki) -> int:
    """Restart the IC SB server with an extra pssl: listener; returns its port."""
    port = find_free_port()
    server = testbed._ic_sb
    testbed.kill_ic_sb(signal.SIGTERM)
    wait_until(lambda: server.pid() is None, timeout=10)
    testbed.run(
        "ovsdb-server", "--detach", "--no-chdir", "-vconsole:warn",
        f"--pidfile={server.pidfile}", f"--log-file={server.logfile}",
        f"--unixctl={server.ctl}", f"--remote=punix:{server.sock}",
        f"--remote=pssl:{port}:127.0.0.1",
        f"--private-key={pki['dir'] / 'server-privkey.pem'}",
        f"--certificate={pki['dir'] / 'server-cert.pem'}",
        f"--ca-cert={pki['ca']}", str(server.db_file))
    return port


def tls_settings(pki, port, ca):
    return {"ic_sb_db": f"ssl:127.0.0.1:{port}",
            "ssl_private_key": pki["dir"] / "client-privkey.pem",
            "ssl_certificate": pki["dir"] / "client-cert.pem",
            "ssl_ca_cert": ca}


def registered(testbed):
    return testbed.ic_sbctl("--bare", "--columns=name", "list", "Availability_Zone").split()


def test_ic_sb_over_tls_registers_the_az(testbed, pki):
    port = serve_ic_sb_over_tls(testbed, pki)
    az = testbed.az("az1")
    controller = Controller(testbed, az, **tls_settings(pki, port, pki["ca"])).start()
    wait_until(lambda: registered(testbed) == ["az1"], timeout=30)
    assert controller.metric("ovn_ic_controller_db_connected", db="ic_sb") == 1.0
    # The one-shot commands use the ssl-* keys too.
    doctor = run_cli("--config", str(controller.config_path), "doctor", "--format", "json")
    databases = json.loads(doctor.stdout)["checks"][0]["findings"]
    assert doctor.returncode != 2 and databases[3]["severity"] == "info", doctor.stdout
    assert databases[3]["problem"].startswith("ic_sb: OVN_IC_Southbound ")
    assert databases[3]["problem"].endswith(f" at ssl:127.0.0.1:{port}")
    assert json.loads(run_cli("--config", str(controller.config_path), "show", "--format",
                              "json").stdout)["az"] == "az1"


def test_a_server_certificate_from_another_ca_is_refused(testbed, pki):
    port = serve_ic_sb_over_tls(testbed, pki)
    az = testbed.az("az1")
    controller = Controller(testbed, az, **tls_settings(pki, port, pki["other_ca"]))
    controller.start(wait_ready=False)
    wait_until(lambda: any(record.get("event") == "db.unreachable" and record.get("db") == "ic_sb"
                           for record in controller.logs()), timeout=30,
               message="the daemon never reported the refused TLS connection")
    assert controller.http("/readyz")[1].strip().endswith("ic_sb")
    assert controller.metric("ovn_ic_controller_db_connected", db="ic_sb") == 0.0
    assert registered(testbed) == []
