"""The [mqtt] section: TLS, credentials, commands and events settings, validated whole."""

from __future__ import annotations

import pytest

from terminal.config import ConfigError, load_config
from terminal.mqtt_setup import command_keys_path, mqtt_settings


def write(tmp_path, text: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[terminal]\ndata_dir = "{tmp_path}/data"\n[mqtt]\n{text}', encoding="utf-8")
    return path


def test_tls_and_credentials_reach_the_link_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_MQTT_PASSWORD", raising=False)
    cfg = load_config(write(tmp_path, 'enabled = true\nport = 8883\nusername = "T0001"\n'
                                      'password = "from-file"\ntls = true\n'
                                      'ca_file = "/etc/kiosk/ca.pem"\ncert_file = "/etc/c.crt"\n'
                                      'key_file = "/etc/c.key"\ntls_insecure = true\n'))
    s = mqtt_settings(cfg)
    assert (s.port, s.username, s.password, s.tls, s.tls_insecure) == \
        (8883, "T0001", "from-file", True, True)
    assert (s.ca_file, s.cert_file, s.key_file) == ("/etc/kiosk/ca.pem", "/etc/c.crt",
                                                    "/etc/c.key")
    assert s.terminal_id == cfg.terminal.id
    monkeypatch.setenv("KIOSK_MQTT_PASSWORD", "from-env")
    assert mqtt_settings(cfg).password == "from-env"
    assert command_keys_path(cfg) == cfg.data_dir / "command_keys.json"


def test_defaults_keep_commands_on_and_anonymous_plain_tcp(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_MQTT_PASSWORD", raising=False)
    cfg = load_config(write(tmp_path, 'command_keys_file = "/etc/kiosk/centre.jwks"\n'))
    s = mqtt_settings(cfg)
    assert (s.username, s.password, s.tls, s.tls_insecure) == (None, None, False, False)
    assert cfg.mqtt.commands is True
    assert str(command_keys_path(cfg)) == "/etc/kiosk/centre.jwks"


@pytest.mark.parametrize(("text", "message"), [
    ("port = 0\n", "mqtt.port"),
    ('cert_file = "/c.crt"\n', "mqtt.cert_file, mqtt.key_file"),
    ("tls_insecure = true\n", "mqtt.tls_insecure"),
    ("event_interval_s = 0\n", "mqtt.event_interval_s"),
    ("command_max_ttl_s = -1\n", "mqtt.command_max_ttl_s"),
    ("command_leeway_s = -1\n", "mqtt.command_leeway_s"),
    ('tls = "yes"\n', "mqtt.tls"),
])
def test_bad_mqtt_settings_are_refused_with_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(write(tmp_path, text))
