#!/usr/bin/env python3
"""Issue 14's scenarios: many AZs, standby takeover, churn; ours beside the reference ovn-ic.

One real AZ (az1, router lr1 on transit switch ``ts``) runs the daemon under
test; the other AZs are played by a writer that leaves the IC SB exactly as
real ovn-ic daemons do: per peer an Availability_Zone, a Gateway with its
Encap, a Port_Binding on ``ts`` with the peer's address and gateway, and
Route rows with ``nb-id`` (23.03) and ``lr-id`` (23.09+).  ovn-northd is
stopped once az1's own port is bound, so it does not compete for the CPUs.

- many-azs: P peers × M routes already in the IC SB when the daemon starts:
  join (start → exactly the P×M routes learned), one route added/deleted by a
  peer (median latency), a peer vanishing (its routes, remote port and remote
  chassis gone), CPU and peak RSS;
- takeover (ours only: two instances of ours share the ovn_ic lock): with the
  routes learned, the active one is killed; time until the standby logs
  ``daemon.synced`` and the transactions it wrote to any database (must be 0);
  the same for a restart;
- churn: every peer replaces one of its routes every ``interval`` for
  ``seconds``: the daemon's CPU meanwhile and the lag, after the last change,
  until az1 has learned exactly the routes the peers hold.
- busy-peer: one peer rewrites a route row in a loop, as ovn-ic 23.03 does
  with an IPv6 route whose next hop is the EUI-64 link-local address no AZ can
  learn (Q2 in docs/deviations.md): the row is deleted and re-inserted every
  ``interval`` for ``seconds``; the daemon's CPU meanwhile, and az1 must still
  hold exactly the peers' other routes (the rewritten one is never learned).

Every phase checks the exact set of (prefix, next hop) learned, each once.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_routes import (  # noqa: E402
    Implementation,
    OvsdbClient,
    build_topology,
    committed_transactions,
    cpu_seconds,
    peak_rss_mb,
    prefixes,
    server_pids,
    wait_quiet,
)
from controller import Controller  # noqa: E402
from testbed import Testbed  # noqa: E402

TS = "ts"
LEARNED_KEY = "ic-learned-route"


class Watch:
    """Monitors some tables of one database: {table: {uuid: row}}, kept up to date."""

    def __init__(self, remote: str, db: str, columns: dict[str, list[str]]) -> None:
        self.client = OvsdbClient(remote)
        self.tables: dict[str, dict[str, dict]] = {table: {} for table in columns}
        self.client.on_notify = self._update
        self._apply(self.client.call("monitor", [db, None, {
            table: {"columns": cols} for table, cols in columns.items()}]))

    def _update(self, message: dict) -> None:
        if message["method"] == "update":
            self._apply(message["params"][1])

    def _apply(self, updates: dict) -> None:
        for table, changes in updates.items():
            rows = self.tables[table]
            for uuid, change in changes.items():
                old = rows.pop(uuid, None)
                if change.get("new") is not None:
                    rows[uuid] = {**(old or {}), **change["new"]}
                self.changed(table, old, rows.get(uuid))

    def changed(self, table: str, old: dict | None, new: dict | None) -> None:
        """A row of ``table`` went from ``old`` to ``new`` (None: absent)."""

    def wait(self, predicate, timeout: float) -> float:
        return self.client.wait(predicate, timeout)


class LearnedWatch(Watch):
    """az1's NB: learned routes counted by (prefix, next hop) as updates come, so that
    waiting costs the benchmark little per update, whatever the number of routes."""

    def __init__(self, remote: str) -> None:
        self.learned: collections.Counter = collections.Counter()
        self.total = 0
        super().__init__(remote, "OVN_Northbound", {
            "Logical_Router_Static_Route": ["ip_prefix", "nexthop", "external_ids"],
            "Logical_Switch_Port": ["name", "type"]})

    def changed(self, table: str, old: dict | None, new: dict | None) -> None:
        if table != "Logical_Router_Static_Route":
            return
        for row, delta in ((old, -1), (new, 1)):
            if row is not None and any(key == LEARNED_KEY for key, _ in row["external_ids"][1]):
                route = row["ip_prefix"], row["nexthop"]
                self.learned[route] += delta
                if not self.learned[route]:
                    del self.learned[route]
                self.total += delta


class Az1:
    """What the daemon made in az1: learned routes, remote ports, remote chassis."""

    def __init__(self, az) -> None:
        self.nb = LearnedWatch(az.nb)
        self.sb = Watch(az.sb, "OVN_Southbound", {"Chassis": ["name"]})

    def learned(self) -> collections.Counter:
        """(prefix, next hop) -> how many learned routes have it."""
        return self.nb.learned

    def remote_ports(self) -> set[str]:
        return {row["name"] for row in self.nb.tables["Logical_Switch_Port"].values()
                if row["type"] == "remote"}

    def chassis(self) -> set[str]:
        return {row["name"] for row in self.sb.tables["Chassis"].values()}

    def wait_learned(self, expected: set, timeout: float) -> float:
        """Until exactly ``expected`` is learned, each once; the time it was."""
        wanted, nb = collections.Counter(expected), self.nb
        return nb.wait(lambda: nb.total == len(wanted) and nb.learned == wanted, timeout)

    def wait_route(self, route: tuple[str, str], count: int, expected: int,
                   timeout: float) -> float:
        """Until ``route`` is learned ``count`` times and ``expected`` routes in all."""
        nb = self.nb
        return nb.wait(lambda: nb.learned.get(route, 0) == count and nb.total == expected,
                       timeout)

    def check(self, expected: set) -> None:
        """Exactly ``expected`` learned, each once (else AssertionError)."""
        if self.learned() != collections.Counter(expected):
            raise AssertionError(f"az1 learned {self.nb.total} routes, "
                                 f"expected exactly the {len(expected)} the peers hold")


class Peers:
    """Peer AZs as rows in the IC SB, written as their ovn-ic daemons would."""

    def __init__(self, remote: str) -> None:
        self.client = OvsdbClient(remote)
        self.zones: dict[int, str] = {}  # peer -> Availability_Zone uuid
        self.routes: dict[int, collections.deque] = {}  # peer -> (Route uuid, prefix)
        self.next_prefix = 0

    @staticmethod
    def nexthop(peer: int) -> str:
        return f"169.254.100.{peer + 2}"  # lr1 is .1

    def names(self, peer: int) -> tuple[str, str]:
        """(remote port, remote chassis) the daemon makes in az1 for ``peer``."""
        return f"lsp-ts-peer{peer}", f"gw-peer{peer}"

    def _transact(self, ops: list) -> list:
        result = self.client.call("transact", ["OVN_IC_Southbound", *ops])
        errors = [r for r in result if r and "error" in r]
        if errors:
            raise RuntimeError(f"IC SB transaction failed: {errors[0]}")
        return result

    def _route(self, peer: int, prefix: str, zone) -> dict:
        return {"op": "insert", "table": "Route", "row": {
            "transit_switch": TS, "availability_zone": zone, "route_table": "",
            "ip_prefix": prefix, "nexthop": self.nexthop(peer), "origin": "static",
            "external_ids": ["map", [["nb-id", str(uuidlib.uuid4())],
                                     ["lr-id", str(uuidlib.UUID(int=peer + 1))]]]}}

    def _prefixes(self, count: int) -> list[str]:
        out = prefixes(count, offset=self.next_prefix)
        self.next_prefix += count
        return out

    def add(self, peer: int, count: int) -> None:
        """Peer ``peer`` joins with ``count`` routes, in one transaction."""
        assert peer + 2 < 255, "peers share ts's /24"
        port, gateway = self.names(peer)
        zone = ["named-uuid", "az"]
        ops = [{"op": "insert", "table": "Availability_Zone", "row": {"name": f"peer{peer}"},
                "uuid-name": "az"},
               {"op": "insert", "table": "Encap", "uuid-name": "encap", "row": {
                   "type": "geneve", "ip": f"172.31.{peer // 256}.{peer % 256}",
                   "gateway_name": gateway}},
               {"op": "insert", "table": "Gateway", "row": {
                   "name": gateway, "availability_zone": zone, "hostname": gateway,
                   "encaps": ["named-uuid", "encap"]}},
               {"op": "insert", "table": "Port_Binding", "row": {
                   "logical_port": port, "transit_switch": TS, "availability_zone": zone,
                   "tunnel_key": 100 + peer, "gateway": gateway,
                   "encap": ["named-uuid", "encap"],
                   "address": f"00:00:00:01:{peer // 256:02x}:{peer % 256:02x} "
                              f"{self.nexthop(peer)}/24",
                   "external_ids": ["map", [["router-id", str(uuidlib.UUID(int=peer + 1))]]]}}]
        ops += [self._route(peer, prefix, zone) for prefix in self._prefixes(count)]
        result = self._transact(ops)
        self.zones[peer] = result[0]["uuid"][1]
        self.routes[peer] = collections.deque(
            (row["uuid"][1], op["row"]["ip_prefix"])
            for row, op in zip(result[4:], ops[4:], strict=True))

    def add_route(self, peer: int) -> str:
        """One more route of ``peer``; its prefix."""
        prefix = self._prefixes(1)[0]
        result = self._transact([self._route(peer, prefix, ["uuid", self.zones[peer]])])
        self.routes[peer].append((result[0]["uuid"][1], prefix))
        return prefix

    def replace_route(self, peer: int) -> None:
        """The peer's oldest route goes, a new one comes: one transaction."""
        uuid, _ = self.routes[peer].popleft()
        prefix = self._prefixes(1)[0]
        result = self._transact([
            {"op": "delete", "table": "Route", "where": [["_uuid", "==", ["uuid", uuid]]]},
            self._route(peer, prefix, ["uuid", self.zones[peer]])])
        self.routes[peer].append((result[1]["uuid"][1], prefix))

    def rewrite_unlearnable_route(self, peer: int, previous: str | None) -> str:
        """Delete ``previous`` (a Route uuid) and insert it again, with the link-local next
        hop of 23.03's bug: one transaction, as that ovn-ic's every pass; the new uuid."""
        route = self._route(peer, "fd99::/64", ["uuid", self.zones[peer]])
        route["row"]["nexthop"] = "fe80::200:ff:fe01:2"
        ops = [route]
        if previous is not None:
            ops.insert(0, {"op": "delete", "table": "Route",
                           "where": [["_uuid", "==", ["uuid", previous]]]})
        return self._transact(ops)[-1]["uuid"][1]

    def remove_route(self, peer: int) -> str:
        """The peer's newest route goes; its prefix."""
        uuid, prefix = self.routes[peer].pop()
        self._transact([{"op": "delete", "table": "Route",
                         "where": [["_uuid", "==", ["uuid", uuid]]]}])
        return prefix

    def remove(self, peer: int) -> None:
        """The peer AZ vanishes: all its rows, in one transaction (as ovn-ic-sbctl would)."""
        zone = ["uuid", self.zones.pop(peer)]
        self.routes.pop(peer)
        self._transact([{"op": "delete", "table": table,
                         "where": [["availability_zone", "==", zone]]}
                        for table in ("Route", "Port_Binding", "Gateway")]
                       + [{"op": "delete", "table": "Availability_Zone",
                           "where": [["_uuid", "==", zone]]}])

    def expected(self) -> set:
        return {(prefix, self.nexthop(peer))
                for peer, routes in self.routes.items() for _, prefix in routes}


