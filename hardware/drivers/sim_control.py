"""The simulator's control interface: JSON lines over TCP, and a client for tests and benches.

Each request is one JSON object `{"cmd": ..., ...}` on a line; each answer is one line,
`{"ok": true, ...}` or `{"ok": false, "error": "plain words"}`. The same handler serves
in-process callers directly, without a socket.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from hardware.drivers.board_sim import SimBoard, SimBus, SimError
from hardware.drivers.sim_bad_answers import AnswerFault
from hardware.drivers.sim_serve import parse_tcp

log = logging.getLogger(__name__)
MAX_LINE = 65536
CHANNEL_COMMANDS = ("close", "force", "jam", "unjam", "put", "take")
COMMANDS = ("state", *CHANNEL_COMMANDS, "offline", "online", "faults", "answer", "auto_close")


class ControlError(Exception):
    """The simulator refused a control command; the message is its plain-words error."""


def _number(req: dict, key: str, lo: float, hi: float | None = None) -> float:
    value = req[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < lo \
            or (hi is not None and value > hi):
        span = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
        raise SimError(f"{key} must be a number {span}, not {value!r}")
    return value


class ControlHandler:
    """Carries out control commands on a bus; never raises, always answers."""

    def __init__(self, bus: SimBus) -> None:
        self.bus = bus

    def _board(self, req: dict) -> SimBoard:
        if "unit" not in req:
            raise SimError("unit is missing")
        return self.bus.board(req["unit"])

    def _run(self, req: dict) -> dict:
        cmd = req.get("cmd")
        if cmd == "state":
            return self.bus.snapshot()
        if cmd in CHANNEL_COMMANDS:
            board = self._board(req)
            if "channel" not in req:
                raise SimError("channel is missing")
            getattr(board, cmd)(req["channel"])
            return {"channel": board.channel(req["channel"]).snapshot(req["channel"])}
        if cmd in ("offline", "online"):
            board = self._board(req)
            board.faults.offline = cmd == "offline"
            return {"faults": vars(board.faults).copy()}
        if cmd == "faults":
            board = self._board(req)
            limits = {"drop_rate": (0, 1), "crc_rate": (0, 1), "delay_ms": (0, None)}
            values = {k: _number(req, k, *limits[k]) for k in limits if req.get(k) is not None}
            for key, value in values.items():
                setattr(board.faults, key, value)
            return {"faults": vars(board.faults).copy()}
        if cmd == "answer":
            return self._answer(self._board(req), req)
        if cmd == "auto_close":
            ms = req.get("ms")
            self.bus.set_auto_close(None if ms is None else _number(req, "ms", 1))
            return {"auto_close_ms": ms}
        raise SimError(f"unknown command {cmd!r} (commands: {', '.join(COMMANDS)})")

    @staticmethod
    def _answer(board: SimBoard, req: dict) -> dict:
        """Spoil the board's answers: `fault` (none clears), `times` answers or until cleared."""
        names = [f.value for f in AnswerFault]
        if req.get("fault") not in names:
            raise SimError(f"fault must be one of {', '.join(names)}, not {req.get('fault')!r}")
        times = None if req.get("times") is None else int(_number(req, "times", 1))
        if times is not None and times != req["times"]:
            raise SimError(f"times must be a whole number, not {req['times']!r}")
        board.faults.answer = req["fault"]
        board.faults.answer_times = None if req["fault"] == "none" else times
        return {"faults": vars(board.faults).copy()}

    def handle(self, req: Any) -> dict:
        """Answer one request object."""
        if not isinstance(req, dict):
            return {"ok": False, "error": "a request must be a JSON object with a cmd"}
        try:
            with self.bus.lock:
                return {"ok": True, **self._run(req)}
        except SimError as err:
            return {"ok": False, "error": str(err)}

    def handle_line(self, line: bytes) -> bytes:
        """Answer one JSON line with one JSON line."""
        try:
            req = json.loads(line)
        except ValueError as err:
            answer = {"ok": False, "error": f"not JSON: {err}"}
        else:
            answer = self.handle(req)
        return json.dumps(answer).encode() + b"\n"


