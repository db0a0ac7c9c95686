"""Size limits of the platform server: the request body, and a declaration's page images.

`BodyLimit` is ASGI middleware: a declared Content-Length over the limit is answered 413
before a byte of the body is read; a body without one (chunked) is counted as it streams in
and the read that passes the limit fails with HTTPException(413), which the app answers in
its error shape. `check_pages` accepts JPEG or PNG pages (by their magic bytes) within the
per-page and per-declaration limits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException

MB = 1024 * 1024
DEFAULT_MAX_BODY = 8 * MB  # 20 pages of a few hundred KB, base64, and the form
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass(frozen=True)
class PageLimits:
    """How many pages a declaration may carry, and how large (decoded bytes)."""

    max_pages: int = 20  # the terminal's own limit (terminal.declaration_flow.MAX_PAGES)
    max_page_bytes: int = 2 * MB
    max_total_bytes: int = 5 * MB  # base64: 6.7 MB, under the body limit with the form


class PageRefused(ValueError):
    """Pages the platform will not keep: `status` (413 or 422) and a short `code`."""

    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code
        super().__init__(f"{status} {code}")


def media_type(image: bytes) -> str | None:
    """`image/jpeg` or `image/png` by the leading magic bytes, else None."""
    return next((kind for magic, kind in MAGIC if image.startswith(magic)), None)


def check_pages(pages: Sequence[bytes], limits: PageLimits) -> list[str]:
    """The media type of every page, or PageRefused saying what is wrong."""
    if len(pages) > limits.max_pages:
        raise PageRefused(422, "too_many_pages")
    if any(len(p) > limits.max_page_bytes for p in pages):
        raise PageRefused(413, "page_too_large")
    if sum(len(p) for p in pages) > limits.max_total_bytes:
        raise PageRefused(413, "pages_too_large")
    kinds = [media_type(p) for p in pages]
    if None in kinds:
        raise PageRefused(422, "bad_page")
    return [k for k in kinds if k]


class BodyLimit:
    """ASGI middleware: request bodies of at most `max_body` bytes (else 413 `too_large`)."""

    def __init__(self, app: App, max_body: int = DEFAULT_MAX_BODY) -> None:
        if max_body < 1:
            raise ValueError("max_body: at least 1 byte")
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; cap a streamed one as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await _answer(send, 413, b'{"code":"too_large"}')
            return
        if declared == -1:
            await _answer(send, 400, b'{"code":"bad_request"}')
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise HTTPException(413)  # the app answers {"code": "too_large"}
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; None without one, -1 if it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
