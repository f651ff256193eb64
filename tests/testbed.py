"""Real OVN interconnection databases in a private work directory, for tests.

The functional tests, ``make demo`` and the benchmarks need genuine OVSDB
servers speaking the OVN NB/SB and IC NB/SB schemas, because the daemon under
test must interoperate with OVN's own tools (``ovn-northd`` and the reference
``ovn-ic``) rather than with a mock of them.  This module starts exactly that
and nothing more: no ovn-controller, no ovs-vswitchd, no datapath.

Layout under the work directory (short paths keep unix sockets readable)::

    ic/{nb,sb}.{db,sock,ctl,pid,log}          IC NB / IC SB ovsdb-servers
    ic/{nb,sb}<i>.{db,sock,ctl,pid,log}       ... or the members of their Raft clusters
    az<i>/{nb,sb}.{db,sock,ctl,pid,log}       AZ NB / AZ SB ovsdb-servers
    az<i>/northd.{ctl,pid,log}                ovn-northd
    az<i>/ic.{ctl,pid,log}                    reference ovn-ic (on demand)

By default the OVN release installed on the host runs (Debian bookworm's
23.03).  ``Testbed(workdir, release="26.03")`` runs a newer one instead, every
daemon and tool from that release's Debian chroot (built and cached by
scripts/build-release-chroot.sh), with databases created from its schemas.
Each command runs in a private mount namespace in which the work directory is
bind-mounted at the same path inside the chroot, so the unix sockets have the
same paths for host clients (our daemon) and the mounts vanish with the last
process using them: a crashed test leaves no mount behind.

Every daemon is started detached with an explicit pidfile, log file and
unixctl socket, and every subprocess gets ``OVS_*DIR``/``OVN_*DIR`` pointing at
the work directory, so nothing is written to system paths such as /var/run
and several testbeds can run side by side.  Only processes whose pidfile is in
the work directory *and* whose command line names that pidfile are ever
signalled, so a recycled pid is never killed.

Standard library only: the testbed must work before the project is installed.

Example::

    with Testbed(tempfile.mkdtemp(prefix="ovnic-")) as tb:
        tb.ic_nbctl("ts-add", "ts1")
        tb.az("az1").nbctl("ls-list")
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

SCHEMA_DIR = Path(os.environ.get("OVN_SCHEMA_DIR", "/usr/share/ovn"))
#: Where a release chroot has its schemas (as its own tools see them).
CHROOT_SCHEMA_DIR = Path("/usr/share/ovn")

#: The OVN release installed on the host, which a Testbed runs by default.
HOST_RELEASE = "23.03"
#: Newer releases, each run from its own Debian chroot.
NEWER_RELEASES = ("25.03", "26.03", "26.09")
RELEASES = (HOST_RELEASE, *NEWER_RELEASES)

@functools.cache
def _propagation() -> str:
    """``private``, unless / is no mount point (this machine is itself a chroot): then unshare
    cannot change it, and the new namespace keeps its parent's propagation."""
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                           capture_output=True)
    return "private" if probe.returncode == 0 else "unchanged"


_BUILD_CHROOT = Path(__file__).resolve().parent.parent / "scripts" / "build-release-chroot.sh"
#: Seconds the first build of one release chroot may take (about 30 s on a 2-core machine).
BUILD_TIMEOUT = 900.0

# sh -c script: run "$@" chrooted into $1 with /proc and the work dir $2 (same path inside)
# mounted.  Run under `unshare --mount`, so the mounts are private and die with the command
# (or with the daemon it starts).
_IN_CHROOT = (
    'root=$1 dir=$2; shift 2; mkdir -p "$root$dir"; mount -t proc proc "$root/proc"; '
    'mount --bind "$dir" "$root$dir"; exec chroot "$root" "$@"'
)

#: Seconds to wait for a daemon to answer after it was started.
READY_TIMEOUT = 10.0
#: Seconds a ``*ctl`` command may take before it is considered hung.
COMMAND_TIMEOUT = 10.0
#: Seconds between SIGTERM and SIGKILL in :meth:`Testbed.stop`.
STOP_GRACE = 3.0

_INSTALL_HINT = "apt-get install ovn-central ovn-ic ovn-ic-db"


