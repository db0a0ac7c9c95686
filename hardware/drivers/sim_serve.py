"""Serve a simulated RS-485 bus on a pseudo-terminal or on TCP (RTU over TCP, like a gateway).

One endpoint per bus, one background thread per endpoint. A pty or a socket delivers bytes at
once, so the answer is held back until the wire time at the configured baud has passed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import termios
import threading
import time
import tty
from collections.abc import Callable

from hardware.drivers.board_sim import SimBus
from hardware.drivers.sim_rtu import RequestReader, respond
from hardware.rtu_timing import frame_time, silent_interval

log = logging.getLogger(__name__)
SPIN_S = 0.0003  # sleep until this close to a deadline, then spin
FRAME_RESET_S = 0.05  # a partial frame older than this is line noise
_CHUNK_S = 0.05  # long waits are cut into chunks so stop() is prompt
IDLE_MARK_S = 0.02  # how often an idle pty renews its settings mark


def answer_delay(request_bytes: int, response_bytes: int, baud: int | None) -> float:
    """Seconds from a request fully written to its answer fully read (None: no wire timing).

    The request on the wire, the 3.5-character gap, the answer on the wire; the gap before the
    request is the client's to keep.
    """
    if baud is None:
        return 0.0
    return (frame_time(request_bytes, baud) + silent_interval(baud)
            + frame_time(response_bytes, baud))


def sleep_until(deadline: float, stop: threading.Event | None = None) -> bool:
    """Wait until perf_counter() reaches `deadline`, precisely; False if `stop` was set first."""
    while (remaining := deadline - time.perf_counter()) > 0:
        if stop is not None and stop.is_set():
            return False
        if remaining > SPIN_S:
            time.sleep(min(remaining - SPIN_S, _CHUNK_S))
    return True


def parse_tcp(address: str) -> tuple[str, int]:
    """`tcp://HOST:PORT` to (host, port); ValueError in plain words otherwise."""
    host, sep, port = address.removeprefix("tcp://").rpartition(":")
    if not address.startswith("tcp://") or not sep or not host or not port.isdigit() \
            or int(port) > 65535:
        raise ValueError(f"expected tcp://HOST:PORT, not {address!r}")
    return host.strip("[]"), int(port)


class Session:
    """One client's byte stream: reassemble requests, answer each after its wire time."""

    def __init__(self, bus: SimBus, baud: int | None, write: Callable[[bytes], None],
                 stop: threading.Event) -> None:
        self.bus, self.baud, self.write, self.stop = bus, baud, write, stop
        self.reader = RequestReader()
        self.last_rx = 0.0
        self._line_free = 0.0  # when our last answer finished on the wire

    def received(self, data: bytes, t: float) -> None:
        """Handle bytes that arrived at perf_counter() time `t`."""
        self.last_rx = t
        for request in self.reader.feed(data):
            reply = respond(self.bus, request)
            if reply.frame is None:
                continue
            start = max(t, self._line_free)
            deadline = start + reply.stall_s + answer_delay(
                len(request.frame), len(reply.frame), self.baud)
            if not sleep_until(deadline, self.stop):
                return
            self.write(reply.frame)
            self._line_free = time.perf_counter()

    def timeout(self) -> float | None:
        """Seconds until a partial frame counts as noise (None: nothing pending)."""
        if not self.reader.pending:
            return None
        return max(0.0, self.last_rx + FRAME_RESET_S - time.perf_counter())


