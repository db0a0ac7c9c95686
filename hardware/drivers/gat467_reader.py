"""The one module that touches pyserial for the ID-card reader: GA/T 467 over a serial port.

Find, select, read basic info (DESIGN §5). Damaged frames in either direction are sent again
once; everything else becomes the port's CardReadFailed (this card: place it again) or
ReaderUnavailable (the reader: port, silence, garbage, SAM faults). The link is a device path
(`/dev/ttyUSB0`, a pty from the simulator) or any pyserial URL.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import NoReturn

import serial

from hardware.drivers.gat467_card_text import decode_basic_info
from hardware.drivers.gat467_protocol import (
    CARD_ERRORS,
    LINK_ERRORS,
    Answer,
    CardDataError,
    Command,
    ProtocolError,
    Status,
    build_request,
    parse_answer,
    split_frame,
)
from hardware.id_reader import (
    CardReaderError,
    CardReadFailed,
    IdCard,
    IdCardReader,
    ReaderUnavailable,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderSettings:
    """How to reach the reader and how long to wait for it."""

    link: str
    baud: int = 115200
    response_timeout: float = 0.5  # find, select, status: the SAM answers in tens of ms
    read_timeout: float = 3.0  # read basic info: the SAM talks to the card for about a second
    poll_interval: float = 0.2  # between finds while waiting for a card
    retries: int = 1  # resends of a command whose frame was damaged on the line


class Gat467Reader(IdCardReader):
    """A GA/T 467 SAM reader on a serial line (8N1)."""

    def __init__(self, settings: ReaderSettings) -> None:
        super().__init__(poll_interval=settings.poll_interval)
        self.settings = settings
        self._port: serial.Serial | None = None
        self._lock = threading.Lock()
        self._failing = False

    def open(self) -> serial.Serial:
        """Open the port if it is not open; raises ReaderUnavailable with the reason."""
        if self._port is None:
            s = self.settings
            try:
                self._port = serial.serial_for_url(
                    s.link, baudrate=s.baud, bytesize=8, parity="N", stopbits=1,
                    timeout=s.response_timeout, write_timeout=1.0, exclusive=True,
                )
            except (serial.SerialException, OSError, ValueError) as err:
                message = f"cannot open the ID-card reader on {s.link}: {err}"
                raise ReaderUnavailable(message) from err
        return self._port

    def close(self) -> None:
        """Release the port."""
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                log.debug("closing %s failed", self.settings.link)

    def check(self) -> None:
        """Ask the SAM for its status; raises ReaderUnavailable unless it answers "success"."""
        answer = self._command(Command.SAM_STATUS, self.settings.response_timeout)
        if not answer.is_success():
            self._reader_fault(answer)

    def _card_present(self, still_expected: bool) -> bool:
        answer = self._command(Command.FIND, self.settings.response_timeout)
        if answer.is_success(Status.FOUND):
            return True
        if answer.status is Status.FIND_FAILED:
            if still_expected:  # some readers stop finding a card already read; it still selects
                return self._command(Command.SELECT, self.settings.response_timeout).is_success()
            return False
        self._fail(answer)

    def _read_present_card(self) -> IdCard:
        selected = self._command(Command.SELECT, self.settings.response_timeout)
        if not selected.is_success():
            self._fail(selected)
        answer = self._command(Command.READ_BASIC, self.settings.read_timeout)
        if not answer.is_success():
            self._fail(answer)
        try:
            return decode_basic_info(answer.data)
        except CardDataError as err:
            raise CardReadFailed(f"the ID card's data could not be understood ({err})") from err

    def _fail(self, answer: Answer) -> NoReturn:
        """Turn an unsuccessful answer into the port's exception."""
        if answer.status not in CARD_ERRORS:
            self._reader_fault(answer)
        if self._card_gone():
            raise CardReadFailed(
                "the ID card was taken away before it had been read: place it on the reader "
                "again and hold it still", removed=True,
            )
        raise CardReadFailed(f"the ID card could not be read: {_describe(answer)}")

    def _reader_fault(self, answer: Answer) -> NoReturn:
        raise ReaderUnavailable(f"the ID-card reader reports a fault: {_describe(answer)}")

    def _card_gone(self) -> bool:
        """After a card error: has the card gone? False when that cannot be told."""
        try:
            answer = self._command(Command.FIND, self.settings.response_timeout)
        except CardReaderError:
            return False
        return answer.status is Status.FIND_FAILED

    def _command(self, command: Command, timeout: float) -> Answer:
        """Send one command and return the answer, resending it when a frame was damaged."""
        with self._lock:
            try:
                answer = self._send_with_retries(command, timeout)
            except ReaderUnavailable as err:
                if not self._failing:
                    log.warning("ID-card reader unavailable: %s", err)
                self._failing = True
                raise
            if self._failing:
                log.info("ID-card reader on %s answers again", self.settings.link)
            self._failing = False
            return answer

    def _send_with_retries(self, command: Command, timeout: float) -> Answer:
        problem = ""
        for _ in range(self.settings.retries + 1):
            try:
                answer = self._exchange(build_request(command), timeout)
            except ProtocolError as err:
                problem = f"damaged answer: {err}"
                continue
            if answer.status not in LINK_ERRORS:
                return answer
            problem = _describe(answer)
        raise ReaderUnavailable(
            f"the ID-card reader on {self.settings.link} and this terminal cannot understand "
            f"each other ({problem}); check the cable and the baud rate ({self.settings.baud})"
        )

    def _exchange(self, request: bytes, timeout: float) -> Answer:
        """Write one request, read one answer frame (skipping garbage before its preamble)."""
        link = self.settings.link
        port = self.open()
        received = 0
        try:
            if port.in_waiting:
                port.reset_input_buffer()  # a late answer to an earlier request
            port.write(request)
            deadline = time.monotonic() + timeout
            buffer = b""
            while (remaining := deadline - time.monotonic()) > 0:
                port.timeout = remaining
                chunk = port.read(max(1, port.in_waiting))
                if not chunk:
                    break
                received += len(chunk)
                frame, buffer = split_frame(buffer + chunk)
                if frame is not None:
                    return parse_answer(frame)
        except (serial.SerialException, OSError, ValueError) as err:
            self.close()
            raise ReaderUnavailable(f"lost the ID-card reader on {link}: {err}") from err
        if not received:
            raise ReaderUnavailable(f"the ID-card reader on {link} did not answer in {timeout} s")
        raise ReaderUnavailable(
            f"the ID-card reader on {link} sent {received} bytes but no complete answer within "
            f"{timeout} s (wrong baud rate, or not a GA/T 467 reader?)"
        )


def _describe(answer: Answer) -> str:
    code = f"{answer.sw1:02X} {answer.sw2:02X} {answer.sw3:02X}"
    status = answer.status
    return f"{status.meaning if status else 'unknown status'} ({code})"
