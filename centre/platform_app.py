"""The platform reference server: docs/platform-openapi.yaml as a Starlette app (DESIGN §7).

Every route needs `Authorization: Bearer <token>`, one token per terminal (from the server's
configuration, never the repository), compared in constant time against every known token;
a terminal's token speaks for that terminal only (`centre.platform_binding`). The clerk's
routes (a declaration's page images) take the centre's staff token, never a terminal's.
Bodies are limited in size (`centre.platform_limits`, 413 before an oversize body is read).
Errors are `{"code": ...}` only: no echo of a request, no personal data, nothing of a body
logged. Database calls run in the thread pool, so the event loop never blocks on them; a
database that cannot be reached answers 503 (the terminal retries with back-off).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from centre.notice_sender import NoticeSender
from centre.platform_binding import claims_other_terminal
from centre.platform_limits import DEFAULT_MAX_BODY, BodyLimit
from centre.platform_pages import list_pages, open_page
from centre.platform_service import Answer, CentrePlatform
from centre.receipt_issuer import KeyRing
from remote.platform_models import OutboundMessage
from remote.wire import from_json, parse_time, to_json

log = logging.getLogger(__name__)
Handler = Callable[[Request, str], Awaitable[Response]]
NO_STORE = {"cache-control": "no-store"}  # document images: not kept by any cache
MAX_CASE_NO = 64
STAFF = "staff"  # who the staff token is (no terminal has that id: see create_app)


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"code": code}, status_code=status)


class Tokens:
    """Tokens by holder; `who(presented)` is the terminal id (or STAFF), in constant time."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        if not tokens or not all(tokens.values()):
            raise ValueError("at least one terminal token, none empty")
        if len(set(tokens.values())) != len(tokens):
            raise ValueError("one token per terminal: two terminals share a token")
        self._digests = [(tid, hashlib.sha256(tok.encode()).digest())
                         for tid, tok in tokens.items()]

    def who(self, presented: str) -> str | None:
        """The terminal whose token this is, or None (every token is compared, always)."""
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for tid, known in self._digests:
            if hmac.compare_digest(digest, known):
                found = tid
        return found


