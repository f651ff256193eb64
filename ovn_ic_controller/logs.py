"""Logging: structlog everywhere, and the ovs library's vlog routed through it.

JSON lines when stdout is not a terminal (journald, files), key=value on a
terminal.  Without the bridge the ovs IDL's own messages ("not cluster leader",
"error parsing update") would be silent, because vlog prints nothing until
initialised.  Values may come from a file or a peer AZ: every logged string is
cut to a size and has its control characters escaped, so that no value can
flood the log or drive the operator's terminal.
"""

from __future__ import annotations

import contextlib
import logging
import sys

import ovs.vlog
import structlog

LEVELS = ("debug", "info", "warning", "error")
QUOTE_LIMIT = 200  # characters of a value quoted in an error line
LOG_LIMIT = 1000  # characters of any string logged (a quoted value fits with its message)
_level = "info"


def setup(level: str = "info", fmt: str | None = None, stream=None) -> None:
    """Configure structlog; ``fmt`` is 'json', 'console' or None (auto by tty).

    ``stream`` defaults to stdout; one-shot commands log to stderr, keeping
    stdout for their output.
    """
    stream = stream or sys.stdout
    if fmt is None:
        fmt = "console" if stream.isatty() else "json"
    renderer = (structlog.processors.JSONRenderer() if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _printable_values,
            structlog.processors.format_exc_info,
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    set_level(level)
    _bridge_vlog()


def set_level(level: str) -> None:
    """Log ``level`` (one of LEVELS) and above from now on; ``ovn-appctl vlog/set`` too."""
    global _level
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(
        getattr(logging, level.upper())))
    _level = level


def level() -> str:
    return _level


def _printable_values(_logger, _method, event: dict) -> dict:
    return {key: printable(value) if isinstance(value, str) else value
            for key, value in event.items()}


def get(name: str):
    return structlog.get_logger(component=name)


_vlog_muted = False


@contextlib.contextmanager
def vlog_muted():
    """Drop ovs.vlog messages meanwhile: for probes fed wrong data on purpose."""
    global _vlog_muted
    before, _vlog_muted = _vlog_muted, True
    try:
        yield
    finally:
        _vlog_muted = before


def _bridge_vlog() -> None:
    """Send ovs.vlog messages to structlog, keeping the ovs module name."""
    log = structlog.get_logger(component="ovs")

    def forward(method):
        def emit(self, message, **_kwargs):
            if _vlog_muted or (method == "debug" and self.name == "poller"):
                return  # muted, or one line per wakeup: noise, not information
            getattr(log, method)(message, module=self.name)
        return emit

    ovs.vlog.Vlog.emer = forward("critical")
    ovs.vlog.Vlog.err = forward("error")
    ovs.vlog.Vlog.warn = forward("warning")
    ovs.vlog.Vlog.info = forward("info")
    ovs.vlog.Vlog.dbg = forward("debug")
    ovs.vlog.Vlog.exception = forward("exception")


# ------------------------------------------------------ values shown to people

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str, special: str) -> str:
    if char in special:
        return "\\" + char
    if char.isprintable():
        return char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
            else f"\\U{code:08x}")


def _cut(text: str, limit: int, special: str = "") -> tuple[str, str]:
    """``text`` escaped up to ``limit`` characters, and what says how much was left out."""
    parts, size = [], 0
    for index, char in enumerate(text):
        part = _escape(char, special)
        size += len(part)
        if size > limit:
            return "".join(parts), f"… ({len(text) - index} more characters)"
        parts.append(part)
    return "".join(parts), ""


def printable(text: str, limit: int = LOG_LIMIT) -> str:
    """``text`` with unprintable characters escaped as repr() does, cut after ``limit``."""
    if len(text) <= limit and text.isprintable():
        return text
    shown, more = _cut(text, limit)
    return shown + more


def quote(value: str, limit: int = QUOTE_LIMIT) -> str:
    """'value' for an error line: repr-like escapes (quote and backslash too), cut."""
    shown, more = _cut(value, limit, "'\\")
    return f"'{shown}'{more}"
