#!/usr/bin/env python3
"""Route sync benchmark: our daemon against the reference ovn-ic, same work, one run.

Scenario (issue 6): IC NB/SB and two AZs, one transit switch; a router per AZ
attached to it; az1 advertises N static routes, az2 learns them.  For each
implementation, on a fresh testbed:

- bulk: N routes added in one NB transaction → all N learned in az2;
- add / delete: one route added (removed) → learned (gone) in az2, median of K;
- idle: transactions committed to any database and daemon CPU in S idle seconds;
- withdraw: all N removed in one transaction → none learned in az2;
- daemon CPU seconds per phase (both AZs' daemons) and peak RSS;
- for bulk and withdraw, what the change costs whichever daemon relays it: the
  ovsdb-servers' CPU seconds, and how long az1's NB takes to commit the change
  (the reply to the benchmark's transaction), before any daemon hears of it.

Latency runs from just before the NB transaction is sent to the moment a
monitor on az2's NB sees the change: no sleeping, no polling.  The benchmark's
own clients use the standard library's C-accelerated json, so they add little
to what is measured.  ovn-northd is stopped once the port bindings exist, so it
does not compete for the CPUs, and the bulk phase starts once the daemons have
gone quiet after the set-up.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from controller import Controller  # noqa: E402
from testbed import Testbed, wait_until  # noqa: E402

LEARNED_KEY = "ic-learned-route"
_SPACE = re.compile(r"\s*")
NEXTHOP = "192.0.2.254"


# ------------------------------------------------------------------ clients
class OvsdbClient:
    """A minimal OVSDB JSON-RPC client on a unix socket, with stdlib json."""

    def __init__(self, remote: str) -> None:
        assert remote.startswith("unix:"), remote
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(remote[len("unix:"):])
        self.buffer = ""
        self.pos = 0  # where the first message not yet yielded starts in buffer
        self.decoder = json.JSONDecoder()
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.next_id = 0
        self.on_notify = None

    def close(self) -> None:
        self.sock.close()

    def send(self, method: str, params: list) -> int:
        self.next_id += 1
        self.sock.sendall(json.dumps({"method": method, "params": params,
                                      "id": self.next_id}).encode())
        return self.next_id

    def _messages(self, deadline: float):
        # Decoding is tried only when what was received ends like a message (with a
        # closing brace), so that a message of megabytes arriving in many reads is
        # parsed once rather than once per read: the client must not add to the time.
        # Messages are decoded where they lie in the buffer (``self.pos``): slicing off
        # each one would copy a backlog of thousands of updates once per update.
        complete = False
        while True:
            start = _SPACE.match(self.buffer, self.pos).end()
            if start < len(self.buffer) and complete:
                try:
                    message, self.pos = self.decoder.raw_decode(self.buffer, start)
                except ValueError:
                    complete = False
                else:
                    yield message
                    continue
            pending, self.pos, complete = [self.buffer[start:]], 0, False
            while not complete:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no answer from the database")
                self.sock.settimeout(remaining)
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("database closed the connection")
                text = self.utf8.decode(chunk)
                pending.append(text)
                complete = text.rstrip().endswith("}")
            self.buffer = "".join(pending)

    def _dispatch(self, message: dict) -> None:
        if message.get("method") == "echo":
            self.sock.sendall(json.dumps({"result": message["params"],
                                          "id": message["id"]}).encode())
        elif message.get("method") and self.on_notify:
            self.on_notify(message)

    def call(self, method: str, params: list, timeout: float = 120) -> object:
        wanted = self.send(method, params)
        for message in self._messages(time.monotonic() + timeout):
            if message.get("id") == wanted and "method" not in message:
                if message.get("error"):
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message["result"]
            self._dispatch(message)
        raise AssertionError("unreachable")

    def wait(self, predicate, timeout: float) -> float:
        """Process notifications until ``predicate()``; the monotonic time it became true."""
        if predicate():
            return time.monotonic()
        for message in self._messages(time.monotonic() + timeout):
            self._dispatch(message)
            if predicate():
                return time.monotonic()
        raise AssertionError("unreachable")


class LearnedRoutes:
    """Monitors az2's NB: the prefixes it has learned (static routes with ic-learned-route)."""

    def __init__(self, remote: str) -> None:
        self.client = OvsdbClient(remote)
        self.learned: dict[str, str] = {}  # row uuid -> ip_prefix
        self.client.on_notify = self._update
        initial = self.client.call("monitor", ["OVN_Northbound", None, {
            "Logical_Router_Static_Route": {"columns": ["ip_prefix", "external_ids"]}}])
        self._apply(initial)

    def _update(self, message: dict) -> None:
        if message["method"] == "update":
            self._apply(message["params"][1])

    def _apply(self, updates: dict) -> None:
        for uuid, change in updates.get("Logical_Router_Static_Route", {}).items():
            new = change.get("new")
            if new is None:
                self.learned.pop(uuid, None)
                continue
            keys = {key for key, _ in new["external_ids"][1]}
            if LEARNED_KEY in keys:
                self.learned[uuid] = new["ip_prefix"]
            else:
                self.learned.pop(uuid, None)

    def prefixes(self) -> set[str]:
        return set(self.learned.values())

    def wait(self, predicate, timeout: float) -> float:
        return self.client.wait(predicate, timeout)


