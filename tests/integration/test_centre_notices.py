"""Applicant notices leave the real server through a real HTTP "SMS gateway" on loopback.

The server (SQLite and PostgreSQL) runs its notice sender in its lifespan; a small HTTP server
stands for the gateway, answering as told (200, 503, or not at all). Each notice arrives once
with its template and the applicant's full phone (at the gateway only: not in the database,
not in the logs), a 503 is retried, a restart sends nothing twice, a timeout is recorded.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import uvicorn

from centre import case_flow
from centre.notice_log import LogNotices
from centre.notice_queue import NoticeQueue
from centre.notice_sender import NoticeSender
from centre.notice_sms_http import HttpSmsGateway
from centre.platform_app import create_app
from remote.platform_http import HttpPlatform
from remote.platform_models import MessageKind, OutboundMessage
from tests.integration.centre_server import OTHER_TOKEN, STAFF_TOKEN, TOKEN, CentreServer
from tests.integration.test_centre_platform import _every_value
from tests.waiting import wait_for

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# case → (the applicant's phone in assets/catalogue/cases.json, what the notice is)
ACCEPTED, RECEIVED, COMPLETED, IN_LOCKER, ACCEPTED_2 = (
    "SJ20261118000032", "SJ20261123000101", "SJ20261109000061", "SJ20261112000009",
    "SJ20261117000012")
PHONES = {ACCEPTED: "10020260002", RECEIVED: "10020260001", COMPLETED: "10020260008",
          IN_LOCKER: "10020260010", ACCEPTED_2: "10020260003"}
CODE = "80417362"


class Gateway:
    """A real HTTP server standing for the SMS gateway: answers the statuses in `script`."""

    def __init__(self, script: list[int] | None = None, hang: bool = False) -> None:
        self.script, self.hang, self.fail_all = list(script or []), hang, False
        self.received: list[dict] = []  # every request: body and headers
        self.accepted: list[str] = []  # notice ids answered 200
        self.release = threading.Event()
        lock, gateway = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with lock:
                    gateway.received.append({**body, "auth": self.headers["authorization"],
                                             "key": self.headers["idempotency-key"]})
                    status = 503 if gateway.fail_all else (
                        gateway.script.pop(0) if gateway.script else 200)
                    if status == 200:
                        gateway.accepted.append(body["id"])
                if gateway.hang:
                    gateway.release.wait(10)
                answer = json.dumps({"message_id": f"gw-{body['id']}"}).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up (the timeout case)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


class NoticeCentre(CentreServer):
    """The reference server with its notice sender (ASGI lifespan on), as `kiosk centre serve`."""

    def __init__(self, directory, db_url: str, port_for, **sender: float) -> None:
        super().__init__(directory, db_url=db_url)
        self.sender = NoticeSender(self.store, port_for(self.store), poll_s=0.05,
                                   base_delay_s=0.05, max_delay_s=0.2, **sender)
        self.platform.on_notice = self.sender.wake
        app = create_app(self.platform, {"T1": TOKEN, "T2": OTHER_TOKEN}, self.keys,
                         staff_token=STAFF_TOKEN, sender=self.sender)
        self._server = uvicorn.Server(uvicorn.Config(
            self._outage(app), host="127.0.0.1", port=self.port, log_level="warning",
            lifespan="on", ws="none", access_log=False))
        self._thread = threading.Thread(target=self._server.run, daemon=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'platform.db'}"


@pytest.fixture
def gateway():
    made: list[Gateway] = []
    yield lambda **kw: made.append(Gateway(**kw)) or made[-1]
    for g in made:
        g.close()


def _sms(gw: Gateway, **kw: float):
    kw = {"retries": 0, "retry_delay": 0.05, **kw}
    return lambda _store: HttpSmsGateway(gw.url, "gateway-api-key-not-a-secret", **kw)


def _staff_notices(server: CentreServer) -> None:
    """补正, 容缺 and result-ready from staff steps, in this order."""
    server.platform.step(ACCEPTED, lambda r, now: case_flow.request_correction(
        r, ["户口簿原件", "近期免冠照片"], now))
    server.platform.step(RECEIVED, lambda r, now: case_flow.tolerate(r, ["结婚证复印件"], now))
    server.platform.hand_to_locker(COMPLETED, "M")


def _pickup_code(server: CentreServer) -> None:
    """The terminal's sealed NOTICE after a deposit, over HTTP."""
    http = HttpPlatform(server.url, server.token, connect_timeout=2, read_timeout=10, retries=0)
    try:
        http.deliver(OutboundMessage("notice:pickup_code:item-1", MessageKind.NOTICE, IN_LOCKER,
                                     {"notice": "pickup_code", "code": CODE,
                                      "compartment_id": "B07",
                                      "expires_at": "2026-11-26T09:00:00Z"}, T0))
    finally:
        http.close()


