"""The ``ovn-ic-controller`` command line: parse, load the configuration, dispatch.

Exit codes: 0 success, 1 runtime error (e.g. a database unreachable in time),
2 usage error or refusal, 78 (EX_CONFIG) configuration error, including a
metrics-address that ``run`` cannot listen on.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import textwrap

from . import __version__, config, logs

EX_RUNTIME, EX_USAGE = 1, 2

LEAVE_HELP = (
    "Leave the interconnection now, without a daemon: everything reset removes, then this "
    "AZ's Route, Port_Binding and Gateway rows and its Availability_Zone row from the IC SB, "
    "in one transaction (what a running daemon does when enable-ic becomes false). The "
    "daemon, started again with enable-ic=true, rejoins.")
RESET_HELP = (
    "Remove this AZ's interconnection state from its local NB and SB: learned routes "
    "(ic-learned-route), the NB_Global route options the automation manages, the router "
    "ports, switch ports and Gateway_Chassis it created (marked in external_ids), every "
    "transit-switch mirror (other_config:interconn-ts) with its remote ports, and remote "
    "gateway chassis. Objects we did not create stay (a mirror holding one stays too, with "
    "it). Local state only: the IC databases are not touched (see leave and clean).")
CLEAN_HELP = (
    "Delete a dead AZ's Route, Port_Binding and Gateway rows and its Availability_Zone row "
    "from the IC SB that every AZ shares, in one transaction; the other AZs then withdraw "
    "what they learned from it. Needs --yes (or --dry-run). Refuses this AZ's own name "
    "while enable-ic=true. An AZ whose controller still runs registers again.")
SHOW_HELP = (
    "Show every AZ with its gateways (and encaps), transit-switch ports (with addresses) and "
    "advertised routes, this AZ's learned routes grouped by prefix (ECMP groups show "
    "several next hops), route conflicts, and whether a controller instance is active: the "
    "ovn_ic lock is requested for a moment to find out whether another instance holds it.")
DOCTOR_HELP = (
    "Check, in order, what keeps this AZ's interconnection from working and print each "
    "finding with its severity (error, warning, info), what is wrong and the command that "
    "fixes it: the four databases (reachable, schema name and version); who holds the "
    "ovn_ic lock on the local SB (nobody, the daemon of this configuration as its "
    "metrics-address says, or another instance: OVN's ovn-ic or another ovn-ic-controller); "
    "enable-ic, NB_Global and the AZ name; this AZ registered in the IC SB and its name not "
    "used by another deployment; gateways (gw-nodes entries, is-interconn, encaps the peers "
    "can use); transit switches in the IC NB and mirrored here; this AZ's transit-switch "
    "ports bound by ovn-northd, their gateway port claimed by a chassis, and published; "
    "every other AZ with a gateway and a port on each transit switch this AZ uses; route "
    "options, routes refused by reason, and conflicts. Reads only (the lock is requested "
    "for a moment, as show does). Exit codes: 0 healthy (information only), 1 findings, "
    "2 a database did not answer.")
LOCK_NOTE = (" Takes the ovn_ic lock on the local SB first and refuses (exit 2) while "
             "another instance, such as a running daemon, holds it; with --dry-run it only "
             "reads, so it prints the plan anyway and says who holds the lock.")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's, but never wrapping at a hyphen (it split /etc/ovn-ic/controller.conf)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ovn-ic-controller", formatter_class=_HelpFormatter,
        description="OVN interconnection controller: joins this availability zone's OVN "
                    "deployment to the IC Northbound/Southbound databases, interoperating "
                    "with OVN's ovn-ic.",
        epilog="Exit codes: 0 success, 1 runtime error (e.g. a database unreachable in "
               "time), 2 usage error or refusal, 78 configuration error (the file, or a "
               "metrics-address that cannot be listened on).")
    parser.add_argument("--config", default=config.DEFAULT_PATH, metavar="PATH",
                        help="configuration file (default: %(default)s)")
    parser.add_argument("--log-level", default=None, choices=logs.LEVELS,
                        help="least severe messages logged (default: info for run, "
                             "error for doctor, warning for the other commands, which log "
                             "to stderr)")
    parser.add_argument("--log-format", choices=("json", "console"), default=None,
                        help="json or console (default: console on a terminal, json otherwise)")
    parser.add_argument("--unixctl", metavar="PATH",
                        help="run: the ovn-appctl control socket (overrides the unixctl key)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the daemon in the foreground (the default)")
    commands.add_parser("check-config",
                        help="validate the configuration and print the effective settings")
    commands.add_parser("sample-config",
                        help="print a documented configuration file with every key")
    leave = _one_shot(commands, "leave", LEAVE_HELP + LOCK_NOTE,
                      "leave the interconnection: local state and this AZ's IC SB rows")
    _dry_run(leave)
    reset = _one_shot(commands, "reset", RESET_HELP + LOCK_NOTE,
                      "remove this AZ's local interconnection state (not the IC databases)")
    _dry_run(reset)
    clean = _one_shot(commands, "clean", CLEAN_HELP,
                      "delete a dead AZ's rows from the IC SB")
    clean.add_argument("--az", required=True, metavar="NAME", help="the AZ to remove")
    clean.add_argument("--yes", action="store_true",
                       help="really delete: the IC SB is shared by every AZ")
    _dry_run(clean)
    show = _one_shot(commands, "show", SHOW_HELP, "show AZs, gateways, ports, learned routes "
                                                  "and the active/standby state")
    show.add_argument("--format", choices=("text", "json"), default="text",
                      help="text for people, or json for programs, with the keys az, "
                           "enable_ic, ovn_ic_lock (held or free), availability_zones, "
                           "learned_routes and conflicts (default: %(default)s)")
    doctor = _one_shot(commands, "doctor", DOCTOR_HELP,
                       "check what keeps the interconnection from working, with fixes")
    doctor.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people, or json for programs, with the keys az, "
                             "config, status (healthy, findings or unreachable) and checks "
                             "(default: %(default)s)")
    return parser


def _one_shot(commands, name: str, description: str, summary: str) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=summary, description=description,
                                  formatter_class=_HelpFormatter)
    command.add_argument("--timeout", type=_seconds, default=10.0, metavar="SECONDS",
                         help="give up if a database does not answer within this time "
                              "(default: %(default)g)")
    return command


def _dry_run(command: argparse.ArgumentParser) -> None:
    command.add_argument("--dry-run", action="store_true",
                         help="print the changes without applying them")


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("a number of seconds greater than 0")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    if command == "sample-config":
        sys.stdout.write(config.sample())
        return 0

    def load() -> config.Config:
        settings = config.load(args.config)
        return dataclasses.replace(settings, unixctl=args.unixctl) if args.unixctl else settings
    try:
        settings = load()
    except config.ConfigError as exc:
        return _config_error(exc)
    if command == "check-config":
        sys.stdout.write(settings.render())
        return 0
    if command == "run":
        logs.setup(args.log_level or "info", args.log_format)
    else:
        # doctor runs the concerns, whose warnings its findings already say
        quiet = "error" if command == "doctor" else "warning"
        logs.setup(args.log_level or quiet, args.log_format, stream=sys.stderr)
    if command == "run":
        from .daemon import Daemon  # imported late: check-config needs no OVSDB machinery
        try:
            return Daemon(settings, reload_config=load).run()
        except config.ConfigError as exc:  # found at start: metrics-address or unixctl unusable
            return _config_error(exc)
    from .db import ovs_compat
    ovs_compat.install()  # ovs's JSON parsing and IDL inserts dominate large loads
    return _run_one_shot(command, args, settings)


def _config_error(exc: config.ConfigError) -> int:
    print(f"ovn-ic-controller: configuration error: {exc}", file=sys.stderr)
    return exc.exit_code


def _run_one_shot(command: str, args: argparse.Namespace, settings: config.Config) -> int:
    from . import commands, doctor, show
    from .db.oneshot import CommitFailed, Unreachable
    try:
        if command == "show":
            return show.show(settings, fmt=args.format, timeout=args.timeout)
        if command == "doctor":
            return doctor.doctor(settings, fmt=args.format, timeout=args.timeout)
        if command == "clean":
            return commands.clean(settings, args.az, yes=args.yes, dry_run=args.dry_run,
                                  timeout=args.timeout)
        run = commands.leave if command == "leave" else commands.reset
        return run(settings, dry_run=args.dry_run, timeout=args.timeout)
    except commands.Refused as exc:
        print(f"ovn-ic-controller {command}: refused: {exc}", file=sys.stderr)
        return EX_USAGE
    except (Unreachable, CommitFailed) as exc:
        print(f"ovn-ic-controller {command}: {exc}", file=sys.stderr)
        return EX_RUNTIME
