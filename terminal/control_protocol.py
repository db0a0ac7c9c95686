"""The control channel's wire format and the socket's place (DESIGN §3).

A Unix socket `control.sock` in the data dir, mode 0600, owned by the running terminal.
One request per connection, JSON lines: the client sends `{"verb": ..., "args": {...}}`; the
server answers with any number of `{"note": "..."}` lines and then one `{"result": {...}}` or
`{"error": "one line", "status": 1}`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SOCKET_NAME = "control.sock"
MAX_REQUEST = 64 * 1024  # bytes: an ID number and a few words; anything bigger is refused
REQUEST_TIMEOUT_S = 5.0  # the whole request line must arrive within this
MAX_CLIENTS = 4  # requests served at once; more are refused in one line
_SUN_PATH_MAX = 107


def socket_path(data_dir: Path) -> Path:
    """The control socket of the terminal owning `data_dir`."""
    return data_dir / SOCKET_NAME


def address(path: Path) -> tuple[str, int | None]:
    """An address `bind`/`connect` accept, and a directory fd to close after.

    A socket path longer than the 107 bytes Linux allows is reached through
    /proc/self/fd/N of its directory.
    """
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        return str(path), None
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    return f"/proc/self/fd/{fd}/{path.name}", fd


def line(obj: dict[str, Any]) -> bytes:
    """One JSON line (non-ASCII kept, dates and the like as strings)."""
    return json.dumps(obj, ensure_ascii=False, default=str).encode() + b"\n"
