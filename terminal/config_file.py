"""Reading a TOML configuration file safely: bounded, decoded strictly, parsed without a crash.

A hostile or broken file (a device such as /dev/zero, a huge or binary file, bad UTF-8,
thousands of nested brackets) is refused with the file and the reason as a ConfigError,
before any of it is parsed into memory it cannot fit in.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from terminal.config_sections import ConfigError

MAX_CONFIG_BYTES = 1 << 20  # a real file is a few kB; the commented example is ~20 kB


def read_toml(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """The TOML table in the regular file `path`; ConfigError names the file and the reason."""
    raw = _read_bounded(Path(path), limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (bad byte at offset {err.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {_first_line(err)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    except ValueError as err:  # e.g. an integer longer than Python converts (4300 digits)
        raise ConfigError(f"{path}: not valid TOML: {_first_line(err)}") from None


def _read_bounded(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file; anything else (device, pipe, folder) refused."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{path}: cannot read: Is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file (a device, pipe or socket)")
        if info.st_size > limit:
            raise ConfigError(f"{path}: too large for a configuration file "
                              f"({info.st_size} bytes, at most {limit})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise ConfigError(f"{path}: too large for a configuration file (at most {limit} bytes)")
    return b"".join(chunks)


def _first_line(err: Exception) -> str:
    """An exception's message on one line (the CLI prints exactly one)."""
    return " ".join(str(err).split()) or err.__class__.__name__
