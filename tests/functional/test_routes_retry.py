"""Q8: a failed commit is retried promptly, with a backoff instead of a hot loop.

23.03.1 retries only on the next unrelated wakeup.  To make commits fail at
will, our daemon reaches the real IC SB through a small proxy that answers the
transactions writing IC SB routes with an error while told to.
"""

from __future__ import annotations

import json
import socket
import threading
import time

from controller import Controller
from icview import OURS, start
from routeview import learned, routers_on_ts1, wait_for


class FailingProxy:
    """A unix-socket proxy to an OVSDB server that fails route transactions on demand."""

    def __init__(self, upstream: str, path: str) -> None:
        self.upstream, self.path = upstream, path
        self.failing = False
        self.failed_at: list[float] = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.upstream)
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()
            threading.Thread(target=self._requests, args=(client, server), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def _requests(self, client: socket.socket, server: socket.socket) -> None:
        """Forward the client's messages, answering route transactions itself while failing."""
        decoder, buffer = json.JSONDecoder(), ""
        try:
            while data := client.recv(65536):
                buffer += data.decode()
                while buffer.strip():
                    try:
                        message, end = decoder.raw_decode(buffer.lstrip())
                    except ValueError:
                        break  # the rest of the message is still on its way
                    buffer = buffer.lstrip()[end:]
                    if self.failing and self._writes_routes(message):
                        self.failed_at.append(time.monotonic())
                        reply = {"id": message["id"], "error": None, "result": [
                            {"error": "injected", "details": "failed by the test's proxy"}]}
                        client.sendall(json.dumps(reply).encode())
                    else:
                        server.sendall(json.dumps(message).encode())
        except OSError:
            pass
        finally:
            server.close()

    @staticmethod
    def _writes_routes(message: dict) -> bool:
        return message.get("method") == "transact" and any(
            isinstance(op, dict) and op.get("table") == "Route" for op in message["params"])


def test_q8_failed_commit_retried_promptly_without_spinning(testbed):
    az1, az2 = testbed.azs
    proxy = FailingProxy(testbed.ic_sb.removeprefix("unix:"), str(testbed.workdir / "isb.sock"))
    try:
        ours = Controller(testbed, az1, ic_sb_db=f"unix:{proxy.path}").start()
        start(testbed, az2, OURS)
        routers_on_ts1(testbed)
        az1.nbctl("lr-route-add", "lr1", "10.1.0.0/24", "169.254.100.254")
        wait_for(lambda: learned(az2), "az2 learned az1's first route")

        proxy.failing = True
        az1.nbctl("lr-route-add", "lr1", "10.2.0.0/24", "169.254.100.254")
        wait_for(lambda: len(proxy.failed_at) >= 4, "the failed commit retried, again and again")
        first, fourth = proxy.failed_at[0], proxy.failed_at[3]
        # Backing off from 0.1 s: 0.1 + 0.2 + 0.4 s at least between the first and the
        # fourth attempt, where a hot loop would take milliseconds.
        assert fourth - first >= 0.6
        assert ours.metric("ovn_ic_controller_transactions_total", db="ic_sb",
                           outcome="error") >= 4

        proxy.failing = False
        wait_for(lambda: [route[1] for route in learned(az2)] == ["10.1.0.0/24", "10.2.0.0/24"],
                 "learned once the commit went through")
    finally:
        proxy.close()
