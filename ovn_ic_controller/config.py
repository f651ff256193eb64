"""controller.conf: one typed table of options, parsed and validated in one place.

Keys are named as Kube-OVN's ``ovn-ic-config`` ConfigMap where one exists, so a
ConfigMap can be turned into this file key for key.  Every error is one line
naming the file, the line or the key, the value (quoted: control characters
escaped, cut when long) and what was expected, and maps to exit code 78
(EX_CONFIG); a file that is not UTF-8 text is one such error, never a traceback.
"""

from __future__ import annotations

import codecs
import configparser
import dataclasses
import difflib
import ipaddress
import os
import re
import stat
import textwrap
from collections.abc import Callable
from typing import Any

from .constants import IC_NB, IC_SB, NB, SB
from .logs import QUOTE_LIMIT, printable, quote

DEFAULT_PATH = "/etc/ovn-ic/controller.conf"
SECTION = "controller"
ROUTER_SECTION = "router"  # [router NAME]: one more automated router (VPC)
CLUSTER_TS_PREFIX = "ts"   # the cluster router's transit switches: ts, ts1, ...
EX_CONFIG = 78
MAX_FILE_BYTES = 16 << 20
INI_ERROR_LIMIT = 400  # configparser's message, which quotes the offending line
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1


class ConfigError(Exception):
    """A configuration problem, already phrased for the operator."""

    exit_code = EX_CONFIG

    def __init__(self, message: str) -> None:
        # Always one line, even for a value continued over several lines of the file.
        super().__init__(message.replace("\n", "\\n"))


# --------------------------------------------------------------------- parsers
# Each parser takes the raw string and returns the value, or raises ValueError
# whose text says what was expected.

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("a boolean (true/false, yes/no, on/off, 1/0)")


def parse_optional_bool(text: str) -> bool | None:
    return None if not text.strip() else parse_bool(text)


