"""FastParser against the ovs.json parser it replaces: same values (types
included), same counts fed, same done status, same error messages."""

from __future__ import annotations

import errno
import json
import socket

import ovs.json
import ovs.jsonrpc
import ovs.stream
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovn_ic_controller.db.ovs_compat import fastjson
from ovn_ic_controller.db.ovs_compat.fastjson import FastParser

ORIGINAL_PARSER = ovs.json.Parser

# Characters that matter to a JSON scanner, plus multi-byte and astral ones.
TRICKY_TEXT = st.text(st.sampled_from('ab"\\{}[]:,/ \n\t\x01\x7féü€😀\u2028'), max_size=8)
NUMBERS = (st.integers(-2**70, 2**70)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from([2**63 - 1, 2**63, -2**63, -2**63 - 1, 0.0, -0.0, 1.0, 1e300]))
SCALARS = st.none() | st.booleans() | NUMBERS | TRICKY_TEXT
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TRICKY_TEXT, children,
                                                                      max_size=4),
    max_leaves=25)
DOCUMENTS = st.lists(VALUES, max_size=4) | st.dictionaries(TRICKY_TEXT, VALUES, max_size=4)
SERIALIZERS = {
    "ovs.json.to_string": ovs.json.to_string,  # \u escapes, surrogate pairs
    "raw UTF-8 text": lambda value: json.dumps(value, ensure_ascii=False),  # like ovsdb-server
    "indented": lambda value: json.dumps(value, indent=1),  # newlines shift line/column numbers
}
# What may follow a message in the stream: nothing, whitespace, the next message, garbage.
TRAILERS = st.sampled_from(["", " \n", '{"id":2}', '  ["x"]', "x"])
MALFORMED = [
    "", "  ", "1", '"text"', "true", "x", "{", '{"a"', '{"a":', '{"a":1', '{"a":"b', '{"a":"b\\',
    "{]", '{"a":[1}', '{"a":1,}', "[1,]", "[01]", "[-]", "[1.]", "[1e]", "[+1]", "[.5]",
    "[NaN]", "[Infinity]", "[-Infinity]", "[1e999]", "[-1e999]", "[1e99999999999999999999]",
    "[1e-99999999999999999999]", "[" + "9" * 400 + "]", '["\\x"]', '["\\u12"]', '["\\uzzzz"]',
    '["\\u0000"]', '["\\ud800"]', '["\\ud800x"]', '["\\ud800\\u0041"]', '["\\ud800\\ud800"]',
    '["\x01"]', '["\n"]', "[True]", "[nul]", "[nullx]", '{1:2}', '{"a" 1}', "[1 2]",
    "[" * 1001 + "]" * 1001,
]


def chunked(text: str, sizes: list[int]) -> list[str]:
    """``text`` cut into pieces of the given sizes, cycling through them."""
    chunks, start, turn = [], 0, 0
    while start < len(text):
        chunks.append(text[start:start + sizes[turn % len(sizes)]])
        start += len(chunks[-1])
        turn += 1
    return chunks


def parse(parser_class, chunks: list[str], check_trailer: bool = False):
    """Feed ``chunks`` to one parser: each feed's (count taken, done), and finish()."""
    parser = parser_class(check_trailer=check_trailer)
    trace = [(parser.feed(chunk), parser.is_done()) for chunk in chunks]
    return trace, parser.finish()


def read_stream(parser_class, chunks: list[str]) -> tuple[list[str], list]:
    """Messages (as repr) from a stream, fed the way ovs.jsonrpc.Connection.recv does
    (leftover input first, a fresh parser per message, stop at an error)."""
    messages, trace, parser, pending = [], [], None, ""
    for chunk in chunks:
        pending += chunk
        while pending:
            parser = parser or parser_class()
            taken = parser.feed(pending)
            trace.append((taken, parser.is_done()))
            pending = pending[taken:]
            if not parser.is_done():
                break
            result = parser.finish()
            messages.append(repr(result))
            parser = None
            if isinstance(result, str):
                return messages, trace
    return messages, trace


def assert_same_as_original(chunks: list[str], check_trailer: bool = False):
    """Same result (compared as repr, so 1 and 1.0 or True differ); for a value,
    also the same counts and done status after every feed.  Returns the result."""
    original_trace, original = parse(ORIGINAL_PARSER, chunks, check_trailer)
    fast_trace, fast = parse(FastParser, chunks, check_trailer)
    assert repr(fast) == repr(original)
    if not isinstance(original, str):  # errors may surface later, as documented
        assert fast_trace == original_trace
    return original


@settings(max_examples=200, deadline=None)
@given(document=DOCUMENTS, serializer=st.sampled_from(sorted(SERIALIZERS)), trailer=TRAILERS,
       sizes=st.lists(st.integers(1, 40), min_size=1, max_size=5),
       check_trailer=st.booleans())
