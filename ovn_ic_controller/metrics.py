"""Prometheus metrics and the /metrics, /healthz, /readyz HTTP endpoints.

The HTTP server runs in its own thread and reads only metric objects and the
``Health`` flags, never IDL rows, so the loop thread stays the only one that
touches OVSDB state.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ovs.version
import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from . import __version__, logs
from .config import Config, ConfigError
from .constants import DATABASE_ORDER
from .db import ovs_compat
from .logs import quote

log = logs.get("metrics")

PREFIX = "ovn_ic_controller_"
# While in sync and nothing changes, the loop still runs this often, so that
# last_sync_timestamp_seconds stays current and its age means "sync stalled".
LAST_SYNC_REFRESH_MS = 10_000


class Metrics:
    """Every metric the daemon exports, in one registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        self.build_info = Info(PREFIX + "build", "Version of the daemon and of the ovs library, "
                               "and the state of each ovs_compat fast path.", registry=reg)
        self.fast_idl = Gauge(PREFIX + "fast_idl",
                              "1 for the state of the fast IDL inserts (db/ovs_compat): active, "
                              "or fallback to the ovs library's own Idl (off: not checked).",
                              ["state"],
                              registry=reg)
        self.publish_ovs_compat()
        self.db_connected = Gauge(PREFIX + "db_connected",
                                  "1 while the connection to the database is up.", ["db"],
                                  registry=reg)
        self.lock_held = Gauge(PREFIX + "lock_held",
                               "1 when this instance holds the ovn_ic lock on the local SB "
                               "(active), 0 on standby.", registry=reg)
        self.paused = Gauge(PREFIX + "paused",
                            "1 while paused by 'ovn-appctl ... pause': replicas kept current, "
                            "lock kept, nothing written.", registry=reg)
        self.idle = Gauge(PREFIX + "idle",
                          "1 for the reason this instance writes nothing although it could "
                          "(no-az-name, ic-disabled, no-nb-global).", ["reason"], registry=reg)
        self.iterations = Counter(PREFIX + "loop_iterations",
                                  "Main loop iterations.", registry=reg)
        self.iteration_seconds = Histogram(
            PREFIX + "iteration_duration_seconds", "Time spent in one loop iteration's work.",
            buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10),
            registry=reg)
        self.transactions = Counter(PREFIX + "transactions",
                                    "Transactions committed, by database and outcome.",
                                    ["db", "outcome"], registry=reg)
        self.last_sync = Gauge(PREFIX + "last_sync_timestamp_seconds",
                               "Unix time the daemon last found every database in sync; "
                               "refreshed every 10 s while it is.", registry=reg)
        self.rows_changed = Counter(PREFIX + "rows_changed",
                                    "Rows created, updated or deleted, by sync concern.",
                                    ["concern", "op"], registry=reg)
        self.recomputes = Counter(PREFIX + "recomputes",
                                  "Times a sync concern recomputed its plan.", ["concern"],
                                  registry=reg)
        self.concern_errors = Counter(PREFIX + "concern_errors",
                                      "Times a sync concern raised instead of planning; its "
                                      "changes were dropped and it is retried alone.",
                                      ["concern"], registry=reg)
        self.gateway_problems = Gauge(PREFIX + "gateway_problems",
                                      "1 per gateway problem the operator should fix: a gw-nodes "
                                      "entry with no chassis (no-such-chassis), a gateway without "
                                      "is-interconn (not-is-interconn), or a gateway skipped for "
                                      "bad or conflicting data.", ["chassis", "problem"],
                                      registry=reg)
        self.service_monitors_refused = Gauge(
            PREFIX + "service_monitors_refused",
            "Cross-AZ load-balancer health checks not published (push) or not checked here "
            "(pull) in the last computation, by reason (schema, address, conflict, duplicate).",
            ["direction", "reason"], registry=reg)
        self.routes_advertised = Gauge(PREFIX + "routes_advertised",
                                       "IC SB routes this AZ advertises, by transit switch.",
                                       ["transit_switch"], registry=reg)
        self.routes_learned = Gauge(PREFIX + "routes_learned",
                                    "Routes this AZ's routers learned, by transit switch.",
                                    ["transit_switch"], registry=reg)
        self.routes_refused = Gauge(PREFIX + "routes_refused",
                                    "Routes not advertised or learned in the last route "
                                    "computation, by direction and reason (blacklist, default, "
                                    "link-local, unparsable, local-wins, no-nexthop, duplicate, "
                                    "conflict, family, tag, filter, deny).",
                                    ["direction", "reason"], registry=reg)
        self.route_conflicts = Gauge(PREFIX + "route_conflicts",
                                     "1 per local network (local) overlapping a prefix another "
                                     "AZ advertises that this AZ would learn (remote); not "
                                     "learned under conflict-policy=deny with auto-route=true.",
                                     ["local", "remote"], registry=reg)
        self.learned_route_overlaps = Gauge(PREFIX + "learned_route_overlaps",
                                            "Learned routes to a prefix (remote) overlapping a "
                                            "local network (local): conflicts learned because "
                                            "they are only reported.",
                                            ["local", "remote"], registry=reg)
        self.address_sets_advertised = Gauge(PREFIX + "address_sets_advertised",
                                             "Address sets this AZ publishes in the IC SB.",
                                             registry=reg)
        self.address_sets_learned = Gauge(PREFIX + "address_sets_learned",
                                          "Address sets learned from other AZs (ic-learnt).",
                                          registry=reg)
        self.address_sets_refused = Gauge(PREFIX + "address_sets_refused",
                                          "Other AZs' IC SB address sets not learned, by reason "
                                          "(local-wins, reserved).", ["reason"], registry=reg)
        self.config_reloads = Counter(PREFIX + "config_reloads",
                                      "SIGHUP reloads of the configuration, by outcome.",
                                      ["outcome"], registry=reg)
        for db in DATABASE_ORDER:
            self.db_connected.labels(db=db).set(0)

    def publish_ovs_compat(self) -> None:
        """build_info's and fast_idl's values, from what ovs_compat.install() found."""
        compat = ovs_compat.status()
        self.build_info.info({"version": __version__, "ovs_version": ovs.version.VERSION,
                              **compat.paths()})
        for state in ovs_compat.STATES:
            self.fast_idl.labels(state=state).set(1 if state == compat.fast_idl else 0)

    def set_idle_reason(self, reason: str | None) -> None:
        for known in ("no-az-name", "ic-disabled", "no-nb-global"):
            self.idle.labels(reason=known).set(1 if known == reason else 0)