class Endpoint:
    """A background thread serving one bus; subclasses open the medium and run the loop."""

    kind = "endpoint"

    def __init__(self, bus: SimBus, baud: int | None = 9600) -> None:
        self.bus, self.baud = bus, baud
        self.link = ""
        self._stop = threading.Event()
        self._running = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None

    def _open(self) -> None:
        raise NotImplementedError

    def _serve(self, sel: selectors.BaseSelector) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def start(self) -> str:
        """Open the medium, start serving; returns the link once the thread is serving."""
        self._open()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._main, name=f"sim-{self.kind}", daemon=True)
        self._thread.start()
        self._running.wait()
        return self.link

    def _main(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._wake_r, selectors.EVENT_READ)
            self._running.set()
            try:
                self._serve(sel)
            except Exception:
                log.exception("simulator %s on %s stopped", self.kind, self.link)

    def _woken(self, events: list) -> bool:
        return self._stop.is_set() or any(k.fd == self._wake_r for k, _ in events)

    def stop(self) -> None:
        """Stop serving, join the thread, release the medium; safe to call twice."""
        if self._thread is None:
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join()
        self._thread = None
        self._close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> Endpoint:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PtyEndpoint(Endpoint):
    """The bus behind a pseudo-terminal; clients open `link` (the slave) like a serial port.

    The slave stays open here, so clients may open and close it at will without the master
    seeing EIO. Before each answer the slave's unread input is flushed: whatever a vanished
    client left unread is not served to the next one.
    """

    kind = "pty"

    def _open(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.link = os.ttyname(self._slave)
        self._mark_settings()

    def _mark_settings(self) -> None:
        """Leave a mark (IGNBRK) in the slave's settings that every raw-mode client clears.

        A pty drops PARENB, and glibc's tcsetattr then fails (EINVAL) if nothing else changed:
        an 8E1 client could not reopen the pty or change its timeout. With the mark set, its
        settings always change something. Renewed when idle, on each request and each answer.
        """
        with contextlib.suppress(termios.error):
            attrs = termios.tcgetattr(self._slave)
            if not attrs[0] & termios.IGNBRK:
                attrs[0] |= termios.IGNBRK
                termios.tcsetattr(self._slave, termios.TCSANOW, attrs)

    def _write(self, frame: bytes) -> None:
        with contextlib.suppress(termios.error):
            termios.tcflush(self._slave, termios.TCIFLUSH)
        self._mark_settings()
        try:
            os.write(self._master, frame)
        except BlockingIOError:
            log.warning("pty %s full: answer dropped", self.link)

    def _serve(self, sel: selectors.BaseSelector) -> None:
        sel.register(self._master, selectors.EVENT_READ)
        session = Session(self.bus, self.baud, self._write, self._stop)
        while True:
            reset_in = session.timeout()
            events = sel.select(IDLE_MARK_S if reset_in is None else min(reset_in, IDLE_MARK_S))
            if self._woken(events):
                return
            if not events:
                if session.timeout() == 0.0:
                    session.reader.reset()
                self._mark_settings()
                continue
            try:
                data = os.read(self._master, 4096)
            except BlockingIOError:
                continue
            except OSError:  # no client side open at all (cannot happen while we hold it)
                self._stop.wait(0.01)
                continue
            t = time.perf_counter()
            self._mark_settings()
            session.received(data, t)

    def _close(self) -> None:
        os.close(self._master)
        os.close(self._slave)


class TcpEndpoint(Endpoint):
    """The bus behind a TCP port, RTU frames in the stream; a new connection replaces the old."""

    kind = "tcp"

    def __init__(self, bus: SimBus, baud: int | None = 9600,
                 address: str = "tcp://127.0.0.1:0") -> None:
        super().__init__(bus, baud)
        self.host, self.port = parse_tcp(address)

    def _open(self) -> None:
        self._listener = socket.create_server((self.host, self.port))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.link = f"tcp://{host}:{self.port}"

    def _serve(self, sel: selectors.BaseSelector) -> None:
        sel.register(self._listener, selectors.EVENT_READ)
        conn: socket.socket | None = None
        session: Session | None = None

        def drop() -> None:
            nonlocal conn, session
            if conn is not None:
                sel.unregister(conn)
                conn.close()
            conn, session = None, None

        def write(frame: bytes) -> None:
            if conn is not None:
                try:
                    conn.sendall(frame)
                except OSError:
                    drop()

        try:
            while True:
                events = sel.select(session.timeout() if session else None)
                if self._woken(events):
                    return
                if not events and session is not None:
                    session.reader.reset()
                for key, _ in events:
                    if key.fileobj is self._listener:
                        drop()
                        with contextlib.suppress(BlockingIOError):
                            conn, _peer = self._listener.accept()
                            conn.setblocking(True)
                            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                            sel.register(conn, selectors.EVENT_READ)
                            session = Session(self.bus, self.baud, write, self._stop)
                    elif key.fileobj is conn and conn is not None and session is not None:
                        try:
                            data = conn.recv(4096)
                        except OSError:
                            data = b""
                        if data:
                            session.received(data, time.perf_counter())
                        else:
                            drop()
        finally:
            drop()

    def _close(self) -> None:
        self._listener.close()


def open_endpoint(bus: SimBus, link: str = "pty", baud: int | None = 9600) -> Endpoint:
    """An endpoint (not yet started) for `pty` or `tcp://HOST:PORT`; ValueError otherwise."""
    if link == "pty":
        return PtyEndpoint(bus, baud)
    if link.startswith("tcp://"):
        return TcpEndpoint(bus, baud, link)
    raise ValueError(f"link must be pty or tcp://HOST:PORT, not {link!r}")