def test_documents_in_any_chunks_parse_as_the_original_does(
        document, serializer, trailer, sizes, check_trailer):
    text = SERIALIZERS[serializer](document)
    result = assert_same_as_original(chunked(text + trailer, sizes), check_trailer)
    if not (check_trailer and trailer.strip()):
        assert not isinstance(result, str), result  # not vacuous: the value was read


@settings(max_examples=100, deadline=None)
@given(documents=st.lists(DOCUMENTS, min_size=1, max_size=4),
       separators=st.sampled_from(["", "\n", " \t "]),
       sizes=st.lists(st.integers(1, 60), min_size=1, max_size=5))
def test_a_stream_of_messages_frames_as_the_original_does(documents, separators, sizes):
    stream = separators.join(ovs.json.to_string(document) for document in documents)
    chunks = chunked(stream, sizes)
    assert read_stream(FastParser, chunks) == read_stream(ORIGINAL_PARSER, chunks)


@settings(max_examples=200, deadline=None)
@given(document=DOCUMENTS, data=st.data())
def test_damaged_documents_fail_with_the_original_error(document, data):
    text = ovs.json.to_string(document)
    where = data.draw(st.integers(0, len(text)))
    damage = data.draw(st.sampled_from(["delete", "insert", "truncate"]))
    if damage == "delete":
        text = text[:where] + text[where + 1:]
    elif damage == "insert":
        text = text[:where] + data.draw(st.sampled_from('"\\{}[]:,x0-.e')) + text[where:]
    else:
        text = text[:where]
    sizes = data.draw(st.lists(st.integers(1, 30), min_size=1, max_size=3))
    assert_same_as_original(chunked(text, sizes))


@pytest.mark.parametrize("text", MALFORMED)
@pytest.mark.parametrize("check_trailer", [False, True])
def test_malformed_input_fails_with_the_original_error(text, check_trailer):
    for sizes in ([len(text) or 1], [1], [3]):
        result = assert_same_as_original(chunked(text, sizes), check_trailer)
        assert isinstance(result, str), result


@pytest.mark.parametrize("number", [
    "0", "-0", "0.0", "-0.0", "0e5", "1.0", "1.50", "1e2", "1E+2", "1.5e1", "100e-2", "1e-2",
    "1e-400", "0.1", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "9223372036854775807.0", "922337203685477580.7e1",
    "10000000000000000000000e-10", "123456789012345678901234567890", "1e18", "1e19",
])
def test_numbers_get_the_original_types(number):
    assert_same_as_original([f"[{number}]"])


def test_every_split_of_a_tricky_message_parses_as_the_original_does():
    text = ('{"k\\"{": "a\\\\", "b": "\\u00e9\\ud83d\\ude00\\/", "c\\n": "é😀}]\\"",'
            ' "d": [1, -2, 3.5, 1e2, true, false, null, {}, []]}{"next": 1}')
    for cut in range(len(text) + 1):
        for second_cut in (cut + 1, cut + 2):
            assert_same_as_original([text[:cut], text[cut:second_cut], text[second_cut:]])


@pytest.fixture
def installed():
    assert fastjson.install()
    yield
    fastjson.uninstall()


def test_install_swaps_the_parser_and_uninstall_restores_it(installed):
    assert type(ovs.json.Parser()) is FastParser
    assert ovs.json.from_string('{"a": [1.0]} ') == {"a": [1]}
    assert ovs.json.from_string('{"a": 1} []').endswith("trailing garbage at end of input")
    assert "null bytes not supported" in ovs.json.from_string('["\\u0000"]')
    fastjson.uninstall()
    assert type(ovs.json.Parser()) is ovs.json.Parser
    assert ovs.json.from_string('{"a": [1.0]} ') == {"a": [1]}


def test_install_leaves_the_c_parser_alone(monkeypatch):
    monkeypatch.setattr(ovs.json, "PARSER", ovs.json.PARSER_C)
    assert not fastjson.install()
    monkeypatch.undo()
    assert type(ovs.json.Parser()) is ovs.json.Parser


def test_jsonrpc_connection_reads_messages_split_anywhere_through_it(installed):
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    connection = ovs.jsonrpc.Connection(ovs.stream.Stream(ours, "test", 0))
    try:
        first = '{"id":1,"result":{"name":"x\\"}{"},"error":null}'
        second = '{"id":2,"result":["caf\\u00e9 ]"],"error":null}'
        cut = len(second) // 2
        theirs.sendall((first + second[:cut]).encode())
        error, message = connection.recv()
        assert (error, message.id, message.result) == (0, 1, {"name": 'x"}{'})
        assert connection.recv() == (errno.EAGAIN, None)
        assert isinstance(connection.parser, FastParser)
        theirs.sendall(second[cut:].encode())
        error, message = connection.recv()
        assert (error, message.id, message.result) == (0, 2, ["café ]"])
    finally:
        connection.close()
        theirs.close()