def parse_port(text: str) -> int:
    try:
        port = int(text.strip())
    except ValueError:
        raise ValueError("a TCP port number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise ValueError("a TCP port number from 1 to 65535")
    return port


def parse_positive_int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError("a whole number of at least 1") from None
    if value < 1:
        raise ValueError("a whole number of at least 1")
    return value


def parse_probe_interval(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError("milliseconds: 0 (off) or at least 1000") from None
    if value != 0 and value < 1000:
        raise ValueError("milliseconds: 0 (off) or at least 1000")
    return value


_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def _parse_host(host: str) -> str:
    """One host: an IPv4/IPv6 address (IPv6 may be bracketed) or a DNS name."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if bare is host and _HOSTNAME.match(host) and not host.replace(".", "").isdigit():
        return host
    raise ValueError("comma-separated host names or IP addresses")


def parse_hosts(text: str) -> tuple[str, ...]:
    entries = [entry.strip() for entry in text.split(",")]
    if not any(entries):
        return ()
    if not all(entries):
        raise ValueError("comma-separated host names or IP addresses, none empty")
    return tuple(_parse_host(entry) for entry in entries)


def parse_names(text: str) -> tuple[str, ...]:
    """Comma-separated names; blanks around them dropped, duplicates removed in order."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    return tuple(dict.fromkeys(names))


_REMOTE = re.compile(r"^(unix:.+|(tcp|ssl):(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+):\d{1,5})$")


def parse_remote(text: str) -> str:
    """An OVSDB remote, or several comma-separated ones for a Raft cluster."""
    remotes = [remote.strip() for remote in text.split(",")]
    if not all(_REMOTE.match(remote) for remote in remotes):
        raise ValueError("an OVSDB remote such as unix:/path, tcp:HOST:PORT or ssl:HOST:PORT "
                         "(comma-separated for a cluster)")
    return ",".join(remotes)


def parse_optional_remote(text: str) -> str:
    return parse_remote(text) if text.strip() else ""


def parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return word
    return parse


def parse_listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError("HOST:PORT, e.g. 127.0.0.1:9476 or [::1]:9476")
    try:
        host = _parse_host(host)
        number = int(port)
    except ValueError:
        raise ValueError("HOST:PORT, e.g. 127.0.0.1:9476 or [::1]:9476") from None
    if not 0 <= number <= 65535:
        raise ValueError("HOST:PORT with a port from 0 to 65535")
    return host, number


def parse_cidrs(text: str) -> tuple[str, ...]:
    """Comma-separated IPv4/IPv6 CIDRs, kept as written (deduplicated, in order)."""
    cidrs = parse_names(text)
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ValueError("comma-separated CIDRs such as 10.16.0.0/16,fd00:10:16::/64") from None
    return cidrs


def parse_text(text: str) -> str:
    return text.strip()


def parse_path(text: str) -> str:
    return text.strip()


# ----------------------------------------------------------------- the table

@dataclasses.dataclass(frozen=True)
class Option:
    key: str
    parse: Callable[[str], Any]
    default: str
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("enable-ic", parse_bool, "true",
           "Join the interconnection. false: leave it (remove the interconnection state "
           "made here and this AZ's IC SB rows), then stay idle; true again rejoins."),
    Option("az-name", parse_text, "",
           "This AZ's name, written to NB_Global.name and registered in the IC SB. Empty: "
           "use the existing NB_Global.name; if that is empty too, stay idle."),
    Option("ic-db-host", parse_hosts, "",
           "IC database hosts, comma-separated (IPv6 allowed); several form one clustered "
           "remote, connected leader-only."),
    Option("ic-nb-port", parse_port, "6645", "IC Northbound database port on ic-db-host."),
    Option("ic-sb-port", parse_port, "6646", "IC Southbound database port on ic-db-host."),
    Option("ic-db-scheme", parse_choice("tcp", "ssl"), "tcp",
           "How to reach ic-db-host: tcp or ssl (ssl needs the three ssl-* keys)."),
    Option("ic-nb-db", parse_optional_remote, "",
           "Full IC NB remote (e.g. ssl:10.0.0.1:6645,ssl:10.0.0.2:6645); overrides "
           "ic-db-host and ic-nb-port."),
    Option("ic-sb-db", parse_optional_remote, "",
           "Full IC SB remote; overrides ic-db-host and ic-sb-port."),
    Option("ovn-nb-db", parse_remote, "unix:/var/run/ovn/ovnnb_db.sock",
           "This AZ's Northbound database."),
    Option("ovn-sb-db", parse_remote, "unix:/var/run/ovn/ovnsb_db.sock",
           "This AZ's Southbound database (the ovn_ic lock is taken here)."),
    Option("gw-nodes", parse_names, "",
           "Interconnection gateway chassis, by hostname or chassis name, comma-separated."),
    Option("auto-route", parse_optional_bool, "",
           "true: set ic-route-adv/learn; false: remove them; empty: leave them to the "
           "operator."),
    Option("ts-num", parse_positive_int, "1",
           "How many transit switches this AZ joins for ECMP: ts, ts1, ... ts<N-1>."),
    Option("cluster-router", parse_text, "ovn-cluster",
           "The logical router attached to the transit switches."),
    Option("link-ipv6", parse_bool, "false",
           "Also give transit-switch ports an IPv6 link address (fe80:a9fe:<hex(100+i)>::/112)."),
    Option("no-advertise", parse_cidrs, "",
           "CIDRs never advertised nor learned (Kube-OVN's disableInterConnection), "
           "comma-separated."),
    Option("conflict-policy", parse_choice("deny", "report"), "deny",
           "Another AZ's route overlapping a local network: deny (never learn it; with "
           "auto-route=true) or report (learn it, log and count it). Local networks stay "
           "advertised either way."),
    Option("conflict-scope", parse_choice("subnets", "subnets+static-routes"), "subnets",
           "What local networks are: router-port subnets, or also the prefixes of the "
           "routers' own static routes (a route within one conflicts)."),
    Option("ssl-private-key", parse_path, "", "Private key for ssl: remotes (all databases)."),
    Option("ssl-certificate", parse_path, "", "Certificate for ssl: remotes."),
    Option("ssl-ca-cert", parse_path, "", "CA certificate for ssl: remotes."),
    Option("metrics-address", parse_listen_address, "127.0.0.1:9476",
           "Where /metrics, /healthz and /readyz are served (HOST:PORT; port 0 disables). "
           "One that cannot be listened on stops the start (exit 78) and refuses a reload."),
    Option("probe-interval-ms", parse_probe_interval, "",
           "Inactivity probe for tcp/ssl remotes in ms (0: off; empty: the OVS default, 5000)."),
    Option("unixctl", parse_path, "",
           "The ovn-appctl control socket (--unixctl overrides it); a relative path is taken "
           "in the OVN rundir ($OVN_RUNDIR, else /var/run/ovn). Empty: "
           "<rundir>/ovn-ic-controller.<pid>.ctl with <rundir>/ovn-ic-controller.pid, which "
           "'ovn-appctl -t ovn-ic-controller' finds. Read at start only."),
)

OPTIONS_BY_KEY = {option.key: option for option in OPTIONS}


def parse_ts_prefix(text: str) -> str:
    """A transit-switch name prefix: never ending in a digit, so ``<prefix><i>`` names of
    two different prefixes can never be the same."""
    prefix = text.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]*[A-Za-z_.-]", prefix):
        raise ValueError("a name of letters, digits, '-', '_' or '.' not ending in a digit")
    return prefix


