"""GA/T 467 SAM serial protocol of 居民身份证 readers: frames, checksum, commands, statuses.

Pure bytes in, bytes out; no I/O; every failure raises a `ProtocolError` subclass and nothing
else. The card text inside a "read basic info" answer is in gat467_card_text.py.
"""

# A frame is
#
#     AA AA AA 96 69 | LEN (2, big-endian) | CMD PARA  or  SW1 SW2 SW3 | data | XOR
#
# where LEN counts everything after itself (including the checksum byte) and the checksum is
# the XOR of every byte after the preamble up to the checksum.

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from functools import reduce
from operator import xor

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
MIN_LENGTH = 3  # CMD PARA CHK; an answer needs 4 (SW1 SW2 SW3 CHK)
MAX_LENGTH = 4096  # basic info with photo and fingerprints stays well below this


class ProtocolError(Exception):
    """A frame or its contents could not be understood."""


class FrameError(ProtocolError):
    """Not a well-formed frame: preamble, length or size wrong."""


class ChecksumError(FrameError):
    """A well-formed frame whose XOR checksum does not match: damaged on the line."""


class CardDataError(ProtocolError):
    """The card text or its lengths do not follow the GA 467 layout."""


class Command(Enum):
    """Commands (CMD, PARA) the terminal sends."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    READ_SAM_ID = (0x12, 0xFF)
    FIND = (0x20, 0x01)
    SELECT = (0x20, 0x02)
    READ_BASIC = (0x30, 0x01)


class Status(IntEnum):
    """SW3, the reader's own status byte (SW1 SW2 carry the card's APDU status, mostly 00 00)."""

    meaning: str

    def __new__(cls, value: int, meaning: str) -> Status:
        """Each member carries its byte and its meaning in plain words."""
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    OK = 0x90, "success"
    FOUND = 0x9F, "card found"
    NO_CONTENT = 0x91, "the card holds nothing for this item"
    BAD_CHECKSUM = 0x10, "the reader received our frame with a bad checksum"
    BAD_LENGTH = 0x11, "the reader received our frame with a bad length"
    BAD_COMMAND = 0x21, "the reader does not know this command"
    NOT_PERMITTED = 0x23, "command not allowed now (card not selected, or it went away)"
    UNKNOWN_ERROR = 0x24, "the reader reported an unrecognised error"
    CARD_AUTH_FAILED = 0x31, "the card did not accept the reader"
    READER_AUTH_FAILED = 0x32, "the reader did not accept the card (not genuine or damaged)"
    VERIFY_FAILED = 0x33, "the card data failed verification"
    WRONG_CARD = 0x40, "not a resident ID card"
    READ_FAILED = 0x41, "reading the card failed (moved away or damaged)"
    RANDOM_FAILED = 0x47, "the card could not produce a random number"
    SELF_TEST_FAILED = 0x60, "the reader's SAM failed its self-test"
    NOT_AUTHORISED = 0x66, "the reader's SAM is not authorised"
    FIND_FAILED = 0x80, "no card on the reader"
    SELECT_FAILED = 0x81, "selecting the card failed (moved away or damaged)"


LINK_ERRORS = frozenset({Status.BAD_CHECKSUM, Status.BAD_LENGTH})
"""The reader saw our frame damaged: worth sending it again."""

READER_ERRORS = frozenset({Status.BAD_COMMAND, Status.SELF_TEST_FAILED, Status.NOT_AUTHORISED})
"""The reader itself cannot serve: a technician's matter, not the card holder's."""

CARD_ERRORS = frozenset(Status) - LINK_ERRORS - READER_ERRORS - {Status.OK, Status.FOUND}
"""This card could not be read (gone, damaged, not genuine): place it again."""


def checksum(data: bytes) -> int:
    """XOR of all bytes."""
    return reduce(xor, data, 0)


def _frame(body: bytes) -> bytes:
    head = (len(body) + 1).to_bytes(2, "big") + body
    return PREAMBLE + head + bytes([checksum(head)])


def build_request(command: Command, data: bytes = b"") -> bytes:
    """A request frame: preamble, length, CMD PARA, data, checksum."""
    return _frame(bytes(command.value) + data)


def build_answer(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """An answer frame: preamble, length, SW1 SW2 SW3, data, checksum."""
    return _frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True)
class Request:
    """A request as the reader sees it."""

    cmd: int
    param: int
    data: bytes = b""

    @property
    def command(self) -> Command | None:
        """The known command, or None."""
        try:
            return Command((self.cmd, self.param))
        except ValueError:
            return None


@dataclass(frozen=True)
class Answer:
    """An answer as the terminal sees it."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def status(self) -> Status | None:
        """The known SW3, or None."""
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    def is_success(self, expected: Status = Status.OK) -> bool:
        """SW1 SW2 = 00 00 and SW3 the success code the command calls for."""
        return self.sw1 == 0 and self.sw2 == 0 and self.sw3 == expected


def _body(frame: bytes, min_length: int) -> bytes:
    """Check preamble, length and checksum; return what lies between length and checksum."""
    if not frame.startswith(PREAMBLE):
        raise FrameError("frame does not start with the AA AA AA 96 69 preamble")
    if len(frame) < 7:
        raise FrameError(f"frame of {len(frame)} bytes is too short")
    length = int.from_bytes(frame[5:7], "big")
    if length < min_length or length > MAX_LENGTH:
        raise FrameError(f"implausible length field {length}")
    if len(frame) != 7 + length:
        raise FrameError(f"length field says {length} bytes, frame carries {len(frame) - 7}")
    if checksum(frame[5:-1]) != frame[-1]:
        raise ChecksumError(f"checksum {frame[-1]:02X}, expected {checksum(frame[5:-1]):02X}")
    return frame[7:-1]


def parse_request(frame: bytes) -> Request:
    """One complete request frame into a Request; raises FrameError / ChecksumError."""
    body = _body(frame, MIN_LENGTH)
    return Request(body[0], body[1], body[2:])


def parse_answer(frame: bytes) -> Answer:
    """One complete answer frame into an Answer; raises FrameError / ChecksumError."""
    body = _body(frame, MIN_LENGTH + 1)
    return Answer(body[0], body[1], body[2], body[3:])


def split_frame(buffer: bytes) -> tuple[bytes | None, bytes]:
    """The first complete frame in `buffer` and the bytes after it.

    Garbage before a preamble is dropped, and so is a preamble with an implausible length.
    While no frame is complete, returns (None, the bytes worth keeping). Never raises.
    """
    while True:
        start = buffer.find(PREAMBLE)
        if start < 0:
            for keep in range(len(PREAMBLE) - 1, 0, -1):  # a preamble may be arriving
                if buffer.endswith(PREAMBLE[:keep]):
                    return None, buffer[-keep:]
            return None, b""
        buffer = buffer[start:]
        if len(buffer) < 7:
            return None, buffer
        length = int.from_bytes(buffer[5:7], "big")
        if not MIN_LENGTH <= length <= MAX_LENGTH:
            buffer = buffer[1:]
            continue
        if len(buffer) < 7 + length:
            return None, buffer
        return buffer[: 7 + length], buffer[7 + length :]
