"""Logging: structlog everywhere, and the ovs library's vlog routed through it.

JSON lines when stdout is not a terminal (journald, files), key=value on a
terminal.  Without the bridge the ovs IDL's own messages ("not cluster leader",
"error parsing update") would be silent, because vlog prints nothing until
initialised.
"""

from __future__ import annotations

import logging
import sys

import ovs.vlog
import structlog

LEVELS = ("debug", "info", "warning", "error")


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
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    _bridge_vlog()


def get(name: str):
    return structlog.get_logger(component=name)


def _bridge_vlog() -> None:
    """Send ovs.vlog messages to structlog, keeping the ovs module name."""
    log = structlog.get_logger(component="ovs")

    def forward(method):
        def emit(self, message, **_kwargs):
            if method == "debug" and self.name == "poller":
                return  # one line per wakeup: noise, not information
            getattr(log, method)(message, module=self.name)
        return emit

    ovs.vlog.Vlog.emer = forward("critical")
    ovs.vlog.Vlog.err = forward("error")
    ovs.vlog.Vlog.warn = forward("warning")
    ovs.vlog.Vlog.info = forward("info")
    ovs.vlog.Vlog.dbg = forward("debug")
    ovs.vlog.Vlog.exception = forward("exception")
