"""Checks of the sections that reach other machines: [mqtt], [platform] and [monitor].

Each refusal names `section.key` and says why; called by `terminal.config_checks.validate`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from terminal.config_sections import ConfigError, MonitorSection, MqttSection, PlatformSection

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_TOPIC_UNSAFE = set("/+#:") | {" ", "\t", "\n"}


def topic_safe(key: str, value: str) -> None:
    """An id used as an MQTT topic level (and in audit actors): not empty, no / + # : or space."""
    if not value.strip():
        raise ConfigError(f"{key}: must not be empty")
    bad = sorted(set(value) & _TOPIC_UNSAFE)
    if bad:
        raise ConfigError(f"{key}: {value!r} contains {bad[0]!r}, which an MQTT topic level "
                          "cannot hold")


def host_port(key: str, value: str) -> None:
    """`HOST:PORT` with a port 1..65535 (as `kiosk monitor` reads it)."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"{key}: must be HOST:PORT with a port 1..65535, not {value!r}")


def positive(values: dict[str, float]) -> None:
    """Every value > 0, else refused with its key."""
    for key, value in values.items():
        if value <= 0:
            raise ConfigError(f"{key}: must be positive, not {value}")


def validate_mqtt(m: MqttSection) -> None:
    """[mqtt]: port, TLS files in pairs, intervals."""
    if not 1 <= m.port <= 65535:
        raise ConfigError(f"mqtt.port: must be 1..65535, not {m.port}")
    if m.enabled and not m.host.strip():
        raise ConfigError("mqtt.host: must not be empty when mqtt.enabled is true")
    if bool(m.cert_file) != bool(m.key_file):
        raise ConfigError("mqtt.cert_file, mqtt.key_file: give both or neither")
    if m.tls_insecure and not (m.tls or m.ca_file):
        raise ConfigError("mqtt.tls_insecure: only meaningful with tls")
    positive({"mqtt.keepalive_s": m.keepalive_s, "mqtt.health_interval_s": m.health_interval_s,
              "mqtt.command_max_ttl_s": m.command_max_ttl_s,
              "mqtt.event_interval_s": m.event_interval_s})
    if m.command_leeway_s < 0:
        raise ConfigError("mqtt.command_leeway_s: must be 0 or more")
    if not m.password_env.strip():
        raise ConfigError("mqtt.password_env: must name an environment variable")


def validate_platform(pf: PlatformSection) -> None:
    """[platform]: adapter, timeouts, and for `http` a safe URL with a token."""
    if pf.adapter not in ("local", "http"):
        raise ConfigError(f"platform.adapter: must be local or http, not {pf.adapter!r}")
    for key in ("connect_timeout_s", "read_timeout_s"):
        if getattr(pf, key) <= 0:
            raise ConfigError(f"platform.{key}: must be positive, not {getattr(pf, key)}")
    if not 0 <= pf.retries <= 10:
        raise ConfigError(f"platform.retries: must be 0..10, not {pf.retries}")
    if pf.backoff_s < 0:
        raise ConfigError(f"platform.backoff_s: must be 0 or more, not {pf.backoff_s}")
    if not pf.token_env.strip():
        raise ConfigError("platform.token_env: must name an environment variable")
    if pf.adapter != "http":
        return
    url = urlsplit(pf.base_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"platform.base_url: must be an http(s) URL with a host, "
                          f"not {pf.base_url!r}")
    if url.scheme == "http" and url.hostname not in _LOOPBACK and not pf.allow_http:
        raise ConfigError("platform.base_url: plain http sends the token in the clear; use "
                          "https (or set platform.allow_http = true on an isolated network)")
    if url.username or url.password:
        raise ConfigError("platform.base_url: no credentials in the URL; use the token")
    if pf.ca_file and not Path(pf.ca_file).expanduser().is_file():
        raise ConfigError(f"platform.ca_file: no such file {pf.ca_file!r}")
    if not pf.resolved_token():
        raise ConfigError(f"platform.token: not set; put the token in the environment "
                          f"variable {pf.token_env} (or platform.token)")


def validate_monitor(mo: MonitorSection) -> None:
    """[monitor]: addresses, intervals, the key id, TLS files in pairs, retention."""
    topic_safe("monitor.centre", mo.centre)
    host_port("monitor.broker", mo.broker)
    host_port("monitor.listen", mo.listen)
    if not mo.data_dir.strip():
        raise ConfigError("monitor.data_dir: must not be empty")
    if not mo.kid.strip() or len(mo.kid) > 64:
        raise ConfigError(f"monitor.kid: 1 to 64 characters, not {mo.kid!r}")
    positive({"monitor.health_interval_s": mo.health_interval_s,
              "monitor.command_ttl_s": mo.command_ttl_s,
              "monitor.check_interval_s": mo.check_interval_s})
    if bool(mo.cert_file) != bool(mo.key_file):
        raise ConfigError("monitor.cert_file, monitor.key_file: give both or neither")
    if (mo.cert_file or mo.key_file) and not mo.ca_file:
        raise ConfigError("monitor.cert_file: a client certificate needs TLS; set "
                          "monitor.ca_file too")
    for key in ("history_days", "outbox_peaks_days"):
        days = getattr(mo, key)
        if isinstance(days, bool) or not isinstance(days, int) or not 31 <= days <= 3660:
            raise ConfigError(f"monitor.{key}: must be a whole number of days 31..3660 (the "
                              f"operating report needs at least a month), not {days!r}")