# ------------------------------------------------------------------- set-up
def one_az(impl_name: str):
    """A testbed with az1 joined to ``ts`` and northd stopped; the daemon then stopped."""
    workdir = tempfile.mkdtemp(prefix="ovnic-scenario-")
    testbed = Testbed(workdir, n_azs=1).start()
    impl = Implementation(impl_name)
    try:
        impl.start(testbed)
        build_topology(testbed)
        stop(impl, testbed)
    except BaseException:
        impl.stop()
        testbed.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return workdir, testbed, impl


def start(impl: Implementation, testbed: Testbed, name: str | None = None) -> Controller | None:
    """Start one daemon for az1 without waiting for it; ours is returned."""
    az = testbed.azs[0]
    if impl.name == "reference":
        az.start_reference_ic()
        return None
    controller = Controller(testbed, az, name=name, log_level="info").start(wait_ready=False)
    impl.controllers.append(controller)
    return controller


def stop(impl: Implementation, testbed: Testbed) -> None:
    if impl.name == "reference":
        testbed.azs[0].stop_reference_ic()
    impl.stop()
    impl.controllers.clear()


def cleanup(workdir, testbed, impl) -> None:
    impl.stop()
    testbed.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def synced_at(controller: Controller, timeout: float) -> float:
    """The wall-clock time of the daemon's ``daemon.synced`` record, once there is one."""
    controller.wait_until(lambda: controller.events("daemon.synced"), timeout=timeout,
                          message="never logged daemon.synced")
    stamp = controller.events("daemon.synced")[0]["timestamp"]
    return datetime.datetime.fromisoformat(stamp).timestamp()


