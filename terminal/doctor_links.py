"""`kiosk doctor` on the platform and the clock.

The http adapter: one `GET /v1/health` with the terminal's token, TLS settings and timeouts
(no retries), which says reachable and token accepted; its `Date` header gives the clock
offset (receipts carry issue and expiry times, so a wrong clock refuses good receipts).
The local adapter: its database opens. Without a platform to compare with, NTP's own verdict.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from terminal.config import Config
from terminal.doctor import Check, fail, ok, skipped, warn

PLATFORM, CLOCK = "platform", "clock"
CLOCK_WARN_S = 5.0
CLOCK_FAIL_S = 60.0
CLOCK_FIX = ("set the time right and keep it right: timedatectl set-ntp true, and an NTP "
             "server reachable from this network (receipts carry issue and expiry times)")


def time_limit(cfg: Config) -> float:
    """The platform probe's limit: one request's connect and read timeouts, plus a margin."""
    return cfg.platform.connect_timeout_s + cfg.platform.read_timeout_s + 5.0


@dataclass(frozen=True)
class Exchange:
    """One health request: status (None: no answer), error text, and the timing for the clock."""

    status: int | None
    error: str = ""
    tls: bool = False
    date: str | None = None  # the server's Date header
    sent: float = 0.0  # wall-clock seconds (time.time) around the request
    received: float = 0.0


def clock_check_from(ex: Exchange, base: str) -> Check:
    """The offset between this machine and the platform's `Date` (1 s resolution)."""
    try:
        server = parsedate_to_datetime(ex.date).timestamp() + 0.5 if ex.date else None
    except (TypeError, ValueError):
        server = None
    if server is None:
        return skipped(CLOCK, f"no time reference: {base} sent no usable Date header")
    offset = server - (ex.sent + ex.received) / 2
    error = 0.5 + (ex.received - ex.sent) / 2
    side = "behind" if offset > 0 else "ahead of"
    text = f"{abs(offset):.1f} s (±{error:.1f}) {side} the platform's clock"
    if abs(offset) > CLOCK_FAIL_S:
        return fail(CLOCK, f"{text}: receipts will be refused as not yet valid or expired",
                    CLOCK_FIX)
    if abs(offset) > CLOCK_WARN_S:
        return warn(CLOCK, text, CLOCK_FIX)
    return ok(CLOCK, text)


def health_request(cfg: Config) -> Exchange:
    """GET /v1/health once with the configured token, CA and timeouts."""
    import requests

    pf = cfg.platform
    headers = {"Authorization": f"Bearer {pf.resolved_token()}", "Accept": "application/json",
               "User-Agent": "kiosk-locker doctor"}
    sent = time.time()
    try:
        resp = requests.get(pf.base_url.rstrip("/") + "/v1/health", headers=headers,
                            timeout=(pf.connect_timeout_s, pf.read_timeout_s),
                            verify=pf.ca_file or True, allow_redirects=False)
    except requests.exceptions.SSLError as err:
        return Exchange(None, _reason(err), tls=True)
    except requests.exceptions.ConnectTimeout:
        return Exchange(None, f"no connection within {pf.connect_timeout_s:g} s")
    except requests.exceptions.ReadTimeout:
        return Exchange(None, f"connected, but no answer within {pf.read_timeout_s:g} s")
    except requests.exceptions.RequestException as err:
        return Exchange(None, _reason(err))
    with resp:
        return Exchange(resp.status_code, date=resp.headers.get("Date"), sent=sent,
                        received=time.time())


def _reason(err: Exception) -> str:
    """The innermost cause, without the URL noise requests wraps around it."""
    while err.__context__ is not None and err.__context__ is not err:
        err = err.__context__  # type: ignore[assignment]
    text = str(getattr(err, "reason", None) or err)
    return text.split("] ", 1)[-1] if text.startswith("[") else text


def platform_checks(cfg: Config,
                    request: Callable[[Config], Exchange] = health_request) -> list[Check]:
    """The platform check and the clock check (which needs the platform's answer)."""
    if cfg.platform.adapter != "http":
        return [_local_check(cfg), ntp_check()]
    base = cfg.platform.base_url
    ex = request(cfg)
    if ex.status is None:
        if ex.tls:
            checked = [fail(PLATFORM, f"TLS failed ({ex.error}) at {base}",
                            "set platform.ca_file to the CA bundle that signed the platform's "
                            "certificate (ask the centre), or correct platform.base_url")]
        else:
            checked = [fail(PLATFORM, f"cannot reach {base}: {ex.error}",
                            "check this terminal's network link to the platform (extranet, "
                            "firewall, proxy) and platform.base_url")]
        return [*checked, ntp_check()]
    return [_answer_check(cfg, ex), clock_check_from(ex, base)]


def _answer_check(cfg: Config, ex: Exchange) -> Check:
    pf, base = cfg.platform, cfg.platform.base_url
    if ex.status == 200:
        ms = (ex.received - ex.sent) * 1000
        return ok(PLATFORM, f"{base}: reachable, token accepted ({ms:.0f} ms)")
    if ex.status == 401:
        return fail(PLATFORM, f"{base}: the token is refused (401)",
                    f"put this terminal's token from the centre in the environment variable "
                    f"{pf.token_env} (or platform.token)")
    if ex.status in (404, 405):
        return fail(PLATFORM, f"{base}: no platform API there ({ex.status} on /v1/health)",
                    "platform.base_url must be the API root (the path before /v1/...)")
    if ex.status is not None and ex.status >= 500:
        return fail(PLATFORM, f"{base}: the platform answers {ex.status} (trouble on its side)",
                    "nothing to change here: messages wait in the outbox; tell the centre")
    return fail(PLATFORM, f"{base}: unexpected answer {ex.status} to /v1/health",
                "check platform.base_url, and that no proxy stands in between")


def _local_check(cfg: Config) -> Check:
    from remote.platform_local import DEFAULT_CATALOGUE

    path = cfg.data_dir / "platform.db"
    if not path.exists():
        if not any(DEFAULT_CATALOGUE.glob("guides_*.json")):
            return fail(PLATFORM, f"local adapter: the sample catalogue {DEFAULT_CATALOGUE} "
                        "is missing", "reinstall the package (pip install -e .)")
        return ok(PLATFORM, f"local adapter: {path.name} is made from the sample catalogue "
                  f"({DEFAULT_CATALOGUE}) on the first start")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            count = conn.execute("SELECT count(*) FROM guides").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as err:
        return fail(PLATFORM, f"local adapter: {path} does not open: {err}",
                    f"stop the terminal and move {path} aside: it is rebuilt from the sample "
                    "catalogue on the next start (demo data is lost)")
    return ok(PLATFORM, f"local adapter: {path} opens, {count} guides")


def ntp_check(run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> Check:
    """No platform clock to compare with: ask systemd whether NTP keeps the clock right."""
    if shutil.which("timedatectl") is None:
        return skipped(CLOCK, "no time reference (no http platform, no timedatectl)")
    try:
        out = run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                  capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return skipped(CLOCK, f"no time reference (timedatectl: {err})")
    answer = out.stdout.strip()
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    if answer == "yes":
        return ok(CLOCK, f"{now}, synchronised by NTP")
    if answer == "no":
        return warn(CLOCK, f"{now}, NOT synchronised by NTP", CLOCK_FIX)
    why = (out.stderr.strip().splitlines() or [answer])[0]
    return skipped(CLOCK, f"no time reference (timedatectl: {why})")
