"""Make a written file, or a folder's new or renamed entries, durable before going on.

`os.replace` of a freshly written file is atomic but not durable until the folder holding it is
synced too; the audit anchor, the backups and the hash key all need both.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Fsync a file or a folder by path (for a folder: its entries, e.g. after os.replace)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
