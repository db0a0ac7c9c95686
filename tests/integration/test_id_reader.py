"""The GA/T 467 driver against the simulated reader over a real pseudo-terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import serial

from hardware.drivers.gat467_protocol import (
    Command,
    Status,
    build_request,
    parse_answer,
)
from hardware.drivers.gat467_reader import Gat467Reader, ReaderSettings
from hardware.drivers.id_reader_sim import SimIdReader, fake_card
from hardware.id_reader import CardReadFailed, ReaderUnavailable

RESPONSE_TIMEOUT = 0.3


@pytest.fixture
def sim() -> Iterator[SimIdReader]:
    with SimIdReader() as reader:
        yield reader


@pytest.fixture
def reader(sim: SimIdReader) -> Iterator[Gat467Reader]:
    driver = Gat467Reader(ReaderSettings(
        sim.link, response_timeout=RESPONSE_TIMEOUT, read_timeout=1.0, poll_interval=0.02,
    ))
    yield driver
    driver.close()


def test_good_read(sim: SimIdReader, reader: Gat467Reader) -> None:
    sim.present(fake_card(1))
    card = reader.read_card(timeout=2.0)
    assert card == fake_card(1)
    assert card is not None
    assert len(card.photo) == 1024
    assert sim.counts["SELECT"] == sim.counts["READ_BASIC"] == 1


def test_lifelong_card(sim: SimIdReader, reader: Gat467Reader) -> None:
    sim.present(fake_card(2, valid_to=None, ethnicity="回"))
    assert reader.read_card(timeout=2.0) == fake_card(2, valid_to=None, ethnicity="回")


def test_no_card_waits_out_the_timeout(sim: SimIdReader, reader: Gat467Reader) -> None:
    started = time.monotonic()
    assert reader.read_card(timeout=0.2) is None
    assert 0.2 <= time.monotonic() - started < 1.0
    assert sim.counts["FIND"] >= 2
    assert sim.counts["SELECT"] == 0


@pytest.mark.parametrize("find_fails_after_read", [False, True])
def test_a_card_left_on_the_reader_is_reported_once(
    sim: SimIdReader, reader: Gat467Reader, find_fails_after_read: bool,
) -> None:
    sim.find_fails_after_read = find_fails_after_read
    sim.present(fake_card(1))
    assert reader.read_card(timeout=2.0) == fake_card(1)
    assert reader.read_card(timeout=0.2) is None  # still lying there: not a new tap
    assert sim.counts["READ_BASIC"] == 1
    sim.remove()
    assert reader.read_card(timeout=0.05) is None  # the reader sees it gone
    sim.present(fake_card(1))
    assert reader.read_card(timeout=2.0) == fake_card(1)  # presented again: read again
    assert sim.counts["READ_BASIC"] == 2


def test_another_card_after_removal(sim: SimIdReader, reader: Gat467Reader) -> None:
    sim.present(fake_card(1))
    assert reader.read_card(timeout=2.0) == fake_card(1)
    sim.remove()
    assert reader.read_card(timeout=0.05) is None
    sim.present(fake_card(2))
    assert reader.read_card(timeout=2.0) == fake_card(2)


def test_card_removed_mid_read(sim: SimIdReader, reader: Gat467Reader) -> None:
    sim.remove_mid_read = True
    sim.present(fake_card(1))
    with pytest.raises(CardReadFailed, match="taken away") as failure:
        reader.read_card(timeout=2.0)
    assert failure.value.removed
    assert reader.read_card(timeout=0.05) is None
    sim.present(fake_card(1))
    assert reader.read_card(timeout=2.0) == fake_card(1)


def test_a_card_that_cannot_be_read_but_stays(
    sim: SimIdReader, reader: Gat467Reader, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim.present(fake_card(1))
    original = sim.respond

    def unreadable(frame: bytes) -> bytes | None:
        if frame == build_request(Command.READ_BASIC):
            return bytes.fromhex("aaaaaa9669 0004 000033 37")  # information verification error
        return original(frame)

    monkeypatch.setattr(sim, "respond", unreadable)
    with pytest.raises(CardReadFailed, match="failed verification") as failure:
        reader.read_card(timeout=2.0)
    assert not failure.value.removed


def test_one_damaged_answer_is_asked_again(sim: SimIdReader, reader: Gat467Reader) -> None:
    sim.present(fake_card(1))
    sim.corrupt_answers = 1
    assert reader.read_card(timeout=2.0) == fake_card(1)
    assert sim.corrupt_answers == 0


def test_checksum_errors_that_persist(sim: SimIdReader, reader: Gat467Reader) -> None:
    sim.present(fake_card(1))
    sim.corrupt_answers = 1_000
    with pytest.raises(ReaderUnavailable, match="checksum"):
        reader.read_card(timeout=2.0)
    sim.corrupt_answers = 0
    assert reader.read_card(timeout=2.0) == fake_card(1)  # recovers once the line is clean


def test_damaged_read_answer(
    sim: SimIdReader, reader: Gat467Reader, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim.present(fake_card(1))
    original = sim.respond

    def damage_reads(frame: bytes) -> bytes | None:
        answer = original(frame)
        if answer is not None and frame == build_request(Command.READ_BASIC):
            answer = answer[:-1] + bytes([answer[-1] ^ 1])
        return answer

    monkeypatch.setattr(sim, "respond", damage_reads)
    with pytest.raises(ReaderUnavailable, match="checksum"):
        reader.read_card(timeout=2.0)
    assert sim.counts["READ_BASIC"] == 2  # sent once more before giving up


@pytest.mark.parametrize("noise", [
    b"\x00\xff\x13",
    bytes.fromhex("aaaaaa96 00"),  # a preamble broken off
    bytes.fromhex("aaaaaa9669 ffff"),  # a preamble with an impossible length
    bytes(range(256)) * 2,
])
def test_garbage_before_the_preamble_is_skipped(
    sim: SimIdReader, reader: Gat467Reader, noise: bytes,
) -> None:
    sim.garbage_prefix = noise
    sim.present(fake_card(1))
    assert reader.read_card(timeout=2.0) == fake_card(1)


def test_reader_silent(sim: SimIdReader, reader: Gat467Reader) -> None:
    sim.silent = True
    sim.present(fake_card(1))
    started = time.monotonic()
    with pytest.raises(ReaderUnavailable, match="did not answer"):
        reader.read_card(timeout=5.0)
    assert time.monotonic() - started < RESPONSE_TIMEOUT + 0.5
    sim.silent = False
    assert reader.read_card(timeout=2.0) == fake_card(1)


def test_reader_sending_only_noise(
    sim: SimIdReader, reader: Gat467Reader, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # noise and never a frame: like a reader set to another baud rate
    monkeypatch.setattr(sim, "respond", lambda frame: b"\x55\xaa" * 20)
    with pytest.raises(ReaderUnavailable, match="no complete answer"):
        reader.read_card(timeout=1.0)


def test_port_missing() -> None:
    driver = Gat467Reader(ReaderSettings("/dev/no-such-id-reader", response_timeout=0.1))
    with pytest.raises(ReaderUnavailable, match="cannot open"):
        driver.read_card(timeout=0.1)
    with pytest.raises(ReaderUnavailable):
        driver.check()


def test_reader_unplugged_while_open(sim: SimIdReader, reader: Gat467Reader) -> None:
    assert reader.read_card(timeout=0.01) is None
    sim.stop()
    with pytest.raises(ReaderUnavailable):
        reader.read_card(timeout=0.5)


def test_check(sim: SimIdReader, reader: Gat467Reader) -> None:
    reader.check()
    assert sim.counts["SAM_STATUS"] == 1
    sim.silent = True
    with pytest.raises(ReaderUnavailable):
        reader.check()


def test_cancel_ends_a_waiting_read(sim: SimIdReader, reader: Gat467Reader) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(reader.read_card, 30.0)
        assert sim.wait_requests("FIND", 1, timeout=5.0)
        reader.cancel()
        assert waiting.result(timeout=5.0) is None


def test_driver_bugs_surface_as_reader_errors(
    sim: SimIdReader, reader: Gat467Reader, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(reader, "_exchange", broken)
    with pytest.raises(ReaderUnavailable, match="driver failed"):
        reader.read_card(timeout=0.1)


# --- the simulator speaks the protocol, bad frames included --------------------------------

@pytest.mark.parametrize(("request_frame", "status"), [
    (build_request(Command.FIND), Status.FIND_FAILED),
    (build_request(Command.SAM_STATUS), Status.OK),
    (build_request(Command.READ_BASIC), Status.READ_FAILED),
    (build_request(Command.FIND)[:-1] + b"\x00", Status.BAD_CHECKSUM),
    (bytes.fromhex("aaaaaa9669 0003 9901 9b"), Status.BAD_COMMAND),
])
def test_simulator_answers(sim: SimIdReader, request_frame: bytes, status: Status) -> None:
    with serial.Serial(sim.link, 115200, timeout=2.0) as port:
        port.write(b"\x00\x01" + request_frame)  # noise before a request is skipped too
        head = port.read(7)
        answer = parse_answer(head + port.read(int.from_bytes(head[5:7], "big")))
    assert answer.status is status
