"""Reads that end inside a multi-byte character no longer break the connection."""

from __future__ import annotations

import errno
import socket

import ovs.jsonrpc
import ovs.stream
import pytest

from ovn_ic_controller.db.ovs_compat import utf8stream

MESSAGE = '{"id":1,"result":["zone-\u00fc \u20ac \U0001f600"],"error":null}'.encode()


@pytest.mark.parametrize(("data", "complete"), [
    (b"", 0), (b"abc", 3), ("ü".encode(), 2), ("ü".encode()[:1], 0),
    ("a€".encode()[:2], 1), ("a€".encode()[:3], 1), ("a€".encode(), 4),
    ("😀".encode()[:3], 0), ("😀".encode(), 4),
    (b"a\x80", 2), (b"\xff", 1),  # invalid: left for the decoder to reject
])
def test_complete_length_drops_only_an_incomplete_character_at_the_end(data, complete):
    assert utf8stream.complete_length(data) == complete


def read_split(cut: int):
    """Receive MESSAGE sent in two parts, cut at byte ``cut``, with nothing to read
    between them; the results of the two recv() calls."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    connection = ovs.jsonrpc.Connection(ovs.stream.Stream(ours, "test", 0))
    try:
        theirs.sendall(MESSAGE[:cut])
        first = connection.recv()
        theirs.sendall(MESSAGE[cut:])
        second = connection.recv()
        return first, second
    finally:
        connection.close()
        theirs.close()


CUTS = [MESSAGE.index("ü".encode()) + 1, MESSAGE.index("€".encode()) + 2,
        MESSAGE.index("😀".encode()) + 3]


@pytest.mark.parametrize("cut", CUTS)
def test_the_original_connection_fails_on_a_character_split_across_reads(cut):
    utf8stream.uninstall()
    first, (error, _) = read_split(cut)
    assert first == (errno.EAGAIN, None)
    assert error == errno.EILSEQ  # what install() repairs


@pytest.mark.parametrize("cut", CUTS)
def test_a_character_split_across_reads_arrives_whole(cut):
    utf8stream.install()
    try:
        first, (error, message) = read_split(cut)
    finally:
        utf8stream.uninstall()
    assert first == (errno.EAGAIN, None)
    assert error == 0 and message.result == ["zone-ü € 😀"]


def test_a_read_of_only_a_character_start_waits_for_the_rest():
    utf8stream.install()
    try:
        first, (error, message) = read_split(MESSAGE.index("😀".encode()) + 1)
    finally:
        utf8stream.uninstall()
    assert first == (errno.EAGAIN, None) and error == 0
