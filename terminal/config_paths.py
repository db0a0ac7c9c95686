"""Path settings that contradict the disk: a folder setting naming a file, a file naming a folder.

Checked with the rest of the file, so `data_dir = "/etc/hostname"` is refused in one line
instead of failing deep inside `mkdir` or SQLite. Paths that do not exist yet are fine
(they are created on first use), as long as nothing on the way there is a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from terminal.config_sections import ConfigError

if TYPE_CHECKING:
    from terminal.config import Config


def check_folders(cfg: Config) -> None:
    """Refuse folder settings that are files and file settings that are folders."""
    folders = {"terminal.data_dir": cfg.terminal.data_dir, "log.dir": cfg.log.dir,
               "monitor.data_dir": cfg.monitor.data_dir}
    for key, value in folders.items():
        if value.strip():
            _folder(key, Path(value).expanduser())
    files = {"security.hash_key_file": cfg.security.hash_key_file,
             "receipts.public_keys_file": cfg.receipts.public_keys_file,
             "receipts.signing_key_file": cfg.receipts.signing_key_file,
             "mqtt.command_keys_file": cfg.mqtt.command_keys_file}
    for key, value in files.items():
        if value.strip():
            path = Path(value).expanduser()
            if path.is_dir():
                raise ConfigError(f"{key}: {value} is a folder, not a file")
            _folder(key, path.parent)


def _folder(key: str, path: Path) -> None:
    """The nearest existing part of `path` must be a folder."""
    for part in (path, *path.parents):
        try:
            if not part.exists():
                continue
        except OSError as err:  # e.g. a name too long for the file system
            raise ConfigError(f"{key}: {path}: {err.strerror}") from None
        if not part.is_dir():
            raise ConfigError(f"{key}: {part} is a file, not a folder")
        return
