"""The platform reference server (centre/) on a free loopback port, for integration tests.

uvicorn runs the real Starlette app in a background thread over a database seeded from
assets/catalogue; `CentreServer.url` is what HttpPlatform connects to. The `centre` fixture runs
every test twice: over a SQLite file in a temporary directory, and over a fresh database of a
throwaway PostgreSQL cluster (tests/integration/postgres_server.py, started once per session).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from centre.platform_app import create_app
from centre.platform_service import CentrePlatform
from centre.platform_store import PlatformStore
from centre.receipt_issuer import KeyRing
from remote.platform_local import DEFAULT_CATALOGUE

TOKEN = "centre-test-token-not-a-secret"  # terminal T1's
OTHER_TOKEN = "other-terminal-token"  # terminal T2's
STAFF_TOKEN = "centre-staff-token-not-a-secret"  # the clerk's routes
ID_SECRET = b"centre-test-identity-secret-0000"


class CentreServer:
    """A started server: `url`, `token` (terminal T1's), `platform` (its state), `keys`."""

    def __init__(self, directory: Path, seed: bool = True, db_url: str | None = None,
                 max_body: int | None = None) -> None:
        self.token = TOKEN
        self.db_url = db_url or f"sqlite:///{directory / 'platform.db'}"
        self.backend = self.db_url.split(":", 1)[0].split("+", 1)[0]  # sqlite | postgresql
        self.store = PlatformStore(self.db_url, ID_SECRET)
        if seed:
            self.store.seed(DEFAULT_CATALOGUE)
        self.platform = CentrePlatform(self.store)
        self.keys = KeyRing(directory / "keys")
        limit = {"max_body": max_body} if max_body else {}
        app = create_app(self.platform, {"T1": TOKEN, "T2": OTHER_TOKEN}, self.keys,
                         staff_token=STAFF_TOKEN, **limit)
        self.down = False  # when True every request is answered 503 (an outage upstream)
        self.requests: list[tuple[str, str, int]] = []  # method, path, status
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(self._outage(app), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off", ws="none",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _outage(self, app):
        """The app behind a switch that answers 503, recording every request's status."""
        async def wrapped(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            where = (scope["method"], scope["path"])
            if self.down:
                self.requests.append((*where, 503))
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/json")]})
                return await send({"type": "http.response.body",
                                   "body": b'{"code":"unavailable"}'})

            async def recording(event):
                if event["type"] == "http.response.start":
                    self.requests.append((*where, event["status"]))
                await send(event)
            return await app(scope, receive, recording)
        return wrapped

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CentreServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("centre server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self.store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def centre(request, tmp_path):
    db_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    server = CentreServer(tmp_path, db_url=db_url).start()
    yield server
    server.stop()