class ControlServer:
    """JSON lines over TCP (loopback by default); a thread per client, any number of clients."""

    def __init__(self, handler: ControlHandler, address: str = "tcp://127.0.0.1:0") -> None:
        self.handler = handler
        self.host, self.port = parse_tcp(address)
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        """`tcp://HOST:PORT` with the port actually bound."""
        return f"tcp://{self.host}:{self.port}"

    def start(self) -> str:
        """Bind and start accepting; returns the address (connections queue from here on)."""
        self._listener = socket.create_server((self.host, self.port))
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop, self._listener)
        return self.address

    def _spawn(self, target: Callable[[socket.socket], None], sock: socket.socket) -> None:
        thread = threading.Thread(target=target, args=(sock,), name="sim-control", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _peer = listener.accept()
            except OSError:
                return  # closed by stop()
            with self._lock:
                self._conns.add(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn.makefile("rb") as lines:
                while line := lines.readline(MAX_LINE):
                    if line.strip():
                        conn.sendall(self.handler.handle_line(line))
        except OSError:
            pass  # the client went away
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def stop(self) -> None:
        """Close the listener and every client connection, and join their threads."""
        if self._listener is None:
            return
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._listener = None
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
            self._threads.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimControl:
    """Client of the control interface: `tcp://HOST:PORT`, or in-process with a handler or bus."""

    def __init__(self, target: str | ControlHandler | SimBus, timeout: float = 5.0) -> None:
        if isinstance(target, SimBus):
            target = ControlHandler(target)
        self._handler = target if isinstance(target, ControlHandler) else None
        self._address = None if self._handler else parse_tcp(str(target))
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._lines: Any = None
        self._lock = threading.Lock()

    def call(self, cmd: str, **args: Any) -> dict:
        """Send one command; returns the answer, or raises ControlError with its error."""
        req = {"cmd": cmd, **args}
        if self._handler is not None:
            answer = self._handler.handle(json.loads(json.dumps(req)))
        else:
            with self._lock:
                answer = self._exchange(req)
        if not answer.get("ok"):
            raise ControlError(answer.get("error", "no reason given"))
        return answer

    def _exchange(self, req: dict) -> dict:
        if self._sock is None:
            assert self._address is not None
            self._sock = socket.create_connection(self._address, timeout=self.timeout)
            self._lines = self._sock.makefile("rb")
        try:
            self._sock.sendall(json.dumps(req).encode() + b"\n")
            line = self._lines.readline(MAX_LINE)
        except OSError:
            self.disconnect()
            raise
        if not line:
            self.disconnect()
            raise ControlError("the simulator closed the control connection")
        return json.loads(line)

    def disconnect(self) -> None:
        """Close the TCP connection (the next call reconnects)."""
        if self._lines is not None:
            self._lines.close()
        if self._sock is not None:
            self._sock.close()
        self._sock, self._lines = None, None

    def __enter__(self) -> SimControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def state(self) -> dict:
        """Every board: faults, counters and channels (door_open, items, jammed, unlocks)."""
        return self.call("state")

    def channel(self, unit: int, channel: int) -> dict:
        """One channel's state."""
        board = next(b for b in self.state()["boards"] if b["unit"] == unit)
        return board["channels"][channel]

    def close(self, unit: int, channel: int) -> dict:
        """Push the door shut."""
        return self.call("close", unit=unit, channel=channel)

    def force(self, unit: int, channel: int) -> dict:
        """Open the door with no command behind it (a break-in)."""
        return self.call("force", unit=unit, channel=channel)

    def jam(self, unit: int, channel: int) -> dict:
        """Unlock pulses stop opening this door."""
        return self.call("jam", unit=unit, channel=channel)

    def unjam(self, unit: int, channel: int) -> dict:
        """The lock works again."""
        return self.call("unjam", unit=unit, channel=channel)

    def put(self, unit: int, channel: int) -> dict:
        """Put an item in (the door must be open)."""
        return self.call("put", unit=unit, channel=channel)

    def take(self, unit: int, channel: int) -> dict:
        """Take an item out (the door must be open)."""
        return self.call("take", unit=unit, channel=channel)

    def offline(self, unit: int) -> dict:
        """The board stops answering."""
        return self.call("offline", unit=unit)

    def online(self, unit: int) -> dict:
        """The board answers again."""
        return self.call("online", unit=unit)

    def faults(self, unit: int, *, drop_rate: float | None = None, crc_rate: float | None = None,
               delay_ms: float | None = None) -> dict:
        """Set the given fault rates / stall on a board (None: leave as is)."""
        return self.call("faults", unit=unit, drop_rate=drop_rate, crc_rate=crc_rate,
                         delay_ms=delay_ms)

    def answer(self, unit: int, fault: str, times: int | None = None) -> dict:
        """Spoil a board's answers (short, wrong_unit, wrong_function, wrong_echo, lost_ack).

        `times`: that many affected answers, then normal again; None: until `fault="none"`.
        """
        return self.call("answer", unit=unit, fault=fault, times=times)

    def auto_close(self, ms: float | None) -> dict:
        """Doors close by themselves `ms` after opening (None: only when told)."""
        return self.call("auto_close", ms=ms)