def test_notices_arrive_once_each_retried_after_503_and_not_again_after_a_restart(
        tmp_path, db_url, gateway, caplog):
    caplog.set_level(logging.DEBUG)
    gw = gateway(script=[200, 503, 503])  # then 200 for everything
    server = NoticeCentre(tmp_path, db_url, _sms(gw), max_attempts=5).start()
    try:
        _staff_notices(server)
        _pickup_code(server)
        assert wait_for(lambda: len(gw.accepted) == 4, timeout=20)
    finally:
        server.stop()
    rows = NoticeQueue(server.store).rows()
    ids = [f"centre-notice-{r['notice_id']}" for r in rows]
    assert gw.accepted == ids  # in the order kept, each once
    assert [r["id"] for r in gw.received] == [ids[0], ids[1], ids[1], ids[1], ids[2], ids[3]]
    by_id = {r["id"]: r for r in gw.received}
    assert [(by_id[i]["template"], by_id[i]["phone"]) for i in ids] == [
        ("correction", PHONES[ACCEPTED]), ("tolerated", PHONES[RECEIVED]),
        ("result_ready", PHONES[COMPLETED]), ("pickup_code", PHONES[IN_LOCKER])]
    assert "户口簿原件；近期免冠照片" in by_id[ids[0]]["text"]  # every material, one notice
    assert by_id[ids[3]]["params"]["code"] == CODE
    assert "B07号格口" in by_id[ids[3]]["text"]
    assert all(r["auth"] == "Bearer gateway-api-key-not-a-secret" and r["key"] == r["id"]
               for r in gw.received)
    assert [(r["state"], r["attempts"]) for r in rows] == [
        ("sent", 1), ("sent", 3), ("sent", 1), ("sent", 1)]
    assert [r["gateway_ref"] for r in rows] == [f"gw-{i}" for i in ids]
    server.store.close()  # read after the stop: its pool again

    # a restart with one notice pending (the gateway down): it goes once, nothing else again
    gw.fail_all = True
    server = NoticeCentre(tmp_path, db_url, _sms(gw), max_attempts=50).start()
    try:
        server.platform.step(ACCEPTED_2, lambda r, now: case_flow.request_correction(
            r, ["营业执照副本"], now))
        assert wait_for(lambda: len(gw.received) >= 8, timeout=20)  # tried, refused
    finally:
        server.stop()
    gw.fail_all = False
    server = NoticeCentre(tmp_path, db_url, _sms(gw)).start()
    try:
        assert wait_for(lambda: len(gw.accepted) == 5, timeout=20)
        assert gw.received[-1]["phone"] == PHONES[ACCEPTED_2]
        assert Counter(gw.accepted) == Counter({i: 1 for i in gw.accepted})
        assert {r["id"] for r in gw.received[6:]} == {gw.accepted[-1]}  # no old one again
        stored = _every_value(server.store)
    finally:
        server.stop()
    for secret in (*PHONES.values(), CODE):  # sealed until sent, then dropped
        assert secret.encode() not in stored
        assert secret not in caplog.text
    assert "retry in" in caplog.text  # the 503s were logged, without the number


def test_a_gateway_that_does_not_answer_is_recorded_as_timeout_and_the_next_notice_goes(
        tmp_path, db_url, gateway):
    gw = gateway(hang=True)
    server = NoticeCentre(tmp_path, db_url, _sms(gw, read_timeout=0.3), max_attempts=2).start()
    queue = NoticeQueue(server.store)
    try:
        server.platform.step(ACCEPTED, lambda r, now: case_flow.request_correction(
            r, ["户口簿原件"], now))
        assert wait_for(lambda: queue.rows()[0]["state"] == "failed", timeout=20)
        failed = queue.rows()[0]
        assert (failed["reason"], failed["attempts"], failed["sent_at"]) == ("timeout", 2, None)
        assert len(gw.received) == 2
        gw.hang = False
        server.platform.step(RECEIVED, lambda r, now: case_flow.tolerate(r, ["照片"], now))
        assert wait_for(lambda: queue.rows()[-1]["state"] == "sent", timeout=20)
        assert gw.received[-1]["template"] == "tolerated"
    finally:
        gw.release.set()
        server.stop()


def test_the_gateway_adapter_retries_5xx_itself_and_takes_4xx_as_final(gateway):
    gw = gateway(script=[503, 502, 200, 400])
    sms = HttpSmsGateway(gw.url, "k", retries=2, retry_delay=0.01)
    from centre.notice_port import Phone
    ok = sms.send(7, Phone("13800138000"), "result_ready",
                  {"item_name": "事项", "case_no": "SJ1"})
    assert (ok.ok, ok.gateway_ref) == (True, "gw-centre-notice-7")
    assert [r["key"] for r in gw.received] == ["centre-notice-7"] * 3
    refused = sms.send(8, Phone("13800138000"), "result_ready",
                       {"item_name": "事项", "case_no": "SJ1"})
    assert (refused.ok, refused.reason, refused.retry) == (False, "gateway_400", False)
    assert len(gw.received) == 4
    assert repr(Phone("13800138000")) == "Phone(*******8000)"
    sms.close()


def test_the_default_log_adapter_keeps_the_notice_masked(tmp_path, db_url):
    server = NoticeCentre(tmp_path, db_url, LogNotices).start()
    log = LogNotices(server.store)
    try:
        _pickup_code(server)
        assert wait_for(lambda: len(log.entries()) == 1, timeout=20)
    finally:
        server.stop()
    entry, sent = log.entries()[0], NoticeQueue(server.store).rows()[0]
    server.store.close()  # read after the stop: its pool again
    assert entry["template"] == "pickup_code"
    assert entry["phone"] == "*******0010"
    assert "取件码******62" in entry["text"]
    assert CODE not in entry["text"]
    assert sent["gateway_ref"] == f"log-{entry['id']}"
