"""The daemon (``loop.Daemon``)."""

from .loop import Daemon

__all__ = ["Daemon"]
