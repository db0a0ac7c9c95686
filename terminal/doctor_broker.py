"""`kiosk doctor` on the fleet monitor's broker: connect as the terminal would, say why not.

The client is the terminal's own (`remote.mqtt_client.make_client`: same TLS, certificate and
credentials) but with client id `<terminal>-doctor` and no Will, so checking next to a running
terminal neither takes over its session nor can publish a false `offline`. The outcomes a
technician must tell apart: cannot reach, TLS failed (certificate …), bad user name or
password, not authorised.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from terminal.config import Config
from terminal.doctor import Check, Status, fail, ok, skipped, warn

NAME = "broker"
CERT_WARN_DAYS = 30
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_CREDENTIALS_FIX = ("set mqtt.username and the password (environment variable {env}, or "
                    "mqtt.password) to those the centre issued for this terminal")


def broker_check(cfg: Config, timeout_s: float = 5.0) -> Check:
    """Connect once with the configured TLS and credentials, then disconnect cleanly."""
    m = cfg.mqtt
    if not m.enabled:
        return skipped(NAME, "mqtt.enabled = false (no fleet monitor)")
    for key in ("ca_file", "cert_file", "key_file"):
        value = getattr(m, key)
        if value and not Path(value).expanduser().is_file():
            return fail(NAME, f"mqtt.{key}: no such file {value}",
                        f"copy the file the centre issued to {value}, or correct mqtt.{key}")
    days = _cert_days_left(m.cert_file) if m.cert_file else None
    if days is not None and days < 0:
        return fail(NAME, f"TLS failed (certificate {m.cert_file} expired {-days} day(s) ago)",
                    "ask the centre for a new terminal certificate (CN = the terminal id)")
    outcome = _connect(cfg, timeout_s)
    if outcome.status is not Status.OK:
        return outcome
    if days is not None and days < CERT_WARN_DAYS:
        when = f"in {days} day(s)" if days else "within a day"
        return warn(NAME, f"{outcome.detail}; the certificate expires {when}",
                    "ask the centre for a new terminal certificate before it expires")
    if not (m.tls or m.ca_file) and m.host not in _LOOPBACK:
        return warn(NAME, f"{outcome.detail}, but without TLS: the password travels in clear",
                    "set mqtt.tls = true and mqtt.ca_file to the centre's CA")
    return outcome


def _cert_days_left(path: str) -> int | None:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(Path(path).expanduser().read_bytes())
    except (OSError, ValueError):
        return None
    return (cert.not_valid_after_utc - datetime.now(UTC)).days


def _connect(cfg: Config, timeout_s: float) -> Check:
    import paho.mqtt.client as mqtt

    from remote import mqtt_topics as mt
    from remote.mqtt_client import make_client
    from terminal.mqtt_setup import mqtt_settings

    m = cfg.mqtt
    settings = replace(mqtt_settings(cfg), terminal_id=f"{cfg.terminal.id}-doctor")
    where = f"{m.host}:{m.port}"
    try:
        client = make_client(settings, mt.Topics(cfg.terminal.centre_id, settings.terminal_id))
    except (ValueError, OSError, ssl.SSLError) as err:
        return fail(NAME, f"TLS files cannot be used: {err}",
                    "check mqtt.ca_file, mqtt.cert_file and mqtt.key_file (PEM, key unencrypted)")
    client.will_clear()
    client.connect_timeout = timeout_s
    answers: dict[str, object] = {}
    client.on_connect = lambda _c, _u, _f, rc, _p: answers.setdefault("connack", rc)
    client.on_disconnect = lambda _c, _u, _f, rc, _p: answers.setdefault("closed", rc)
    try:
        try:
            client.connect(m.host, m.port, keepalive=max(5, m.keepalive_s))
        except OSError as err:
            _close_sockets(err)
            raise
    except ssl.SSLCertVerificationError as err:
        msg = str(err.verify_message)
        msg = msg if "certificate" in msg else f"certificate {msg}"
        return fail(NAME, f"TLS failed ({msg}) at {where}",
                    "set mqtt.ca_file to the CA that signed the broker's certificate, and "
                    f"mqtt.host to a name the certificate lists ({m.host!r} now)")
    except ssl.SSLError as err:
        return fail(NAME, f"TLS failed ({err.reason or err}) at {where}", _tls_fix(cfg))
    except (OSError, ValueError) as err:
        return fail(NAME, f"cannot reach {where}: {_plain(err)}",
                    f"check the network, mqtt.host and mqtt.port ({where}), and that the "
                    "broker runs (the centre's side)")
    deadline = time.monotonic() + timeout_s
    while not answers and time.monotonic() < deadline:
        if client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
            break
    rc = answers.get("connack")
    if rc is None:
        client.disconnect()
        return _no_connack(cfg, where, "closed" in answers or time.monotonic() < deadline)
    if getattr(rc, "is_failure", True):
        client.disconnect()
        return _refused(cfg, where, rc)
    client.disconnect()
    client.loop(timeout=0.1)  # send the DISCONNECT
    security = "TLS" + (" with a client certificate" if m.cert_file else "") \
        if settings.uses_tls else "no TLS"
    user = f", user {m.username}" if m.username else ""
    return ok(NAME, f"{where} ({security}{user}): connected")


def _close_sockets(err: BaseException) -> None:
    """Close the socket paho leaves open when the TLS handshake fails (it never closes it)."""
    tb = err.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, socket.socket):
                value.close()
        tb = tb.tb_next


def _plain(err: Exception) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    if isinstance(err, socket.gaierror):
        return "unknown host name"
    if isinstance(err, TimeoutError):
        return "no answer (timed out)"
    return getattr(err, "strerror", None) or str(err)


def _tls_fix(cfg: Config) -> str:
    if cfg.mqtt.cert_file:
        return ("check that mqtt.cert_file and mqtt.key_file are the pair the centre issued, "
                "signed by the broker's CA")
    return ("the broker may want a client certificate: set mqtt.cert_file and mqtt.key_file; "
            "or it does not speak TLS on this port (mqtt.port)")


def _no_connack(cfg: Config, where: str, closed: bool) -> Check:
    if not closed:
        return fail(NAME, f"cannot reach {where}: connected, but no answer to CONNECT",
                    "is it an MQTT broker on that port? check mqtt.port (1883 plain, 8883 TLS)")
    if cfg.mqtt.tls or cfg.mqtt.ca_file:
        return fail(NAME, f"TLS failed at {where}: the broker closed the connection during the "
                    "handshake (client certificate missing or refused)", _tls_fix(cfg))
    return fail(NAME, f"{where} closed the connection before answering",
                "it may want TLS (set mqtt.tls = true and mqtt.ca_file); see the broker's log")


def _refused(cfg: Config, where: str, rc: object) -> Check:
    m = cfg.mqtt
    value = getattr(rc, "value", rc)
    fix = _CREDENTIALS_FIX.format(env=m.password_env)
    if value == 134:  # bad user name or password
        return fail(NAME, f"{where}: bad user name or password (user {m.username!r})", fix)
    if value == 135 and m.username:  # mosquitto answers this to a wrong password too
        return fail(NAME, f"{where}: not authorised: bad user name or password for user "
                    f"{m.username!r}, or this user may not connect",
                    f"{fix}; if they are right, ask the centre to check the broker's password "
                    "file and ACL for this terminal")
    if value == 135:
        return fail(NAME, f"{where}: not authorised: the broker wants a user name and password",
                    fix)
    if value == 133:
        return fail(NAME, f"{where}: client id {cfg.terminal.id}-doctor refused",
                    "the broker restricts client ids: check terminal.id matches the certificate")
    return fail(NAME, f"{where}: refused ({rc})", "see the broker's log (the centre's side)")