class Health:
    """Liveness and readiness, written by the loop thread, read by HTTP threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = False
        self._why = "starting"

    def set(self, ready: bool, why: str) -> None:
        with self._lock:
            self._ready, self._why = ready, why

    def get(self) -> tuple[bool, str]:
        with self._lock:
            return self._ready, self._why


class MetricsServer:
    """Serves /metrics, /healthz and /readyz on a background thread, at one address at a time."""

    def __init__(self, metrics: Metrics, health: Health) -> None:
        registry, health_ref = metrics.registry, health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body = prometheus_client.generate_latest(registry)
                    self._send(200, body, prometheus_client.CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    self._send(200, b"ok\n")
                elif path == "/readyz":
                    ready, why = health_ref.get()
                    self._send(200 if ready else 503, (why + "\n").encode())
                else:
                    self._send(404, b"not found: try /metrics, /healthz or /readyz\n")

            def _send(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                """Scrapes are frequent; keep them out of the daemon's log."""

        self.handler = Handler
        self.address: tuple[str, int] | None = None
        self.server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1] if self.server is not None else 0

    def serve(self, config: Config) -> None:
        """Serve at ``config``'s metrics-address (port 0: nowhere) instead of the current one.

        The new socket is bound before the old one is closed: if it cannot be (the port in
        use, an address not on this host), ConfigError names the key and the old one keeps
        serving.  Only a move to another host on the same port must close the old socket
        first; should the new one fail then, the old address is taken again.
        """
        address = config.metrics_address
        if address == self.address:
            return
        old = self.address
        try:
            server = self._bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or old is None or old[1] != address[1]:
                raise _cannot_listen(config, exc) from None
            self.stop()
            try:
                server = self._bind(address)
            except OSError as again:
                with contextlib.suppress(OSError):  # free a moment ago: only a race takes it
                    self._start(self._bind(old), old)
                raise _cannot_listen(config, again) from None
        self.stop()
        self._start(server, address)

    def _bind(self, address: tuple[str, int]) -> ThreadingHTTPServer | None:
        host, port = address
        if port == 0:
            return None
        server_class = _V6Server if ":" in host else ThreadingHTTPServer
        return server_class((host, port), self.handler)

    def _start(self, server: ThreadingHTTPServer | None, address: tuple[str, int]) -> None:
        self.server, self.address = server, address
        if server is None:
            return
        server.daemon_threads = True
        # A short poll interval keeps shutdown (SIGTERM) well under a second.
        threading.Thread(target=server.serve_forever, args=(0.1,), name="metrics-http",
                         daemon=True).start()
        log.info("metrics.listening", address=f"{address[0]}:{self.port}")

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.server, self.address = None, None


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


_HINTS = {errno.EADDRINUSE: " (another process listens there)",
          errno.EADDRNOTAVAIL: " (not an address of this host)"}


def _cannot_listen(config: Config, exc: OSError) -> ConfigError:
    key = "metrics-address"
    return ConfigError(f"{config.path}: key '{key}' = {quote(config.text(key))}: cannot "
                       f"listen there: {exc.strerror}{_HINTS.get(exc.errno, '')}")
