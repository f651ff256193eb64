"""After a reconnect every concern recomputes, even when no input table reported a change.

When the IC SB comes back, the IDL replaces its replica wholesale: rows that
vanished while it was down disappear without any delete notice.  A concern
whose input table is now simply empty would never hear of it unless the daemon
treats the reconnect itself as "everything changed".
"""

import json
import signal

from controller import Controller
from testbed import wait_until


def remote_ports(az):
    return az.nbctl("--bare", "--columns=name", "find", "Logical_Switch_Port",
                    "type=remote").split()


def test_a_binding_deleted_while_the_ic_sb_was_down_removes_the_remote_port(testbed):
    az1, az2 = testbed.azs
    first = Controller(testbed, az1).start()
    Controller(testbed, az2).start()
    testbed.ic_nbctl("ts-add", "ts1")
    wait_until(lambda: "ts1" in az1.nbctl("--bare", "--columns=name", "list",
                                           "Logical_Switch").split(), timeout=30)
    az1.nbctl("lr-add", "lr1", "--", "lrp-add", "lr1", "lrp-lr1-ts1", "aa:aa:aa:aa:aa:01",
              "169.254.100.1/24", "--", "lsp-add", "ts1", "lsp-ts1-lr1",
              "--", "lsp-set-type", "lsp-ts1-lr1", "router",
              "--", "lsp-set-addresses", "lsp-ts1-lr1", "router",
              "--", "lsp-set-options", "lsp-ts1-lr1", "router-port=lrp-lr1-ts1")
    wait_until(lambda: remote_ports(az2) == ["lsp-ts1-lr1"], timeout=30)

    first.stop()  # az1 would publish its binding again
    testbed.kill_ic_sb()
    testbed.run("ovsdb-tool", "transact", str(testbed._ic_sb.db_file), json.dumps(
        ["OVN_IC_Southbound", {"op": "delete", "table": "Port_Binding",
                               "where": [["logical_port", "==", "lsp-ts1-lr1"]]}]))
    testbed.start_ic_sb()

    wait_until(lambda: remote_ports(az2) == [], timeout=30,
               message="az2 kept the remote port of a binding that is gone")


def test_a_reconnect_recomputes_concerns_whose_inputs_reported_nothing(testbed):
    """gateways reads nothing from the NB: only the reconnect itself can make it recompute."""
    az = testbed.az("az1")
    controller = Controller(testbed, az).start()
    before = controller.metric("ovn_ic_controller_recomputes_total", concern="gateways")
    assert before >= 1
    az._nb.stop(signal.SIGKILL)
    az._nb.start()
    wait_until(lambda: controller.metric("ovn_ic_controller_recomputes_total",
                                         concern="gateways") > before, timeout=30,
               message="the NB reconnect did not make every concern recompute")
    assert controller.metric("ovn_ic_controller_db_connected", db="nb") == 1.0
