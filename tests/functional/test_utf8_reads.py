"""Non-ASCII text split across reads does not break the daemon's connections.

A proxy between the daemon and the IC SB relays the server's bytes so that a
read ends inside a multi-byte character, with a pause before the rest: the
``ovs`` library alone then fails to decode the rest and reconnects, forever
(db/ovs_compat/utf8stream.py).
"""

import socket
import threading
import time

from controller import Controller


class SplittingProxy:
    """Relays a unix socket, cutting the server's bytes after the first byte of the
    first multi-byte character of each read, and pausing there."""

    def __init__(self, path, upstream):
        self.path, self.upstream = str(path), upstream
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(self.path)
        self.listener.listen()
        self.splits = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def remote(self):
        return f"unix:{self.path}"

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.upstream)
            threading.Thread(target=self._relay, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, True), daemon=True).start()

    def _relay(self, source, target, split):
        try:
            while data := source.recv(65536):
                lead = next((i for i, byte in enumerate(data) if byte >= 0xC2), None)
                if split and lead is not None:
                    target.sendall(data[:lead + 1])
                    self.splits += 1
                    time.sleep(0.05)
                    data = data[lead + 1:]
                target.sendall(data)
        except OSError:
            pass
        finally:
            source.close()
            target.close()

    def close(self):
        self.listener.close()


def test_an_az_name_split_across_reads_is_read_whole(testbed):
    az = testbed.az("az1")
    testbed.ic_sbctl("create", "Availability_Zone", "name=zone-\u00fc-\u20ac")
    proxy = SplittingProxy(testbed.workdir / "ic-sb-proxy.sock",
                           testbed.ic_sb[len("unix:"):])
    try:
        controller = Controller(testbed, az, ic_sb_db=proxy.remote).start()
        time.sleep(2)  # a few rounds of reads: each would have reconnected
        assert proxy.splits > 0
        assert controller.metric("ovn_ic_controller_db_connected", db="ic_sb") == 1.0
        assert not [record for record in controller.logs()
                    if "receive error" in str(record.get("event", ""))], controller.log_tail()
    finally:
        proxy.close()
