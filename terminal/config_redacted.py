"""The effective configuration as plain data with every secret removed, for a support bundle.

Values of keys named like a password, token, secret or key material are replaced by a mark
that only says whether one is set. Key *files* are named by path, never read; secrets given
through the environment are never looked up.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from terminal.config import Config

REMOVED = "[removed]"
# password, token, secret, passphrase, credential, private..., or a name ending in `key`
_SECRET_NAME = re.compile(r"passw|token|secret|passphrase|credential|private|(^|_)key$", re.I)
# names that hold where a secret is (an environment variable's name, a file path), not the secret
_POINTER_NAME = re.compile(r"(_env|_file|_dir|_path)$")


def is_secret_name(name: str) -> bool:
    """True for a key whose value is secret material (`password`, `token`, `mqtt_key`, ...)."""
    return bool(_SECRET_NAME.search(name)) and not _POINTER_NAME.search(name)


def _scrub(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, name) for v in value]
    if name and is_secret_name(name) and not isinstance(value, bool):
        return REMOVED if value else ""
    return value


def redacted_config(cfg: Config) -> dict[str, Any]:
    """Every section and key of `cfg` with secrets replaced by `[removed]` (empty stays empty)."""
    return _scrub(asdict(cfg))
