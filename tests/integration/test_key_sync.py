"""The terminal fetches the centre's receipt keys at start and trusts them (and their rotation)."""

from __future__ import annotations

from locker.receipt_keys import load_public_keys
from locker.receipt_token import ReceiptKind
from terminal.composition import open_locker
from terminal.config import load_config
from tests.integration.centre_server import centre  # noqa: F401 - the fixture

CASE = "SJ20261109000061"


def _config(tmp_path, centre):  # noqa: F811
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\ndata_dir = "{tmp_path / "var"}"\n'
                    f'[platform]\nadapter = "http"\nbase_url = "{centre.url}"\n'
                    f'token = "{centre.token}"\nretries = 0\n', encoding="utf-8")
    return load_config(path)


def test_keys_fetched_at_start_verify_the_centres_receipts_across_a_rotation(tmp_path,
                                                                             centre):  # noqa: F811
    cfg = _config(tmp_path, centre)
    old = centre.keys.issue(CASE, ReceiptKind.ACCEPTANCE_NOTICE)
    runtime = open_locker(cfg)
    try:
        assert runtime.controller.check_receipt(old).case_no == CASE
        stored = load_public_keys(cfg.receipt_public_keys_path)
        assert centre.keys.current_kid() in stored
    finally:
        runtime.close()
    centre.keys.rotate()
    new = centre.keys.issue(CASE, ReceiptKind.MATERIALS_RECEIPT)
    runtime = open_locker(cfg)  # the next start learns the new key and keeps the old one
    try:
        assert runtime.controller.check_receipt(new).case_no == CASE
        assert runtime.controller.check_receipt(old).case_no == CASE
    finally:
        runtime.close()


def test_with_the_centre_down_the_stored_keys_are_used(tmp_path, centre):  # noqa: F811
    cfg = _config(tmp_path, centre)
    token = centre.keys.issue(CASE, ReceiptKind.ACCEPTANCE_NOTICE)
    open_locker(cfg).close()  # first start: keys fetched and stored
    centre.down = True
    runtime = open_locker(cfg)
    try:
        assert runtime.controller.check_receipt(token).case_no == CASE
    finally:
        runtime.close()