# ---------------------------------------------------------------- scenarios
def run_many_azs(impl_name: str, peers: int, routes: int, samples: int,
                 cap_s: float | None = None) -> dict:
    """The phases above; a phase not done within ``cap_s`` (if given) raises Capped."""
    workdir, testbed, impl = one_az(impl_name)
    result: dict = {"impl": impl_name, "size": f"{peers}x{routes}"}
    try:
        writer, az1 = Peers(testbed.ic_sb), Az1(testbed.azs[0])
        for peer in range(peers):
            writer.add(peer, routes)
        timeout = 120 + peers * routes / 200
        phase = Phases(result, cap_s, timeout)
        expected = writer.expected()
        servers = server_pids(testbed)
        servers0 = cpu_seconds(servers)
        started = time.monotonic()
        start(impl, testbed)
        pids = impl.pids(testbed)
        joined = phase("join_s", lambda limit: az1.wait_learned(expected, limit))
        result["join_s"] = joined - started
        result["cpu_join_s"] = cpu_seconds(pids)  # all since it started
        result["servers_cpu_join_s"] = cpu_seconds(servers) - servers0
        wanted_ports = {writer.names(peer)[0] for peer in range(peers)}
        az1.nb.wait(lambda: az1.remote_ports() == wanted_ports, timeout)
        wait_quiet(pids)

        adds, deletes = [], []
        total, nexthop = peers * routes, writer.nexthop(0)
        for _ in range(samples):
            started = time.monotonic()
            route = writer.add_route(0), nexthop
            adds.append(phase("add_ms", lambda limit, route=route: az1.wait_route(
                route, 1, total + 1, limit)) - started)
            started = time.monotonic()
            writer.remove_route(0)
            deletes.append(phase("delete_ms", lambda limit, route=route: az1.wait_route(
                route, 0, total, limit)) - started)
        az1.check(writer.expected())
        result["add_ms"] = statistics.median(adds) * 1000
        result["delete_ms"] = statistics.median(deletes) * 1000

        gone = peers - 1
        port, gateway = writer.names(gone)
        az1.sb.wait(lambda: gateway in az1.chassis(), timeout)
        started = time.monotonic()
        writer.remove(gone)
        remaining = total - routes
        nb_done = phase("vanish_s", lambda limit: az1.nb.wait(
            lambda: az1.nb.total == remaining and port not in az1.remote_ports(), limit))
        az1.check(writer.expected())
        sb_done = az1.sb.wait(lambda: gateway not in az1.chassis(), timeout)
        result["vanish_s"] = max(nb_done, sb_done) - started
        result["peak_rss_mb"] = peak_rss_mb(pids)
        return result
    finally:
        cleanup(workdir, testbed, impl)


