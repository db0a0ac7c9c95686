"""The composition root's half for the platform port: `local` (the default) or `http`.

Opened apart from the locker, so guides and progress queries work while the locker is down.
The local adapter keeps only keyed hashes of identities (the installation's hash key). The
http adapter is wrapped in the offline cache (`remote.platform_cache`, `platform_cache.db` in
the data directory), so guides and a case's last known progress survive an extranet outage;
the local one needs no cache.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
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
        from remote.platform_cache import CachingPlatform

        http = HttpPlatform(section.base_url, token,
                            connect_timeout=section.connect_timeout_s,
                            read_timeout=section.read_timeout_s, retries=section.retries,
                            backoff=section.backoff_s, verify=section.ca_file or True)
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        return CachingPlatform(http, cfg.data_dir / "platform_cache.db", _utc_now,
                               hasher=IdentityHasher(cfg.hash_key()).id_number)
    from remote.platform_local import LocalPlatform

    hasher = IdentityHasher(cfg.hash_key())
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return LocalPlatform(cfg.data_dir / "platform.db", hasher.id_number)


def _utc_now() -> datetime:
    return datetime.now(UTC)
