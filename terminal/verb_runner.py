"""Where a bus verb runs: on a locker this process opens, or in the terminal that owns it.

`run_verb` first tries to own the data dir (open_locker takes the OS lock). When the running
terminal (`kiosk run`) owns it, the verb goes through its control channel and the answer comes
back as if run here; when another one-shot verb owns it, or the bus is another data dir's, the
CLI refuses in one line. Verbs that must never run beside the terminal (a restore) take the
lock with `own_data_dir` and refuse in one line naming the pid.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from terminal import control_client, control_verbs
from terminal.cli import CliError
from terminal.config import Config, load_config
from terminal.control_protocol import socket_path
from terminal.owner_lock import ROLE_TERMINAL, OwnedElsewhere, OwnerLock, data_dir_lock


def run_verb(args: argparse.Namespace, name: str) -> dict:
    """Run the registered verb `name` with `args` here or in the running terminal; its result."""
    from hardware.lock_board import LockBoardError
    from terminal.composition import open_locker

    action = control_verbs.find(name)
    assert action is not None, f"verb {name!r} is not registered"
    cfg = load_config(args.config)
    try:
        runtime = open_locker(cfg, role=f"kiosk {name}", connect_mqtt=False)
    except LockBoardError as err:  # e.g. the bus worker never got ready: one line, no traceback
        raise CliError(f"the locker could not start: {err}") from None
    except OwnedElsewhere as err:
        if err.what != data_dir_lock(cfg.data_dir, "").what:
            raise CliError(f"{err}, for another data dir: one master per bus") from None
        if err.owner.role != ROLE_TERMINAL:
            raise CliError(f"{err}; try again when it has finished") from None
        if not socket_path(cfg.data_dir).exists():
            raise CliError(f"{err}, which has no control channel open (still starting?); "
                           "try again shortly") from None
        return _through_terminal(cfg, args, name)
    try:
        return action(control_verbs.VerbCall(args, runtime, _note))
    finally:
        runtime.close()


def run_here(args: argparse.Namespace, action: control_verbs.Action, role: str,
             **open_options: Any) -> dict:
    """Run `action` on a locker this process opens; one line naming the owner if it cannot.

    For verbs not (yet) registered for the control channel, and for those that must never run
    beside the terminal (a restore): they refuse while the terminal runs instead of becoming a
    second bus master. `open_options` go to `open_locker` (e.g. `restore_from`).
    """
    from hardware.lock_board import LockBoardError
    from terminal.composition import open_locker

    cfg = load_config(args.config)
    try:
        runtime = open_locker(cfg, role=role, connect_mqtt=False, **open_options)
    except LockBoardError as err:
        raise CliError(f"the locker could not start: {err}") from None
    except OwnedElsewhere as err:
        hint = "stop the terminal first" if err.owner.role == ROLE_TERMINAL \
            else "try again when it has finished"
        raise CliError(f"{role} cannot run now: {err}; {hint}") from None
    try:
        return action(control_verbs.VerbCall(args, runtime, _note))
    finally:
        runtime.close()


def _note(text: str) -> None:
    print(text, file=sys.stderr)


def _through_terminal(cfg: Config, args: argparse.Namespace, name: str) -> dict:
    timeout = float(getattr(args, "wait_close", 0) or 0) + control_client.ANSWER_MARGIN_S
    try:
        return control_client.request(cfg.data_dir, name, control_verbs.portable_args(args),
                                      timeout, _note)
    except control_client.ChannelError as err:
        raise CliError(str(err)) from None


def own_data_dir(cfg: Config, role: str) -> OwnerLock:
    """The data dir's lock for a verb that must run alone; CliError naming the owner if taken.

    The caller releases it (`lock.release()`) when done.
    """
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        return data_dir_lock(cfg.data_dir, role).acquire()
    except OwnedElsewhere as err:
        hint = "stop the terminal first" if err.owner.role == ROLE_TERMINAL \
            else "try again when it has finished"
        raise CliError(f"{role} cannot run now: {err}; {hint}") from None