class RouteWriter:
    """Adds and removes static routes of one router in single NB transactions."""

    def __init__(self, remote: str, router: str) -> None:
        self.client = OvsdbClient(remote)
        self.router = router

    def add(self, prefixes: list[str]) -> None:
        ops = [{"op": "insert", "table": "Logical_Router_Static_Route",
                "row": {"ip_prefix": prefix, "nexthop": NEXTHOP}, "uuid-name": f"r{i}"}
               for i, prefix in enumerate(prefixes)]
        ops.append({"op": "mutate", "table": "Logical_Router",
                    "where": [["name", "==", self.router]],
                    "mutations": [["static_routes", "insert",
                                   ["set", [["named-uuid", f"r{i}"]
                                            for i in range(len(prefixes))]]]]})
        self._transact(ops)

    def remove(self, prefixes: list[str]) -> None:
        where = [["ip_prefix", "==", prefixes[0]]] if len(prefixes) == 1 else []
        found = self.client.call("transact", ["OVN_Northbound", {
            "op": "select", "table": "Logical_Router_Static_Route",
            "where": where, "columns": ["_uuid", "ip_prefix"]}])
        wanted = set(prefixes)
        uuids = [row["_uuid"] for row in found[0]["rows"] if row["ip_prefix"] in wanted]
        self._transact([{"op": "mutate", "table": "Logical_Router",
                         "where": [["name", "==", self.router]],
                         "mutations": [["static_routes", "delete", ["set", uuids]]]}])

    def _transact(self, ops: list) -> None:
        result = self.client.call("transact", ["OVN_Northbound", *ops])
        errors = [r for r in result if r and "error" in r]
        if errors:
            raise RuntimeError(f"NB transaction failed: {errors[0]}")


# ------------------------------------------------------------- measurement
def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def peak_rss_mb(pids: list[int]) -> float:
    peak = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024


def wait_quiet(pids: list[int], window_s: float = 0.5, timeout: float = 30) -> None:
    """Until the daemons use under 2 % CPU over ``window_s``, so that a phase starts
    from rest rather than while they finish the set-up; at most ``timeout``."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(window_s)
        now = cpu_seconds(pids)
        if now - last <= 0.02 * window_s:
            return
        last = now
    print(f"warning: the daemons still busy after {timeout:.0f} s; measuring anyway",
          file=sys.stderr)


def server_pids(testbed: Testbed) -> list[int]:
    """The testbed's ovsdb-servers, by their pidfiles: their CPU in a phase is work the
    change costs whichever daemon relays it."""
    pids = []
    for pidfile in testbed.workdir.glob("*/[ns]b*.pid"):
        try:
            pids.append(int(pidfile.read_text()))
        except (OSError, ValueError):
            continue
    return pids


def committed_transactions(testbed: Testbed) -> int:
    """Transactions recorded in every database file of the testbed so far."""
    files = [testbed.workdir / "ic" / "nb.db", testbed.workdir / "ic" / "sb.db"]
    files += [Path(az.dir) / f"{which}.db" for az in testbed.azs for which in ("nb", "sb")]
    return sum(path.read_bytes().count(b"\nOVSDB JSON ") for path in files)


def prefixes(count: int, offset: int = 0) -> list[str]:
    """Distinct /24s: 10.a.b.0/24 from 10.0.0.0 upwards, then 11.x and so on."""
    out = []
    for i in range(offset, offset + count):
        out.append(f"{10 + i // 65536}.{(i // 256) % 256}.{i % 256}.0/24")
    return out


class Implementation:
    """Starts one implementation's daemons on a testbed and knows their pids."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.controllers: list[Controller] = []

    def start(self, testbed: Testbed) -> None:
        for az in testbed.azs:
            if self.name == "reference":
                az.start_reference_ic()
            else:
                controller = Controller(testbed, az, log_level="info")
                self.controllers.append(controller.start())

    def pids(self, testbed: Testbed) -> list[int]:
        if self.name == "reference":
            return [int((Path(az.dir) / "ic.pid").read_text()) for az in testbed.azs]
        return [c.process.pid for c in self.controllers]

    def stop(self) -> None:
        for controller in self.controllers:
            controller.stop()