def run_takeover(peers: int, routes: int) -> dict:
    workdir, testbed, impl = one_az("ours")
    result: dict = {"impl": "ours", "size": f"{peers}x{routes}"}
    try:
        writer, az1 = Peers(testbed.ic_sb), Az1(testbed.azs[0])
        for peer in range(peers):
            writer.add(peer, routes)
        timeout = 120 + peers * routes / 200
        pair = [start(impl, testbed, name="ctl-a")]
        pair[0].wait_metric("ovn_ic_controller_lock_held", 1.0, timeout=timeout)
        pair.append(start(impl, testbed, name="ctl-b"))
        pair[1].wait_metric("ovn_ic_controller_lock_held", 0.0, timeout=timeout)
        az1.wait_learned(writer.expected(), timeout)
        active, standby = pair
        wait_quiet(impl.pids(testbed))

        txns = committed_transactions(testbed)
        killed = time.time()
        active.stop(signal.SIGKILL)
        result["takeover_s"] = synced_at(standby, timeout) - killed
        time.sleep(1.0)  # anything it would write after saying so
        result["takeover_writes"] = committed_transactions(testbed) - txns

        standby.stop()
        txns = committed_transactions(testbed)
        begun = time.time()
        restarted = start(impl, testbed, name="ctl-c")
        result["restart_s"] = synced_at(restarted, timeout) - begun
        time.sleep(1.0)
        result["restart_writes"] = committed_transactions(testbed) - txns
        az1.check(writer.expected())
        result["peak_rss_mb"] = peak_rss_mb([restarted.process.pid])
        return result
    finally:
        cleanup(workdir, testbed, impl)


