"""Request size limits of the reference server, over HTTP on loopback (SQLite and PostgreSQL).

An oversize body is answered 413 `too_large` before it is read: a declared Content-Length at
once (a client that declares a gigabyte and sends nothing gets its answer), a chunked body as
soon as it passes the limit. A declaration's pages are checked per page and per declaration.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest
import requests

from hardware.drivers.document_camera_sim import SimDocumentCamera
from remote.platform_http import HttpPlatform
from remote.platform_models import MessageKind, OutboundMessage
from remote.platform_port import PlatformRejected
from remote.wire import to_json
from tests.integration.centre_server import TOKEN, CentreServer, centre  # noqa: F401

LIMIT = 64 * 1024
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CASE = "SJ20261116000047"


@pytest.fixture(params=["sqlite", "postgresql"])
def small(request, tmp_path):
    """A server whose bodies are limited to 64 KB."""
    db_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    server = CentreServer(tmp_path, db_url=db_url, max_body=LIMIT).start()
    yield server
    server.stop()


def _evaluation(key: str, comment: str = "") -> dict:
    return to_json(OutboundMessage(key, MessageKind.EVALUATION, CASE,
                                   {"level": 4, "comment": comment}, T0))


def _exchange(port: int, head: bytes, chunks: tuple[bytes, ...] | list[bytes] = ()) -> tuple[
        int, dict]:
    """Send a raw request (head, then the chunks as they are) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the rest: read what it said
        data = b""
        while b"\r\n\r\n" not in data or len(data) < _expected(data):
            got = sock.recv(65536)
            if not got:
                break
            data += got
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(body)


def _expected(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + 4 + int(line.split(b":")[1])
    return len(data) + 1


def _head(path: str, extra: str) -> bytes:
    return (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n").encode()


def test_a_declared_oversize_body_is_refused_before_it_is_read(small):
    # A gigabyte declared, nothing sent: an answer can only come without reading the body.
    status, body = _exchange(small.port, _head("/v1/messages/T1:evaluation:1",
                                               "Content-Length: 1000000000\r\n"))
    assert (status, body) == (413, {"code": "too_large"})
    big = json.dumps(_evaluation("T1:evaluation:2", "好" * LIMIT))
    answer = requests.put(f"{small.url}/v1/messages/T1:evaluation:2", data=big.encode(),
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert (answer.status_code, answer.json()) == (413, {"code": "too_large"})
    assert small.platform.message_counts() == {}


def test_a_chunked_body_is_cut_off_when_it_passes_the_limit(small):
    message = json.dumps(_evaluation("T1:evaluation:3", "x" * (2 * LIMIT))).encode()
    pieces = [message[i:i + 8192] for i in range(0, len(message), 8192)]
    chunks = [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces] + [b"0\r\n\r\n"]
    status, body = _exchange(small.port, _head("/v1/messages/T1:evaluation:3",
                                               "Transfer-Encoding: chunked\r\n"), chunks)
    assert (status, body) == (413, {"code": "too_large"})
    assert small.platform.message_counts() == {}
    # under the limit, chunked works as before
    fits = json.dumps(_evaluation("T1:evaluation:4", "y" * 1000)).encode()
    status, body = _exchange(small.port, _head("/v1/messages/T1:evaluation:4",
                                               "Transfer-Encoding: chunked\r\n"),
                             [f"{len(fits):x}\r\n".encode() + fits + b"\r\n0\r\n\r\n"])
    assert (status, body["status"]) == (201, "accepted")
    assert small.platform.message_counts() == {"evaluation": 1}


def _declaration(centre, number: str, pages: tuple[bytes, ...]) -> OutboundMessage:  # noqa: F811
    body = {"item_code": centre.store.guides()[0].item_code, "fields": {},
            "terminal_id": "T1", "pages": len(pages)}
    return OutboundMessage(f"declaration:{number}", MessageKind.DECLARATION, number, body, T0,
                           pages)


def test_pages_are_limited_and_must_be_images(centre):  # noqa: F811
    platform = HttpPlatform(centre.url, centre.token, connect_timeout=2, read_timeout=30,
                            retries=0)
    try:
        camera = SimDocumentCamera()
        twenty = tuple(camera.capture() for _ in range(20))  # the terminal's most
        sent = json.dumps(to_json(_declaration(centre, "SB20261123-T1-AAAAA", twenty)))
        with pytest.raises(PlatformRejected, match="422 no_identity"):
            platform.deliver(_declaration(centre, "SB20261123-T1-AAAAA", twenty))
        assert len(sent) < 8 * 1024 * 1024  # it passed the body limit: refused for its form
        for pages, refusal in [
                ((*twenty, twenty[0]), "422 too_many_pages"),
                ((b"\xff\xd8\xff" + bytes(2 * 1024 * 1024),), "413 page_too_large"),
                ((twenty[0], b"%PDF-1.7 not an image"), "422 bad_page")]:
            with pytest.raises(PlatformRejected, match=refusal):
                platform.deliver(_declaration(centre, "SB20261123-T1-BBBBB", pages))
        assert centre.platform.message_counts() == {}
    finally:
        platform.close()

