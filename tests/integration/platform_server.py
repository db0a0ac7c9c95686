"""A small real platform server for the tests: the routes of docs/platform-openapi.yaml.

stdlib ThreadingHTTPServer on 127.0.0.1, a free port, HTTP/1.1 keep-alive (optionally TLS).
Records every delivered message by key (how often each key was accepted, first-acceptance
order) and fails on demand: 503s (all the time, or the next n), dropped connections, slow
answers, refused keys, a wrong token. `wait_for` blocks on a condition, no polling.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from remote.platform_models import (
    Audience,
    CaseProgress,
    Guide,
    LockerAssignment,
    OutboundMessage,
)
from remote.wire import from_json, parse_time, to_json


def sample_guide(code: str, updated_at: datetime | None = None) -> Guide:
    """A complete guide with every element filled in (made-up content)."""
    return Guide(item_code=code, name_zh="测试事项", name_en="Test item",
                 audiences=(Audience.INDIVIDUAL,), topic_zh="测试", topic_en="Test",
                 department="测试局", legal_basis=("测试条例",), statutory_days=20,
                 promised_days=5, conditions=("无",), materials=(), fees="不收费",
                 procedure=("申请", "受理"), location="一楼", hours="24小时",
                 consult_phone="12345", complaint_phone="12345", faq=(), sample_forms=(),
                 common_mistakes=(), link="https://example.invalid/guide",
                 updated_at=updated_at)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    wbufsize = -1  # headers and body leave in one segment (with Nagle on, a split answer
    disable_nagle_algorithm = True  # waits ~40 ms for the client's delayed ACK)
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        p = self.server.platform
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        status = p.before(method, url.path)
        if status == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(status, int):
            self._answer(status, {"code": "unavailable" if status >= 500 else "refused"})
            return
        if self.headers.get("Authorization") != f"Bearer {p.token}":
            self._answer(401, {"code": "unauthorized"})
            return
        self._answer(*p.route(method, url.path, parse_qs(url.query), raw))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    platform: PlatformServer

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.live: set[socket.socket] = set()  # keep-alive connections, cut on stop()
        self.live_lock = threading.Lock()

    def process_request(self, request: socket.socket, client_address: object) -> None:
        with self.live_lock:
            self.live.add(request)
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def shutdown_request(self, request: socket.socket) -> None:
        with self.live_lock:
            self.live.discard(request)
        super().shutdown_request(request)  # type: ignore[arg-type]

    def cut_connections(self) -> None:
        with self.live_lock:
            live, self.live = list(self.live), set()
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out and hang up are part of the tests


class PlatformServer:
    """The server and its switches; `with PlatformServer() as server: server.url`."""

    def __init__(self, token: str = "test-token-not-a-secret", guides: tuple[Guide, ...] = (),
                 tls: tuple[str, str] | None = None) -> None:
        self.token = token
        self.guides = list(guides)
        self.cases: dict[str, tuple[CaseProgress, str]] = {}  # case_no -> (progress, id number)
        # case_no -> who may collect, or the 409 code saying why its result cannot go in
        self.assignments: dict[str, LockerAssignment | str] = {}
        self.messages: dict[str, dict] = {}
        self.accepted: Counter[str] = Counter()
        self.order: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.refuse_all = False
        self.fail_next: list[int] = []
        self.drop_next = 0
        self.delay_s = 0.0
        self.reject_keys: set[str] = set()
        self.fail_keys: set[str] = set()  # answered 503 while in the set
        self.on_put: Callable[[str], None] | None = None
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.platform = self
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def start(self) -> PlatformServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut the kept-alive connections: the platform is gone."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.cut_connections()
        self._thread.join(5)

    def __enter__(self) -> PlatformServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate()` holds (re-checked at every request); False on timeout."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def before(self, method: str, path: str) -> int | str | None:
        """Faults, in order: drop, delay, refuse; None to go on."""
        with self._cond:
            self.requests.append((method, path))
            self._cond.notify_all()
            if self.drop_next:
                self.drop_next -= 1
                return "drop"
            fail = self.fail_next.pop(0) if self.fail_next else None
        if self.delay_s:
            self._stopping.wait(self.delay_s)
        if self.refuse_all:
            return 503
        key = unquote(path.rsplit("/", 1)[-1])
        if method == "PUT" and key in self.fail_keys:
            return 503
        return fail

    def route(self, method: str, path: str, query: dict, raw: bytes) -> tuple[int, object]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and parts == ["v1", "health"]:
            return 200, {"status": "ok"}
        if method == "GET" and parts == ["v1", "guides"]:
            since = parse_time(query["since"][0]) if "since" in query else None
            chosen = [g for g in self.guides if since is None
                      or (g.updated_at is not None and g.updated_at > since)]
            return 200, {"guides": to_json(chosen)}
        if method == "POST" and len(parts) == 4 and parts[:2] == ["v1", "cases"] \
                and parts[3] == "progress":
            return self._progress(parts[2], raw)
        if method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "cases"] \
                and parts[3] == "locker-assignment":
            return self._assignment(parts[2])
        if method == "PUT" and len(parts) == 3 and parts[:2] == ["v1", "messages"]:
            return self._message(parts[2], raw)
        return 404, {"code": "not_found"}

    def _progress(self, case_no: str, raw: bytes) -> tuple[int, object]:
        proof = json.loads(raw or b"{}")
        if case_no not in self.cases:
            return 404, {"code": "case_not_found"}
        progress, id_number = self.cases[case_no]
        if proof.get("id_number") == id_number or proof.get("id_last6") == id_number[-6:]:
            return 200, to_json(progress)
        return 403, {"code": "identity_mismatch"}

    def _assignment(self, case_no: str) -> tuple[int, object]:
        found = self.assignments.get(case_no)
        if found is None:
            return 404, {"code": "case_not_found"}
        if isinstance(found, str):
            return 409, {"code": found}
        return 200, to_json(found)

    def _message(self, key: str, raw: bytes) -> tuple[int, object]:
        try:
            body = json.loads(raw)
            message = from_json(OutboundMessage, body)
        except ValueError:
            return 422, {"code": "invalid"}
        if message.key != key or key in self.reject_keys:
            return 422, {"code": "invalid"}
        if self.on_put is not None:
            self.on_put(key)
        with self._cond:
            first = key not in self.messages
            if not first and self.messages[key] != body:
                return 409, {"code": "key_conflict"}
            if first:
                self.messages[key] = body
                self.order.append(key)
            self.accepted[key] += 1
            self._cond.notify_all()
        now = to_json(datetime.now(UTC))
        return (201 if first else 200), {"key": key, "status": "accepted" if first
                                         else "duplicate", "received_at": now}