class Capped(Exception):
    """The daemon had not finished a phase when its cap ran out; ``result`` says which."""

    def __init__(self, result: dict, key: str, cap_s: float) -> None:
        super().__init__(f"{result['impl']}: {key} not done after {cap_s:.0f} s")
        self.result = {**result, "capped": key, "cap_s": cap_s}


class Phases:
    """Waits for a phase of one daemon: ``phase(key, wait)`` calls ``wait(limit)`` with the
    cap (if any) else the scenario's timeout, and turns a cap running out into Capped: the
    reference can take hours where ours takes seconds, and the run must go on."""

    def __init__(self, result: dict, cap_s: float | None, timeout: float) -> None:
        self.result, self.cap_s, self.timeout = result, cap_s, timeout

    def __call__(self, key: str, wait) -> float:
        try:
            return wait(self.cap_s or self.timeout)
        except TimeoutError:
            if self.cap_s is None:
                raise
            raise Capped(self.result, key, self.cap_s) from None


@contextlib.contextmanager
def peers_learned(impl_name: str, peers: int, routes: int, cap_s: float | None = None):
    """az1's daemon with ``peers`` × ``routes`` learned and at rest: (writer, az1, pids,
    phase); everything stopped afterwards.  Capped if not joined within ``cap_s``."""
    workdir, testbed, impl = one_az(impl_name)
    try:
        writer, az1 = Peers(testbed.ic_sb), Az1(testbed.azs[0])
        for peer in range(peers):
            writer.add(peer, routes)
        phase = Phases({"impl": impl_name, "size": f"{peers}x{routes}"}, cap_s,
                       120 + peers * routes / 200)
        start(impl, testbed)
        pids = impl.pids(testbed)
        phase("join", lambda limit: az1.wait_learned(writer.expected(), limit))
        wait_quiet(pids)
        yield writer, az1, pids, phase
    finally:
        cleanup(workdir, testbed, impl)


def paced(seconds: float, interval: float, step) -> tuple[int, float]:
    """Call ``step()`` every ``interval`` for ``seconds``: (calls, seconds they took)."""
    calls, begun = 0, time.monotonic()
    tick = begun
    while tick - begun < seconds:
        step()
        calls += 1
        tick += interval
        time.sleep(max(0.0, tick - time.monotonic()))
    return calls, time.monotonic() - begun


