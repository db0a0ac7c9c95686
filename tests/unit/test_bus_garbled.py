"""A noisy line is not a dead board: garbled answers fail the request but take the board
offline only when they come `garbled_limit` times in a row; silence does at once."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest
from pymodbus.pdu.bit_message import ReadDiscreteInputsResponse

from hardware.board_profile import load_profile
from hardware.drivers.bus_transactions import BusTiming, BusTransactions
from hardware.drivers.modbus_board import ModbusBoard
from hardware.drivers.rtu_link import LinkCrcError, LinkTimeout
from hardware.lock_board import BoardUnavailable

GOOD, CRC, SILENT = "good", "crc", "silent"


class ScriptedLink:
    """Answers each request as scripted: a good answer, a bad CRC, or nothing (a read of the
    generic profile is two requests: doors, then items)."""

    def __init__(self, script: list[str]) -> None:
        self.script = deque(script)
        self.settings = SimpleNamespace(baud=115200)
        self.last_activity = 0.0

    def transact(self, request):
        what = self.script.popleft()
        if what == CRC:
            raise LinkCrcError("bad CRC")
        if what == SILENT:
            raise LinkTimeout("no answer")
        answer = ReadDiscreteInputsResponse(bits=[False] * 24)
        answer.dev_id = request.dev_id
        return answer


def bus(script: list[str], retries: int = 1, limit: int = 3) -> BusTransactions:
    board = ModbusBoard(1, load_profile("generic"))
    return BusTransactions(ScriptedLink(script), [board],  # type: ignore[arg-type]
                           BusTiming(retries=retries, garbled_limit=limit))


def read(b: BusTransactions) -> bool:
    """One poll of board 1; whether it gave a reading."""
    try:
        b._read_board(b._boards[1], fresh=False)
    except BoardUnavailable:
        return False
    return True


def test_garbled_answers_fail_the_read_but_the_board_stays_online_until_the_limit():
    # 2 tries per read, every one garbled, three reads running; then doors and items answer
    b = bus([CRC, CRC] * 3 + [GOOD, GOOD])
    seen = [(read(b), b._online[1]) for _ in range(4)]
    assert seen == [(False, True), (False, True),
                    (False, False),  # the third garbled read in a row: offline
                    (True, True)]  # it answers: back


def test_a_good_answer_resets_the_count():
    b = bus([CRC, CRC, CRC, CRC, GOOD, GOOD, CRC, CRC, CRC, CRC])
    assert [read(b) for _ in range(3)] == [False, False, True]
    assert [read(b) for _ in range(2)] == [False, False]
    assert b._online[1] is True  # two in a row since the good one, not four


@pytest.mark.parametrize("script", [[SILENT, SILENT], [CRC, SILENT], [SILENT, CRC]])
def test_silence_in_any_try_is_offline_at_once(script):
    b = bus(script)
    assert read(b) is False
    assert b._online[1] is False
