"""Reading OVSDB column values the way ovn-ic does (spec §11).

The IDL returns optional references as lists, maps as dicts; options are
strings whose parsing rules ovn-ic fixes: booleans are true only for "true"
(any case), integers are whole base-10 strings, UUIDs are canonical.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any


def column(row: Any, name: str, default: Any = None) -> Any:
    """``row.name``, or ``default`` when this schema (or a fresh row) lacks the column."""
    try:
        return getattr(row, name)
    except AttributeError:
        return default


def optional_ref(value: Any) -> Any:
    """The single element of an optional (min 0, max 1) column, or None."""
    return value[0] if value else None


def is_true(value: str | None) -> bool:
    return value is not None and value.lower() == "true"


def parse_int(value: str | None, default: int = 0) -> int:
    """C-style strtol on the whole string, base 10, within int32; else ``default``."""
    if value is None or not value.strip() or value != value.strip():
        return default
    try:
        number = int(value, 10)
    except ValueError:
        return default
    return number if -2**31 <= number < 2**31 else default


def parse_uuid(value: str | None) -> uuidlib.UUID | None:
    """A canonical 36-character UUID string, or None."""
    if value is None or len(value) != 36:
        return None
    try:
        return uuidlib.UUID(value)
    except ValueError:
        return None