# The keys of a [router NAME] section; an empty default means [controller]'s value.
ROUTER_OPTIONS: tuple[Option, ...] = (
    Option("ts-prefix", parse_ts_prefix, "",
           "Its transit switches are <ts-prefix>, <ts-prefix>1 ... <ts-prefix><N-1>; "
           "unique per router, not ending in a digit (the cluster router's is 'ts'). "
           "Empty: NAME-ts."),
    Option("ts-num", parse_positive_int, "1", "How many transit switches this router joins."),
    Option("gw-nodes", parse_names, "",
           "Its gateway chassis, as gw-nodes of [controller]. Empty: those of [controller]."),
    Option("no-advertise", parse_cidrs, "",
           "CIDRs added to this AZ's one ic-route-blacklist (NB_Global, so AZ-wide: no "
           "router advertises nor learns them)."),
)

ROUTER_OPTIONS_BY_KEY = {option.key: option for option in ROUTER_OPTIONS}


@dataclasses.dataclass(frozen=True)
class RouterConfig:
    """One automated router: the cluster router, or a [router NAME] section."""

    name: str
    ts_prefix: str
    ts_num: int
    gw_nodes: tuple[str, ...]
    no_advertise: tuple[str, ...]

    def switch_names(self) -> list[str]:
        return [self.ts_prefix] + [f"{self.ts_prefix}{index}"
                                   for index in range(1, self.ts_num)]


@dataclasses.dataclass(frozen=True)
class Config:
    """The effective configuration; attribute names are the keys with '_' for '-'."""

    path: str
    enable_ic: bool
    az_name: str
    ic_db_host: tuple[str, ...]
    ic_nb_port: int
    ic_sb_port: int
    ic_db_scheme: str
    ic_nb_db: str
    ic_sb_db: str
    ovn_nb_db: str
    ovn_sb_db: str
    gw_nodes: tuple[str, ...]
    auto_route: bool | None
    ts_num: int
    cluster_router: str
    link_ipv6: bool
    no_advertise: tuple[str, ...]
    conflict_policy: str
    conflict_scope: str
    ssl_private_key: str
    ssl_certificate: str
    ssl_ca_cert: str
    metrics_address: tuple[str, int]
    probe_interval_ms: int | None
    unixctl: str
    routers: tuple[RouterConfig, ...] = ()  # the [router NAME] sections, by name

    @property
    def automated_routers(self) -> tuple[RouterConfig, ...]:
        """Every router the automation attaches: the cluster router, then the sections'."""
        cluster = RouterConfig(self.cluster_router, CLUSTER_TS_PREFIX, self.ts_num,
                               self.gw_nodes, self.no_advertise)
        return (cluster, *self.routers)

    @property
    def all_gw_nodes(self) -> tuple[str, ...]:
        """gw-nodes of every automated router, in order, each once."""
        return tuple(dict.fromkeys(entry for router in self.automated_routers
                                   for entry in router.gw_nodes))

    @property
    def ic_nb_remote(self) -> str:
        return self.ic_nb_db or cluster_remote(self.ic_db_scheme, self.ic_db_host,
                                               self.ic_nb_port)

    @property
    def ic_sb_remote(self) -> str:
        return self.ic_sb_db or cluster_remote(self.ic_db_scheme, self.ic_db_host,
                                               self.ic_sb_port)

    @property
    def remotes(self) -> dict[str, str]:
        return {NB: self.ovn_nb_db, SB: self.ovn_sb_db,
                IC_NB: self.ic_nb_remote, IC_SB: self.ic_sb_remote}

    @property
    def uses_ssl(self) -> bool:
        return any(part.startswith("ssl:")
                   for remote in self.remotes.values() for part in remote.split(","))

    def text(self, key: str) -> str:
        """The value of ``key`` as written in a file."""
        return _format_value(getattr(self, _attr(key)))

    def render(self) -> str:
        """The effective configuration as a controller.conf (what check-config prints)."""
        lines = [f"# effective configuration from {self.path}", f"[{SECTION}]"]
        for option in OPTIONS:
            lines.append(f"{option.key} = {self.text(option.key)}".rstrip())
        lines.append(f"# ic-nb-db in effect: {self.ic_nb_remote}")
        lines.append(f"# ic-sb-db in effect: {self.ic_sb_remote}")
        for router in self.routers:
            lines += ["", f"[{ROUTER_SECTION} {router.name}]"]
            lines += [f"{option.key} = {_format_value(getattr(router, _attr(option.key)))}"
                      .rstrip() for option in ROUTER_OPTIONS]
        return "\n".join(lines) + "\n"


