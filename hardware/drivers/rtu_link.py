"""The one module that touches pyserial: Modbus RTU request/response on a serial port or TCP.

Framing, CRC and PDU coding come from pymodbus; this module only moves bytes, reading exactly
the response length the header announces, so no time is lost polling for "more data".
A link is a device path (`/dev/ttyUSB0`, a pty) or `tcp://HOST:PORT` (RTU over TCP, as serial
gateways speak).
"""

from __future__ import annotations

import termios
import time
from dataclasses import dataclass

import serial
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from hardware.drivers.serial_url import serial_url
from hardware.rtu_timing import silent_interval


class LinkError(Exception):
    """Base of the link's own errors; the bus owner turns them into the domain's."""


class LinkTimeout(LinkError):
    """No complete answer within the response timeout."""


class LinkCrcError(LinkError):
    """An answer arrived with a bad CRC (or from the wrong unit): noise on the line."""


class LinkClosed(LinkError):
    """The port could not be opened or went away (adapter unplugged, gateway down)."""


@dataclass(frozen=True)
class SerialSettings:
    """How to reach the bus: link, line settings and the response timeout."""

    link: str
    baud: int = 9600
    bytesize: int = 8
    parity: str = "E"
    stopbits: int = 1
    response_timeout: float = 0.15

    @property
    def is_pty(self) -> bool:
        """A pseudo-terminal (a simulator): no physical line, and Linux refuses parity on it."""
        return self.link.startswith("/dev/pts/")

    @property
    def url(self) -> str:
        """The pyserial URL: `tcp://` becomes pyserial's `socket://`."""
        return serial_url(self.link)


class RtuLink:
    """One RS-485 line (or gateway connection): send a request PDU, return the response PDU."""

    def __init__(self, settings: SerialSettings) -> None:
        self.settings = settings
        self._port: serial.Serial | None = None
        self._framer = FramerRTU(DecodePDU(is_server=False))
        self._decoder = self._framer.decoder
        self.last_activity = 0.0

    def open(self) -> None:
        """Open the port if it is not open; raises LinkClosed with the reason."""
        if self._port is not None:
            return
        s = self.settings
        parity = serial.PARITY_NONE if s.is_pty else s.parity
        # A device is opened exclusively (flock): a second bus master is refused (DESIGN §3).
        exclusive = {"exclusive": True} if s.link.startswith("/") else {}
        try:
            self._port = serial.serial_for_url(
                s.url, baudrate=s.baud, bytesize=s.bytesize, parity=parity,
                stopbits=s.stopbits, timeout=s.response_timeout,
                write_timeout=max(1.0, s.response_timeout), do_not_open=False, **exclusive,
            )
        except (serial.SerialException, OSError, ValueError, termios.error) as err:
            raise LinkClosed(f"cannot open {s.link}: {err}") from err

    def close(self) -> None:
        """Release the port."""
        if self._port is not None:
            try:
                self._port.close()
            finally:
                self._port = None

    def transact(self, request: ModbusPDU) -> ModbusPDU:
        """Send one request and read its answer; raises LinkTimeout, LinkCrcError or LinkClosed."""
        self.open()
        port = self._port
        assert port is not None
        frame = self._framer.buildFrame(request)
        try:
            if port.in_waiting:
                port.reset_input_buffer()  # a late answer to an earlier request
            port.write(frame)
            answer = self._read_answer(port, time.monotonic() + self.settings.response_timeout)
        except (serial.SerialException, OSError) as err:
            self.close()
            raise LinkClosed(f"{self.settings.link}: {err}") from err
        finally:
            self.last_activity = time.monotonic()
        crc = int.from_bytes(answer[-2:], "big")
        if not FramerRTU.check_CRC(answer[:-2], crc):
            self._drain()
            raise LinkCrcError("bad CRC")
        if answer[0] != request.dev_id:
            self._drain()  # a CRC-valid answer from another unit: the shape check refuses it
        pdu = self._decoder.decode(answer[1:-2])
        if pdu is None:
            raise LinkCrcError(f"undecodable answer {answer.hex(' ')}")
        pdu.dev_id = answer[0]
        return pdu

    def _read_exact(self, port: serial.Serial, n: int, deadline: float) -> bytes:
        data = b""
        while len(data) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            port.timeout = remaining
            chunk = port.read(n - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) < n:
            self._drain()
            raise LinkTimeout(f"no answer ({len(data)} of {n} bytes)")
        return data

    def _read_answer(self, port: serial.Serial, deadline: float) -> bytes:
        head = self._read_exact(port, 3, deadline)
        pdu_class = self._decoder.lookupPduClass(head)
        size = pdu_class.calculateRtuFrameSize(head) if pdu_class else 0
        if not size or size > FramerRTU.MAX_SIZE:
            self._drain()
            raise LinkCrcError(f"garbage on the line: {head.hex(' ')}")
        return head + self._read_exact(port, size - 3, deadline)

    def _drain(self) -> None:
        """After an error, let the line go quiet and drop whatever arrived late."""
        port = self._port
        if port is None:
            return
        time.sleep(silent_interval(self.settings.baud) * 2)
        try:
            port.reset_input_buffer()
        except (serial.SerialException, OSError):
            self.close()
