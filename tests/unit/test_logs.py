"""Values shown to people: control characters escaped, long values cut, in errors and logs."""

import io
import json

import pytest
import structlog

from ovn_ic_controller import logs


@pytest.mark.parametrize("text, shown", [
    ("plain café → ok", "'plain café → ok'"),
    ("\x1b[31mred\x1b[0m", r"'\x1b[31mred\x1b[0m'"),
    ("a\nb\tc\rd", r"'a\nb\tc\rd'"),
    ("it's a \\ path", r"'it\'s a \\ path'"),
    ("\x9b2J\x7f\u202e\U000e0001", r"'\x9b2J\x7f\u202e\U000e0001'"),
])
def test_quote_escapes_as_repr_does_in_single_quotes(text, shown):
    assert logs.quote(text) == shown


def test_quote_cuts_after_the_limit_counting_escapes():
    assert logs.quote("x" * 201) == f"'{'x' * 200}'… (1 more characters)"
    assert logs.quote("x" * 200) == f"'{'x' * 200}'"
    # An escape is never cut in half: 50 shown as 200 characters, 51 left out.
    assert logs.quote("\x00" * 101) == "'" + r"\x00" * 50 + "'… (51 more characters)"


def test_printable_leaves_printable_text_alone_and_does_not_quote():
    assert logs.printable("it's C:\\tmp — fine") == "it's C:\\tmp — fine"
    assert logs.printable("a\x1bb", limit=10) == r"a\x1bb"
    assert logs.printable("y" * 12, limit=10) == "y" * 10 + "… (2 more characters)"


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_every_logged_string_is_printable_and_cut(fmt):
    stream = io.StringIO()
    logs.setup("info", fmt, stream=stream)
    try:
        logs.get("test").warning("peer.value", value="\x1b]0;owned\x07" + "z" * 10_000_000,
                                 count=3)
    finally:
        structlog.reset_defaults()
    line = stream.getvalue()
    assert line.count("\n") == 1 and len(line) < logs.LOG_LIMIT + 300, len(line)
    assert "\x1b" not in line and "\x07" not in line
    if fmt == "json":
        shown = json.loads(line)["value"]
        assert shown.startswith(r"\x1b]0;owned\x07zzz")
    else:  # structlog's console renderer shows a value with spaces as its repr()
        shown = line
        assert r"value='\\x1b]0;owned\\x07zzz" in line
    # 10,000,010 characters, of which 994 shown as 1000 (two escapes of 4).
    assert f"… ({10_000_010 - 994} more characters)" in shown