def create_app(platform: CentrePlatform, tokens: Mapping[str, str],
               keys: KeyRing | None = None, *, staff_token: str | None = None,
               max_body: int = DEFAULT_MAX_BODY, sender: NoticeSender | None = None) -> Starlette:
    """The ASGI app for `platform`, accepting the given terminal tokens (terminal id → token).

    `staff_token` opens the clerk's routes (none without it); `max_body` caps request bodies;
    `sender` (applicant notices) runs while the server does (ASGI lifespan: serve with it on).
    """
    if STAFF in tokens:
        raise ValueError(f"{STAFF!r} is not a terminal id")
    if staff_token is not None and staff_token in tokens.values():
        raise ValueError("the staff token must not be a terminal's")
    auth = Tokens({**tokens, STAFF: staff_token} if staff_token else tokens)

    def guarded(handler: Handler, staff: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            who = auth.who(token.strip()) if scheme.lower() == "bearer" else None
            if who is None:
                return _error(401, "unauthorized")
            if (who == STAFF) != staff:
                return _error(403, "staff_only" if staff else "terminal_only")
            try:
                return await handler(request, who)
            except Answer as err:
                return _error(err.status, err.code)
            except (OperationalError, IntegrityError):  # down, or a race with another process
                log.exception("database unavailable")  # statement parameters may be personal:
                return _error(503, "unavailable")  # sqlalchemy hides them (hide_parameters)
        return endpoint

    async def health(request: Request, terminal: str) -> Response:
        def ping() -> None:
            with platform.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        await run_in_threadpool(ping)
        return JSONResponse({"status": "ok", "time": to_json(datetime.now(UTC))})

    async def list_guides(request: Request, terminal: str) -> Response:
        since = None
        if "since" in request.query_params:
            try:
                since = parse_time(request.query_params["since"])
            except ValueError:
                return _error(400, "bad_request")
        found = await run_in_threadpool(platform.store.guides, since)
        return JSONResponse({"guides": to_json(found)})

    async def progress(request: Request, terminal: str) -> Response:
        case_no = _case_no(request)
        proof = await _json_body(request)
        if not isinstance(proof, dict) or len(proof) != 1 or not all(
                isinstance(v, str) for v in proof.values()) or \
                not set(proof) <= {"id_number", "id_last6"}:
            return _error(422, "invalid")
        found = await run_in_threadpool(platform.progress, case_no, proof.get("id_number"),
                                        proof.get("id_last6"))
        return JSONResponse(to_json(found))

    async def assignment(request: Request, terminal: str) -> Response:
        found = await run_in_threadpool(platform.assignment, _case_no(request))
        return JSONResponse(to_json(found))

    async def message(request: Request, terminal: str) -> Response:
        key = request.path_params["key"]
        data = await _json_body(request)
        try:
            msg = from_json(OutboundMessage, data)
        except (ValueError, TypeError, AttributeError):
            return _error(422, "invalid")
        if msg.key != key or not 0 < len(key) <= 200:
            return _error(422, "invalid")
        if claims_other_terminal(msg, terminal, tokens.keys()):
            return _error(403, "wrong_terminal")
        first = await run_in_threadpool(platform.deliver, msg, terminal)
        ack = {"key": key, "status": "accepted" if first else "duplicate",
               "received_at": to_json(datetime.now(UTC))}
        return JSONResponse(ack, status_code=201 if first else 200)

    async def public_keys(request: Request, terminal: str) -> Response:
        if keys is None:
            return _error(404, "no_keys")
        return JSONResponse(await run_in_threadpool(keys.jwks))

    async def pages(request: Request, who: str) -> Response:
        case_no = _case_no(request)
        found = await run_in_threadpool(list_pages, platform.store, case_no)
        if not found and not await run_in_threadpool(platform.case_exists, case_no):
            return _error(404, "case_not_found")
        return JSONResponse({"case_no": case_no, "pages": [
            {"position": p.position, "media_type": p.media_type, "size": p.size,
             "digest": p.digest} for p in found]}, headers=NO_STORE)

    async def page(request: Request, who: str) -> Response:
        position = request.path_params["position"]
        found = await run_in_threadpool(open_page, platform.store, _case_no(request), position)
        if found is None:
            return _error(404, "page_not_found")
        return Response(found[1], media_type=found[0], headers=NO_STORE)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "not_found", 405: "method_not_allowed",
                413: "too_large"}.get(status, "bad_request")
        return _error(status, code)

    routes = [
        Route("/v1/health", guarded(health), methods=["GET"]),
        Route("/v1/guides", guarded(list_guides), methods=["GET"]),
        Route("/v1/cases/{case_no}/progress", guarded(progress), methods=["POST"]),
        Route("/v1/cases/{case_no}/locker-assignment", guarded(assignment), methods=["GET"]),
        Route("/v1/messages/{key:path}", guarded(message), methods=["PUT"]),
        Route("/v1/keys", guarded(public_keys), methods=["GET"]),
        Route("/v1/cases/{case_no}/pages", guarded(pages, staff=True), methods=["GET"]),
        Route("/v1/cases/{case_no}/pages/{position:int}", guarded(page, staff=True),
              methods=["GET"]),
    ]
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if sender is not None:
            sender.start()
        try:
            yield
        finally:
            if sender is not None:
                await run_in_threadpool(sender.stop)

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error},
                     middleware=[Middleware(BodyLimit, max_body=max_body)], lifespan=lifespan)


def _case_no(request: Request) -> str:
    case_no = request.path_params["case_no"]
    if not 0 < len(case_no) <= MAX_CASE_NO:
        raise Answer(422, "invalid")
    return case_no


async def _json_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise Answer(422, "invalid") from None
