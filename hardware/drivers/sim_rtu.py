"""Modbus RTU for the simulated boards: find request frames in a byte stream, answer them.

Framing, CRC and PDU coding are pymodbus's (FramerRTU, DecodePDU, the response PDU classes);
this module adds what a device does on a shared line and pymodbus's server hides: hunting for
frames through garbage, ignoring bad CRCs and other units, and the switchable faults.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.exceptions import ModbusException
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsResponse,
    ReadDiscreteInputsResponse,
    WriteMultipleCoilsResponse,
    WriteSingleCoilResponse,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterResponse,
)

from hardware.board_profile import Table
from hardware.drivers import sim_bad_answers as bad
from hardware.drivers import sim_registers as tables
from hardware.drivers.board_sim import Fate, SimBoard, SimBus
from hardware.drivers.sim_registers import ExceptionCode, IllegalRequest

BROADCAST = 0
MIN_FRAME = 4  # unit, function code, CRC
MAX_FRAME = 256
_DECODER = DecodePDU(is_server=True)
_FRAMER = FramerRTU(DecodePDU(is_server=False))
_WRITES = frozenset({5, 6, 15, 16})


def crc_ok(frame: bytes) -> bool:
    """Whether the frame's last two bytes are the Modbus CRC of the rest."""
    return len(frame) >= MIN_FRAME and FramerRTU.check_CRC(
        frame[:-2], int.from_bytes(frame[-2:], "big"))


def _frame_size(data: bytes) -> int:
    """Length of the request that would start at data[0]: -1 not one, 0 need more bytes."""
    unit, fc = data[0], data[1]
    if unit > 247 or fc == 0 or fc & 0x80:
        return -1
    try:
        pdu_class = _DECODER.lookupPduClass(data)
        size = pdu_class.calculateRtuFrameSize(data) if pdu_class else -1
    except (IndexError, KeyError, ValueError, struct.error, ModbusException):
        return -1
    return size if size <= MAX_FRAME else -1


@dataclass(frozen=True)
class Request:
    """One request frame with a good CRC, as it came off the line."""

    unit: int
    frame: bytes

    @property
    def pdu(self) -> bytes:
        """Function code and data, without unit id and CRC."""
        return self.frame[1:-2]


