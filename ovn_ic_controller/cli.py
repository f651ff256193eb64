"""The ``ovn-ic-controller`` command line: parse, load the configuration, dispatch.

Exit codes: 0 success, 78 (EX_CONFIG) configuration error, 1 anything else.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, config, logs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ovn-ic-controller",
        description="OVN interconnection controller: joins this availability zone's OVN "
                    "deployment to the IC Northbound/Southbound databases, interoperating "
                    "with OVN's ovn-ic.")
    parser.add_argument("--config", default=config.DEFAULT_PATH, metavar="PATH",
                        help="configuration file (default: %(default)s)")
    parser.add_argument("--log-level", default="info", choices=logs.LEVELS,
                        help="least severe messages logged (default: %(default)s)")
    parser.add_argument("--log-format", choices=("json", "console"), default=None,
                        help="json or console (default: console on a terminal, json otherwise)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the daemon in the foreground (the default)")
    commands.add_parser("check-config",
                        help="validate the configuration and print the effective settings")
    commands.add_parser("sample-config",
                        help="print a documented configuration file with every key")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    if command == "sample-config":
        sys.stdout.write(config.sample())
        return 0
    try:
        settings = config.load(args.config)
    except config.ConfigError as exc:
        print(f"ovn-ic-controller: configuration error: {exc}", file=sys.stderr)
        return exc.exit_code
    if command == "check-config":
        sys.stdout.write(settings.render())
        return 0
    logs.setup(args.log_level, args.log_format)
    from .daemon import Daemon  # imported late: check-config needs no OVSDB machinery
    return Daemon(settings, reload_config=lambda: config.load(args.config)).run()
