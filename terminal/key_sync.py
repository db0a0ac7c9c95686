"""Fetch the platform's receipt keys at start: new kids are trusted, retired ones dropped.

The platform publishes its public keys (GET /v1/keys); the terminal keeps them in its JWKS
file (the offline copy, read at the next start even with no network) and hands them to the
controller. The local issuer's own key stays trusted where `receipts.local_issuer` is on.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from locker.receipt_keys import KeyFileError, load_public_keys, save_public_keys
from remote.platform_port import PlatformError, PlatformRejected
from terminal.config import Config

log = logging.getLogger(__name__)
LOCAL_PREFIX = "local-"


def sync_receipt_keys(cfg: Config, platform: Any, controller: Any) -> int | None:
    """Fetch, check, store and trust the platform's keys; how many, or None if not fetched."""
    try:
        jwks = platform.receipt_keys()
    except PlatformRejected:
        return None  # an adapter without a key service (local): the file stays as it is
    except PlatformError as err:
        log.warning("receipt keys not fetched (%s): the stored copy is used", err)
        return None
    with tempfile.TemporaryDirectory() as tmp:  # the file checks are the one parser of JWKS
        fetched = Path(tmp) / "jwks.json"
        fetched.write_text(json.dumps(jwks), encoding="utf-8")
        try:
            keys = load_public_keys(fetched)
        except KeyFileError as err:
            log.error("the platform's receipt keys are unusable: %s", err)
            return None
    path = cfg.receipt_public_keys_path
    if cfg.receipts.local_issuer and path.exists():
        try:  # the stand-in issuer's key (kid local-...) stays trusted beside the platform's
            keys.update({k: v for k, v in load_public_keys(path).items()
                         if k.startswith(LOCAL_PREFIX) or k == cfg.receipts.kid})
        except KeyFileError as err:
            log.warning("the stored receipt keys are unreadable and are replaced: %s", err)
    save_public_keys(keys, path)
    controller.set_receipt_keys(keys)
    log.info("receipt keys from the platform: %s", ", ".join(sorted(keys)))
    return len(keys)
