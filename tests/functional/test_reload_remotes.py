"""SIGHUP with a new IC database remote reconnects that database only."""

from controller import Controller
from testbed import find_free_port, wait_until


def az_rows(testbed):
    return testbed.ic_sbctl("--bare", "--columns=_uuid,name", "list", "Availability_Zone")


def test_a_new_ic_sb_remote_reconnects_only_the_ic_sb(testbed):
    az = testbed.az("az1")
    controller = Controller(testbed, az).start()
    before = az_rows(testbed)
    port = find_free_port()
    testbed.run("ovs-appctl", "-t", str(testbed._ic_sb.ctl), "ovsdb-server/add-remote",
                f"ptcp:{port}:127.0.0.1")
    controller.write_config(ic_sb_db=f"tcp:127.0.0.1:{port}")
    controller.send(1)  # SIGHUP

    wait_until(lambda: controller.events("config.reloaded"), timeout=30)
    assert controller.events("config.reloaded")[-1]["reconnected"] == ["ic_sb"]
    wait_until(lambda: controller.metric("ovn_ic_controller_db_connected", db="ic_sb") == 1.0
               and controller.http("/readyz")[0] == 200, timeout=30)
    wait_until(lambda: controller.metric("ovn_ic_controller_config_reloads_total",
                                         outcome="applied") == 1.0, timeout=10)
    # The AZ row is the same row: no teardown and re-registration.
    assert az_rows(testbed) == before
    established = controller.events("db.schema_loaded")
    assert [event["db"] for event in established].count("ic_sb") == 2
    assert [event["db"] for event in established].count("nb") == 1
    assert any(event["remote"] == f"tcp:127.0.0.1:{port}" for event in established)
