"""Config sections [pickup], [receipts], [staff] and their wiring into the locker."""

from __future__ import annotations

import stat

import pytest

from locker.pickup_policy import PickupMethod
from locker.receipt_keys import KeyFileError, load_public_keys
from locker.receipt_token import ReceiptKind, ReceiptVerifier
from terminal import identity_setup
from terminal.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n{text}', encoding="utf-8")
    return path


def test_defaults():
    cfg = load_config()
    policy = identity_setup.pickup_policy(cfg)
    both = {PickupMethod.RECEIPT_AND_CARD, PickupMethod.CODE_AND_CARD}  # both need the card
    assert policy.methods == both
    assert policy.allow_proxy
    assert (policy.limits.per_code, policy.limits.code_lock_s) == (5, 900)
    assert (policy.limits.per_terminal, policy.limits.terminal_window_s,
            policy.limits.terminal_max_delay_s) == (10, 600, 60)
    staff = identity_setup.staff_settings(cfg)
    assert (staff.max_failures, staff.lockout_s) == (5, 900)


def test_sections_from_toml(tmp_path):
    cfg = load_config(write(tmp_path, '[pickup]\nmethods = ["code_and_card", "receipt_and_card"]\n'
                                      "allow_proxy = false\ncode_lock_s = 60\n"
                                      "[staff]\nlockout_s = 120\n[receipts]\nvalid_days = 0\n"))
    policy = identity_setup.pickup_policy(cfg)
    assert policy.methods == set(PickupMethod)
    assert not policy.allow_proxy
    assert policy.limits.code_lock_s == 60
    assert identity_setup.staff_settings(cfg).lockout_s == 120
    assert cfg.receipts.valid_days == 0
    assert cfg.source == str(tmp_path / "kiosk.toml")


@pytest.mark.parametrize(("text", "key"), [
    ('[pickup]\nmethods = ["face"]\n', "pickup.methods[0]"),
    ("[pickup]\nmethods = []\n", "pickup.methods"),
    ("[pickup]\nlimit = 3\n", "pickup.limit"),
    ("[pickup]\ncode_lock_s = 0\n", "pickup.code_lock_s"),
    ("[pickup]\ncard_max_failures = 0\n", "pickup.card_max_failures"),
    ("[pickup]\nterminal_delay_s = 90\n", "pickup.terminal_max_delay_s"),
    ("[pickup]\nterminal_lock_s = 300\n", "pickup.terminal_lock_s: unknown key"),
    ("[staff]\nmin_pin_digits = 4\n", "staff.min_pin_digits"),
    ("[receipts]\nvalid_days = -1\n", "receipts"),
])
def test_bad_values_are_refused_by_name(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, text))


def test_local_issuer_key_is_private_and_published(tmp_path):
    cfg = load_config(write(tmp_path, ""))
    assert identity_setup.receipt_keys(cfg) == {}
    issuer = identity_setup.local_issuer(cfg)
    assert stat.S_IMODE(cfg.receipt_signing_key_path.stat().st_mode) == 0o600
    assert identity_setup.local_issuer(cfg).kid == issuer.kid  # same key the second time
    keys = identity_setup.controller_options(cfg)["receipt_keys"]
    assert list(keys) == [issuer.kid]
    token = issuer.issue("CASE-1", ReceiptKind.ACCEPTANCE_NOTICE)
    assert ReceiptVerifier(load_public_keys(cfg.receipt_public_keys_path)).verify(token).case_no \
        == "CASE-1"


def test_local_issuer_can_be_switched_off(tmp_path):
    cfg = load_config(write(tmp_path, "[receipts]\nlocal_issuer = false\n"))
    with pytest.raises(KeyFileError, match="only the platform"):
        identity_setup.local_issuer(cfg)


def test_a_broken_jwks_leaves_receipts_off_but_the_locker_running(tmp_path, caplog):
    cfg = load_config(write(tmp_path, ""))
    cfg.receipt_public_keys_path.parent.mkdir(parents=True)
    cfg.receipt_public_keys_path.write_text("{not json", encoding="utf-8")
    assert identity_setup.receipt_keys(cfg) == {}
    assert "unusable" in caplog.text
