"""The composition root's half for the platform port: `local` (the default) or `http`.

Opened apart from the locker, so guides and progress queries work while the locker is down.
The local adapter keeps only keyed hashes of identities (the installation's hash key).
"""

from __future__ import annotations

import os
from typing import Any

from locker.identity_hash import IdentityHasher
from remote.platform_port import Platform
from terminal.config import Config


def open_platform(cfg: Config) -> Platform:
    """The configured platform adapter, ready to call."""
    section: Any = getattr(cfg, "platform", None)
    adapter = getattr(section, "adapter", "local")
    if adapter == "http":
        from remote.platform_http import HttpPlatform

        token = os.environ.get(getattr(section, "token_env", "KIOSK_PLATFORM_TOKEN"), "") or \
            getattr(section, "token", "")
        return HttpPlatform(section.base_url, token,
                            connect_timeout=section.connect_timeout_s,
                            read_timeout=section.read_timeout_s, retries=section.retries,
                            backoff=section.backoff_s, verify=section.ca_file or True)
    from remote.platform_local import LocalPlatform

    hasher = IdentityHasher(cfg.hash_key())
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return LocalPlatform(cfg.data_dir / "platform.db", hasher.id_number)
