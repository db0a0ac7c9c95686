"""Configuration: defaults, validation with the key named, and the hash-key file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from terminal.config import ConfigError, load_config
from terminal.config_redacted import is_secret_name, redacted_config


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
    ("[buss]\n", "buss: unknown section"),
    ("[bus]\nretries = 'two'\n", "bus.retries: must be int"),
    ("[[bus.boards]]\nunit = 300\n", "bus.boards[0].unit: must be 1..247"),
    ("[[bus.boards]]\nunit = 1\n[[bus.boards]]\nunit = 1\n", "two boards share a unit id"),
    ("[[locker.compartments]]\nid = 'A01'\nunit = 9\n", "no board 9"),
    ("[[locker.compartments]]\nid = 'A01'\nsize = 'XXL'\n", "size: must be S, M, L or XL"),
    ("[locker]\nexpiry_days = 0\n", "locker.expiry_days: must be at least 1"),
    ("[bus\n", "not valid TOML"),
    ("terminal = 5\n", "terminal: must be a table"),
    ("[terminal]\nid = 'T/1'\n", "terminal.id: 'T/1' contains '/'"),
    ("[terminal]\ntimezone = 'Mars/Base'\n", "terminal.timezone: unknown time zone"),
    ("[terminal]\nwindow = 'big'\n", "terminal.window: must be WIDTHxHEIGHT"),
    ("[terminal]\nidle_s = 0\n", "terminal.idle_s: must be positive"),
    ("[bus]\nstopbits = 3\n", "bus.stopbits: must be 1 or 2"),
    ("[bus]\nretries = 11\n", "bus.retries: must be 0..10"),
    ("[bus]\noffline_probe_s = -1\n", "bus.offline_probe_s: must be positive"),
    ("[[bus.boards]]\nunit = 1\nprofile = 'nope'\n", "bus.boards[0].profile: no profile named"),
    ("[[bus.boards]]\nunit = 1\npulse_ms = 5\n", "bus.boards[0].pulse_ms: must be 50..10000"),
    ("[[bus.boards]]\nunit = 1\ncolour = 'red'\n", "bus.boards[0].colour: unknown key"),
    ("[[locker.compartments]]\nid = 'A01'\nchannel = 24\n",
     "locker.compartments[0].channel: must be 0..23"),
    ("[[locker.compartments]]\nid = 'A01'\n[[locker.compartments]]\nid = 'A01'\nchannel = 1\n",
     "locker.compartments[1].id: 'A01' is used twice"),
    ("[[locker.compartments]]\nid = 'A01'\n[[locker.compartments]]\nid = 'A02'\n",
     "locker.compartments[1].channel: board 1 channel 0 is already wired"),
    ("[locker]\nreminder_hours_before = [24, 0]\n",
     "locker.reminder_hours_before[1]: must be positive"),
    ("[locker]\njam_retries = 9\n", "locker.jam_retries: must be 0..5"),
    ("[security]\nhash_key_env = ''\n", "security.hash_key_env: must name"),
    ("[receipts]\nvalid_days = -1\n", "receipts.valid_days: must be 0 or more"),
    ("[mqtt]\nkeepalive_s = 0\n", "mqtt.keepalive_s: must be positive"),
    ("[mqtt]\nenabled = true\nhost = ''\n", "mqtt.host: must not be empty"),
    ("[devices]\nscanner_baud = 1234\n", "devices.scanner_baud: 1234 is not a serial baud"),
    ("[devices]\nid_reader = ''\n", "devices.id_reader: empty"),
    ("[platform]\nretries = 'many'\n", "platform.retries: must be int"),
    ("[log]\nlevel = 'LOUD'\n", "log.level: must be one of DEBUG, INFO, WARNING, ERROR"),
    ("[log]\nbackups = 0\n", "log.backups: must be 1..100"),
    ("[log]\nmax_bytes = 'big'\n", "log.max_bytes: must be int"),
    ("[log]\nrotate = true\n", "log.rotate: unknown key"),
    ("[monitor]\nbroker = 'nohost'\n", "monitor.broker: must be HOST:PORT"),
    ("[monitor]\nlisten = '127.0.0.1:70000'\n", "monitor.listen: must be HOST:PORT"),
    ("[monitor]\ncentre = 'a/b'\n", "monitor.centre: 'a/b' contains '/'"),
    ("[monitor]\ncommand_ttl_s = 0\n", "monitor.command_ttl_s: must be positive"),
    ("[monitor]\ncert_file = 'c.pem'\nkey_file = 'k.pem'\n", "set monitor.ca_file too"),
    ("[monitor]\ncert_file = 'c.pem'\n", "monitor.cert_file, monitor.key_file: give both"),
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


def kiosk(*argv: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-m", "terminal.cli", *argv], capture_output=True,
                          text=True, cwd=cwd, timeout=60, check=False, env=env)


BAD_LAST = ('[terminal]\ndata_dir = "{data}"\n[bus]\nlink = "sim"\n[log]\nlevel = "INFO"\n'
            '[monitor]\ndata_dir = "{data}/monitor"\nbroker = "127.0.0.1:99999"\n')


@pytest.mark.parametrize("argv", [("run",), ("monitor",), ("sim", "board", "--link", "pty"),
                                  ("centre", "serve", "--listen", "127.0.0.1:0")])
def test_a_bad_config_stops_the_long_running_verbs_before_anything_starts(tmp_path, argv):
    """The error is in the last section: nothing of the earlier ones was applied."""
    data = tmp_path / "data"
    cfg = write(tmp_path, BAD_LAST.format(data=data))
    done = kiosk(*argv, "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "kiosk: monitor.broker: must be HOST:PORT with a port 1..65535, not '127.0.0.1:99999'"]
    assert done.stdout == ""  # no link printed, no window, no server
    assert not data.exists()  # no data dir, database, key file or log folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk.toml"]


@pytest.mark.parametrize(("name", "secret"), [
    ("password", True), ("token", True), ("secret", True), ("hash_key", True),
    ("signing_key", True), ("password_env", False), ("token_env", False), ("key_file", False),
    ("hash_key_file", False), ("kid", False), ("username", False), ("keepalive_s", False),
])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_redacted_config_removes_secrets_and_keeps_where_they_come_from(tmp_path):
    cfg = load_config(write(tmp_path, '[mqtt]\npassword = "pw-9f2"\nkey_file = "/k.pem"\n'
                            'cert_file = "/c.pem"\n[platform]\ntoken = "tok-31a"\n'))
    data = redacted_config(cfg)
    assert data["mqtt"]["password"] == "[removed]"
    assert data["platform"]["token"] == "[removed]"
    assert data["mqtt"]["key_file"] == "/k.pem"  # a path, not the key
    assert data["mqtt"]["password_env"] == "KIOSK_MQTT_PASSWORD"
    assert data["monitor"]["password_env"] == "KIOSK_MONITOR_MQTT_PASSWORD"
    assert "pw-9f2" not in repr(data)
    assert "tok-31a" not in repr(data)
    assert redacted_config(load_config())["mqtt"]["password"] == ""  # unset stays visibly unset
