"""The persisted MQTT session counter (like Sparkplug's bdSeq).

Incremented at every connection so the monitor can tell a new connection (and a gap in `seq`)
from a lost message. Stored as a tiny JSON file, replaced atomically.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class SessionCounter:
    """A counter in `{data_dir}/mqtt_session.json` that survives restarts and crashes."""

    FILENAME = "mqtt_session.json"

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / self.FILENAME
        self._lock = threading.Lock()

    @property
    def current(self) -> int:
        """The last session handed out (0 before the first connection)."""
        with self._lock:
            return self._read()

    def next(self) -> int:
        """Increment, persist (fsync + rename) and return the new session number."""
        with self._lock:
            value = self._read() + 1
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"session": value}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            return value

    def _read(self) -> int:
        try:
            value = json.loads(self.path.read_text(encoding="utf-8"))["session"]
        except FileNotFoundError:
            return 0
        except (ValueError, KeyError, TypeError):
            return 0  # a corrupt file restarts the count; the monitor sees a new session
        return value if isinstance(value, int) and value >= 0 else 0
