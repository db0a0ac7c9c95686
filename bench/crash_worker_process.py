"""The crash campaign's handle on one worker subprocess (`python -m bench.crash_rig worker`):
its stdout lines on a queue, read with a deadline; SIGKILL and reap."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import ROOT

_EOF = ""


class WorkerProcess:
    """A worker subprocess whose stdout lines arrive on a queue (read with a deadline)."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        self.started = time.perf_counter()
        with stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bench.crash_rig", "worker", *args],
                stdout=subprocess.PIPE, stderr=err, cwd=ROOT, text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(_EOF)

    def readline(self, timeout: float) -> str | None:
        """The next line; `_EOF` if the worker has exited; None if `timeout` passed first."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def survives(self, seconds: float) -> bool:
        """Wait up to `seconds` for the worker to exit on its own; True if it is still alive."""
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return True
        return False

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._reader.join(10)  # the pipe reaches EOF once the worker is gone
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()

