"""A generic HTTP SMS gateway adapter: POST JSON with an API key, retries on 5xx.

The request is `{"id", "phone", "template", "params", "text"}` with `Authorization: Bearer
KEY` and `Idempotency-Key: centre-notice-{id}` (a gateway that honours it never sends a
notice twice, even if the centre retried after a lost answer). 2xx is sent, and the
gateway's `message_id` (or `id`) is kept; 5xx is retried here `retries` times, then left to
the sender's back-off; a timeout or no connection is also "later"; other 4xx is final. The
phone is revealed only into the request body; nothing of the request is logged.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import requests

from centre.notice_port import Phone, SendResult
from centre.notice_templates import render


class HttpSmsGateway:
    """Sends through the gateway at `url` with `api_key` (from the environment)."""

    name = "sms"

    def __init__(self, url: str, api_key: str, *, connect_timeout: float = 3.0,
                 read_timeout: float = 10.0, retries: int = 2, retry_delay: float = 0.5) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("SMS gateway URL must be http(s)://")
        if not api_key:
            raise ValueError("SMS gateway API key missing (KIOSK_CENTRE_SMS_KEY)")
        self.url, self._key = url, api_key
        self.timeouts = (connect_timeout, read_timeout)
        self.retries, self.retry_delay = retries, retry_delay
        self._session = requests.Session()
        self._pause = threading.Event()  # never set: an interruptible wait between retries

    def send(self, notice_id: int, phone: Phone, template: str,
             params: Mapping[str, str]) -> SendResult:
        """POST the notice; a SendResult, never an exception for the gateway's failures."""
        body = {"id": f"centre-notice-{notice_id}", "phone": phone.reveal(),
                "template": template, "params": dict(params), "text": render(template, params)}
        headers = {"Authorization": f"Bearer {self._key}",
                   "Idempotency-Key": f"centre-notice-{notice_id}"}
        result = SendResult(False, reason="not_tried", retry=True)
        for attempt in range(self.retries + 1):
            if attempt:
                self._pause.wait(self.retry_delay * attempt)
            result = self._post(body, headers)
            if result.ok or not result.reason.startswith("gateway_5"):
                return result
        return result

    def _post(self, body: dict, headers: dict) -> SendResult:
        try:
            answer = self._session.post(self.url, json=body, headers=headers,
                                        timeout=self.timeouts)
        except requests.Timeout:
            return SendResult(False, reason="timeout", retry=True)
        except requests.RequestException:
            return SendResult(False, reason="unreachable", retry=True)
        status = answer.status_code
        if 200 <= status < 300:
            try:
                data = answer.json()
            except ValueError:
                data = {}
            ref = data.get("message_id") or data.get("id") if isinstance(data, dict) else None
            return SendResult(True, str(ref or "")[:128])
        return SendResult(False, reason=f"gateway_{status}", retry=status >= 500 or status == 429)

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
