"""The metrics listener moves only when it can: a failed move leaves the old one serving."""

import dataclasses
import socket
import urllib.request

import pytest

from ovn_ic_controller import config
from ovn_ic_controller.config import ConfigError
from ovn_ic_controller.metrics import Health, Metrics, MetricsServer

BASE = config.from_mapping({"ic-db-host": "10.0.0.1"}, "c.conf")


def at(address):
    return dataclasses.replace(BASE, metrics_address=address)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return reply.read() == b"ok\n"
    except OSError:
        return False


@pytest.fixture
def server():
    server = MetricsServer(Metrics(), Health())
    yield server
    server.stop()


@pytest.fixture
def taken():
    """A port another process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_moves_to_a_free_port_and_closes_the_old(server):
    first, second = free_port(), free_port()
    server.serve(at(("127.0.0.1", first)))
    assert server.port == first and answers(first)
    server.serve(at(("127.0.0.1", second)))
    assert server.port == second and answers(second)
    assert not answers(first)


def test_a_port_in_use_is_refused_naming_the_key_and_the_old_one_keeps_serving(server, taken):
    port = free_port()
    server.serve(at(("127.0.0.1", port)))
    with pytest.raises(ConfigError) as info:
        server.serve(at(("127.0.0.1", taken)))
    assert str(info.value) == (f"c.conf: key 'metrics-address' = '127.0.0.1:{taken}': cannot "
                               f"listen there: Address already in use (another process "
                               f"listens there)")
    assert server.port == port and answers(port)


def test_an_address_not_on_this_host_is_refused_at_start(server):
    with pytest.raises(ConfigError, match=r"key 'metrics-address' = '192\.0\.2\.1:9476': "
                                          r"cannot listen there: .*not an address of this host"):
        server.serve(at(("192.0.2.1", 9476)))
    assert server.server is None


def test_another_host_on_the_same_port_replaces_our_own_socket(server):
    port = free_port()
    server.serve(at(("127.0.0.1", port)))
    server.serve(at(("0.0.0.0", port)))  # overlaps 127.0.0.1: only after closing it
    assert server.address == ("0.0.0.0", port) and answers(port)


def test_another_host_on_the_same_port_taken_by_another_keeps_the_old(server, taken):
    server.serve(at(("127.0.0.2", taken)))  # beside the other's 127.0.0.1
    with pytest.raises(ConfigError, match="Address already in use"):
        server.serve(at(("0.0.0.0", taken)))
    assert server.address == ("127.0.0.2", taken)
    with urllib.request.urlopen(f"http://127.0.0.2:{taken}/healthz", timeout=2) as reply:
        assert reply.read() == b"ok\n"


def test_port_0_serves_nowhere(server):
    port = free_port()
    server.serve(at(("127.0.0.1", port)))
    server.serve(at(("127.0.0.1", 0)))
    assert server.server is None and not answers(port)
    server.serve(at(("127.0.0.1", port)))
    assert answers(port)