def run_churn(impl_name: str, peers: int, routes: int, seconds: float,
              interval: float, cap_s: float | None = None) -> dict:
    with peers_learned(impl_name, peers, routes, cap_s) as (writer, az1, pids, phase):
        cpu0 = cpu_seconds(pids)
        ticks, elapsed = paced(seconds, interval, lambda: [
            writer.replace_route(peer) for peer in range(peers)])
        stopped, cpu = time.monotonic(), cpu_seconds(pids) - cpu0
        phase.result.update(changes_per_s=ticks * peers / elapsed,
                            churn_cpu_pct=cpu / elapsed * 100, peak_rss_mb=peak_rss_mb(pids))
        lag = phase("lag_s", lambda limit: az1.wait_learned(writer.expected(), limit))
        return {**phase.result, "lag_s": lag - stopped}


def run_busy_peer(impl_name: str, peers: int, routes: int, seconds: float,
                  interval: float, cap_s: float | None = None) -> dict:
    with peers_learned(impl_name, peers, routes, cap_s) as (writer, az1, pids, _):
        expected, rewritten = writer.expected(), [None]

        def rewrite() -> None:
            rewritten[0] = writer.rewrite_unlearnable_route(0, rewritten[0])
        cpu0 = cpu_seconds(pids)
        rewrites, elapsed = paced(seconds, interval, rewrite)
        cpu = cpu_seconds(pids) - cpu0
        wait_quiet(pids)
        az1.check(expected)
        return {"impl": impl_name, "size": f"{peers}x{routes}",
                "rewrites_per_s": rewrites / elapsed,
                "busy_cpu_pct": cpu / elapsed * 100,
                "cpu_ms_per_rewrite": cpu / rewrites * 1000,
                "peak_rss_mb": peak_rss_mb(pids)}


# ------------------------------------------------------------------- output
# (label, key, format, issue 14's target: a ratio to C "≤0.5×C" or an absolute bound)
ROWS = {
    "many-azs": (("join: all learned (s)", "join_s", "{:.2f}", "≤0.5×C"),
                 ("CPU s, join", "cpu_join_s", "{:.2f}", ""),
                 ("ovsdb-servers' CPU s, join", "servers_cpu_join_s", "{:.2f}", ""),
                 ("add 1 (ms, median)", "add_ms", "{:.0f}", "≤100 ms"),
                 ("delete 1 (ms, median)", "delete_ms", "{:.0f}", "≤100 ms"),
                 ("peer vanishes: all gone (s)", "vanish_s", "{:.2f}", "≤2 s"),
                 ("peak RSS (MB)", "peak_rss_mb", "{:.0f}", "≤600 MB")),
    "takeover": (("takeover: synced after kill (s)", "takeover_s", "{:.2f}", "≤1 s"),
                 ("takeover: transactions", "takeover_writes", "{:d}", "0"),
                 ("restart: synced after start (s)", "restart_s", "{:.2f}", "≤1 s"),
                 ("restart: transactions", "restart_writes", "{:d}", "0"),
                 ("peak RSS (MB)", "peak_rss_mb", "{:.0f}", "")),
    "churn": (("route changes per s", "changes_per_s", "{:.0f}", ""),
              ("daemon CPU during churn (%)", "churn_cpu_pct", "{:.1f}", "≤C, ≤50 %"),
              ("lag after churn stops (s)", "lag_s", "{:.2f}", "≤1 s"),
              ("peak RSS (MB)", "peak_rss_mb", "{:.0f}", "")),
    "busy-peer": (("rewrites per s", "rewrites_per_s", "{:.0f}", ""),
                  ("daemon CPU meanwhile (%)", "busy_cpu_pct", "{:.1f}", "≤C"),
                  ("CPU ms per rewrite", "cpu_ms_per_rewrite", "{:.2f}", "≤C"),
                  ("peak RSS (MB)", "peak_rss_mb", "{:.0f}", "")),
}


