"""The Modbus tables of a simulated board, laid out by its profile (DESIGN §4).

Which address is which channel's door, item sensor or relay, and what a write does to the
physical model. An address the profile does not map is refused with "illegal data address",
exactly as a real board answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import IntEnum

from hardware.board_profile import BitMap, Table, UnlockMethod
from hardware.drivers.board_sim import SimBoard


class ExceptionCode(IntEnum):
    """Modbus exception codes the simulated board answers with."""

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_ADDRESS = 0x02
    ILLEGAL_VALUE = 0x03


class IllegalRequest(Exception):
    """A request the board refuses; the protocol layer answers it with a Modbus exception."""

    def __init__(self, code: ExceptionCode, message: str = "") -> None:
        super().__init__(message or code.name.lower())
        self.code = code


def _index(bits: BitMap | None, table: Table, address: int, n: int) -> int | None:
    """Channel index of `address` in the bit map, or None."""
    if bits is not None and bits.table is table and bits.base <= address < bits.base + n:
        return address - bits.base
    return None


def relay_channel(board: SimBoard, address: int) -> int | None:
    """The channel whose relay is coil `address` (unlock coils, or all-off coils), or None."""
    p, n = board.profile, len(board.channels)
    bases = [p.unlock_base] if p.unlock_method is UnlockMethod.COIL else []
    if p.all_off_base is not None:
        bases.append(p.all_off_base)
    return next((i for base in bases
                 if (i := _index(BitMap(Table.COIL, base), Table.COIL, address, n)) is not None),
                None)


def _bit(board: SimBoard, table: Table, address: int) -> bool:
    p, n, chans = board.profile, len(board.channels), board.channels
    if table is Table.COIL and (i := relay_channel(board, address)) is not None:
        return chans[i].relay_until is not None
    if (i := _index(p.door, table, address, n)) is not None:
        return chans[i].door_open == bool(p.door.active)
    if p.item is not None and (i := _index(p.item, table, address, n)) is not None:
        return (chans[i].item_count >= 1) == bool(p.item.active)
    raise IllegalRequest(ExceptionCode.ILLEGAL_ADDRESS, f"no {table.value} at {address}")


def read_bits(board: SimBoard, table: Table, address: int, count: int) -> list[bool]:
    """FC1/FC2: `count` bits from `address`; every one must be mapped by the profile."""
    board.settle()
    return [_bit(board, table, a) for a in range(address, address + count)]


def _flash_channel(board: SimBoard, address: int) -> int | None:
    p = board.profile
    if p.unlock_method is UnlockMethod.FLASH_REGISTER \
            and p.unlock_base <= address < p.unlock_base + len(board.channels):
        return address - p.unlock_base
    return None


def _register(board: SimBoard, table: Table, address: int) -> int:
    p = board.profile
    if table is Table.HOLDING_REGISTER and address == p.pulse_register:
        return board.pulse_value
    if table is p.firmware_table and address == p.firmware_address:
        return board.firmware
    if table is Table.HOLDING_REGISTER and _flash_channel(board, address) is not None:
        return 0  # a flash register reads back 0, as on the common relay boards
    raise IllegalRequest(ExceptionCode.ILLEGAL_ADDRESS, f"no {table.value} at {address}")


def read_registers(board: SimBoard, table: Table, address: int, count: int) -> list[int]:
    """FC3/FC4: `count` registers from `address`; every one must be mapped."""
    return [_register(board, table, a) for a in range(address, address + count)]


def write_coils(board: SimBoard, address: int, values: Iterable[bool]) -> None:
    """FC5/FC15: 1 fires the relay (a timed pulse; latched on a flash board), 0 stops it."""
    values = list(values)
    targets = [relay_channel(board, a) for a in range(address, address + len(values))]
    if None in targets:
        raise IllegalRequest(ExceptionCode.ILLEGAL_ADDRESS, f"no relay coil in {address}..")
    p = board.profile
    timed = p.unlock_method is UnlockMethod.COIL
    pulse_s = board.pulse_value * p.pulse_unit_ms / 1000 if timed else math.inf
    for index, on in zip(targets, values, strict=True):
        if on:
            board.fire(index, pulse_s)
        else:
            board.relay_off(index)


def write_registers(board: SimBoard, address: int, values: Iterable[int]) -> None:
    """FC6/FC16: the pulse length, or a relay board's self-timed "flash on" (value × unit)."""
    values, p = list(values), board.profile
    for a, value in enumerate(values, start=address):
        if a != p.pulse_register and _flash_channel(board, a) is None:
            raise IllegalRequest(ExceptionCode.ILLEGAL_ADDRESS, f"no writable register {a}")
        if value == 0:
            raise IllegalRequest(ExceptionCode.ILLEGAL_VALUE, f"register {a} cannot be 0")
    for a, value in enumerate(values, start=address):
        if a == p.pulse_register:
            board.pulse_value = value
        else:
            board.fire(a - p.unlock_base, value * p.unlock_unit_ms / 1000)
