"""A terminal life seen from the parent: the child process, its command line and its prompts.

`Life.run(cmd, ...)` sends one command and plays the person and the hardware for every
prompt the child prints until the command is done: the receipt or badge on the scanner, the
card on the reader, the item put in or taken out and the door pushed shut on the board
simulator. `on_door` replaces the default door handling (leave it open, kill the app...).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.centre_server import TOKEN

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCAN_DEBOUNCE_S = 1.6  # the scanner driver passes the same code again only after 1.5 s


class LifeEnded(AssertionError):
    """The child stopped talking (crashed, timed out, or was killed)."""


class Life:
    """One child process running the real app on the night's data directory."""

    def __init__(self, config: Path, log: Path, enrol: bool = False, days_later: int = 0
                 ) -> None:
        env = {**os.environ, "KIOSK_PLATFORM_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        self.log = log
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(HERE / "night_terminal.py"), str(config)]
                + (["--enrol"] if enrol else []) + ["--days-later", str(days_later)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        self.lines: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.expect(90)
        assert self.ready.get("at") == "ready", self.ready

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("NIGHT "):
                self.lines.put(json.loads(line[6:]))
        self.lines.put(None)

    def expect(self, timeout: float = 60.0) -> dict:
        """The child's next line; LifeEnded with the end of its log when there is none."""
        try:
            msg = self.lines.get(timeout=timeout)
        except queue.Empty:
            msg = None
        if msg is None or "failed" in msg:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise LifeEnded(f"the terminal stopped: {msg}\n{tail}")
        return msg

    def send(self, **cmd: Any) -> None:
        """One command on the child's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no Will but the broker's."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._close_pipes()

    def quit(self) -> None:
        """A clean end of the life (the window closes, the locker shuts down)."""
        self.send(do="quit")
        assert self.expect().get("done") == "quit"
        assert self.proc.wait(30) == 0, self.log.read_text(errors="replace")[-3000:]
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class Hands:
    """The people and the doors: what answers the child's prompts."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._scanned: dict[str, float] = {}

    def scan(self, code: str) -> None:
        """Present a code; the same code again waits out the scanner's debounce window."""
        wait = SCAN_DEBOUNCE_S - (time.monotonic() - self._scanned.get(code, -1e9))
        if wait > 0:
            time.sleep(wait)  # a physical limit of the scanner, not a wait for an event
        self.world.scanner.present(code)
        self._scanned[code] = time.monotonic()

    def run(self, life: Life, cmd: dict, *, code: str = "", card: Any = None,
            on_door: Callable[[dict], str | None] | None = None, timeout: float = 60.0
            ) -> dict:
        """Send `cmd`, answer its prompts, return its `done` line (or `{"killed": ...}`)."""
        life.send(**cmd)
        while True:
            msg = life.expect(timeout)
            if "done" in msg:
                return msg
            at = msg["at"]
            if at == "scan":
                self.scan(code)
            elif at == "card":
                self.world.reader.present(card)
            elif at == "refused":
                self.world.reader.remove()
            elif at == "door-open":
                self.world.reader.remove()
                if on_door is not None and on_door(msg) == "killed":
                    return {"killed": msg}
                if on_door is None:
                    self.default_door(cmd["do"], msg)

    def default_door(self, what: str, door: dict) -> None:
        """A deposit puts the item in; a pickup or retrieval takes it; then the door shuts."""
        unit, channel = door["unit"], door["channel"]
        if what == "deposit":
            self.world.control.put(unit, channel)
        else:
            self.world.control.take(unit, channel)
        self.world.control.close(unit, channel)