def print_table(scenario: str, results: dict[str, dict]) -> None:
    impls = [name for name in ("reference", "ours") if name in results]
    size = next(iter(results.values()))["size"]
    header = (f"{scenario + ', ' + size:<36}" + "".join(f"{name:>12}" for name in impls)
              + (f"{'ours/ref':>10}" if len(impls) == 2 else "") + f"{'target':>12}")
    print("\n" + header)
    print("-" * len(header))
    for label, key, fmt, target in ROWS[scenario]:
        line = f"{label:<36}" + "".join(f"{_cell(results[name], key, fmt):>12}"
                                        for name in impls)
        if len(impls) == 2:
            ref, ours = results["reference"].get(key), results["ours"].get(key)
            line += f"{ours / ref:>10.2f}" if ref and ours is not None else f"{'-':>10}"
        print(line + f"{target:>12}", flush=True)


def _cell(result: dict, key: str, fmt: str) -> str:
    """A value, or why there is none: a phase the daemon had not finished when its cap ran
    out (this one, or the join every other waited for), or one not reached after it."""
    if result.get(key) is not None:
        return fmt.format(result[key])
    capped = result.get("capped")
    if capped in (key, "join"):
        return f"{'join' if capped == 'join' else ''}>{result['cap_s']:.0f}s"
    return "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="many-azs,takeover,churn,busy-peer")
    parser.add_argument("--impl", choices=("both", "ours", "reference"), default="both")
    parser.add_argument("--peers", type=int, default=99, help="many-azs: peer AZs")
    parser.add_argument("--routes", type=int, default=1000, help="many-azs: routes per peer")
    parser.add_argument("--samples", type=int, default=5, help="add/delete samples (median)")
    parser.add_argument("--c-cap", type=float, default=120.0,
                        help="seconds the reference ovn-ic may take over one phase (a join, "
                             "one route change, a peer vanishing, the lag after churn) before "
                             "the rest of its scenario is given up (printed as >CAP)")
    parser.add_argument("--takeover-routes", type=int, default=10000,
                        help="takeover: routes learned (10 peers)")
    parser.add_argument("--churn-peers", type=int, default=20)
    parser.add_argument("--churn-routes", type=int, default=5000, help="routes per peer")
    parser.add_argument("--churn-seconds", type=float, default=20.0)
    parser.add_argument("--churn-interval", type=float, default=0.1)
    parser.add_argument("--busy-routes", type=int, default=10000,
                        help="busy-peer: routes learned beside the rewritten one (10 peers)")
    parser.add_argument("--busy-seconds", type=float, default=20.0)
    parser.add_argument("--busy-interval", type=float, default=0.01)
    args = parser.parse_args(argv)

    impls = ["reference", "ours"] if args.impl == "both" else [args.impl]
    if "reference" in impls and not shutil.which("ovn-ic"):
        print("reference ovn-ic not installed: measuring ours only", file=sys.stderr)
        impls.remove("reference")
    for scenario in args.scenarios.split(","):
        results = {}
        if scenario == "takeover":
            print("running takeover (ours) ...", file=sys.stderr, flush=True)
            results["ours"] = run_takeover(10, args.takeover_routes // 10)
        for name in impls if scenario != "takeover" else ():
            print(f"running {scenario} ({name}) ...", file=sys.stderr, flush=True)
            cap = args.c_cap if name == "reference" else None
            try:
                if scenario == "many-azs":
                    results[name] = run_many_azs(name, args.peers, args.routes, args.samples,
                                                 cap)
                elif scenario == "busy-peer":
                    results[name] = run_busy_peer(name, 10, args.busy_routes // 10,
                                                  args.busy_seconds, args.busy_interval, cap)
                else:
                    results[name] = run_churn(name, args.churn_peers, args.churn_routes,
                                              args.churn_seconds, args.churn_interval, cap)
            except Capped as capped:
                results[name] = capped.result
        print_table(scenario, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
