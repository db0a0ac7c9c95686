"""A terminal's token speaks for its terminal only (403 `wrong_terminal`), over HTTP.

The server knows T1 and T2. T2's token cannot deliver what T1 did (a T1-prefixed key, a body
or delivery receipt naming T1, a key T1 delivered first); real terminals, whose keys and bodies
name themselves, keep working (test_centre_platform.py, test_centre_outbox.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from remote.platform_models import MessageKind, OutboundMessage
from remote.wire import to_json
from tests.integration.centre_server import OTHER_TOKEN, centre  # noqa: F401 - the fixture

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CASE = "SJ20261109000061"  # ready for the locker


def _put(centre, message: OutboundMessage, token: str) -> tuple[int, dict]:  # noqa: F811
    answer = requests.put(f"{centre.url}/v1/messages/{message.key}", json=to_json(message),
                          headers={"Authorization": f"Bearer {token}"}, timeout=5)
    return answer.status_code, answer.json()


def _deposit(key: str, terminal_id: str) -> OutboundMessage:
    body = {"terminal_id": terminal_id, "case_no": CASE, "item_id": "item-1",
            "compartment_id": "A01", "deposited_at": "2026-11-23T08:00:00Z",
            "expires_at": "2026-11-30T08:00:00Z", "deposited_by": "S001",
            "recipient_masked_name": "郑*芬"}
    return OutboundMessage(key, MessageKind.DEPOSIT, CASE, body, T0)


def _pickup(key: str, receipt_terminal: str) -> OutboundMessage:
    receipt = {"case_no": CASE, "method": "自助取件", "recipient_masked_name": "郑*芬",
               "proxy_masked_name": "", "delivered_at": "2026-11-23T09:00:00Z",
               "terminal_id": receipt_terminal, "compartment_id": "A01"}
    body = {"terminal_id": "T2", "case_no": CASE, "item_id": "item-1",
            "compartment_id": "A01", "collected_at": "2026-11-23T09:00:00Z",
            "collector": "applicant", "delivery_receipt": receipt}
    return OutboundMessage(key, MessageKind.PICKUP, CASE, body, T0)


@pytest.mark.parametrize(("message", "why"), [
    (_deposit("T1:deposit:item-1", "T2"), "a key with T1's prefix"),
    (_deposit("T2:deposit:item-1", "T1"), "a body naming T1"),
    (_deposit("deposit:item-1", "T1"), "an unprefixed key, a body naming T1"),
    (_pickup("T2:pickup:item-1", "T1"), "a delivery receipt naming T1"),
])
def test_another_terminals_token_cannot_report_its_events(centre, message, why):  # noqa: F811
    assert _put(centre, message, OTHER_TOKEN) == (403, {"code": "wrong_terminal"}), why
    assert centre.platform.message_counts() == {}


def test_each_terminal_delivers_its_own_and_not_the_others_key(centre):  # noqa: F811
    mine = _deposit("T1:deposit:item-1", "T1")
    assert _put(centre, mine, centre.token)[0] == 201
    assert _put(centre, mine, centre.token)[0] == 200  # T1's repeat: acknowledged
    assert _put(centre, mine, OTHER_TOKEN) == (403, {"code": "wrong_terminal"})
    notice = OutboundMessage("notice:pickup_code:item-1", MessageKind.NOTICE, CASE,
                             {"notice": "pickup_code", "code": "55512345",
                              "compartment_id": "A01"}, T0)  # unprefixed, as terminals send it
    assert _put(centre, notice, centre.token)[0] == 201
    assert _put(centre, notice, OTHER_TOKEN) == (403, {"code": "wrong_terminal"})  # T1's key
    evaluation = OutboundMessage("T2:evaluation:1", MessageKind.EVALUATION, CASE, {"level": 5},
                                 T0)
    assert _put(centre, evaluation, OTHER_TOKEN)[0] == 201  # T2 speaking for itself
    assert centre.platform.message_counts() == {"deposit": 1, "notice": 1, "evaluation": 1}
