"""The running terminal's local control channel: `kiosk locker ...` carried out on the live locker.

Only the process that owns the data dir serves it (terminal.owner_lock). Every connection is
checked (SO_PEERCRED: the terminal's own uid or root), bounded (request size and time, a few
at once), audited with the caller's uid, and runs its verb on its own thread, never on Kivy's:
the verbs block (a door is followed until it closes with --wait-close).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import stat
import struct
import threading
import time
from pathlib import Path
from typing import Any

from terminal import control_verbs
from terminal.cli import CliError
from terminal.control_protocol import (
    MAX_CLIENTS,
    MAX_REQUEST,
    REQUEST_TIMEOUT_S,
    address,
    line,
    socket_path,
)

log = logging.getLogger(__name__)


class ChannelRefused(Exception):
    """The channel cannot be served safely (the data dir's permissions); the one line why."""


def check_dir(data_dir: Path) -> None:
    """The data dir must be ours (or root's) and writable by nobody else: no planted socket."""
    st = data_dir.stat()
    if st.st_uid not in (os.geteuid(), 0):
        raise ChannelRefused(f"{data_dir} belongs to uid {st.st_uid}, not to this process")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ChannelRefused(f"{data_dir} is writable by group or others "
                             f"(mode {stat.S_IMODE(st.st_mode):04o})")


def peer(conn: socket.socket) -> tuple[int, int]:
    """The caller's (pid, uid) as the kernel saw them at connect."""
    pid, uid, _gid = struct.unpack("3i", conn.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return pid, uid


class ControlServer:
    """Serves `control.sock` in the data dir for a started locker runtime until `close()`."""

    def __init__(self, runtime: Any, owner_uid: int | None = None) -> None:
        self.runtime = runtime
        self.path = socket_path(runtime.config.data_dir)
        self._uid = os.geteuid() if owner_uid is None else owner_uid
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="control-channel", daemon=True)

    def start(self) -> ControlServer:
        """Bind (a stale socket from a killed owner is replaced), 0600, listen, accept."""
        check_dir(self.path.parent)
        self.path.unlink(missing_ok=True)  # we own the data dir: whatever is there is stale
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr, dir_fd = address(self.path)
        try:
            sock.bind(addr)
            os.chmod(self.path, 0o600)  # before listen(): nobody connects in between
            sock.listen(8)
        except OSError:
            sock.close()
            raise
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        sock.settimeout(0.5)  # lets close() end the accept loop
        self._sock = sock
        self._thread.start()
        log.info("control channel on %s", self.path)
        return self

    def close(self) -> None:
        """Stop accepting and remove the socket (requests under way finish on their threads)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if not self._stop.is_set():
                    log.exception("control channel: accept failed")
                return
            if not self._slots.acquire(blocking=False):
                self._answer(conn, {"error": "the terminal is busy with other requests; "
                                             "try again", "status": 1})
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), name="control-request",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                self._handle(conn)
        except Exception:  # one bad request never stops the channel or the terminal
            log.exception("control channel: request failed")
        finally:
            self._slots.release()

    def _handle(self, conn: socket.socket) -> None:
        pid, uid = peer(conn)
        controller = self.runtime.controller
        if uid not in (self._uid, 0):
            controller.record_audit(f"uid:{uid}", "control.denied", None, pid=pid)
            log.warning("control channel: uid %d (pid %d) refused", uid, pid)
            self._answer(conn, {"error": f"uid {uid} may not use this terminal's control channel",
                                "status": 1})
            return
        try:
            request = self._read_request(conn)
            name = str(request["verb"])
            args = request.get("args") or {}
            if not isinstance(args, dict):
                raise ValueError("args must be an object")
        except (ValueError, KeyError, TypeError, OSError) as err:
            self._answer(conn, {"error": f"bad request: {err}", "status": 2})
            return
        action = control_verbs.find(name)
        if action is None:
            self._answer(conn, {"error": f"the running terminal has no verb {name!r}",
                                "status": 2})
            return
        compartment = args.get("compartment")
        controller.record_audit(f"uid:{uid}", "control.request",
                                compartment if isinstance(compartment, str) else None,
                                verb=name, pid=pid)
        log.info("control channel: %s for uid %d (pid %d)", name, uid, pid)
        call = control_verbs.VerbCall(argparse.Namespace(**args), self.runtime,
                                      note=lambda text: self._answer(conn, {"note": text}))
        conn.settimeout(None)
        try:
            result = action(call)
        except CliError as err:
            self._answer(conn, {"error": str(err), "status": 1})
            return
        except Exception as err:
            log.exception("control channel: %s failed", name)
            self._answer(conn, {"error": f"{name} failed in the terminal: "
                                         f"{type(err).__name__}: {err}", "status": 1})
            return
        self._answer(conn, {"result": result})

    @staticmethod
    def _read_request(conn: socket.socket) -> dict:
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        data = b""
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ValueError(f"no complete request within {REQUEST_TIMEOUT_S:.0f} s")
            conn.settimeout(remaining)
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                raise ValueError("the request ended early")
            data += chunk
            if len(data) > MAX_REQUEST:
                raise ValueError(f"request longer than {MAX_REQUEST} bytes")
        body = json.loads(data.split(b"\n", 1)[0])
        if not isinstance(body, dict):
            raise ValueError("a request is a JSON object")
        return body

    @staticmethod
    def _answer(conn: socket.socket, obj: dict) -> None:
        try:
            conn.sendall(line(obj))
        except OSError:  # the caller went away (Ctrl-C): the verb still completes here
            log.info("control channel: the caller left before the answer")