def cluster_remote(scheme: str, hosts: tuple[str, ...], port: int) -> str:
    """Several IC hosts become one clustered remote, IPv6 addresses bracketed."""
    def endpoint(host: str) -> str:
        return f"[{host}]" if ":" in host else host
    return ",".join(f"{scheme}:{endpoint(host)}:{port}" for host in hosts)


def _attr(key: str) -> str:
    return key.replace("-", "_")


def _format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], int):
        host, port = value
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def load(path: str) -> Config:
    """Read and validate ``path``; raise ConfigError with a one-line explanation."""
    text = _read_text(path)
    parser = configparser.ConfigParser(interpolation=None, default_section="__none__")
    parser.optionxform = str  # keys are case-sensitive, as documented
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        message = printable(" ".join(str(exc).split()), INI_ERROR_LIMIT)
        raise ConfigError(f"{path}: not a valid INI file: {message}") from None
    extra = [name for name in parser.sections()
             if name != SECTION and _router_name(name) is None]
    if extra:
        raise ConfigError(f"{path}: unknown section [{printable(extra[0], QUOTE_LIMIT)}]; "
                          f"only [{SECTION}] and [{ROUTER_SECTION} NAME] are read")
    raw = dict(parser.items(SECTION)) if parser.has_section(SECTION) else {}
    sections: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        name = _router_name(section)
        if name is None:
            continue
        if name in sections:
            raise ConfigError(f"{path}: section [{printable(section, QUOTE_LIMIT)}]: router "
                              f"{quote(name)} has a section already")
        sections[name] = dict(parser.items(section))
    return from_mapping(raw, path, sections)


def _router_name(section: str) -> str | None:
    """NAME of a ``[router NAME]`` section, else None."""
    word, _, name = section.partition(" ")
    return (name.strip() or None) if word == ROUTER_SECTION else None


