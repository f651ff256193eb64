"""The systemd watchdog: when it is on, and how often the loop pings it."""

import pytest

from ovn_ic_controller.sdnotify import Watchdog

PID = 4242


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(("environ", "interval"), [
    ({"WATCHDOG_USEC": "20000000"}, 10.0),                       # half of WatchdogSec=20s
    ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(PID)}, 1.5),
    ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": ""}, 1.5),
    ({}, None),                                                  # no WatchdogSec=
    ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"}, None),   # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "me"}, None),
])
def test_on_only_when_systemd_asks_this_process(environ, interval):
    assert Watchdog.from_environment(Clock(), environ, pid=PID).interval == interval


def test_pings_at_once_then_every_half_timeout_and_says_when_to_wake():
    clock, sent = Clock(), []
    dog = Watchdog(1.5, clock, sent.append)
    assert dog.wake_at() is None
    dog.kick()
    assert sent == ["WATCHDOG=1"] and dog.wake_at() == 101.5
    clock.now = 101.4
    dog.kick()  # iterations in between do not ping again
    assert sent == ["WATCHDOG=1"]
    clock.now = 101.5
    dog.kick()
    assert sent == ["WATCHDOG=1"] * 2 and dog.wake_at() == 103.0


def test_off_never_pings_nor_wakes_the_loop():
    sent = []
    dog = Watchdog(None, Clock(), sent.append)
    dog.kick()
    assert sent == [] and dog.wake_at() is None
