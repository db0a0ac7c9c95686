"""Send one verb to the running terminal's control channel and give back its answer.

The socket is checked before anything is sent (an ID number may travel): it must be a socket
in a data dir nobody else can write, owned by us (or, for root, by the data dir's owner), and
closed to group and others.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from terminal.control_protocol import address, line, socket_path

ANSWER_MARGIN_S = 120.0  # beyond --wait-close: the door's own confirmation and reconciliation


class ChannelError(Exception):
    """The channel cannot be used or the verb failed there; the one line and the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def check_socket(path: Path) -> None:
    """Refuse a socket someone else could have put there or could listen on."""
    me = os.geteuid()
    try:
        dir_st = path.parent.stat()
        st = path.lstat()
    except FileNotFoundError:
        raise ChannelError(f"no control socket at {path}") from None
    if not stat.S_ISSOCK(st.st_mode):
        raise ChannelError(f"{path} is not a socket; refused")
    foreign_dir = dir_st.st_uid not in (me, 0) and me != 0
    if dir_st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or foreign_dir:
        raise ChannelError(f"{path.parent} is writable by others or not ours "
                           f"(uid {dir_st.st_uid}, mode {stat.S_IMODE(dir_st.st_mode):04o}); "
                           "the control socket is refused")
    trusted = {me, dir_st.st_uid} if me == 0 else {me}
    if st.st_uid not in trusted:
        raise ChannelError(f"{path} belongs to uid {st.st_uid}, not to the terminal's user; "
                           "refused")
    if st.st_mode & 0o077:
        raise ChannelError(f"{path} is open to group or others "
                           f"(mode {stat.S_IMODE(st.st_mode):04o}, must be 0600); refused")


def request(data_dir: Path, verb: str, args: dict[str, Any], timeout: float,
            note: Callable[[str], None] | None = None) -> dict:
    """Run `verb` in the terminal owning `data_dir`; its result, or ChannelError.

    `note` gets the progress lines (default: standard error, as the CLI prints them).
    """
    note = note or (lambda text: print(text, file=sys.stderr))
    path = socket_path(data_dir)
    check_socket(path)
    addr, dir_fd = address(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(10)
        try:
            sock.connect(addr)
        except OSError as err:
            raise ChannelError(f"the terminal's control channel {path} does not answer: "
                               f"{err.strerror or err}") from None
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        sock.sendall(line({"verb": verb, "args": args}))
        sock.settimeout(timeout)
        with sock.makefile("rb") as answers:
            for raw in answers:
                answer = json.loads(raw)
                if "note" in answer:
                    note(str(answer["note"]))
                elif "result" in answer:
                    return answer["result"]
                else:
                    raise ChannelError(str(answer.get("error", "no answer")),
                                       int(answer.get("status", 1)))
    except TimeoutError:
        raise ChannelError(f"the terminal did not answer {verb} within {timeout:.0f} s") from None
    except (OSError, ValueError) as err:
        raise ChannelError(f"the terminal's control channel failed: {err}") from None
    finally:
        sock.close()
    raise ChannelError("the terminal closed the control channel without an answer")