def build_topology(testbed: Testbed) -> None:
    """One transit switch; in each AZ a router lr<i> attached to it, adv/learn enabled."""
    testbed.ic_nbctl("ts-add", "ts")
    for index, az in enumerate(testbed.azs, start=1):
        wait_until(lambda az=az: "ts" in az.nbctl("--bare", "--columns=name", "list",
                                                   "Logical_Switch").split(),
                   timeout=30, message=f"{az.name}: transit switch mirror never appeared")
        az.nbctl("set", "NB_Global", ".", "options:ic-route-adv=true",
                 "options:ic-route-learn=true")
        az.nbctl("lr-add", f"lr{index}",
                 "--", "lrp-add", f"lr{index}", f"lrp-lr{index}-ts",
                 f"00:00:00:00:0{index}:01", f"169.254.100.{index}/24",
                 "--", "lsp-add", "ts", f"lsp-ts-lr{index}",
                 "--", "lsp-set-type", f"lsp-ts-lr{index}", "router",
                 "--", "lsp-set-addresses", f"lsp-ts-lr{index}", "router",
                 "--", "lsp-set-options", f"lsp-ts-lr{index}", f"router-port=lrp-lr{index}-ts")

    def bound():
        rows = testbed.ic_sbctl("--bare", "--columns=external_ids", "list", "Port_Binding")
        return rows.count("router-id") == len(testbed.azs)
    wait_until(bound, timeout=60, message="transit-switch ports were never bound in IC SB")
    for az in testbed.azs:
        # Alone on the transit switch (the other AZs played by a writer), no remote port yet.
        wait_until(lambda az=az: len(testbed.azs) == 1 or "remote" in az.nbctl(
                       "--bare", "--columns=type", "list", "Logical_Switch_Port"),
                   timeout=30, message=f"{az.name}: remote port never appeared")
        az.kill_northd()


def run_one(impl_name: str, size: int, samples: int, idle_s: float) -> dict:
    workdir = tempfile.mkdtemp(prefix="ovnic-bench-")
    testbed = Testbed(workdir, n_azs=2).start()
    impl = Implementation(impl_name)
    result: dict = {"impl": impl_name, "size": size}
    try:
        impl.start(testbed)
        build_topology(testbed)
        az1, az2 = testbed.azs
        writer = RouteWriter(az1.nb, "lr1")
        learned = LearnedRoutes(az2.nb)
        pids = impl.pids(testbed)
        timeout = 120 + size / 50
        wait_quiet(pids)

        servers = server_pids(testbed)
        bulk = prefixes(size)
        cpu0, servers0 = cpu_seconds(pids), cpu_seconds(servers)
        started = time.monotonic()
        writer.add(bulk)
        result["nb_commit_bulk_s"] = time.monotonic() - started
        done = learned.wait(lambda: len(learned.learned) >= size, timeout)
        result["bulk_s"] = done - started
        result["cpu_bulk_s"] = cpu_seconds(pids) - cpu0
        result["servers_cpu_bulk_s"] = cpu_seconds(servers) - servers0
        if learned.prefixes() != set(bulk):
            raise AssertionError(f"{impl_name}: az2 learned {len(learned.prefixes())} "
                                 f"prefixes, expected exactly the {size} advertised")

        adds, deletes = [], []
        cpu0 = cpu_seconds(pids)
        for extra in prefixes(samples, offset=size):
            started = time.monotonic()
            writer.add([extra])
            adds.append(learned.wait(lambda p=extra: p in learned.prefixes(), timeout)
                        - started)
        for extra in prefixes(samples, offset=size):
            started = time.monotonic()
            writer.remove([extra])
            deletes.append(learned.wait(lambda p=extra: p not in learned.prefixes(), timeout)
                           - started)
        result["add_ms"] = statistics.median(adds) * 1000
        result["delete_ms"] = statistics.median(deletes) * 1000
        result["cpu_add_delete_s"] = cpu_seconds(pids) - cpu0

        settle_until = time.monotonic() + 1.0
        while time.monotonic() < settle_until:  # let the last commits land before idling
            time.sleep(0.1)
        txns0, cpu0 = committed_transactions(testbed), cpu_seconds(pids)
        time.sleep(idle_s)
        result["idle_txns"] = committed_transactions(testbed) - txns0
        result["idle_cpu_pct"] = (cpu_seconds(pids) - cpu0) / idle_s * 100

        cpu0, servers0 = cpu_seconds(pids), cpu_seconds(servers)
        started = time.monotonic()
        writer.remove(bulk)
        result["nb_commit_withdraw_s"] = time.monotonic() - started
        done = learned.wait(lambda: not learned.learned, timeout)
        result["withdraw_s"] = done - started
        result["cpu_withdraw_s"] = cpu_seconds(pids) - cpu0
        result["servers_cpu_withdraw_s"] = cpu_seconds(servers) - servers0
        result["peak_rss_mb"] = peak_rss_mb(pids)
        return result
    finally:
        impl.stop()
        testbed.stop()
        shutil.rmtree(workdir, ignore_errors=True)


