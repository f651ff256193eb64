"""ic_probe_interval in NB_Global / IC_NB_Global options (23.06), on plain data."""

import types

from fakes import row

from ovn_ic_controller.db import probes


class FakeDb:
    def __init__(self, **tables):
        self.tables = {name: types.SimpleNamespace(rows={r.uuid: r for r in rows})
                       for name, rows in tables.items()}
        self.probe_interval = "unset"

    def set_probe_interval(self, interval):
        self.probe_interval = interval


def dbs(nb_options=None, ic_nb_options=None):
    return {"nb": FakeDb(NB_Global=[row(options=nb_options)] if nb_options is not None else []),
            "sb": FakeDb(), "ic_nb": FakeDb(IC_NB_Global=[row(options=ic_nb_options or {})]),
            "ic_sb": FakeDb(), "ic_sb_locked": FakeDb()}


def intervals(found):
    return {key: db.probe_interval for key, db in found.items()}


def test_each_global_row_sets_its_connections_probe():
    found = dbs({"ic_probe_interval": "500"}, {"ic_probe_interval": "0"})
    probes.apply(found, None)
    assert intervals(found) == {"nb": 1000, "sb": 1000, "ic_nb": 0, "ic_sb": 0,
                                "ic_sb_locked": 0}


def test_none_or_a_bad_value_leaves_the_default_and_the_configuration_wins():
    found = dbs({"ic_probe_interval": "-3"}, {"ic_probe_interval": "x"})
    probes.apply(found, None)
    assert set(intervals(found).values()) == {None}
    found = dbs(None, {"ic_probe_interval": "20000"})
    probes.apply(found, 7000)
    assert set(intervals(found).values()) == {7000}
