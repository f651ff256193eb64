"""A fast drop-in for ``ovs.json.Parser``, the IDL's JSON-RPC stream parser.

Without its C extension, the ``ovs`` package parses every message one
character at a time in Python, which dominates loading a large database.
:class:`FastParser` keeps that parser's contract and results but does the work
in C, through the standard library:

* framing: a regex scan that only follows strings (with their escapes) and
  bracket depth finds where the top-level value ends, across chunk splits
  anywhere (inside strings, right after a backslash).  A chunk that cannot
  hold the end (most of a large message) is skipped without stepping through
  its tokens in Python: C passes delete its strings and other text and cancel
  its matched brackets, leaving only the net change in depth;
* decoding: the complete text goes to the C-accelerated ``json`` decoder, with
  numbers converted exactly as ``ovs.json`` does (integral values that fit an
  int64 become ints, others floats).

Whatever the two grammars might disagree on (malformed input, NaN/Infinity,
``\\u0000``, lone surrogate escapes, overflowing numbers, extreme nesting) is
handed, with all the text seen so far, to the original parser, so values and
error messages are the original's.  The one difference is timing: most syntax
errors inside a value surface once its brackets close (or at ``finish()``),
not at the offending character, so by then ``feed()`` may have taken text
past it (which matters little: the connection is dropped on any error).

``ovs.jsonrpc`` feeds the parser ``str`` (it decodes UTF-8 itself) and slices
its input by the count ``feed()`` returns, so counts are in characters.
"""

from __future__ import annotations

import json
import math
import re
import sys

import ovs.json

_ORIGINAL_PARSER = ovs.json.Parser
_ORIGINAL_NEW = vars(_ORIGINAL_PARSER)["__new__"]
_WHITESPACE = " \t\n\r"  # exactly JSON's, as in ovs.json

# A string's content, up to its closing quote.  Escapes are skipped as pairs,
# so an escaped quote never ends the string.
_STRING_CONTENT = r'[^"\\]*(?:\\.[^"\\]*)*'
# The rest of a string up to and including its closing quote (group 1), which
# is missing when the string goes on in the next chunk.
_STRING_BODY = _STRING_CONTENT + '(")?'
_STRING_REST = re.compile(_STRING_BODY, re.S)
# Tokens of the framing scan: a string, an opening or a closing bracket.
_TOKEN = re.compile('"' + _STRING_BODY + r"|([{\[])|([}\]])", re.S)
_CLOSED_STRING, _OPEN, _CLOSE = 1, 2, 3
# For the quick chunk check: complete strings, and then anything but brackets.
_CLOSED_STRINGS = re.compile('"' + _STRING_CONTENT + '"', re.S)
_NOT_BRACKETS = re.compile(r"[^{}\[\]]+")
_AS_PARENS = str.maketrans("{[}]", "(())")  # the scan, too, ignores bracket types
_MAX_CANCEL_PASSES = 32  # deeper nesting within one chunk takes the token scan

# Escapes that ovs.json rejects but the json module accepts: a NUL, and a
# leading surrogate not followed by a trailing one.  False positives (an
# escaped backslash before "u0000") merely take the slow path.
_DISPUTED_ESCAPE = re.compile(
    r"\\u(?:0000|[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2}))")
_OVS_NUMBER = re.compile(r"(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?$")
_INT64_MIN, _INT64_END = -2**63, 2**63


class _Disputed(ValueError):
    """The json module would accept what ovs.json may not, or may read differently."""


def _ovs_number(text: str) -> int | float:
    """A JSON number as ovs.json reads it: an int if its value is integral and fits an
    int64 (judged from the digits, so ``1.0e2`` is 100), else a float; never infinite."""
    sign, integer, fraction, exponent = _OVS_NUMBER.match(text).groups()
    if exponent is not None and not -sys.maxsize - 1 <= int(exponent) <= sys.maxsize:
        raise _Disputed("exponent out of range")
    if fraction is not None and not fraction.strip("0"):
        fraction = None
    significand = int(integer + (fraction or ""))
    if significand == 0:
        return 0
    pow10 = int(exponent or 0) - len(fraction or "")
    if significand <= _INT64_END:
        while pow10 > 0 and significand <= _INT64_END:
            significand *= 10
            pow10 -= 1
        while pow10 < 0 and significand % 10 == 0:
            significand //= 10
            pow10 += 1
        if pow10 == 0:
            value = -significand if sign else significand
            if _INT64_MIN <= value < _INT64_END:
                return value
    value = float(text)
    if math.isinf(value):
        raise _Disputed("number out of range")
    return value or 0  # no negative zero


def _ovs_integer(text: str) -> int | float:
    """The common case of :func:`_ovs_number`, without its regex."""
    value = int(text)
    return value if _INT64_MIN <= value < _INT64_END else _ovs_number(text)


def _reject_constant(name: str):
    raise _Disputed(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_int=_ovs_integer, parse_float=_ovs_number,
                            parse_constant=_reject_constant)


def _decode(text: str):
    """``text``'s value as ovs.json reads it; ValueError where that is not certain."""
    if "\\u" in text and _DISPUTED_ESCAPE.search(text):
        raise _Disputed("escape the json module reads differently")
    return _DECODER.decode(text)


def _new_original_parser(check_trailer: bool = False):
    """An ovs.json parser even while installed, built as its own ``__new__`` does
    when the C extension is missing."""
    parser = object.__new__(_ORIGINAL_PARSER)
    parser.__init__(check_trailer=check_trailer)
    return parser