class TestbedError(Exception):
    """A testbed daemon could not be started or stopped."""

    __test__ = False  # not a pytest test class, despite the name


class CommandError(TestbedError):
    """A command exited non-zero (or hung); carries its stderr for the report."""

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        status = "timed out" if returncode is None else f"exited {returncode}"
        super().__init__(
            f"{' '.join(self.argv)} {status}: {(stderr or '').strip() or '(no stderr)'}"
        )


def wait_until(predicate, timeout=10.0, interval=0.05, message=None):
    """Poll ``predicate()`` until it returns something truthy, and return that.

    Tests use this instead of sleeping, so they take only as long as the
    system needs to converge.  Exceptions from the predicate propagate.
    Raises AssertionError with ``message`` and the last value on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"{message or 'condition not met'} (after {timeout:g}s; last value: {value!r})"
            )
        time.sleep(interval)


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Racy by nature, so taken below the kernel's ephemeral range: a port the kernel
    hands out itself would soon be reused for some client's outgoing connection
    (the tests' own HTTP requests, say) before the daemon under test binds it.
    Ports are handed out in turn from a random start, not drawn at random each
    time: two daemons given ports a moment apart, neither bound yet, must not get
    the same one (a draw from 20,000 did, once in a CI run).
    """
    low = _ephemeral_low()
    first = max(1024, low - 20000)
    while True:
        port = first + next(_port_turns) % (low - first)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


_port_turns = itertools.count(random.randrange(20000))


@functools.cache
def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def isolated_env(workdir) -> dict:
    """The caller's environment minus any OVS/OVN settings, plus run/log/db dirs in ``workdir``.

    Dropping every inherited ``OVS_*``/``OVN_*`` variable matters: e.g.
    ``OVN_NB_DAEMON`` would make ``ovn-nbctl`` talk to some unrelated daemon
    and ``OVN_NBCTL_OPTIONS`` would change its output.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVS_", "OVN_"))}
    for prefix in ("OVS", "OVN"):
        for kind in ("RUNDIR", "LOGDIR", "DBDIR", "SYSCONFDIR"):
            env[f"{prefix}_{kind}"] = str(workdir)
    return env


def _run(argv, env, timeout=COMMAND_TIMEOUT, prefix=()) -> str:
    """Run ``prefix + argv``; return its stripped stdout or raise CommandError (naming ``argv``)."""
    argv = [str(a) for a in argv]
    try:
        proc = subprocess.run(
            [str(a) for a in prefix] + argv, env=env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )
    except FileNotFoundError:
        raise TestbedError(f"{argv[0]} not found in PATH ({_INSTALL_HINT})") from None
    except subprocess.TimeoutExpired as exc:
        raise CommandError(argv, None, exc.stdout, exc.stderr) from None
    if proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout.strip()


def _running(pid) -> bool:
    """True if ``pid`` exists and is not a zombie (a zombie no longer holds files or sockets)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may contain spaces.
    return stat.rpartition(")")[2].split()[0] != "Z"


