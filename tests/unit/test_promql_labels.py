"""The checker that holds the dashboard and the alerts to what the daemon exports."""

import pytest
from promql_labels import Checker

EXPORTED = {
    "tx_total": {"db", "outcome"},
    "lock_held": set(),
    "last_sync": set(),
    "dur_bucket": {"le"},
    "conflicts": {"local", "remote"},
}


def labels(expr):
    checker = Checker(EXPORTED)
    out = checker.check(expr)
    assert checker.problems == [], checker.problems
    return out


def problems(expr):
    checker = Checker(EXPORTED)
    checker.check(expr)
    return checker.problems


@pytest.mark.parametrize(("expr", "expected"), [
    ('tx_total{outcome!~"success"}', {"db", "outcome", "job", "instance"}),
    ("sum by (job, db) (rate(tx_total[5m])) > 2", {"job", "db"}),
    ("sum without (outcome) (tx_total)", {"db", "job", "instance"}),
    ("sum(tx_total)", set()),
    ("time() - last_sync > 300 and on (job, instance) lock_held == 1", {"job", "instance"}),
    ("group by (job) (present_over_time(lock_held[1d])) unless on (job) lock_held", {"job"}),
    ("histogram_quantile(0.9, sum by (le, job) (rate(dur_bucket[5m])))", {"job"}),
    ("tx_total / on (job, instance) group_left () lock_held", {"db", "outcome", "job", "instance"}),
    ("tx_total + on (job) lock_held", {"job"}),
    ('label_replace(lock_held, "az", "$1", "job", "(.*)")', {"job", "instance", "az"}),
    ("time()", None),
])
def test_labels_an_expression_yields(expr, expected):
    assert labels(expr) == expected


@pytest.mark.parametrize(("expr", "complaint"), [
    ("tx_totl", "tx_totl: not exported"),
    ("tx", "tx: not exported"),                          # a counter without _total
    ('tx_total{outcom="error"}', "no label ['outcom']"),
    ("sum by (reason) (tx_total)", "no label ['reason']"),
    ("sum by (job) (tx_total) > on (job, db) lock_held", "no label ['db']"),
    ("histogram_quantile(0.9, sum by (job) (rate(dur_bucket[5m])))", "no label ['le']"),
    ("conflicts * on (job, instance) group_left (db) lock_held", "no label ['db']"),
])
def test_an_unknown_metric_or_label_is_reported(expr, complaint):
    assert any(complaint in problem for problem in problems(expr)), problems(expr)