ROWS = (("bulk: all N learned (s)", "bulk_s", "{:.2f}"),
        ("add 1: learned after (ms, median)", "add_ms", "{:.0f}"),
        ("delete 1: gone after (ms, median)", "delete_ms", "{:.0f}"),
        ("withdraw all N (s)", "withdraw_s", "{:.2f}"),
        ("idle: transactions", "idle_txns", "{:d}"),
        ("idle: daemon CPU (%)", "idle_cpu_pct", "{:.2f}"),
        ("CPU s, bulk", "cpu_bulk_s", "{:.2f}"),
        ("CPU s, add+delete", "cpu_add_delete_s", "{:.2f}"),
        ("CPU s, withdraw", "cpu_withdraw_s", "{:.2f}"),
        ("ovsdb-servers' CPU s, bulk", "servers_cpu_bulk_s", "{:.2f}"),
        ("ovsdb-servers' CPU s, withdraw", "servers_cpu_withdraw_s", "{:.2f}"),
        ("az1 NB commit of the bulk add (s)", "nb_commit_bulk_s", "{:.2f}"),
        ("az1 NB commit of the withdraw (s)", "nb_commit_withdraw_s", "{:.2f}"),
        ("peak RSS (MB, largest daemon)", "peak_rss_mb", "{:.0f}"))


# Issue 14's targets: ratios to C where both ran (measured at 10,000 routes), absolute
# bounds where ours ran alone (measured at 50,000).
TARGETS = {"bulk_s": "≤0.6×C", "add_ms": "≤0.01×C", "delete_ms": "≤0.01×C",
           "withdraw_s": "≤0.03×C", "idle_txns": "0", "peak_rss_mb": "≤1.0×C"}
TARGETS_OURS_ONLY = {"add_ms": "≤200 ms", "delete_ms": "≤200 ms", "idle_txns": "0",
                     "peak_rss_mb": "≤350 MB"}


def print_table(size: int, results: dict[str, dict]) -> None:
    impls = [name for name in ("reference", "ours") if name in results]
    targets = TARGETS if len(impls) == 2 else TARGETS_OURS_ONLY
    header = f"{'N = ' + format(size, ','):<36}" + "".join(f"{name:>12}" for name in impls)
    if len(impls) == 2:
        header += f"{'ours/ref':>10}"
    header += f"{'target':>12}"
    print("\n" + header)
    print("-" * len(header))
    for label, key, fmt in ROWS:
        line = f"{label:<36}" + "".join(f"{fmt.format(results[name][key]):>12}"
                                        for name in impls)
        if len(impls) == 2:
            ref, ours = results["reference"][key], results["ours"][key]
            line += f"{(ours / ref if ref else float('nan')):>10.2f}" if ref else f"{'-':>10}"
        print(line + f"{targets.get(key, ''):>12}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000",
                        help="comma-separated route counts (default %(default)s)")
    parser.add_argument("--ours-only-sizes", default="",
                        help="sizes run for our daemon alone, e.g. 50000")
    parser.add_argument("--impl", choices=("both", "ours", "reference"), default="both")
    parser.add_argument("--samples", type=int, default=5, help="add/delete samples (median)")
    parser.add_argument("--idle", type=float, default=10.0, help="idle window in seconds")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)

    impls = ["ours", "reference"] if args.impl == "both" else [args.impl]
    if "reference" in impls and not shutil.which("ovn-ic"):
        print("reference ovn-ic not installed: measuring ours only", file=sys.stderr)
        impls.remove("reference")
    plan = [(int(size), impls) for size in args.sizes.split(",") if size]
    plan += [(int(size), ["ours"]) for size in args.ours_only_sizes.split(",") if size]
    everything = []
    for size, names in plan:
        results = {}
        for name in reversed(names):  # the reference first, as the baseline
            print(f"running {name} at N={size:,} ...", file=sys.stderr, flush=True)
            results[name] = run_one(name, size, args.samples, args.idle)
            everything.append(results[name])
        print_table(size, results)
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
