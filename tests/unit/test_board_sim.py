"""The lock-board simulator without I/O: the model (fake clock), RTU golden vectors, control."""

from __future__ import annotations

import argparse

import pytest
from pymodbus.framer.rtu import FramerRTU

from hardware.board_profile import Table, load_profile
from hardware.drivers import sim_cli
from hardware.drivers import sim_registers as tables
from hardware.drivers.board_sim import Fate, SimBus, SimError
from hardware.drivers.sim_control import ControlError, SimControl
from hardware.drivers.sim_registers import ExceptionCode, IllegalRequest
from hardware.drivers.sim_rtu import Request, RequestReader, corrupt, crc_ok, respond
from hardware.drivers.sim_serve import answer_delay


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def advance(self, ms: float) -> None:
        self.t += ms / 1000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus(clock: FakeClock) -> SimBus:
    return SimBus.build([1, 2], load_profile("generic"), now=clock, seed=7)


def frame(hex_pdu: str) -> bytes:
    """Unit + PDU with its CRC appended."""
    data = bytes.fromhex(hex_pdu)
    return data + FramerRTU.compute_CRC(data).to_bytes(2, "big")


def ask(bus: SimBus, raw: bytes) -> bytes | None:
    return respond(bus, Request(raw[0], raw)).frame


def doors(bus: SimBus, unit: int = 1) -> list[bool]:
    return tables.read_bits(bus.board(unit), Table.DISCRETE_INPUT, 0, 24)


# -- the physical model ------------------------------------------------------------------------

def test_unlock_pulse_opens_the_door_after_the_spring_delay(bus: SimBus, clock: FakeClock):
    board = bus.board(1)
    tables.write_coils(board, 3, [True])
    assert tables.read_bits(board, Table.COIL, 3, 1) == [True]  # the relay is on
    assert not doors(bus)[3]
    clock.advance(29)
    assert not doors(bus)[3]
    clock.advance(1)
    assert doors(bus)[3]
    clock.advance(469)
    assert tables.read_bits(board, Table.COIL, 3, 1) == [True]
    clock.advance(1)  # 500 ms pulse over: the coil reads 0 again, the door stays open
    assert tables.read_bits(board, Table.COIL, 3, 1) == [False]
    assert doors(bus)[3]
    assert board.channels[3].unlock_count == 1


def test_pulse_length_comes_from_the_holding_register(bus: SimBus, clock: FakeClock):
    board = bus.board(1)
    tables.write_registers(board, 0, [100])
    tables.write_coils(board, 0, [True])
    clock.advance(99)
    assert tables.read_bits(board, Table.COIL, 0, 1) == [True]
    clock.advance(1)
    assert tables.read_bits(board, Table.COIL, 0, 1) == [False]


def test_door_stays_open_until_closed_and_refiring_is_counted(bus: SimBus, clock: FakeClock):
    board = bus.board(1)
    tables.write_coils(board, 5, [True])
    clock.advance(10_000)
    assert doors(bus)[5]
    tables.write_coils(board, 5, [True])  # fired while already open: allowed and counted
    assert board.channels[5].unlock_count == 2
    board.close(5)
    assert not doors(bus)[5]


def test_jammed_lock_fires_the_relay_but_the_door_stays_shut(bus: SimBus, clock: FakeClock):
    board = bus.board(2)
    board.jam(1)
    tables.write_coils(board, 1, [True])
    clock.advance(100)
    assert tables.read_bits(board, Table.COIL, 1, 1) == [True]
    assert not doors(bus, 2)[1]
    assert board.channels[1].unlock_count == 1
    board.unjam(1)
    clock.advance(1000)
    tables.write_coils(board, 1, [True])
    clock.advance(30)
    assert doors(bus, 2)[1]


def test_force_opens_without_a_command(bus: SimBus):
    bus.board(1).force(7)
    assert doors(bus)[7]
    assert bus.board(1).channels[7].unlock_count == 0


def test_items_only_through_an_open_door(bus: SimBus):
    board = bus.board(1)
    with pytest.raises(SimError, match="door is closed"):
        board.put(0)
    board.force(0)
    with pytest.raises(SimError, match="empty"):
        board.take(0)
    board.put(0)
    board.put(0)
    board.close(0)
    assert tables.read_bits(board, Table.DISCRETE_INPUT, 256, 2) == [True, False]
    with pytest.raises(SimError, match="door is closed"):
        board.take(0)
    board.force(0)
    board.take(0)
    board.take(0)
    assert tables.read_bits(board, Table.DISCRETE_INPUT, 256, 1) == [False]


def test_auto_close(bus: SimBus, clock: FakeClock):
    bus.set_auto_close(1000)
    tables.write_coils(bus.board(1), 2, [True])
    clock.advance(30 + 999)
    assert doors(bus)[2]
    clock.advance(1)
    assert not doors(bus)[2]
    bus.set_auto_close(None)
    bus.board(1).force(2)
    clock.advance(60_000)
    assert doors(bus)[2]


