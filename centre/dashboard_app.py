"""The fleet dashboard: a Starlette app over the monitor's state, store and command sender.

Pages: sign-in, the fleet (a page of terminals, trouble first, with filters, search and the
fleet's counts; alarms with acknowledge; availability and alert plots) and one terminal
(compartment grid, recent events, commands with their acks), and the operating report over a
period (centre/monitor_report.py; rendered once, no stream).
Pages render once and then follow `/events`, a Server-Sent Events stream that pushes the JSON
the page draws from whenever the state changes: live without reload, and no websocket stack.
The fleet page's stream sends its page once, then the counts and its changed rows only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from centre.dashboard_auth import COOKIE, LoginThrottle, Session, SessionSigner
from centre.fleet_view import FILTERS, FleetQuery, PageFollower, build
from centre.monitor_commands import ALLOWED, COMMANDS, CommandRefused, CommandSender
from centre.monitor_report import Period, build_report
from centre.monitor_report_format import HEADERS, availability_bars, table_row
from centre.monitor_state import FleetState
from centre.monitor_store import MonitorStore

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


class Dashboard:
    """Holds what the routes need; `app` is the ASGI application."""

    def __init__(self, state: FleetState, store: MonitorStore, sender: CommandSender | None,
                 *, signer: SessionSigner | None = None,
                 samples: Callable[[], list] | None = None, poll_s: float = 0.5) -> None:
        self.state, self.store, self.sender = state, store, sender
        self.signer = signer or SessionSigner()
        self.throttle = LoginThrottle()
        self.samples = samples or (lambda: [])
        self.poll_s = poll_s
        self.stopping = False
        self.app = Starlette(routes=[
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/", self.fleet_page),
            Route("/terminal/{tid}", self.terminal_page),
            Route("/report", self.report_page),
            Route("/api/fleet", self.api_fleet),
            Route("/api/terminal/{tid}", self.api_terminal),
            Route("/events", self.events),
            Route("/alerts/ack", self.ack, methods=["POST"]),
            Route("/terminal/{tid}/command", self.command, methods=["POST"]),
        ])

    def _session(self, request: Request) -> Session | None:
        return self.signer.check(request.cookies.get(COOKIE))

    async def _form(self, request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body).items()}

    def _csrf_ok(self, request: Request, form: dict[str, str]) -> bool:
        token = form.get("csrf") or request.headers.get("x-csrf-token")
        return self.signer.csrf_ok(request.cookies.get(COOKIE), token)

    async def login(self, request: Request) -> Response:
        """The sign-in form, and checking it."""
        error = ""
        if request.method == "POST":
            form = await self._form(request)
            name = form.get("user", "")
            if self.throttle.locked(name):
                return TEMPLATES.TemplateResponse(request, "login.html", {
                    "error": "尝试次数过多，请稍后再试 / too many attempts, try again later"},
                    status_code=429)
            role = await asyncio.to_thread(self.store.authenticate, name,
                                           form.get("password", ""))
            if role is None:
                self.throttle.failed(name)
            else:
                self.throttle.succeeded(name)
                response = RedirectResponse("/", status_code=303)
                response.set_cookie(COOKIE, self.signer.issue(name, role), httponly=True,
                                    samesite="strict")
                return response
            error = "用户名或密码错误 / wrong name or password"
        return TEMPLATES.TemplateResponse(request, "login.html", {"error": error},
                                          status_code=401 if error else 200)

    async def logout(self, request: Request) -> Response:
        """Forget the session cookie."""
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    def _page(self, request: Request, template: str, **ctx: object) -> Response:
        session = self._session(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        cookie = request.cookies[COOKIE]
        allowed = [c for c in COMMANDS if c in ALLOWED.get(session.role, ())]
        return TEMPLATES.TemplateResponse(request, template, {
            "session": session, "csrf": self.signer.csrf(cookie), "centre": self.state.centre,
            "allowed": allowed, **ctx})

    async def fleet_page(self, request: Request) -> Response:
        """A page of the centre's terminals; the URL carries filter, search and page."""
        query = FleetQuery.from_params(request.query_params)
        return self._page(request, "fleet.html", query=query, filters=FILTERS)

    async def terminal_page(self, request: Request) -> Response:
        """One terminal: compartment grid, events, commands."""
        return self._page(request, "terminal.html", tid=request.path_params["tid"])

    async def report_page(self, request: Request) -> Response:
        """The operating report (`?from=&to=` days, or `?days=`; default the last 7 days)."""
        if self._session(request) is None:
            return RedirectResponse("/login", status_code=303)
        params = request.query_params
        error = ""
        try:
            days = float(params["days"]) if params.get("days") else None
            period = Period.parse(params.get("from"), params.get("to"), days)
        except ValueError:
            error, period = "日期无效 / invalid date", Period.last_days(7)
        report = await asyncio.to_thread(build_report, self.store, period,
                                         params.get("terminal") or None)
        if params.get("format") == "json":
            return JSONResponse(report.to_json())
        bars, left_out = availability_bars(report)
        return self._page(request, "report.html", report=report, headers=HEADERS,
                          rows=[table_row(r) for r in report.terminals],
                          total=table_row(report.centre), bars=bars, left_out=left_out,
                          error=error, params=params)

    def _fleet_json(self, since: int = -1) -> dict:
        return {**self.state.fleet_since(since), "samples": list(self.samples())}

    async def api_fleet(self, request: Request) -> Response:
        """A page of the fleet and its counts as JSON (`?filter=&q=&page=&per_page=`).

        `?all=1` gives every terminal, as before paging.
        """
        if self._session(request) is None:
            return JSONResponse({"error": "sign in"}, status_code=401)
        if request.query_params.get("all") == "1":
            return JSONResponse(self._fleet_json())
        query = FleetQuery.from_params(request.query_params)
        page = await asyncio.to_thread(build, self.state, query)
        return JSONResponse({**page.to_json(), "samples": list(self.samples())})

    async def api_terminal(self, request: Request) -> Response:
        """One terminal as JSON."""
        if self._session(request) is None:
            return JSONResponse({"error": "sign in"}, status_code=401)
        detail = self.state.detail(request.path_params["tid"])
        return JSONResponse(detail) if detail else JSONResponse({}, status_code=404)

    async def events(self, request: Request) -> Response:
        """Server-Sent Events: the page's JSON again whenever the state changed."""
        if self._session(request) is None:
            return JSONResponse({"error": "sign in"}, status_code=401)
        tid = request.query_params.get("terminal")
        follower = PageFollower(self.state, FleetQuery.from_params(request.query_params))

        async def stream() -> AsyncIterator[str]:
            seen = -1
            idle = 0.0
            while not self.stopping and not await request.is_disconnected():
                version = self.state.version
                data = None
                if tid and version != seen:
                    data = self.state.detail(tid)
                elif not tid and version != seen:  # the fleet: its page, then changes
                    data = await asyncio.to_thread(follower.next)  # O(fleet): off the loop
                    if data is not None:
                        data["samples"] = list(self.samples())
                if version != seen:
                    seen, idle = version, 0.0
                if data is not None:
                    yield f"data: {json.dumps(data, default=str, ensure_ascii=False)}\n\n"
                elif idle > 15:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                await asyncio.sleep(self.poll_s)
                idle += self.poll_s

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def ack(self, request: Request) -> Response:
        """Acknowledge one alert of one terminal."""
        session, form = self._session(request), await self._form(request)
        if session is None or not self._csrf_ok(request, form):
            return JSONResponse({"error": "sign in"}, status_code=403)
        ok = self.state.acknowledge(form.get("terminal", ""), form.get("key", ""), session.user)
        return JSONResponse({"ok": ok}, status_code=200 if ok else 404)

    async def command(self, request: Request) -> Response:
        """Send a signed command to this terminal; the ack arrives through `/events`."""
        session, form = self._session(request), await self._form(request)
        if session is None or not self._csrf_ok(request, form):
            return JSONResponse({"error": "sign in"}, status_code=403)
        if self.sender is None:
            return JSONResponse({"error": "commands are not configured"}, status_code=503)
        args = {"compartment": form.get("compartment", "").strip()}
        try:
            req_id = self.sender.send(request.path_params["tid"], form.get("command", ""),
                                      args, session.user, session.role)
        except CommandRefused as err:
            return JSONResponse({"error": str(err)}, status_code=403)
        return JSONResponse({"req_id": req_id})