class RequestReader:
    """Reassembles request frames from a byte stream the way a device does: by length and CRC.

    Garbage before a frame is skipped a byte at a time; a frame with a bad CRC is ignored.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.skipped = 0  # bytes thrown away as garbage or bad frames

    def _complete_at(self, start: int) -> int:
        """Offset of the first complete, CRC-valid frame from `start`, or -1."""
        buf = bytes(self.buffer)
        for j in range(start, len(buf) - MIN_FRAME + 1):
            size = _frame_size(buf[j:])
            if size > 0 and len(buf) - j >= size and crc_ok(buf[j:j + size]):
                return j
        return -1

    def _drop(self, n: int) -> None:
        del self.buffer[:n]
        self.skipped += n

    def feed(self, data: bytes) -> list[Request]:
        """Add bytes; return every complete request now found, in order."""
        self.buffer += data
        found: list[Request] = []
        while len(self.buffer) >= MIN_FRAME:
            buf = bytes(self.buffer)
            size = _frame_size(buf)
            if size > 0 and len(buf) >= size and crc_ok(buf[:size]):
                found.append(Request(buf[0], buf[:size]))
                del self.buffer[:size]
            elif size == 0 or size > len(buf):  # a frame still arriving, or garbage like one
                if (j := self._complete_at(1)) < 0:
                    break
                self._drop(j)
            elif size < 0 and buf[0] <= 247 and 0 < buf[1] < 0x80 and crc_ok(buf):
                # a whole frame of a function code pymodbus does not know: illegal function
                found.append(Request(buf[0], buf))
                self.buffer.clear()
            else:
                self._drop(1)
        return found

    def reset(self) -> int:
        """The line went quiet mid-frame: forget the partial frame; returns bytes dropped."""
        n = len(self.buffer)
        self._drop(n)
        return n

    @property
    def pending(self) -> bool:
        """Whether part of a frame is waiting for more bytes."""
        return bool(self.buffer)


def _read_bits(board: SimBoard, req: ModbusPDU, raw: bytes) -> ModbusPDU:
    table = Table.COIL if req.function_code == 1 else Table.DISCRETE_INPUT
    cls = ReadCoilsResponse if req.function_code == 1 else ReadDiscreteInputsResponse
    return cls(bits=tables.read_bits(board, table, req.address, req.count))


def _read_registers(board: SimBoard, req: ModbusPDU, raw: bytes) -> ModbusPDU:
    fc3 = req.function_code == 3
    table = Table.HOLDING_REGISTER if fc3 else Table.INPUT_REGISTER
    cls = ReadHoldingRegistersResponse if fc3 else ReadInputRegistersResponse
    return cls(registers=tables.read_registers(board, table, req.address, req.count))


def _write_coil(board: SimBoard, req: ModbusPDU, raw: bytes) -> ModbusPDU:
    value = int.from_bytes(raw[3:5], "big")
    if value not in (0x0000, 0xFF00):
        raise IllegalRequest(ExceptionCode.ILLEGAL_VALUE, f"coil value {value:#06x}")
    tables.write_coils(board, req.address, [value == 0xFF00])
    return WriteSingleCoilResponse(address=req.address, bits=[value == 0xFF00])


def _write_coils(board: SimBoard, req: ModbusPDU, raw: bytes) -> ModbusPDU:
    if req.byte_count != (req.count + 7) // 8 or req.data_byte_count != req.byte_count:
        raise IllegalRequest(ExceptionCode.ILLEGAL_VALUE, "byte count does not match")
    tables.write_coils(board, req.address, req.bits)
    return WriteMultipleCoilsResponse(address=req.address, count=req.count)


def _write_register(board: SimBoard, req: ModbusPDU, raw: bytes) -> ModbusPDU:
    tables.write_registers(board, req.address, req.registers)
    return WriteSingleRegisterResponse(address=req.address, registers=req.registers)


def _write_registers(board: SimBoard, req: ModbusPDU, raw: bytes) -> ModbusPDU:
    if not 1 <= req.count <= 123 or req.byte_count != 2 * req.count \
            or len(raw) - 6 != req.byte_count:
        raise IllegalRequest(ExceptionCode.ILLEGAL_VALUE, "register count does not match")
    tables.write_registers(board, req.address, req.registers)
    return WriteMultipleRegistersResponse(address=req.address, count=req.count)


_Handler = Callable[[SimBoard, ModbusPDU, bytes], ModbusPDU]
HANDLERS: dict[int, _Handler] = {1: _read_bits, 2: _read_bits, 3: _read_registers,
                                 4: _read_registers, 5: _write_coil, 6: _write_register,
                                 15: _write_coils, 16: _write_registers}


def execute(board: SimBoard, pdu: bytes) -> ModbusPDU:
    """Run one request PDU (function code + data) on a board; returns the response PDU."""
    fc = pdu[0]
    if (handler := HANDLERS.get(fc)) is None:
        return ExceptionResponse(fc, ExceptionCode.ILLEGAL_FUNCTION)
    if (request := _DECODER.decode(pdu)) is None:
        return ExceptionResponse(fc, ExceptionCode.ILLEGAL_VALUE)  # count out of range
    try:
        return handler(board, request, pdu)
    except IllegalRequest as err:
        return ExceptionResponse(fc, err.code)


def encode(unit: int, response: ModbusPDU) -> bytes:
    """The RTU frame of a response PDU from `unit`."""
    payload = response.function_code.to_bytes(1, "big") + response.encode()
    return _FRAMER.encode(payload, unit, 0)


def corrupt(frame: bytes) -> bytes:
    """The same frame with a CRC that cannot match."""
    return frame[:-2] + bytes((frame[-2] ^ 0x5A, frame[-1] ^ 0xA5))


@dataclass(frozen=True)
class Reply:
    """What the bus says back to one request: a frame (None: silence) and extra stall seconds."""

    frame: bytes | None
    stall_s: float = 0.0


def respond(bus: SimBus, request: Request) -> Reply:
    """Answer one request as the bus would: only the addressed board, subject to its faults."""
    with bus.lock:
        if request.unit == BROADCAST:
            if request.pdu[0] in _WRITES:
                for board in bus.boards.values():
                    if not board.faults.offline:
                        execute(board, request.pdu)
            return Reply(None)
        board = bus.boards.get(request.unit)
        if board is None:
            return Reply(None)
        fate = bus.fate(board)
        if fate in (Fate.SILENT, Fate.DROP):
            return Reply(None)
        pulses = sum(ch.unlock_count for ch in board.channels)
        response = execute(board, request.pdu)
        fired = sum(ch.unlock_count for ch in board.channels) > pulses
        fault = bad.AnswerFault.NONE if response.isError() else \
            bad.take(board.faults, request.pdu[0], fired)
        if fault is bad.AnswerFault.NONE:
            frame = encode(request.unit, response)
        else:
            board.counters.bad_answers += 1
            if (frame := bad.bad_answer(fault, request.unit, response)) is None:
                return Reply(None)
        if fate is Fate.CORRUPT:
            frame = corrupt(frame)
        return Reply(frame, board.faults.delay_ms / 1000)
