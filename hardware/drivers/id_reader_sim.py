"""A simulated GA/T 467 ID-card reader on a pseudo-terminal, with switches to misbehave.

The card model: `present(card)` puts a card on the reader, where it stays until `remove()`.
The switches (plain attributes, set from any thread) make the reader go silent, damage its
answers, send noise before them, lose the card in the middle of a read, or stop "finding" a
card it has already read (as some real readers do). The driver connects to `link` like to a
serial port. Test cards come from `fake_card`: names like 测试一 and ID numbers with region
code 000000, which no real person holds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import select
import selectors
import threading
import tty
from collections import Counter
from datetime import date

from hardware.drivers.gat467_card_text import encode_basic_info
from hardware.drivers.gat467_protocol import (
    ChecksumError,
    Command,
    ProtocolError,
    Status,
    build_answer,
    parse_request,
    split_frame,
)
from hardware.id_reader import IdCard, Sex

log = logging.getLogger(__name__)

FAKE_REGION = "000000"  # no such administrative division: these numbers are never real
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_NUMERALS = "零一二三四五六七八九"


def id_check_character(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def fake_id_number(seq: int, birth: date) -> str:
    """A well-formed ID number (check character right) in region 000000: obviously fake."""
    first17 = f"{FAKE_REGION}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_character(first17)


def fake_card(n: int = 1, **changes: object) -> IdCard:
    """Test card number `n` (测试一, 测试二, …); keyword arguments replace fields."""
    birth = date(2000, 1, 1)
    card = IdCard(
        name="测试" + (_NUMERALS[n] if 0 < n < 10 else str(n)),
        sex=Sex.MALE if n % 2 else Sex.FEMALE,
        ethnicity="汉",
        birth_date=birth,
        address=f"测试省测试市测试区测试路{n}号",
        id_number=fake_id_number(n, birth),
        authority="测试市公安局测试分局",
        valid_from=date(2020, 1, 1),
        valid_to=date(2040, 1, 1),
        photo=(b"FAKE-WLT" + n.to_bytes(4, "big")).ljust(1024, b"\x00"),
    )
    return dataclasses.replace(card, **changes)  # type: ignore[arg-type]


class SimIdReader:
    """A card model and a reader answering GA/T 467 frames on a pty it creates."""

    def __init__(self, card: IdCard | None = None) -> None:
        self.link = ""
        self.remove_mid_read = False  # the next read fails (00 00 41) and the card is gone
        self.corrupt_answers = 0  # how many of the next answers carry a wrong checksum
        self.silent = False  # answer nothing at all (unplugged, switched off)
        self.garbage_prefix = b""  # noise sent before every answer
        self.find_fails_after_read = False  # a card already read is not found, but selects
        self.counts: Counter[str] = Counter()  # requests seen, by command name
        self._card = card
        self._selected = self._read = False
        self._lock = threading.Lock()
        self._seen = threading.Condition()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: tuple[int, int, int, int] | None = None

    # --- the card model ----------------------------------------------------------------------

    @property
    def card(self) -> IdCard | None:
        """The card on the reader, if any."""
        return self._card

    def present(self, card: IdCard) -> None:
        """Put `card` on the reader (replacing any card there); it stays until `remove`."""
        with self._lock:
            self._card, self._selected, self._read = card, False, False

    def remove(self) -> None:
        """Take the card away."""
        with self._lock:
            self._card, self._selected, self._read = None, False, False

    def respond(self, frame: bytes) -> bytes | None:
        """The reader's answer to one complete request frame (None: it stays silent)."""
        try:
            request = parse_request(frame)
            command = request.command
        except ChecksumError:
            command, sw3, data = None, Status.BAD_CHECKSUM, b""
        except ProtocolError:
            command, sw3, data = None, Status.BAD_LENGTH, b""
        else:
            with self._lock:
                sw3, data = self._answer(command)
        with self._seen:
            self.counts[command.name if command else "other"] += 1
            self._seen.notify_all()
        if self.silent:
            return None
        answer = build_answer(sw3, data)
        if self.corrupt_answers > 0:
            self.corrupt_answers -= 1
            answer = answer[:-1] + bytes([answer[-1] ^ 0x5A])
        return self.garbage_prefix + answer

    def wait_requests(self, name: str, count: int, timeout: float) -> bool:
        """Block until `count` requests of command `name` were seen; False on timeout."""
        with self._seen:
            return self._seen.wait_for(lambda: self.counts[name] >= count, timeout)

    def _answer(self, command: Command | None) -> tuple[int, bytes]:
        card = self._card
        if command is Command.FIND:
            if card is None or (self.find_fails_after_read and self._read):
                return Status.FIND_FAILED, b""
            return Status.FOUND, bytes(4)
        if command is Command.SELECT:
            if card is None:
                return Status.SELECT_FAILED, b""
            self._selected = True
            return Status.OK, bytes(8)
        if command is Command.READ_BASIC:
            if card is None or self.remove_mid_read:
                self.remove_mid_read = False
                self._card, self._selected, self._read = None, False, False
                return Status.READ_FAILED, b""
            if not self._selected:
                return Status.NOT_PERMITTED, b""
            self._read = True
            return Status.OK, encode_basic_info(card)
        if command in (Command.SAM_STATUS, Command.RESET_SAM):
            return Status.OK, b""
        if command is Command.READ_SAM_ID:
            return Status.OK, bytes(16)
        return Status.BAD_COMMAND, b""

    # --- serving on a pty --------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> str:
        """Create the pty and serve on it; returns the link once the reader is listening."""
        if self._thread is not None:
            return self.link
        master, slave = os.openpty()
        tty.setraw(slave)  # raw, no echo: the driver reads only what the reader sends
        os.set_blocking(master, False)
        wake_r, wake_w = os.pipe()
        self._fds = (master, slave, wake_r, wake_w)
        self.link = os.ttyname(slave)
        self._ready.clear()
        self._thread = threading.Thread(target=self._serve, name="sim-id-reader", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("the simulated ID-card reader did not start")
        return self.link

    def stop(self) -> None:
        """Stop serving and close the pty; safe to call twice."""
        if self._thread is None or self._fds is None:
            return
        master, slave, wake_r, wake_w = self._fds
        os.write(wake_w, b"x")
        self._thread.join()
        self._thread, self._fds = None, None
        for fd in (master, slave, wake_r, wake_w):
            os.close(fd)

    def __enter__(self) -> SimIdReader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        try:
            self._serve_pty()
        except Exception:
            log.exception("simulated ID-card reader on %s stopped", self.link)

    def _serve_pty(self) -> None:
        assert self._fds is not None
        master, _slave, wake_r, _wake_w = self._fds
        buffer = b""
        with selectors.DefaultSelector() as sel:
            sel.register(master, selectors.EVENT_READ)
            sel.register(wake_r, selectors.EVENT_READ)
            self._ready.set()
            while True:
                events = sel.select()
                if any(key.fd == wake_r for key, _ in events):
                    return
                try:
                    buffer += os.read(master, 4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    log.exception("simulated ID-card reader lost its pty")
                    return
                while True:
                    frame, buffer = split_frame(buffer)
                    if frame is None:
                        break
                    answer = self.respond(frame)
                    if answer and not self._send(master, wake_r, answer):
                        return

    @staticmethod
    def _send(master: int, wake_r: int, data: bytes) -> bool:
        """Write all of `data` to the pty; False if stopped while waiting for room."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(master, view) :]
            except BlockingIOError:
                readable, _, _ = select.select([wake_r], [master], [])
                if wake_r in readable:
                    return False
        return True
