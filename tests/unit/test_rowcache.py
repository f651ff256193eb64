"""RowCache reuses what it derived from a row until the IDL reports the row changed."""

from __future__ import annotations

import types
import uuid as uuidlib

from ovn_ic_controller.db.rowcache import RowCache, mark_changed


def idl_row(**columns):
    """A fake row the IDL has reported, as TrackingIdl.notify does."""
    row = types.SimpleNamespace(uuid=uuidlib.uuid4(), **columns)
    mark_changed(row)
    return row


def counting_cache():
    calls = []

    def derive(row):
        calls.append(row.uuid)
        return row.name

    return RowCache(derive), calls


def test_derived_once_until_the_row_changes():
    cache, calls = counting_cache()
    row = idl_row(name="a")
    assert cache(row) == "a" and cache(row) == "a"
    cache.sweep()
    assert cache(row) == "a"
    assert len(calls) == 1
    row.name = "b"
    mark_changed(row)
    assert cache(row) == "b"
    assert len(calls) == 2


def test_rows_never_reported_are_always_derived():
    cache, calls = counting_cache()
    plain = types.SimpleNamespace(uuid=uuidlib.uuid4(), name="c")
    for _ in range(2):
        assert cache(plain) == "c"
        cache.sweep()
    assert len(calls) == 2


def test_sweep_forgets_rows_not_looked_up_in_the_last_pass():
    cache, calls = counting_cache()
    row = idl_row(name="a")
    cache(row)
    cache.sweep()
    cache.sweep()  # a pass that did not look the row up: it is gone (deleted, say)
    cache(row)
    assert len(calls) == 2