def test_all_off_switches_every_relay_off(bus: SimBus):
    board = bus.board(1)
    tables.write_coils(board, 0, [True, True, True])
    tables.write_coils(board, 0, [False] * 24)
    assert tables.read_bits(board, Table.COIL, 0, 24) == [False] * 24


def test_relay_flash_profile_times_the_pulse_in_100ms_units(clock: FakeClock):
    bus = SimBus.build([9], load_profile("relay_flash"), now=clock)
    board = bus.board(9)
    tables.write_registers(board, 0x0200 + 4, [3])  # 300 ms
    clock.advance(30)
    assert tables.read_bits(board, Table.DISCRETE_INPUT, 4, 1) == [True]
    assert tables.read_bits(board, Table.COIL, 4, 1) == [True]
    clock.advance(270)
    assert tables.read_bits(board, Table.COIL, 4, 1) == [False]
    assert tables.read_registers(board, Table.HOLDING_REGISTER, 0x8000, 1) == [0x0102]
    with pytest.raises(IllegalRequest) as err:
        tables.read_bits(board, Table.DISCRETE_INPUT, 256, 1)  # no item sensors on this board
    assert err.value.code is ExceptionCode.ILLEGAL_ADDRESS


def test_faults_are_reproducible_with_a_seed(clock: FakeClock):
    def fates(seed: int) -> list[Fate]:
        bus = SimBus.build([1], load_profile("generic"), now=clock, seed=seed)
        board = bus.board(1)
        board.faults.drop_rate, board.faults.crc_rate = 0.3, 0.3
        return [bus.fate(board) for _ in range(200)]

    first = fates(42)
    assert first == fates(42)
    assert {Fate.ANSWER, Fate.DROP, Fate.CORRUPT} == set(first)
    assert 30 < first.count(Fate.DROP) < 90


def test_counters(bus: SimBus):
    board = bus.board(1)
    board.faults.drop_rate = 1.0
    assert ask(bus, frame("010200000018")) is None
    board.faults.drop_rate, board.faults.crc_rate = 0.0, 1.0
    answer = ask(bus, frame("010200000018"))
    assert answer is not None
    assert not crc_ok(answer)
    assert (board.counters.served, board.counters.dropped, board.counters.corrupted) == (1, 1, 1)


# -- golden vectors -------------------------------------------------------------------------

def test_crc_golden_vector():
    assert FramerRTU.compute_CRC(bytes.fromhex("010300000001")) == 0x840A


@pytest.mark.parametrize(("request_hex", "answer_hex"), [
    # read 24 door inputs of unit 1, doors 0 and 2 open
    ("01 02 00 00 00 18 78 00", "01 02 03 05 00 00 68 4f"),
    # read 24 item sensors (256..279): none occupied
    ("01 02 01 00 00 18 79 fc", "01 02 03 00 00 00 78 4e"),
    # write coil 3 on (unlock channel 3): echoed
    ("01 05 00 03 ff 00 7c 3a", "01 05 00 03 ff 00 7c 3a"),
    # read the pulse length (holding register 0): 500 ms
    ("01 03 00 00 00 01 84 0a", "01 03 02 01 f4 b8 53"),
    # read the firmware version (input register 0): 0x0102
    ("01 04 00 00 00 01 31 ca", "01 04 02 01 02 39 61"),
    # set the pulse length to 100 ms
    ("01 06 00 00 00 64 88 21", "01 06 00 00 00 64 88 21"),
    # all relays off (write 24 coils at 0)
    ("01 0f 00 00 00 18 03 00 00 00 40 74", "01 0f 00 00 00 18 55 c1"),
    # write multiple registers: pulse length
    ("01 10 00 00 00 01 02 00 64 a7 bb", "01 10 00 00 00 01 01 c9"),
    # door input 26 is not mapped: illegal data address
    ("01 02 00 1a 00 01 98 0d", "01 82 02 c1 61"),
    # an unknown function code: illegal function
    ("01 41 c0 10", "01 c1 01 b0 50"),
    # a coil value other than 0000/ff00: illegal data value
    ("01 05 00 03 12 34 30 bd", "01 85 03 02 91"),
    # a function the board does not support (diagnostics): illegal function
    ("01 08 00 00 12 34 ed 7c", "01 88 01 87 c0"),
    # reading zero inputs: illegal data value
    ("01 02 00 00 00 00 78 0a", "01 82 03 00 a1"),
    # holding register 1 is not mapped: illegal data address
    ("01 03 00 01 00 01 d5 ca", "01 83 02 c0 f1"),
])
def test_golden_vectors(bus: SimBus, request_hex: str, answer_hex: str):
    bus.board(1).force(0)
    bus.board(1).force(2)
    raw = bytes.fromhex(request_hex)
    assert crc_ok(raw)
    assert ask(bus, raw) == bytes.fromhex(answer_hex)


def test_unit_not_on_the_bus_and_offline_board_stay_silent(bus: SimBus):
    assert ask(bus, frame("030200000018")) is None
    bus.board(1).faults.offline = True
    assert ask(bus, frame("010200000018")) is None
    assert ask(bus, frame("020200000018")) == frame("0202030000 00")


