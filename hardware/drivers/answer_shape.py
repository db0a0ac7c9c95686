"""Never index a board's answer before checking its shape (STYLE: response checking).

A CRC only says the bytes arrived as sent; a board with buggy firmware, or another device
answering for it, can still send the wrong unit, the wrong function, fewer bits than asked or a
write that does not echo the request. Such an answer is that board's error
(`BoardMalformedAnswer`), never an IndexError in the bus worker.
"""

from __future__ import annotations

from pymodbus.pdu import ModbusPDU

from hardware.lock_board import BoardMalformedAnswer

_READ_BITS = frozenset({1, 2})
_READ_REGISTERS = frozenset({3, 4})


def _refuse(answer: ModbusPDU, request: ModbusPDU, what: str, why: str) -> BoardMalformedAnswer:
    return BoardMalformedAnswer(f"board {request.dev_id} gave a malformed answer to {what}: "
                                f"{why}")


def check_shape(request: ModbusPDU, answer: ModbusPDU, what: str) -> ModbusPDU:
    """Return `answer` if it fits `request` (unit, function, count, echo); else raise.

    A Modbus exception answer fits when its function code is the request's with the top bit
    set; its meaning is judged afterwards (modbus_board.check).
    """
    fc = request.function_code
    if getattr(answer, "dev_id", None) != request.dev_id:
        raise _refuse(answer, request, what, f"unit {getattr(answer, 'dev_id', None)}")
    got = getattr(answer, "function_code", None)
    if answer.isError():
        if got != fc | 0x80:
            raise _refuse(answer, request, what, f"exception for function {got}, asked {fc}")
        return answer
    if got != fc:
        raise _refuse(answer, request, what, f"function {got}, asked {fc}")
    if fc in _READ_BITS:
        bits = getattr(answer, "bits", None)
        if not isinstance(bits, list) or len(bits) < request.count:
            raise _refuse(answer, request, what, f"{len(bits or [])} bits, asked {request.count}")
    elif fc in _READ_REGISTERS:
        regs = getattr(answer, "registers", None)
        if not isinstance(regs, list) or len(regs) < request.count:
            raise _refuse(answer, request, what,
                          f"{len(regs or [])} registers, asked {request.count}")
    else:
        _check_echo(request, answer, what)
    return answer


def _check_echo(request: ModbusPDU, answer: ModbusPDU, what: str) -> None:
    """A write's answer repeats its address and value (FC5/6) or address and count (FC15/16)."""
    fc = request.function_code
    if getattr(answer, "address", None) != request.address:
        raise _refuse(answer, request, what,
                      f"echoed address {getattr(answer, 'address', None)}, sent {request.address}")
    if fc == 5:
        sent, echo = request.bits[:1], (getattr(answer, "bits", None) or [])[:1]
    elif fc == 6:
        sent, echo = request.registers[:1], (getattr(answer, "registers", None) or [])[:1]
    else:
        sent, echo = request.count, getattr(answer, "count", None)
    if echo != sent:
        raise _refuse(answer, request, what, f"echoed {echo}, sent {sent}")
