"""Whole UTF-8 characters for the JSON-RPC connections' reads.

``ovs.jsonrpc.Connection.recv`` decodes what it reads with an incremental
UTF-8 decoder that it makes anew on every call.  When a read ends inside a
multi-byte character and the socket has nothing more for now (EAGAIN), the
character's first bytes stay in that decoder, which is then dropped: the next
call starts decoding at a continuation byte, fails, and the connection is torn
down (EILSEQ) and made again.  A large update carrying non-ASCII text (names,
external_ids) can then fail the same way on every reconnect.

``install()`` makes every Connection read through ``WholeCharacters``, which
holds an incomplete character back from a read until its rest arrives, so that
each read the decoder sees ends on a character boundary.
"""

from __future__ import annotations

import errno
from typing import Any

import ovs.jsonrpc

_ORIGINAL_INIT = ovs.jsonrpc.Connection.__init__


class WholeCharacters:
    """A stream (ovs.stream.Stream) whose reads end on UTF-8 character boundaries."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._held = b""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def recv(self, n: int) -> tuple[int, Any]:
        error, data = self._stream.recv(n)
        if error or not data:  # EAGAIN, an error or the end of the stream
            return error, data
        data = self._held + data
        end = complete_length(data)
        self._held = data[end:]
        if not end:  # only the start of a character so far
            return errno.EAGAIN, b""
        return 0, data[:end]


def complete_length(data: bytes) -> int:
    """The length of ``data`` without an incomplete multi-byte sequence at its end.

    Anything invalid is left in, for the decoder to reject as it would have.
    """
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # ASCII or a lead byte: the last sequence starts here
            if 0xC2 <= byte <= 0xDF:
                needed = 2
            elif 0xE0 <= byte <= 0xEF:
                needed = 3
            elif 0xF0 <= byte <= 0xF4:
                needed = 4
            else:  # ASCII, or a byte that never starts a character
                needed = 1
            return len(data) - back if back < needed else len(data)
    return len(data)


def _init(self: ovs.jsonrpc.Connection, stream: Any) -> None:
    _ORIGINAL_INIT(self, WholeCharacters(stream))


def install() -> None:
    """Make every ``ovs.jsonrpc.Connection`` read through ``WholeCharacters``."""
    ovs.jsonrpc.Connection.__init__ = _init


def uninstall() -> None:
    """Undo :func:`install`."""
    ovs.jsonrpc.Connection.__init__ = _ORIGINAL_INIT
