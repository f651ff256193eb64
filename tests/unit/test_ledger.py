"""Ledger merges what sources want per key; Problems logs each problem once while it lasts."""

from __future__ import annotations

import types

from ovn_ic_controller.sync.routes.ledger import NOTHING, Contribution, Ledger, Problem, Problems


def recording_problems():
    logged = []
    log = types.SimpleNamespace(warning=lambda event, **fields: logged.append(event))
    return Problems(log), logged


def problem(key="key"):
    return Problem(key, f"problem-{key}", {})


def test_a_problem_is_logged_again_only_after_it_went_away():
    problems, logged = recording_problems()
    for present in (True, True, False, True):
        problems.set("owner", (problem(),) if present else ())
        problems.settle()
    assert logged == ["problem-key", "problem-key"]


def test_a_problem_lasts_while_any_owner_has_it():
    problems, logged = recording_problems()
    problems.set("a", (problem(),))
    problems.set("b", (problem(),))
    problems.set("a", ())
    problems.settle()
    problems.set("a", (problem(),))
    assert logged == ["problem-key"]


def test_a_full_recompute_does_not_log_again_what_it_finds_again():
    problems, logged = recording_problems()
    problems.set("a", (problem("kept"), problem("fixed")))
    problems.settle()
    problems.restart()
    problems.set("a", (problem("kept"),))
    problems.settle()
    problems.set("b", (problem("fixed"),))
    assert logged == ["problem-kept", "problem-fixed", "problem-fixed"]


def test_ledger_merges_sources_per_key_and_reports_the_keys_that_moved():
    problems, _ = recording_problems()
    ledger = Ledger("test", problems, group_of=lambda key: key[0])
    ledger.put("s1", Contribution(((("ts1", "a"), 1), (("ts2", "b"), 1)), (("reason", 2),)))
    ledger.put("s2", Contribution(((("ts1", "a"), 2),)))
    assert ledger.wanted(("ts1", "a")) == {"s1": 1, "s2": 2}
    assert ledger.take_dirty() == [("ts1", "a"), ("ts2", "b")]
    assert ledger.keys_per_group == {"ts1": 1, "ts2": 1}
    assert ledger.counts == {"reason": 2}

    ledger.put("s1", Contribution(((("ts1", "a"), 1),)))  # no longer wants ts2/b
    assert ledger.take_dirty() == [("ts1", "a"), ("ts2", "b")]
    assert ledger.wanted(("ts2", "b")) == {}
    assert ledger.keys_per_group == {"ts1": 1}
    assert ledger.counts == {}

    ledger.put("s1", NOTHING)
    ledger.drop("s2")
    assert ledger.by_key == {} and ledger.keys_per_group == {}
    assert ledger.take_dirty() == [("ts1", "a")]
    assert ledger.take_dirty() == []


def test_keys_left_by_a_full_pass_come_first_at_the_next():
    problems, _ = recording_problems()
    ledger = Ledger("test", problems)
    for key in "abcd":
        ledger.touch(key)
    handed = []
    for key in ledger.take_dirty_until(lambda: len(handed) == 2):
        handed.append(key)
    assert handed == ["a", "b"]
    assert ledger.dirty
    ledger.touch("e")
    ledger.touch("c")  # touched again: still in its place
    assert list(ledger.take_dirty_until(lambda: False)) == ["c", "d", "e"]
    assert not ledger.dirty


def test_ledger_reports_a_sources_problems_until_it_changes_them():
    problems, logged = recording_problems()
    ledger = Ledger("test", problems)
    ledger.put("s1", Contribution(problems=(problem(),)))
    ledger.put("s1", Contribution(problems=(problem(),)))
    problems.settle()
    ledger.drop("s1")
    problems.settle()
    ledger.put("s1", Contribution(problems=(problem(),)))
    assert logged == ["problem-key", "problem-key"]


def test_a_key_wanted_by_several_sources_reports_what_contested_says_until_one_is_left():
    problems, logged = recording_problems()
    seen = []

    def contested(key, values):
        seen.append((key, sorted(values)))
        return Contribution(counts=(("duplicate", len(values) - 1),),
                            problems=(problem(f"dup-{key}"),))

    ledger = Ledger("test", problems, contested=contested)
    ledger.put("s1", Contribution((("k", 1),)))
    ledger.put("s2", Contribution((("k", 2), ("other", 2))))
    ledger.put("s3", Contribution((("k", 3),)))
    assert not seen  # re-derived once, when the keys are handed out
    assert ledger.take_dirty() == ["k", "other"]
    assert seen == [("k", [1, 2, 3])]
    assert ledger.counts == {"duplicate": 2} and logged == ["problem-dup-k"]
    ledger.drop("s1")
    ledger.drop("s3")
    ledger.take_dirty()
    assert ledger.counts == {}
    problems.settle()
    ledger.put("s1", Contribution((("k", 1),)))
    ledger.take_dirty()
    assert logged == ["problem-dup-k", "problem-dup-k"]
