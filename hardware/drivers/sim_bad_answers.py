"""Wrong answers a simulated board can give on purpose: CRC-valid, but the wrong shape.

The switches of `kiosk sim board`'s control interface (`answer` command) for the faults a real
bus shows now and then: a short bit answer, another unit's id, the wrong function code, a write
that is not echoed, and a lost acknowledgement (the board acts, the answer never arrives).
"""

from __future__ import annotations

from enum import Enum

from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from hardware.drivers.board_sim import BoardFaults

_FRAMER = FramerRTU(DecodePDU(is_server=False))
_READ_BITS = frozenset({1, 2})
_WRITES = frozenset({5, 6, 15, 16})
# A function code whose answer has the same body, so the frame still decodes.
_OTHER_FUNCTION = {1: 2, 2: 1, 3: 4, 4: 3, 5: 6, 6: 5, 15: 16, 16: 15}


class AnswerFault(Enum):
    """How a board's answers go wrong; NONE answers correctly."""

    NONE = "none"
    SHORT = "short"  # a bit read answered with one data byte too few
    WRONG_UNIT = "wrong_unit"  # another unit's id in the answer
    WRONG_FUNCTION = "wrong_function"  # another function code in the answer
    WRONG_ECHO = "wrong_echo"  # a write answered with another address
    LOST_ACK = "lost_ack"  # a lock is fired (the write carried out), its answer never sent

    def applies_to(self, function_code: int, fired: bool) -> bool:
        """Whether this fault changes the answer to a request of `function_code`.

        `fired`: the request pulsed a lock (an unlock, not the start-up "all relays off").
        """
        if self is AnswerFault.SHORT:
            return function_code in _READ_BITS
        if self is AnswerFault.WRONG_ECHO:
            return function_code in _WRITES
        if self is AnswerFault.LOST_ACK:
            return fired
        return self is not AnswerFault.NONE


def take(faults: BoardFaults, function_code: int, fired: bool) -> AnswerFault:
    """The fault for one answer to `function_code`, counting down `answer_times` (NONE: none)."""
    fault = AnswerFault(faults.answer)
    if not fault.applies_to(function_code, fired):
        return AnswerFault.NONE
    if faults.answer_times is not None:
        faults.answer_times -= 1
        if faults.answer_times <= 0:
            faults.answer, faults.answer_times = AnswerFault.NONE.value, None
    return fault


def frame(unit: int, function_code: int, body: bytes) -> bytes:
    """An RTU frame with a good CRC around any body."""
    return _FRAMER.encode(function_code.to_bytes(1, "big") + body, unit, 0)


def bad_answer(fault: AnswerFault, unit: int, response: ModbusPDU) -> bytes | None:
    """The frame a board with `fault` sends instead of `response`; None: nothing at all."""
    fc, body = response.function_code, response.encode()
    if fault is AnswerFault.LOST_ACK:
        return None
    if fault is AnswerFault.SHORT:
        n = max(0, body[0] - 1)
        return frame(unit, fc, bytes([n]) + body[1:1 + n])
    if fault is AnswerFault.WRONG_UNIT:
        return frame(unit % 247 + 1, fc, body)
    if fault is AnswerFault.WRONG_FUNCTION:
        return frame(unit, _OTHER_FUNCTION.get(fc, fc), body)
    if fault is AnswerFault.WRONG_ECHO:
        address = (int.from_bytes(body[:2], "big") + 1) & 0xFFFF
        return frame(unit, fc, address.to_bytes(2, "big") + body[2:])
    return frame(unit, fc, body)