@functools.cache
def release_root(release) -> Path:
    """The chroot of a newer ``release``, built on first use (the script caches it).

    Raises TestbedError, with the script's complaint, when it cannot be built
    (e.g. not root, or no Debian mirror).
    """
    try:
        proc = subprocess.run([str(_BUILD_CHROOT), release], capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestbedError(f"cannot build the OVN {release} chroot: {exc}") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise TestbedError(f"cannot build the OVN {release} chroot "
                           f"({_BUILD_CHROOT.name} exited {proc.returncode}):\n{tail}")
    return Path(proc.stdout.split()[-1])


class _Daemon:
    """One detached OVS/OVN daemon whose files are ``<dir>/<stem>.{pid,log,ctl}``."""

    def __init__(self, testbed, directory, stem, label):
        self.testbed = testbed
        self.dir = directory
        self.label = label
        self.pidfile = directory / f"{stem}.pid"
        self.logfile = directory / f"{stem}.log"
        self.ctl = directory / f"{stem}.ctl"
        # Leftovers of a killed predecessor that would confuse readiness checks.
        self.stale_files = [self.pidfile, self.ctl]

    def pid(self):
        """Pid of the live daemon from our pidfile, or None.

        Only a process whose command line names our pidfile counts, so a
        stale pidfile pointing at a recycled pid is ignored.
        """
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        if f"--pidfile={self.pidfile}".encode() not in cmdline or not _running(pid):
            return None
        return pid

    def log_tail(self, lines=20) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return "(no log file)"
        return "\n".join(text.splitlines()[-lines:]) or "(log file empty)"

    def _fail(self, what, detail="") -> TestbedError:
        return TestbedError(
            f"{self.label}: {what}{detail}\n--- tail of {self.logfile} ---\n{self.log_tail()}"
        )

    def start(self, program, *args):
        """Start the daemon unless it already runs (so restarting is idempotent).

        ``--detach`` returns only once the daemon has opened its listeners,
        or fails with its error on stderr.
        """
        if self.pid():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        for path in self.stale_files:
            path.unlink(missing_ok=True)
        argv = [
            program,
            "--detach",
            "--no-chdir",
            "-vconsole:warn",
            f"--pidfile={self.pidfile}",
            f"--log-file={self.logfile}",
            f"--unixctl={self.ctl}",
            *args,
        ]
        try:
            self.testbed.run(*argv, timeout=READY_TIMEOUT)
        except CommandError as exc:
            raise self._fail("failed to start", f": {exc}") from None

    def wait_ready(self, predicate, what):
        """Wait for ``predicate``; on timeout report the daemon's log tail."""
        try:
            wait_until(predicate, timeout=READY_TIMEOUT, message=what)
        except AssertionError as exc:
            state = "running" if self.pid() else "not running"
            raise self._fail(f"not ready ({state})", f": {exc}") from None

    def wait_active(self):
        """Wait until ``ovn-appctl status`` reports that the daemon holds its lock."""

        def active():
            try:
                status = self.testbed.run("ovn-appctl", "--timeout=2", "-t", self.ctl, "status")
            except CommandError:
                return False
            return "Status: active" in status

        self.wait_ready(active, "Status: active")

    def stop(self, sig=signal.SIGTERM):
        _stop_daemons([self], sig)


class _OvsdbServer(_Daemon):
    """An ovsdb-server serving one standalone database on a unix socket."""

    def __init__(self, testbed, directory, stem, label, *, db_name, schema):
        super().__init__(testbed, directory, stem, label)
        self.db_name = db_name
        self.schema = testbed.schema_dir / schema
        self.db_file = directory / f"{stem}.db"
        self.sock = directory / f"{stem}.sock"
        self.remote = f"unix:{self.sock}"
        self.stale_files.append(self.sock)

    @property
    def servers(self):
        return [self]

    def start(self):
        """Start on the existing DB file if there is one, so data survives a restart."""
        if not self.db_file.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            self.create()
        super().start("ovsdb-server", f"--remote=punix:{self.sock}", self.db_file)
        self.wait_ready(self.answers, f"{self.db_name} to answer on {self.remote}")

    def create(self):
        self.testbed.run("ovsdb-tool", "create", self.db_file, self.schema)

    def answers(self):
        try:
            dbs = self.testbed.run("ovsdb-client", "--timeout=2", "list-dbs", self.remote)
        except CommandError:
            return False
        return self.db_name in dbs.split()


class _RaftMember(_OvsdbServer):
    """One ovsdb-server of a clustered database; its Raft address is on 127.0.0.1."""

    def __init__(self, testbed, directory, stem, label, *, db_name, schema, founder=None):
        super().__init__(testbed, directory, stem, label, db_name=db_name, schema=schema)
        self.founder = founder  # the member whose cluster this one joins; None: it creates it
        self.raft_address = f"tcp:127.0.0.1:{find_free_port()}"

    def create(self):
        if self.founder is None:
            self.testbed.run("ovsdb-tool", "create-cluster", self.db_file, self.schema,
                             self.raft_address)
        else:
            self.testbed.run("ovsdb-tool", "join-cluster", self.db_file, self.db_name,
                             self.raft_address, self.founder.raft_address)

    def answers(self):
        """The database has joined its cluster and is connected to it."""
        try:
            self.testbed.run("ovsdb-client", "--timeout=2", "wait", self.remote, self.db_name,
                             "connected")
        except CommandError:
            return False
        return True

    def role(self) -> str:
        """This member's Raft role: leader, follower or candidate ("" when it is down)."""
        try:
            status = self.testbed.run("ovn-appctl", "--timeout=2", "-t", self.ctl,
                                      "cluster/status", self.db_name)
        except CommandError:
            return ""
        return next((line.split(":", 1)[1].strip() for line in status.splitlines()
                     if line.startswith("Role:")), "")


class _RaftCluster:
    """A database served by a Raft cluster of ovsdb-servers (``<stem>1``..``<stem>N``).

    ``remote`` lists every member, comma-separated, as clients of a cluster are
    configured; they find the leader themselves.
    """

    def __init__(self, testbed, directory, stem, label, *, db_name, schema, size):
        self.db_name = db_name
        self.members = []
        for index in range(1, size + 1):
            self.members.append(_RaftMember(
                testbed, directory, f"{stem}{index}", f"{label} member {index}",
                db_name=db_name, schema=schema,
                founder=self.members[0] if self.members else None))
        self.remote = ",".join(member.remote for member in self.members)

    @property
    def servers(self):
        return list(self.members)

    def start(self):
        for member in self.members:
            member.start()

    def stop(self, sig=signal.SIGTERM):
        _stop_daemons(self.members, sig)

    def leader(self) -> _RaftMember:
        """The member that leads the cluster now, once one does."""
        return wait_until(lambda: next((member for member in self.members
                                        if member.role() == "leader"), None),
                          timeout=READY_TIMEOUT, message=f"a leader of {self.db_name}")


def _stop_daemons(daemons, sig=signal.SIGTERM):
    """Send ``sig`` to every running daemon, SIGKILL those still alive after STOP_GRACE.

    All daemons get the signal at once, so stopping a whole testbed takes at
    most one grace period.  Returns once every process is gone.
    """
    victims = {}
    for daemon in daemons:
        pid = daemon.pid()
        if pid:
            victims[daemon] = pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
    deadline = time.monotonic() + STOP_GRACE
    while any(_running(p) for p in victims.values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in victims.values():
        if _running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + STOP_GRACE
    while True:
        alive = {d.label: p for d, p in victims.items() if _running(p)}
        if not alive or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    if alive:
        raise TestbedError(f"processes survived SIGKILL: {alive}")
    for daemon in victims:
        # A killed daemon cannot remove its pidfile; a stale one only confuses people.
        daemon.pidfile.unlink(missing_ok=True)


class AZ:
    """One availability zone: NB + SB ovsdb-servers, ovn-northd and optionally ovn-ic.

    ``nb``/``sb`` are the ``unix:`` remotes of its databases.
    """

    def __init__(self, testbed, name):
        self.testbed = testbed
        self.name = name
        self.dir = testbed.workdir / name
        self._nb = _OvsdbServer(
            testbed, self.dir, "nb", f"{name} NB ovsdb-server",
            db_name="OVN_Northbound", schema="ovn-nb.ovsschema",
        )  # fmt: skip
        self._sb = _OvsdbServer(
            testbed, self.dir, "sb", f"{name} SB ovsdb-server",
            db_name="OVN_Southbound", schema="ovn-sb.ovsschema",
        )  # fmt: skip
        self._northd = _Daemon(testbed, self.dir, "northd", f"{name} ovn-northd")
        self._ic = _Daemon(testbed, self.dir, "ic", f"{name} reference ovn-ic")
        self.nb = self._nb.remote
        self.sb = self._sb.remote

    def __repr__(self):
        return f"AZ({self.name!r}, nb={self.nb!r}, sb={self.sb!r})"

    @property
    def daemons(self):
        """This AZ's daemons, clients before servers (the order to stop them in)."""
        return [self._ic, self._northd, self._nb, self._sb]

    def nbctl(self, *args) -> str:
        return self.testbed.ctl("ovn-nbctl", self.nb, *args)

    def sbctl(self, *args) -> str:
        return self.testbed.ctl("ovn-sbctl", self.sb, *args)

    def set_name(self, name=None):
        """Set NB_Global name, which ovn-ic needs before it registers the AZ."""
        value = self.name if name is None else name
        self.nbctl("set", "NB_Global", ".", f"name={json.dumps(value)}")

    def start_northd(self):
        self._northd.start("ovn-northd", f"--ovnnb-db={self.nb}", f"--ovnsb-db={self.sb}")
        self._northd.wait_active()

    def kill_northd(self, sig=signal.SIGKILL):
        """Stop ovn-northd with ``sig`` (SIGKILL by default: a crash, not a shutdown)."""
        self._northd.stop(sig)

    def start_reference_ic(self, name=True):
        """Start OVN's own ovn-ic for this AZ, to compare against or interoperate with.

        With ``name`` true, NB_Global.name is set first, since ovn-ic does
        nothing for an unnamed AZ.  Returns once ovn-ic holds the AZ SB's
        ``ovn_ic`` lock, so it times out while another IC daemon holds it.
        """
        if name:
            self.set_name()
        tb = self.testbed
        self._ic.start(
            "ovn-ic",
            f"--ovnnb-db={self.nb}",
            f"--ovnsb-db={self.sb}",
            f"--ic-nb-db={tb.ic_nb}",
            f"--ic-sb-db={tb.ic_sb}",
        )
        self._ic.wait_active()

    def stop_reference_ic(self):
        self._ic.stop()


class Testbed:
    """IC NB + IC SB databases and ``n_azs`` AZs (``az1``..``azN``) in ``workdir``.

    Usable as a context manager; :meth:`stop` is idempotent and safe after a
    partial start.  ``env`` is the isolated environment used for every
    subprocess; pass it to other daemons started against the testbed.
    ``release`` (one of RELEASES) is the OVN release whose daemons and tools
    run; a newer one's chroot is built first if need be.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, workdir, n_azs=2, northd=True, ic_cluster=0, release=HOST_RELEASE):
        if n_azs < 1:
            raise ValueError("n_azs must be at least 1")
        if release not in RELEASES:
            raise ValueError(f"unknown release {release!r} (have {', '.join(RELEASES)})")
        self.workdir = Path(workdir).resolve()
        self.northd = northd
        self.env = isolated_env(self.workdir)
        self.release = release
        self.root = None if release == HOST_RELEASE else release_root(release)
        self.schema_dir = SCHEMA_DIR if self.root is None else CHROOT_SCHEMA_DIR
        # The directories in the chroot that mounting the work dir creates, deepest first.
        self._mount_dirs = []
        if self.root is not None:
            mountpoint = self.root / self.workdir.relative_to("/")
            self._mount_dirs = [d for d in (mountpoint, *mountpoint.parents)
                                if d.is_relative_to(self.root) and not d.exists()]
        ic_dir = self.workdir / "ic"
        if ic_cluster:  # each IC database a Raft cluster of that many servers
            self._ic_nb = _RaftCluster(
                self, ic_dir, "nb", "IC NB ovsdb-server",
                db_name="OVN_IC_Northbound", schema="ovn-ic-nb.ovsschema", size=ic_cluster,
            )  # fmt: skip
            self._ic_sb = _RaftCluster(
                self, ic_dir, "sb", "IC SB ovsdb-server",
                db_name="OVN_IC_Southbound", schema="ovn-ic-sb.ovsschema", size=ic_cluster,
            )  # fmt: skip
        else:
            self._ic_nb = _OvsdbServer(
                self, ic_dir, "nb", "IC NB ovsdb-server",
                db_name="OVN_IC_Northbound", schema="ovn-ic-nb.ovsschema",
            )  # fmt: skip
            self._ic_sb = _OvsdbServer(
                self, ic_dir, "sb", "IC SB ovsdb-server",
                db_name="OVN_IC_Southbound", schema="ovn-ic-sb.ovsschema",
            )  # fmt: skip
        self.ic_nb = self._ic_nb.remote
        self.ic_sb = self._ic_sb.remote
        self.azs = [AZ(self, f"az{i}") for i in range(1, n_azs + 1)]

    def __repr__(self):
        return f"Testbed({str(self.workdir)!r}, n_azs={len(self.azs)}, release={self.release!r})"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self) -> Testbed:
        """Start all databases (and northd), initialise them and wait until they answer.

        NB_Global.name is left unset: the daemon under test writes it from
        its own configuration.  On failure everything started so far is
        stopped again before the error propagates.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._ic_nb.start()
            self._ic_sb.start()
            self.ic_nbctl("init")
            for az in self.azs:
                az._nb.start()
                az._sb.start()
                az.nbctl("init")
                az.sbctl("init")
                if self.northd:
                    az.start_northd()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop every daemon started from this work dir, reference ovn-ic included.

        In a release chroot, the directories made to mount the work dir on go
        too, once nothing runs there any more.
        """
        daemons = [d for az in self.azs for d in az.daemons]
        _stop_daemons(daemons + self._ic_nb.servers + self._ic_sb.servers)
        for directory in self._mount_dirs:
            with contextlib.suppress(OSError):  # e.g. not empty: another testbed's too
                directory.rmdir()

    def az(self, name) -> AZ:
        for az in self.azs:
            if az.name == name:
                return az
        raise KeyError(f"no AZ {name!r} (have {[a.name for a in self.azs]})")

    def run(self, *argv, timeout=COMMAND_TIMEOUT) -> str:
        """Run a command of the testbed's release in its environment; stripped stdout or
        CommandError."""
        prefix = () if self.root is None else (
            "unshare", "--mount", "--propagation", _propagation(), "--",
            "sh", "-ec", _IN_CHROOT, "sh", self.root, self.workdir)
        return _run(argv, self.env, timeout=timeout, prefix=prefix)

    def versions(self) -> dict:
        """What runs: the release, ovn-ic's version and each database's schema version as
        its server reports it (keys ic_nb, ic_sb, nb, sb; the AZ ones from az1)."""
        found = {"release": self.release, "ovn": self.run("ovn-ic", "--version").split()[1]}
        az1 = self.azs[0]
        for key, server in (("ic_nb", self._ic_nb), ("ic_sb", self._ic_sb), ("nb", az1._nb),
                            ("sb", az1._sb)):
            found[key] = self.run("ovsdb-client", "--timeout=2", "get-schema-version",
                                  server.servers[0].remote, server.db_name)
        return found

    def ctl(self, tool, db, *args) -> str:
        """Run an OVN ``*ctl`` tool against ``db`` with a bounded wait.

        ``--timeout`` makes the tool give up instead of retrying forever
        when the server is down.
        """
        return self.run(
            tool,
            f"--db={db}",
            f"--timeout={COMMAND_TIMEOUT:g}",
            *args,
            timeout=COMMAND_TIMEOUT + 5,
        )

    def ic_nbctl(self, *args) -> str:
        return self.ctl("ovn-ic-nbctl", self.ic_nb, *args)

    def ic_sbctl(self, *args) -> str:
        return self.ctl("ovn-ic-sbctl", self.ic_sb, *args)

    def kill_ic_nb(self, sig=signal.SIGKILL):
        """Stop the IC NB server with ``sig`` (SIGKILL by default) to test reconnection."""
        self._ic_nb.stop(sig)

    def start_ic_nb(self):
        """(Re)start the IC NB server on the same DB file and socket."""
        self._ic_nb.start()

    def kill_ic_sb(self, sig=signal.SIGKILL):
        """Stop the IC SB server with ``sig`` (SIGKILL by default) to test reconnection."""
        self._ic_sb.stop(sig)

    def start_ic_sb(self):
        """(Re)start the IC SB server on the same DB file and socket."""
        self._ic_sb.start()


@contextlib.contextmanager
def temporary_testbed(n_azs=2, ic_cluster=0, release=HOST_RELEASE):
    """A started testbed in a fresh temp dir, stopped and removed afterwards.

    The dir is short (mkdtemp, not pytest's tmp_path) because unix socket paths
    should stay short.  ``KEEP_TESTBED=1`` keeps it (databases and logs) for
    post-mortem inspection; its daemons are stopped either way.
    """
    import shutil
    import tempfile

    workdir = tempfile.mkdtemp(prefix="ovnic-")
    try:
        tb = Testbed(workdir, n_azs=n_azs, ic_cluster=ic_cluster, release=release)
    except BaseException:  # e.g. the release chroot cannot be built
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        yield tb.start()
    finally:
        try:
            tb.stop()
        finally:
            if os.environ.get("KEEP_TESTBED") == "1":
                print(f"\nKEEP_TESTBED=1: testbed kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