def test_broadcast_executes_writes_silently(bus: SimBus, clock: FakeClock):
    assert ask(bus, frame("00050004ff00")) is None
    clock.advance(30)
    assert doors(bus, 1)[4]
    assert doors(bus, 2)[4]


def test_corrupt_changes_only_the_crc():
    good = frame("01020300 0000")
    bad = corrupt(good)
    assert bad[:-2] == good[:-2]
    assert not crc_ok(bad)


# -- finding frames in a byte stream ------------------------------------------------------------

READ = frame("010200000018")


@pytest.mark.parametrize("chunks", [
    [READ],
    [READ[:3], READ[3:]],  # split across reads
    [b"\xff\x00\x13", READ],  # garbage before the frame
    [b"\x01\x10\x00\x00\x00\x7b\xf6" + READ],  # garbage that looks like a long frame
    [READ[:-1] + bytes([READ[-1] ^ 0xFF]), READ],  # a bad CRC, then a good frame
])
def test_reader_finds_the_good_frame(chunks: list[bytes]):
    reader = RequestReader()
    found = [r for chunk in chunks for r in reader.feed(chunk)]
    assert found == [Request(1, READ)]


def test_reader_two_frames_in_one_chunk_and_reset():
    reader = RequestReader()
    assert len(reader.feed(READ + frame("020200000018"))) == 2
    reader.feed(READ[:5])
    assert reader.pending
    assert reader.reset() == 5
    assert not reader.pending


def test_answer_delay_is_the_wire_time():
    # 8 + 8 bytes of 11 bits at 9600 baud and one 3.5-character gap
    assert answer_delay(8, 8, 9600) == pytest.approx((16 + 3.5) * 11 / 9600)
    assert answer_delay(8, 8, 115200) == pytest.approx(16 * 11 / 115200 + 0.00175)
    assert answer_delay(8, 8, None) == 0


# -- the control interface, in process ----------------------------------------------------------

def test_control_commands_in_process(bus: SimBus, clock: FakeClock):
    ctl = SimControl(bus)
    assert ctl.force(1, 3)["channel"]["door_open"]
    assert ctl.put(1, 3)["channel"]["items"] == 1
    ctl.close(1, 3)
    with pytest.raises(ControlError, match="door is closed"):
        ctl.take(1, 3)
    ctl.jam(2, 0)
    assert ctl.channel(2, 0)["jammed"]
    ctl.unjam(2, 0)
    ctl.offline(2)
    assert ctl.faults(2, drop_rate=0.5, delay_ms=20)["faults"] == {
        "offline": True, "drop_rate": 0.5, "crc_rate": 0.0, "delay_ms": 20, "answer": "none",
        "answer_times": None}
    ctl.online(2)
    ctl.auto_close(500)
    state = ctl.state()
    assert [b["unit"] for b in state["boards"]] == [1, 2]
    assert state["boards"][0]["auto_close_ms"] == 500
    assert state["boards"][0]["channels"][3] == {
        "channel": 3, "door_open": False, "items": 1, "jammed": False, "relay_on": False,
        "unlocks": 0}


@pytest.mark.parametrize(("cmd", "args", "error"), [
    ("close", {"unit": 5, "channel": 0}, "no board with unit id 5"),
    ("close", {"unit": 1, "channel": 24}, "channels 0..23"),
    ("jam", {"unit": 1}, "channel is missing"),
    ("faults", {"unit": 1, "drop_rate": 2}, "drop_rate must be a number 0..1"),
    ("auto_close", {"ms": -1}, "ms must be a number"),
    ("open_sesame", {}, "unknown command"),
])
def test_control_errors_in_plain_words(bus: SimBus, cmd: str, args: dict, error: str):
    with pytest.raises(ControlError, match=error):
        SimControl(bus).call(cmd, **args)


def test_control_handler_answers_bad_json():
    from hardware.drivers.sim_control import ControlHandler

    handler = ControlHandler(SimBus())
    assert b'"ok": false' in handler.handle_line(b"{not json\n")
    assert b"JSON object" in handler.handle_line(b"[1, 2]\n")


# -- the command line, argument checks -----------------------------------------------------------

@pytest.mark.parametrize(("argv", "error"), [
    (["--units", "1,x"], "--units"),
    (["--units", "1,1"], "each unit id once"),
    (["--units", "300"], "1..247"),
    (["--profile", "nonesuch"], "no profile named"),
    (["--channels", "0"], "--channels"),
    (["--baud", "fast"], "--baud must be a whole number"),
    (["--link", "com1"], "tcp://HOST:PORT"),
    (["--control", "tcp://localhost"], "tcp://HOST:PORT"),
])
def test_cli_bad_arguments_exit_2_with_one_line(argv: list[str], error: str,
                                                capsys: pytest.CaptureFixture[str]):
    parser = argparse.ArgumentParser()
    sim_cli.add_arguments(parser)
    assert sim_cli.run(parser.parse_args(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert error in err
