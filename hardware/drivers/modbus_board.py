"""One lock board described by its profile: which request does what, and what an answer means.

Pure request building and answer parsing; the bus owner sends them over the link. A different
board model is a different profile (data), never a new branch here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodbus.pdu import ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadDiscreteInputsRequest,
    WriteMultipleCoilsRequest,
    WriteSingleCoilRequest,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteSingleRegisterRequest,
)

from hardware.board_profile import BitMap, BoardProfile, Table, UnlockMethod
from hardware.lock_board import BoardMalformedAnswer, BoardRejected, ChannelState

_EXCEPTION_NAMES = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
                    4: "device failure", 6: "device busy"}


def _read_bits(bits: BitMap, count: int, unit: int) -> ModbusPDU:
    cls = ReadCoilsRequest if bits.table is Table.COIL else ReadDiscreteInputsRequest
    return cls(address=bits.base, count=count, dev_id=unit)


def check(answer: ModbusPDU, what: str) -> ModbusPDU:
    """Raise BoardRejected for a Modbus exception answer, else return it."""
    if answer.isError():
        code = getattr(answer, "exception_code", 0)
        name = _EXCEPTION_NAMES.get(code, f"exception {code}")
        raise BoardRejected(f"unit {answer.dev_id} refused {what}: {name}")
    return answer


@dataclass(frozen=True)
class ModbusBoard:
    """A board at `unit` on the bus, speaking `profile`, with `channels` doors in use."""

    unit: int
    profile: BoardProfile
    pulse_ms: int = 500

    @property
    def channels(self) -> int:
        """Channels in use (the profile's count)."""
        return self.profile.channels

    @property
    def has_item_sensors(self) -> bool:
        """Whether the profile maps item-presence sensors."""
        return self.profile.item is not None

    def _check_channel(self, channel: int) -> None:
        if not 0 <= channel < self.channels:
            raise ValueError(f"unit {self.unit} has channels 0..{self.channels - 1}, not {channel}")

    def unlock_request(self, channel: int) -> ModbusPDU:
        """The write that fires one lock; the board times the pulse."""
        self._check_channel(channel)
        p = self.profile
        address = p.unlock_base + channel
        if p.unlock_method is UnlockMethod.COIL:
            return WriteSingleCoilRequest(address=address, bits=[True], dev_id=self.unit)
        value = p.unlock_value(self.pulse_ms)
        return WriteSingleRegisterRequest(address=address, registers=[value], dev_id=self.unit)

    def door_request(self) -> ModbusPDU:
        """Read every door sensor."""
        return _read_bits(self.profile.door, self.channels, self.unit)

    def item_request(self) -> ModbusPDU | None:
        """Read every item-presence sensor, or None where the board has none."""
        item = self.profile.item
        return _read_bits(item, self.channels, self.unit) if item else None

    def relay_request(self, channel: int) -> ModbusPDU | None:
        """Read one lock's relay coil (1 while the board pulses it); None where unreadable."""
        self._check_channel(channel)
        if self.profile.unlock_method is not UnlockMethod.COIL:
            return None
        return ReadCoilsRequest(address=self.profile.unlock_base + channel, count=1,
                                dev_id=self.unit)

    def _bits(self, answer: ModbusPDU, what: str) -> list:
        bits = getattr(check(answer, what), "bits", None)
        if not isinstance(bits, list) or len(bits) < self.channels:
            raise BoardMalformedAnswer(f"board {self.unit} gave a malformed answer to {what}: "
                                       f"{len(bits or [])} bits for {self.channels} channels")
        return bits

    def channel_states(self, doors: ModbusPDU, items: ModbusPDU | None) -> tuple[ChannelState, ...]:
        """Combine door and item answers into per-channel states (their shape checked first)."""
        d_bits = self._bits(doors, "door read")
        active = self.profile.door.active
        door_open = [bool(d_bits[i]) == bool(active) for i in range(self.channels)]
        if items is None or self.profile.item is None:
            return tuple(ChannelState(door_open=o) for o in door_open)
        i_bits = self._bits(items, "item read")
        occ = self.profile.item.active
        return tuple(ChannelState(door_open=door_open[i], occupied=bool(i_bits[i]) == bool(occ))
                     for i in range(self.channels))

    def all_off_request(self) -> ModbusPDU | None:
        """Switch every relay off (start-up: no door opens by itself when power returns)."""
        base = self.profile.all_off_base
        if base is None:
            return None
        return WriteMultipleCoilsRequest(address=base, bits=[False] * self.channels,
                                         dev_id=self.unit)

    def pulse_request(self) -> ModbusPDU | None:
        """Set the board's unlock pulse length, where the profile has such a register."""
        reg = self.profile.pulse_register
        if reg is None:
            return None
        value = max(1, round(self.pulse_ms / self.profile.pulse_unit_ms))
        return WriteSingleRegisterRequest(address=reg, registers=[value], dev_id=self.unit)

    def firmware_request(self) -> ModbusPDU | None:
        """Read the firmware version register, where there is one."""
        table = self.profile.firmware_table
        if table is None:
            return None
        cls = ReadInputRegistersRequest if table is Table.INPUT_REGISTER else \
            ReadHoldingRegistersRequest
        return cls(address=self.profile.firmware_address, count=1, dev_id=self.unit)
