"""GA/T 467 frames, statuses and card text: byte-exact golden vectors and parser properties."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date
from functools import reduce
from operator import xor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.drivers.gat467_card_text import (
    decode_basic_info,
    decode_text,
    encode_basic_info,
    encode_text,
)
from hardware.drivers.gat467_protocol import (
    CARD_ERRORS,
    LINK_ERRORS,
    PREAMBLE,
    READER_ERRORS,
    Answer,
    CardDataError,
    ChecksumError,
    Command,
    FrameError,
    ProtocolError,
    Status,
    build_answer,
    build_request,
    checksum,
    parse_answer,
    parse_request,
    split_frame,
)
from hardware.drivers.id_reader_sim import fake_card, fake_id_number, id_check_character
from hardware.id_reader import IdCard, Sex, mask_id_number


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- checksum and request frames -----------------------------------------------------------

@pytest.mark.parametrize(("data", "expected"), [
    ("0003 2001", 0x22),
    ("0003 2002", 0x21),
    ("0003 3001", 0x32),
    ("0008 00009f 00000000", 0x97),
    ("", 0x00),
    ("ff ff", 0x00),
])
def test_checksum(data: str, expected: int) -> None:
    assert checksum(h(data)) == expected


@pytest.mark.parametrize(("command", "frame"), [
    (Command.FIND, "aaaaaa9669 0003 2001 22"),
    (Command.SELECT, "aaaaaa9669 0003 2002 21"),
    (Command.READ_BASIC, "aaaaaa9669 0003 3001 32"),
    (Command.SAM_STATUS, "aaaaaa9669 0003 11ff ed"),
    (Command.RESET_SAM, "aaaaaa9669 0003 10ff ec"),
])
def test_request_frames(command: Command, frame: str) -> None:
    assert build_request(command) == h(frame)
    request = parse_request(h(frame))
    assert request.command is command
    assert request.data == b""


# --- answer frames -------------------------------------------------------------------------

@pytest.mark.parametrize(("frame", "expected", "status"), [
    ("aaaaaa9669 0008 00009f 00000000 97", Answer(0, 0, 0x9F, bytes(4)), Status.FOUND),
    ("aaaaaa9669 0004 000080 84", Answer(0, 0, 0x80), Status.FIND_FAILED),
    ("aaaaaa9669 000c 000090 0000000000000000 9c", Answer(0, 0, 0x90, bytes(8)), Status.OK),
    ("aaaaaa9669 0004 000081 85", Answer(0, 0, 0x81), Status.SELECT_FAILED),
    ("aaaaaa9669 0004 000041 45", Answer(0, 0, 0x41), Status.READ_FAILED),
    ("aaaaaa9669 0004 000010 14", Answer(0, 0, 0x10), Status.BAD_CHECKSUM),
    ("aaaaaa9669 0004 000021 25", Answer(0, 0, 0x21), Status.BAD_COMMAND),
    ("aaaaaa9669 0004 000024 20", Answer(0, 0, 0x24), Status.UNKNOWN_ERROR),
    ("aaaaaa9669 0004 6a8241 ad", Answer(0x6A, 0x82, 0x41), Status.READ_FAILED),
    ("aaaaaa9669 0004 0000ee ea", Answer(0, 0, 0xEE), None),
])
def test_answer_frames(frame: str, expected: Answer, status: Status | None) -> None:
    answer = parse_answer(h(frame))
    assert answer == expected
    assert answer.status is status
    assert build_answer(expected.sw3, expected.data, expected.sw1, expected.sw2) == h(frame)


@pytest.mark.parametrize(("frame", "error"), [
    ("aaaaaa9669 0004 000080 85", ChecksumError),  # checksum off by one bit
    ("aaaaaa9669 0008 00009f 00000001 97", ChecksumError),  # data byte flipped
    ("aaaaaa9669 0004 000180 84", ChecksumError),  # SW2 flipped
    ("aaaaaa9668 0004 000080 84", FrameError),  # preamble
    ("aaaa9669 0004 000080 84", FrameError),  # preamble too short
    ("aaaaaa9669 0005 000080 84", FrameError),  # length says one more
    ("aaaaaa9669 0003 000080 84", FrameError),  # length says one fewer
    ("aaaaaa9669 0004 000080 84 00", FrameError),  # trailing byte
    ("aaaaaa9669 0003 2001 22", FrameError),  # a request is too short for an answer
    ("aaaaaa9669 0000", FrameError),  # zero length
    ("aaaaaa9669 ffff 000080 84", FrameError),  # implausible length
    ("aaaaaa9669 00", FrameError),
    ("", FrameError),
])
def test_bad_answer_frames_are_rejected(frame: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_answer(h(frame))


def test_status_sets_partition_the_table() -> None:
    success = {Status.OK, Status.FOUND}
    groups = [LINK_ERRORS, READER_ERRORS, CARD_ERRORS, success]
    assert sum(len(g) for g in groups) == len(Status)
    assert set().union(*groups) == set(Status)
    assert Status.FIND_FAILED in CARD_ERRORS
    assert Status.NOT_PERMITTED in CARD_ERRORS
    assert all(s.meaning for s in Status)


# --- finding frames in a byte stream -------------------------------------------------------

FIND_OK = h("aaaaaa9669 0008 00009f 00000000 97")


@pytest.mark.parametrize(("stream", "frame", "rest"), [
    (FIND_OK, FIND_OK, b""),
    (b"\x00\xff" + FIND_OK + b"\x01", FIND_OK, b"\x01"),
    (h("aaaaaa96") + FIND_OK, FIND_OK, b""),  # a broken preamble before the real one
    (h("aaaaaa9669 ffff") + FIND_OK, FIND_OK, b""),  # implausible length: resynchronise
    (FIND_OK + FIND_OK, FIND_OK, FIND_OK),
    (FIND_OK[:-1], None, FIND_OK[:-1]),
    (b"\x00\x00\xaa\xaa", None, b"\xaa\xaa"),  # keep what may be a preamble arriving
    (b"\x00\x01\x02", None, b""),
])
def test_split_frame(stream: bytes, frame: bytes | None, rest: bytes) -> None:
    assert split_frame(stream) == (frame, rest)


# --- the card's text layout ----------------------------------------------------------------

def ucs2(text: str) -> str:
    return text.encode("utf-16-le").hex()


def test_text_layout_golden() -> None:
    text = encode_text(fake_card(1))
    spaces = "2000"
    expected = (
        "4b6d" "d58b" "004e" + spaces * 12  # 测试一, 15 characters
        + "3100"  # sex 1 = male
        + "3000" "3100"  # ethnicity 01 = 汉
        + ucs2("20000101")
        + ucs2("测试省测试市测试区测试路1号") + spaces * 21
        + ucs2("000000200001010013")
        + ucs2("测试市公安局测试分局") + spaces * 5
        + ucs2("20200101") + ucs2("20400101")
        + spaces * 18  # padding to 256 bytes
    )
    assert text.hex() == expected
    assert len(text) == 256


def test_basic_info_lengths_and_offsets() -> None:
    data = encode_basic_info(fake_card(2))
    assert data[:4] == h("0100 0400")
    assert len(data) == 4 + 256 + 1024
    assert data[4 + 122 : 4 + 158].decode("utf-16-le") == fake_card(2).id_number
    assert data[4 + 204 : 4 + 220].decode("utf-16-le") == "20400101"


@pytest.mark.parametrize("card", [
    fake_card(1),
    fake_card(2),
    fake_card(3, valid_to=None, ethnicity="蒙古"),
    fake_card(4, ethnicity="基诺", name="测试四测试四测试四测试四测试四"),
    fake_card(5, ethnicity="其他", sex=Sex.UNSPECIFIED),
    fake_card(6, ethnicity="99", sex=Sex.UNKNOWN),  # an unknown code is kept as its digits
])
def test_basic_info_round_trip(card: IdCard) -> None:
    assert decode_basic_info(encode_basic_info(card)) == card


def test_lifelong_validity_is_stored_as_changqi() -> None:
    text = encode_text(fake_card(1, valid_to=None))
    assert decode_text(text)["valid_to"] == "长期"
    assert text[204:212] == h("7f95 1f67 2000 2000")


def _with_field(card_data: bytes, offset: int, value: str) -> bytes:
    raw = value.encode("utf-16-le", "surrogatepass")
    return card_data[: 4 + offset] + raw + card_data[4 + offset + len(raw) :]


GOOD = encode_basic_info(fake_card(1))


@pytest.mark.parametrize(("data", "words"), [
    (_with_field(GOOD, 30, "3"), "sex"),
    (_with_field(GOOD, 32, "x1"), "ethnicity"),
    (_with_field(GOOD, 36, "20000231"), "birth date"),
    (_with_field(GOOD, 36, "2000010a"), "birth date"),
    (_with_field(GOOD, 122, "00000020000101001Y"), "ID number"),
    (_with_field(GOOD, 122, "000000" + " " * 12), "ID number"),
    (_with_field(GOOD, 204, "20409999"), "validity end"),
    (_with_field(GOOD, 0, " " * 15), "name"),
    (_with_field(GOOD, 0, "\ud800"), "UCS-2"),
    (GOOD[:-1], "do not match"),
    (GOOD[:3], "shorter"),
    (h("0010 0000") + bytes(16), "text length"),
])
def test_bad_card_text_is_rejected(data: bytes, words: str) -> None:
    with pytest.raises(CardDataError, match=words):
        decode_basic_info(data)


def test_encoding_refuses_fields_that_do_not_fit() -> None:
    with pytest.raises(CardDataError, match="name"):
        encode_text(fake_card(1, name="测" * 16))
    with pytest.raises(CardDataError, match="photo"):
        encode_basic_info(fake_card(1, photo=bytes(1025)))


# --- test cards and the ID number ----------------------------------------------------------

def test_id_check_character_golden() -> None:
    assert id_check_character("11010519491231002") == "X"  # the GB 11643 example
    assert fake_id_number(13, date(1990, 5, 6)) == "000000199005060135"


@pytest.mark.parametrize("n", range(1, 12))
def test_fake_cards_are_obviously_fake(n: int) -> None:
    card = fake_card(n)
    assert card.id_number.startswith("000000")
    assert card.name.startswith("测试")
    assert card.id_number[-1] == id_check_character(card.id_number[:17])
    assert int(card.id_number[16]) % 2 == (card.sex is Sex.MALE)  # odd sequence: male


def test_id_card_never_shows_the_raw_number(caplog: pytest.LogCaptureFixture) -> None:
    card = fake_card(1)
    raw = card.id_number
    assert card.masked_id == "0000**********0013"
    logging.getLogger("test").warning("card %s %r %s", card, card, [card])
    for shown in (repr(card), str(card), f"{card}", caplog.text, repr({"c": card})):
        assert raw not in shown
        assert "测试一" not in shown
    assert "0000**********0013" in repr(card)


@pytest.mark.parametrize(("number", "masked"), [
    ("000000199001011234", "0000**********1234"),
    ("12345678", "********"),
    ("123456789", "1234*6789"),
    ("", ""),
])
def test_mask_id_number(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


def test_id_hash_is_keyed_and_validity() -> None:
    card = fake_card(1)
    assert card.id_hash(b"k1") != card.id_hash(b"k2")
    assert card.id_number not in card.id_hash(b"k1")
    assert card.valid_on(date(2030, 1, 1))
    assert not card.valid_on(date(2041, 1, 1))
    assert dataclasses.replace(card, valid_to=None).valid_on(date(2999, 1, 1))


# --- properties ----------------------------------------------------------------------------

def _xor(data: bytes) -> int:
    return reduce(xor, data, 0)


valid_answers = st.builds(
    build_answer, st.integers(0, 255), st.binary(max_size=64), st.integers(0, 255),
    st.integers(0, 255),
)


@st.composite
def mutated_answers(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(valid_answers))
    for _ in range(draw(st.integers(1, 3))):
        frame[draw(st.integers(0, len(frame) - 1))] ^= draw(st.integers(1, 255))
    cut = draw(st.integers(-3, 3))
    tail = draw(st.binary(min_size=max(cut, 0), max_size=max(cut, 0)))
    return bytes(frame[:cut] if cut < 0 else frame + tail)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None)
@given(st.one_of(st.binary(max_size=80), mutated_answers(), valid_answers))
def test_answer_parser_raises_only_its_own_errors_and_never_accepts_a_bad_frame(
    frame: bytes,
) -> None:
    try:
        answer = parse_answer(frame)
    except ProtocolError:
        return
    assert frame[:5] == PREAMBLE
    assert int.from_bytes(frame[5:7], "big") == len(frame) - 7
    assert _xor(frame[5:-1]) == frame[-1]
    assert build_answer(answer.sw3, answer.data, answer.sw1, answer.sw2) == frame


@settings(max_examples=2_000, deadline=None)
@given(valid_answers, st.data())
def test_any_single_damaged_byte_is_rejected(frame: bytes, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(frame) - 1))
    damaged = bytearray(frame)
    damaged[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(ProtocolError):
        parse_answer(bytes(damaged))


@settings(max_examples=2_000, deadline=None)
@given(st.binary(max_size=40).map(lambda b: b.replace(b"\xaa", b"")), valid_answers,
       st.binary(max_size=10))
def test_split_frame_finds_a_frame_behind_noise(noise: bytes, frame: bytes, rest: bytes) -> None:
    assert split_frame(noise + frame + rest) == (frame, rest)


@settings(max_examples=2_000, deadline=None)
@given(st.binary(max_size=300))
def test_split_frame_never_raises_and_only_returns_framed_bytes(stream: bytes) -> None:
    frame, rest = split_frame(stream)
    assert len(rest) <= len(stream)
    if frame is not None:
        assert frame.startswith(PREAMBLE)
        assert len(frame) == 7 + int.from_bytes(frame[5:7], "big")


@settings(max_examples=2_000, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), max_size=4))
def test_card_decoder_raises_only_its_own_errors(damage: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for position, flip in damage:
        data[position] ^= flip
    try:
        card = decode_basic_info(bytes(data))
    except CardDataError:
        return
    assert isinstance(card, IdCard)
