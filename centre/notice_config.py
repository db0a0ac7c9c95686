"""Which notice adapter the server uses, from the environment like the other centre settings.

KIOSK_CENTRE_NOTICES is `log` (default: the masked demo log table) or `sms` (the HTTP
gateway at KIOSK_CENTRE_SMS_URL with the API key in KIOSK_CENTRE_SMS_KEY; optional
KIOSK_CENTRE_SMS_TIMEOUT_S, default 10). KIOSK_CENTRE_FOLLOWUP_HOURS sets the deadline of a
bad rating's follow-up (default 72).
"""

from __future__ import annotations

from collections.abc import Mapping

from centre.followup import DEFAULT_HOURS
from centre.notice_log import LogNotices
from centre.notice_port import NoticePort
from centre.notice_sms_http import HttpSmsGateway
from centre.platform_store import PlatformStore

ADAPTERS = ("log", "sms")


def notice_port(store: PlatformStore, env: Mapping[str, str],
                choice: str | None = None) -> NoticePort:
    """The adapter named by `choice` or KIOSK_CENTRE_NOTICES (ValueError: one line why not)."""
    name = (choice or env.get("KIOSK_CENTRE_NOTICES") or "log").strip().lower()
    if name == "log":
        return LogNotices(store)
    if name != "sms":
        raise ValueError(f"notices: {name!r} is not one of {ADAPTERS}")
    url = env.get("KIOSK_CENTRE_SMS_URL", "").strip()
    if not url:
        raise ValueError("notices: sms needs KIOSK_CENTRE_SMS_URL")
    return HttpSmsGateway(url, env.get("KIOSK_CENTRE_SMS_KEY", "").strip(),
                          read_timeout=_number(env, "KIOSK_CENTRE_SMS_TIMEOUT_S", 10.0))


def followup_hours(env: Mapping[str, str]) -> float:
    """The follow-up deadline in hours (KIOSK_CENTRE_FOLLOWUP_HOURS, default 72)."""
    return _number(env, "KIOSK_CENTRE_FOLLOWUP_HOURS", float(DEFAULT_HOURS))


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: not a number") from None
    if value <= 0:
        raise ValueError(f"{name}: must be positive")
    return value
