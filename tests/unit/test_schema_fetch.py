"""Fetching a schema gives up on a server that accepts the connection and never answers."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ovn_ic_controller.db.schema import SchemaUnavailable, fetch_schema


@pytest.mark.timeout(20)
def test_a_server_that_never_answers_is_given_up_on_at_the_timeout(tmp_path):
    path = str(tmp_path / "silent.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    started = time.monotonic()
    with pytest.raises(SchemaUnavailable, match="timed out"):
        fetch_schema(f"unix:{path}", "OVN_Southbound", timeout_ms=300)
    assert time.monotonic() - started < 3
    assert accepted, "the request reached the server"
    listener.close()
