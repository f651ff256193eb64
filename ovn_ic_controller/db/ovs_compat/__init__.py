"""Everything that patches or subclasses private parts of the ``ovs`` library, and the
start-up check that decides whether each part may be used.

Three fast paths and one reconnect policy, none of them needed for correctness:

* ``fast_json`` (fastjson.py): ``ovs.json.Parser`` on the standard library's C decoder;
* ``fast_idl`` (fastidl.py): new rows keep the update's JSON until a column is used;
  ``FastInsertIdl`` overrides three private ``Idl`` methods and swaps each table's rows
  class;
* ``utf8_fix`` (utf8stream.py): reads no longer break a UTF-8 character in two;
* ``leader_follow`` (db/connection.py): a clustered database's session (``Idl._session``)
  retries every member without ovs's growing backoff, to find a new Raft leader at once.

``install()`` turns each one on only if ``ovs`` is a release the tests run against
(``REQUIREMENT``, which setup.cfg repeats; tests/functional/test_ovs_range.py runs the
unit tests on the lowest) and it passes its self-check (selfcheck.py): the private
methods it overrides exist with the signatures it was written for, ovs still calls them,
and a probe gives what stock ``ovs`` gives.  A path that fails stays off, stock ``ovs``
does its work (``Database`` then makes a plain ``Idl``), and one warning names what
failed; the log line ``ovs_compat.installed`` or ``ovs_compat.fallback``, the metric
``ovn_ic_controller_fast_idl`` and ``build_info`` tell which paths are on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import ovs.version

from ... import logs
from . import fastjson, utf8stream

log = logs.get("ovs_compat")

OVS_LOWEST, OVS_BELOW = "3.4.0", "4.1"  # the oldest release tested, the first one not tested
REQUIREMENT = f"ovs>={OVS_LOWEST},<{OVS_BELOW}"

ACTIVE, FALLBACK, OFF = "active", "fallback", "off"  # off: install() has not run
C_PARSER = "c-parser"  # fast_json only: ovs's own C parser is built, nothing to speed up
STATES = (ACTIVE, FALLBACK, OFF)


@dataclasses.dataclass(frozen=True)
class Status:
    """The state of each fast path, and what made any of them fall back."""

    fast_json: str = OFF
    fast_idl: str = OFF
    utf8_fix: str = OFF
    leader_follow: str = OFF
    problems: tuple[str, ...] = ()

    def paths(self) -> dict[str, str]:
        return {"fast_json": self.fast_json, "fast_idl": self.fast_idl,
                "utf8_fix": self.utf8_fix, "leader_follow": self.leader_follow}


_status = Status()


def status() -> Status:
    return _status


def fast_idl_active() -> bool:
    return _status.fast_idl == ACTIVE


def leader_follow_active() -> bool:
    return _status.leader_follow == ACTIVE


def install() -> Status:
    """Turn on each fast path that passes its checks; log the outcome in one line."""
    global _status
    uninstall()
    with logs.vlog_muted():  # the probes feed the stock IDL values it warns about
        _status = _probe()
    fields = {"ovs_version": ovs.version.VERSION, **_status.paths()}
    if _status.problems:
        log.warning("ovs_compat.fallback", problems=list(_status.problems), **fields)
    else:
        log.info("ovs_compat.installed", **fields)
    return _status


def _probe() -> Status:
    from . import selfcheck  # not above: it reads rows through db.values, which imports us
    problems: list[str] = []
    outside = version_problem(ovs.version.VERSION)
    if outside:
        problems.append(outside)
        return Status(FALLBACK, FALLBACK, FALLBACK, FALLBACK, tuple(problems))
    fast_json = C_PARSER
    if fastjson.install():
        fast_json = _checked("fast_json", selfcheck.fast_json_problems, fastjson.uninstall,
                             problems)
    fast_idl = _checked("fast_idl", selfcheck.fast_idl_problems, lambda: None, problems)
    utf8stream.install()
    utf8_fix = _checked("utf8_fix", selfcheck.utf8_fix_problems, utf8stream.uninstall,
                        problems)
    leader_follow = _checked("leader_follow", selfcheck.leader_follow_problems,
                             lambda: None, problems)
    return Status(fast_json, fast_idl, utf8_fix, leader_follow, tuple(problems))


def uninstall() -> None:
    """Stock ``ovs`` throughout, as before :func:`install`."""
    global _status
    fastjson.uninstall()
    utf8stream.uninstall()
    _status = Status()


def version_problem(version: str) -> str:
    """Why ``version`` of ovs is not one the tests cover, or ''."""
    if _release(OVS_LOWEST) <= _release(version) < _release(OVS_BELOW):
        return ""
    return f"ovs {version} is outside the tested range {REQUIREMENT}"


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(number) for number in re.findall(r"\d+", version)[:3])


def _checked(name: str, check: Callable[[], list[str]], turn_off: Callable[[], None],
             problems: list[str]) -> str:
    """The state of one fast path, checked in place: on, or turned off again."""
    found = check()
    if not found:
        return ACTIVE
    turn_off()
    problems.extend(f"{name}: {problem}" for problem in found)
    return FALLBACK
