"""The page checks and the terminal binding of the platform server, as pure logic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centre.platform_binding import claims_other_terminal
from centre.platform_limits import PageLimits, PageRefused, check_pages, media_type
from remote.platform_models import MessageKind, OutboundMessage

JPEG, PNG = b"\xff\xd8\xff\xe0" + b"j" * 96, b"\x89PNG\r\n\x1a\n" + b"p" * 92
LIMITS = PageLimits(max_pages=3, max_page_bytes=100, max_total_bytes=250)
T0 = datetime(2026, 11, 23, tzinfo=UTC)


def test_pages_within_the_limits_are_typed_by_their_magic_bytes():
    assert media_type(JPEG) == "image/jpeg"
    assert media_type(PNG) == "image/png"
    assert media_type(b"GIF89a") is None
    assert check_pages((JPEG, PNG), LIMITS) == ["image/jpeg", "image/png"]
    assert check_pages((), LIMITS) == []


@pytest.mark.parametrize(("pages", "status", "code"), [
    ((JPEG, JPEG, JPEG, JPEG), 422, "too_many_pages"),
    ((JPEG + b"x",), 413, "page_too_large"),
    ((JPEG, PNG, JPEG[:60]), 413, "pages_too_large"),
    ((JPEG, b"%PDF-1.7"), 422, "bad_page"),
    ((b"",), 422, "bad_page"),
])
def test_pages_outside_the_limits_are_refused(pages, status, code):
    with pytest.raises(PageRefused) as err:
        check_pages(pages, LIMITS)
    assert (err.value.status, err.value.code) == (status, code)


def _message(key: str, body: dict) -> OutboundMessage:
    return OutboundMessage(key, MessageKind.DEPOSIT, "C1", body, T0)


@pytest.mark.parametrize(("key", "body", "other"), [
    ("T1:deposit:1", {"terminal_id": "T1"}, False),
    ("declaration:SB-T1-X", {"terminal_id": "T1"}, False),  # unprefixed, body names T1
    ("notice:pickup_code:1", {}, False),
    ("T9:deposit:1", {}, False),  # not a known terminal's prefix: stored as the sender's
    ("T2:deposit:1", {}, True),
    ("T1:deposit:1", {"terminal_id": "T2"}, True),
    ("T1:pickup:1", {"terminal_id": "T1", "delivery_receipt": {"terminal_id": "T2"}}, True),
    ("T1:deposit:1", {"terminal_id": ""}, False),
])
def test_a_message_for_another_terminal_is_recognised(key, body, other):
    assert claims_other_terminal(_message(key, body), "T1", {"T1", "T2"}) is other
