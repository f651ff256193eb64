"""The daemon, split by job so that each can be read and tested alone.

``loop``: the run/iterate/block loop, signals, shutdown and reload (``Daemon``);
``scheduler``: which concern computes when, isolating one that raises;
``committer``: plans to one transaction per database, with retries;
``status``: the lock, the AZ identity and readiness, as logged and reported;
``control``: the ovn-appctl socket, its verbs, and pause.
"""

from .loop import Daemon

__all__ = ["Daemon"]