class FastParser:
    """``ovs.json.Parser``'s contract: ``feed(text)`` returns how many characters it
    took, which stops after the top-level value (the rest belongs to the next
    message); ``is_done()``; ``finish()`` returns the value or an error string.

    With ``check_trailer`` (whole documents, as ``ovs.json.from_string``) it takes
    everything, only whitespace may follow the value, and it is never done early.
    """

    def __init__(self, check_trailer: bool = False) -> None:
        self.check_trailer = check_trailer
        self._pieces: list[str] = []  # the text taken so far
        self._depth = 0  # open brackets; 0 before the value starts
        self._in_string = False
        self._escape_pending = False  # a chunk ended right after a backslash in a string
        self._complete = False
        self._value = None
        self._original = None  # the ovs.json parser that took over, if any

    def feed(self, text: str) -> int:
        if self._original is not None:
            return self._original.feed(text)
        if not text or (self._complete and not self.check_trailer):
            return 0
        if self._complete:  # only whitespace may trail
            if text.strip(_WHITESPACE):
                return self._hand_over(text)
            self._pieces.append(text)
            return len(text)
        position = 0
        if self._depth == 0:
            position = len(text) - len(text.lstrip(_WHITESPACE))
            if position == len(text):
                self._pieces.append(text)
                return len(text)
            if text[position] not in "{[":  # ovs.json only takes objects and arrays
                return self._hand_over(text)
            self._depth = 1
            position += 1
        end = self._find_end(text, position)
        if end < 0:
            self._pieces.append(text)
            return len(text)
        document = "".join([*self._pieces, text[:end]])
        try:
            self._value = _decode(document)
        except (ValueError, RecursionError):
            return self._hand_over(text)
        self._pieces = [document]
        self._complete = True
        return end + self.feed(text[end:]) if self.check_trailer else end

    def _find_end(self, text: str, position: int) -> int:
        """Where in ``text`` the top-level value ends (just past its closing
        bracket), or -1 if it goes on; updates the scan state either way."""
        if self._in_string:
            if self._escape_pending:
                position += 1
                self._escape_pending = False
            rest = _STRING_REST.match(text, position)
            if rest.lastindex != _CLOSED_STRING:
                self._escape_pending = rest.end() < len(text)
                return -1
            self._in_string = False
            position = rest.end()
        if self._skip_unless_closing(text, position):
            return -1
        depth = self._depth
        for token in _TOKEN.finditer(text, position):
            kind = token.lastindex
            if kind == _OPEN:
                depth += 1
            elif kind == _CLOSE:
                depth -= 1
                if depth == 0:
                    self._depth = 0
                    return token.end()
            elif kind != _CLOSED_STRING:  # a string going on in the next chunk
                self._in_string = True
                self._escape_pending = token.end() < len(text)
                break
        self._depth = depth
        return -1

    def _skip_unless_closing(self, text: str, position: int) -> bool:
        """If the top-level value surely does not end in ``text[position:]`` (which
        starts outside any string), take in its depth and string state and return
        True; else return False, changing nothing, for the token scan to decide.

        Deleting everything but brackets and cancelling adjacent "()" pairs until
        none are left reduces the chunk to ``")" * k + "(" * m``: its running depth
        dips by k at most, so the value ends here only if k reaches the depth.
        """
        chunk = text[position:]
        if "\\" in chunk:
            outside = _CLOSED_STRINGS.sub("", chunk)
            quote = outside.find('"')  # the start of a string going on in the next chunk
            in_string = quote >= 0
            if in_string:
                outside = outside[:quote]
        else:  # without escapes quotes alternate, which splitting finds faster
            pieces = chunk.split('"')
            in_string = len(pieces) % 2 == 0
            outside = "".join(pieces[::2])
        brackets = _NOT_BRACKETS.sub("", outside).translate(_AS_PARENS)
        for _ in range(_MAX_CANCEL_PASSES):
            if "()" not in brackets:
                break
            brackets = brackets.replace("()", "")
        else:
            return False
        opened = brackets.lstrip(")")
        closed = len(brackets) - len(opened)
        if closed >= self._depth:
            return False
        self._depth += len(opened) - closed
        if in_string:
            self._in_string = True
            # A backslash run ending the chunk starts afresh after the string's
            # opening quote or an escape's second character: odd leaves one pending.
            self._escape_pending = (len(text) - len(text.rstrip("\\"))) % 2 == 1
        return True

    def _hand_over(self, text: str) -> int:
        """Let the original parser decide from here on, replaying the text taken
        so far; returns how much of ``text`` it takes."""
        earlier = "".join(self._pieces)
        self._original = _new_original_parser(self.check_trailer)
        # Less than ``earlier`` if it stops at an error there: that cannot be undone.
        return max(0, self._original.feed(earlier + text) - len(earlier))

    def is_done(self) -> bool:
        if self._original is not None:
            return self._original.is_done()
        return self._complete and not self.check_trailer

    def finish(self):
        if self._original is None and self._complete:
            return self._value
        if self._original is None:  # incomplete: the original words the error
            self._hand_over("")
        return self._original.finish()


def _new_fast_parser(cls, *args, **kwargs):
    return FastParser(*args, **kwargs)


def install() -> bool:
    """Make ``ovs.json.Parser()``, which ``ovs.jsonrpc`` and so the IDL call, return
    a FastParser.

    It replaces ``ovs.json.Parser.__new__`` (which, in ovs, returns the C parser
    when that is built); rebinding the name ``ovs.json.Parser`` instead would
    break the original, whose methods look their class up by that name.
    Returns False, changing nothing, when ovs's C parser is built: that one is
    fast already, and jsonrpc counts what it takes in bytes, not characters.
    """
    if ovs.json.PARSER == ovs.json.PARSER_C:
        return False
    _ORIGINAL_PARSER.__new__ = _new_fast_parser
    return True


def uninstall() -> None:
    """Undo :func:`install`."""
    _ORIGINAL_PARSER.__new__ = _ORIGINAL_NEW
