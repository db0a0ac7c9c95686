"""The verbs a technician may run on the live terminal: one registry for the CLI and the channel.

A verb is one function `action(call) -> dict` (JSON-ready). The CLI runs it on a locker it opens
itself; the running terminal's control channel (terminal.control_server) runs the same function
on its live locker. Registering a verb for both is one line: `@control_verb("locker open")`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class VerbCall:
    """What a verb gets: its parsed arguments, the open locker, and where progress notes go."""

    args: argparse.Namespace
    runtime: Any  # terminal.composition.LockerRuntime
    note: Callable[[str], None]  # a line for the person waiting (stderr of the CLI)


Action = Callable[[VerbCall], dict]
_VERBS: dict[str, Action] = {}


def control_verb(name: str) -> Callable[[Action], Action]:
    """Register `action` under `name` (e.g. "locker open") for the CLI and the control channel."""
    def register(action: Action) -> Action:
        _VERBS[name] = action
        return action
    return register


def find(name: str) -> Action | None:
    """The action registered as `name`, after loading every CLI module (which registers them)."""
    if name not in _VERBS:
        load_all()
    return _VERBS.get(name)


def load_all() -> None:
    """Import the whole command tree: each module registers its verbs where they are defined."""
    from terminal.cli import build_parser

    build_parser()


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def portable_args(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments that travel over the channel: plain values and lists of them.

    Not the handler, nor --config: the terminal uses its own.
    """
    return {k: list(v) if isinstance(v, list | tuple) else v for k, v in vars(args).items()
            if k not in ("handler", "config")
            and (_plain(v) or (isinstance(v, list | tuple) and all(map(_plain, v))))}
