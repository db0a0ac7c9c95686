"""`kiosk`: the one console script (DESIGN §10). Every verb takes --config FILE and --json.

Exit status 0 on success; otherwise non-zero with one clear line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from locker.errors import LockerIntegrityError
from terminal.cli_errors import expected_line, internal_error_line, one_line
from terminal.config import ConfigError, load_config
from terminal.log_setup import configure_logging

EXIT_FAIL = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A command failed in a way the user can act on; the message is the one line printed."""


class Parser(argparse.ArgumentParser):
    """Usage errors exit 2 with one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print one line and exit 2 (argparse prints the whole usage)."""
        self.exit(EXIT_USAGE, f"kiosk: {one_line(message)}\n")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="TOML configuration (default: embedded)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    from hardware.drivers import sim_cli
    from terminal import (
        cli_centre,
        cli_doctor,
        cli_locker,
        cli_monitor,
        cli_receipt,
        cli_support,
    )

    common = _common()
    parser = Parser(prog="kiosk", description="Self-service terminal and pickup locker")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=Parser)

    run = verbs.add_parser("run", parents=[common], help="run the terminal")
    run.set_defaults(handler=_run_terminal)

    sim = verbs.add_parser("sim", help="simulators").add_subparsers(dest="what", required=True,
                                                                     parser_class=Parser)
    board = sim.add_parser("board", help="lock-board simulator on a pty or tcp://HOST:PORT")
    sim_cli.add_arguments(board)
    board.add_argument("--config", metavar="FILE", help="TOML configuration (for [log])")
    board.set_defaults(handler=lambda args: sim_cli.run(args), raw=True)

    cli_locker.add_verbs(verbs, common)
    cli_receipt.add_verbs(verbs, common)
    cli_centre.add_verbs(verbs, common)
    cli_monitor.add_verbs(verbs, common)
    cli_support.add_verbs(verbs, common)
    cli_doctor.add_verbs(verbs, common)

    bench = verbs.add_parser("bench", parents=[common], help="run a benchmark from bench/")
    bench.add_argument("name", help="locker_latency, ...")
    bench.add_argument("options", nargs=argparse.REMAINDER,
                       help="passed on to the benchmark (e.g. --terminals 1000)")
    bench.set_defaults(handler=_bench, raw=True)
    return parser


def _run_terminal(args: argparse.Namespace) -> dict:
    from terminal.app_runner import run_terminal

    return run_terminal(load_config(args.config))


def _bench(args: argparse.Namespace) -> int:
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / f"{args.name}.py"
    if not path.is_file():
        raise CliError(f"no benchmark named {args.name!r} (looked for {path})")
    argv, sys.argv = sys.argv, [str(path), *args.options]
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = argv
    return 0


def emit(args: argparse.Namespace, result: object, human: Callable[[object], str]) -> None:
    """Print a result as JSON (--json) or as text for people."""
    if getattr(args, "json", False):
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        print(human(result))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        configure_logging(args)  # checks the config first for the verbs that log to files
        result = args.handler(args)
    except (CliError, ConfigError, LockerIntegrityError) as err:
        print(f"kiosk: {one_line(str(err))}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the last resort: one line, the traceback only in the log
        line = expected_line(err) or internal_error_line(err, getattr(args, "config", None))
        print(f"kiosk: {line}", file=sys.stderr)
        return EXIT_FAIL
    if getattr(args, "raw", False):
        return int(result or 0)
    if isinstance(result, int):
        return result
    return 0


if __name__ == "__main__":
    # Run the imported module, not this __main__ copy, so there is one CliError class.
    from terminal import cli

    sys.exit(cli.main())