def _read_text(path: str) -> str:
    """The file as text, lines ending in \\n.  Only a regular file of UTF-8 text (a BOM
    allowed) without control characters but tab is read: whatever else it is, the error
    says so in one line, and neither a FIFO nor a device can block or flood a reload."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (refused below).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (pass --config PATH)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise ConfigError(f"{path}: cannot read: {kind}")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB: "
                          f"not a configuration file")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ConfigError(f"{path}: not UTF-8 text: it starts with a UTF-16 byte-order mark "
                          f"(save it as UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = len(data) - len(exc.object) + exc.start  # exc counts from after a BOM
        line = data.count(b"\n", 0, offset) + 1
        raise ConfigError(f"{path}: not UTF-8 text: byte 0x{data[offset]:02x} at offset "
                          f"{offset} (line {line}) (save it as UTF-8)") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = _CONTROL.search(text)
    if control:
        start = control.start()
        line = text.count("\n", 0, start) + 1
        column = start - text.rfind("\n", 0, start)
        raise ConfigError(f"{path}: line {line}, column {column}: control character "
                          f"{quote(control.group())}; only tab and newline may appear")
    return text


def from_mapping(raw: dict[str, str], path: str = "<config>",
                 sections: dict[str, dict[str, str]] | None = None) -> Config:
    """Validate key/value strings (as from the INI file) into a Config; ``sections`` are
    the [router NAME] sections, by NAME."""
    values: dict[str, Any] = {}
    for key in raw:
        if key not in OPTIONS_BY_KEY:
            # A long key is no typo; and difflib would take seconds over a huge one.
            close = difflib.get_close_matches(key, OPTIONS_BY_KEY, n=1) if len(key) < 64 else []
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{path}: unknown key {quote(key)} = {quote(raw[key])}: expected "
                              f"a key listed by 'ovn-ic-controller sample-config'{hint}")
    for option in OPTIONS:
        text = raw.get(option.key, option.default)
        try:
            values[_attr(option.key)] = option.parse(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: key '{option.key}' = {quote(text)}: "
                              f"expected {exc}") from None
    routers = tuple(_router_config(name, keys, values, path)
                    for name, keys in sorted((sections or {}).items()))
    config = Config(path=path, **values, routers=routers)
    _check_consistency(config)
    return config


def _router_config(name: str, raw: dict[str, str], controller: dict[str, Any],
                   path: str) -> RouterConfig:
    where = f"{path}: [{ROUTER_SECTION} {printable(name, QUOTE_LIMIT)}]"
    if name == controller["cluster_router"]:
        raise ConfigError(f"{where}: this is the cluster-router, configured in [{SECTION}]")
    for key in raw:
        if key in ("auto-route", "link-ipv6"):
            raise ConfigError(f"{where}: key {quote(key)} = {quote(raw[key])}: expected in "
                              f"[{SECTION}] only: it is AZ-wide (NB_Global options, or "
                              f"every transit switch's subnet)")
        if key not in ROUTER_OPTIONS_BY_KEY:
            raise ConfigError(f"{where}: unknown key {quote(key)} = {quote(raw[key])}: "
                              f"expected one of " + ", ".join(ROUTER_OPTIONS_BY_KEY))
    values: dict[str, Any] = {}
    for option in ROUTER_OPTIONS:
        text = raw.get(option.key, option.default)
        if option.key == "ts-prefix" and not text.strip():
            text = f"{name}-ts"
        try:
            values[_attr(option.key)] = option.parse(text)
        except ValueError as exc:
            raise ConfigError(f"{where}: key '{option.key}' = {quote(text)}: "
                              f"expected {exc}") from None
    values["gw_nodes"] = values["gw_nodes"] or controller["gw_nodes"]
    return RouterConfig(name=name, **values)


def _check_consistency(config: Config) -> None:
    path = config.path
    if config.enable_ic:
        for which in ("nb", "sb"):
            if not getattr(config, f"ic_{which}_db") and not config.ic_db_host:
                raise ConfigError(
                    f"{path}: key 'ic-db-host' = '': expected the IC database hosts "
                    f"(or set 'ic-{which}-db' to a full remote)")
    prefixes: dict[str, str] = {}
    for router in config.automated_routers:
        other = prefixes.setdefault(router.ts_prefix, router.name)
        if other != router.name:
            raise ConfigError(f"{path}: [{ROUTER_SECTION} {router.name}]: key 'ts-prefix' = "
                              f"{quote(router.ts_prefix)}: expected a prefix no other router "
                              f"uses (router {quote(other)} has it)")
    if config.uses_ssl or config.ic_db_scheme == "ssl":
        for key in ("ssl-private-key", "ssl-certificate", "ssl-ca-cert"):
            if not getattr(config, _attr(key)):
                raise ConfigError(f"{path}: key '{key}' = '': expected a file path, "
                                  f"because ssl: remotes are configured")


def sample() -> str:
    """A documented controller.conf generated from OPTIONS (etc/controller.conf)."""
    lines = ["# ovn-ic-controller configuration.",
             "# Generated from the option table: `ovn-ic-controller sample-config`.",
             f"[{SECTION}]"]
    for option in OPTIONS:
        lines.append("")
        lines.extend(f"# {line}" for line in textwrap.wrap(option.help, 78))
        lines.append(f"{option.key} = {option.default}".rstrip())
    lines += ["", "# More routers (VPCs) to interconnect: one section each, none by default.",
              "# Each has its own transit switches, so it reaches only the routers that",
              "# other AZs attach to the same switches (same ts-prefix). Keys:",
              f"# [{ROUTER_SECTION} NAME]"]
    for option in ROUTER_OPTIONS:
        lines.extend(f"#   {line}" for line in textwrap.wrap(option.help, 76))
        lines.append(f"# {option.key} = {option.default}".rstrip())
    return "\n".join(lines) + "\n"
