"""Configuration: defaults, validation with the key named, and the hash-key file."""

from __future__ import annotations

import os

import pytest

from terminal.config import ConfigError, load_config


def write(tmp_path, text: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_defaults_are_valid():
    cfg = load_config()
    assert cfg.bus.link == "sim"
    assert [b.unit for b in cfg.bus.boards] == [1, 2]
    assert cfg.locker.expiry_days == 7


@pytest.mark.parametrize(("text", "message"), [
    ("[bus]\nbaud = 12345\n", "bus.baud: 12345 is not a standard RS-485 baud rate"),
    ("[bus]\nparity = 'X'\n", "bus.parity: must be N, E or O"),
    ("[buss]\n", "buss: unknown key"),
    ("[bus]\nretries = 'two'\n", "bus.retries: must be int"),
    ("[[bus.boards]]\nunit = 300\n", "bus.boards[0].unit: must be 1..247"),
    ("[[bus.boards]]\nunit = 1\n[[bus.boards]]\nunit = 1\n", "two boards share a unit id"),
    ("[[locker.compartments]]\nid = 'A01'\nunit = 9\n", "no board 9"),
    ("[[locker.compartments]]\nid = 'A01'\nsize = 'XXL'\n", "size: must be S, M, L or XL"),
    ("[locker]\nexpiry_days = 0\n", "locker.expiry_days: must be at least 1"),
    ("[bus\n", "not valid TOML"),
])
def test_bad_config_is_refused_with_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert message in str(err.value)


def test_hash_key_file_is_created_once_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_HASH_KEY", raising=False)
    cfg = load_config(write(tmp_path, f'[terminal]\ndata_dir = "{tmp_path}"\n'))
    key = cfg.hash_key()
    assert len(key) == 64
    assert cfg.hash_key() == key
    assert os.stat(tmp_path / "hash.key").st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".hash.key.*"))


def test_empty_hash_key_file_is_refused_not_replaced(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_HASH_KEY", raising=False)
    (tmp_path / "hash.key").write_text("", encoding="utf-8")
    cfg = load_config(write(tmp_path, f'[terminal]\ndata_dir = "{tmp_path}"\n'))
    with pytest.raises(ConfigError, match="empty or too short"):
        cfg.hash_key()
    assert (tmp_path / "hash.key").read_text(encoding="utf-8") == ""


def test_hash_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "an-environment-secret-of-enough-length")
    cfg = load_config(write(tmp_path, f'[terminal]\ndata_dir = "{tmp_path}"\n'))
    assert cfg.hash_key() == b"an-environment-secret-of-enough-length"
    assert not (tmp_path / "hash.key").exists()
