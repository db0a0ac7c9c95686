"""Scanner port and drivers without hardware: sanitising, debounce, line and key assembly,
the reader thread's life, the wedge and camera drivers with their simulators, and fuzzing."""

from __future__ import annotations

import logging
import queue
import random
import re
import threading
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.drivers.camera_scanner import (
    CameraScanner,
    ImageFileSource,
    RawFrame,
    decode_frame,
)
from hardware.drivers.scanner_sim import (
    CameraScannerSim,
    SerialScannerSim,
    WedgeScannerSim,
    render_code_frame,
    simulated_scanner,
)
from hardware.drivers.serial_scanner import LineSplitter, SerialScanner
from hardware.drivers.wedge_scanner import KeyBurst, WedgeScanner
from hardware.scanner import MAX_CODE_BYTES, CodeFilter, DummyScanner, ScannerStats

WAIT = 5.0  # generous: only ever reached when something is broken


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def collect(scanner) -> queue.Queue[str]:
    codes: queue.Queue[str] = queue.Queue()
    scanner.start(codes.put)
    return codes


def assert_clean(code: str) -> None:
    assert isinstance(code, str)
    assert code
    assert len(code.encode("utf-8")) <= MAX_CODE_BYTES
    assert not re.search("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\ud800-\udfff]", code)


# --- sanitising -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"ABC123\r\n", "ABC123"), ("ABC123\r", "ABC123"), ("\nABC123\n", "ABC123"),
     ("受理通知书".encode(), "受理通知书"), (b"x" * MAX_CODE_BYTES, "x" * MAX_CODE_BYTES),
     ("a b", "a b")],
)
def test_accepts_and_strips_line_ends(raw, code):
    assert CodeFilter(clock=FakeClock()).accept(raw) == code


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"x" * (MAX_CODE_BYTES + 1), "too_long"), ("中" * 700, "too_long"),
     (b"\xff\xfeABC", "not_utf8"), ("AB\udcffC", "not_utf8"), ("AB\x00C", "control_character"),
     ("AB\tC", "control_character"), ("AB\nC", "control_character"),
     ("\x1b[2J", "control_character"), ("AB\u202eC", "control_character"),
     ("AB\x85C", "control_character")],
)
def test_refuses_bad_input(raw, reason):
    f = CodeFilter(clock=FakeClock())
    assert f.accept(raw) is None
    assert f.stats.dropped == {reason: 1}
    assert f.stats.delivered == 0


def test_blank_lines_are_ignored_silently():
    f = CodeFilter(clock=FakeClock())
    assert f.accept(b"\r\n") is None
    assert f.accept("") is None
    assert f.stats == ScannerStats()


def test_drop_log_never_contains_the_content(caplog):
    caplog.set_level(logging.WARNING, logger="hardware.scanner")
    f = CodeFilter(clock=FakeClock(), name="test-scanner")
    f.accept("SECRET\x00000000199001011234")
    f.accept(b"SECRET" * 400)
    assert len(caplog.records) == 2
    assert "control_character" in caplog.text
    assert "too_long" in caplog.text
    assert "SECRET" not in caplog.text
    assert "3101" not in caplog.text


def test_drop_log_is_rate_limited(caplog):
    caplog.set_level(logging.WARNING, logger="hardware.scanner")
    clock = FakeClock()
    f = CodeFilter(clock=clock)
    for _ in range(50):
        f.accept(b"\xff")
    clock.advance(5.0)
    f.accept(b"\xff")
    assert len(caplog.records) == 2
    assert f.stats.dropped["not_utf8"] == 51


# --- debounce ---------------------------------------------------------------------------------


def test_repeat_within_window_delivered_once():
    clock = FakeClock()
    f = CodeFilter(clock=clock)
    assert f.accept("A") == "A"
    clock.advance(1.0)
    assert f.accept("A") is None
    assert f.stats.dropped == {"repeated": 1}


def test_window_slides_while_the_code_stays_in_view():
    clock = FakeClock()
    f = CodeFilter(clock=clock)
    assert f.accept("A") == "A"
    for _ in range(10):  # a camera sees it in every frame
        clock.advance(1.0)
        assert f.accept("A") is None
    clock.advance(1.5)  # out of sight for the whole window: a new scan
    assert f.accept("A") == "A"


def test_other_codes_are_not_debounced():
    clock = FakeClock()
    f = CodeFilter(clock=clock)
    assert [f.accept(c) for c in ("A", "B", "A", "B")] == ["A", "B", None, None]
    f0 = CodeFilter(debounce_s=0.0, clock=clock)
    assert [f0.accept(c) for c in ("A", "A")] == ["A", "A"]


def test_line_ends_do_not_defeat_debounce():
    f = CodeFilter(clock=FakeClock())
    assert f.accept(b"A\r") == "A"
    assert f.accept("A\r\n") is None


# --- serial lines and wedge bursts ------------------------------------------------------------


def test_lines_with_every_terminator_and_split_reads():
    s = LineSplitter(clock=FakeClock())
    assert s.feed(b"ONE\rTWO\nTHR") == [b"ONE", b"TWO"]
    assert s.feed(b"EE\r\nFOUR\r") == [b"THREE", b"FOUR"]
    assert s.feed(b"\n") == []
    assert s.feed(b"") == []


def test_unfinished_line_goes_stale():
    clock = FakeClock()
    s = LineSplitter(stale_after_s=0.5, clock=clock)
    assert s.feed(b"\xffnoise") == []
    clock.advance(0.6)
    assert s.feed(b"") == []
    assert s.feed(b"CODE\r") == [b"CODE"]
    assert s.stale_discarded == 1


def test_over_long_line_is_handed_on_once_and_the_rest_skipped():
    s = LineSplitter(max_bytes=10, clock=FakeClock())
    out = s.feed(b"x" * 25)
    assert out == [b"x" * 11]
    assert s.feed(b"yyyy" * 10) == []
    assert s.feed(b"tail\rNEXT\r") == [b"NEXT"]


def test_key_burst_takes_fast_bursts_only():
    b = KeyBurst(max_gap_s=0.05, min_length=4)
    t = 10.0
    out = []
    for i, ch in enumerate("PICKUP-123\r"):
        out += b.add(ch, t + i * 0.004)
    assert out == ["PICKUP-123"]
    slow = []
    for i, ch in enumerate("1234\r"):
        slow += b.add(ch, 20 + i * 0.2)
    assert slow == []
    assert b.add("abc\r", 30) == []  # too short to be a scan
    assert b.add("\r", 31) == []


def test_key_burst_after_a_pause_starts_afresh():
    b = KeyBurst()
    assert b.add("stale", 1.0) == []
    assert b.add("FRESH\r", 5.0) == ["FRESH"]


# --- the reader thread ------------------------------------------------------------------------


def test_dummy_delivers_on_its_own_thread_and_records():
    scanner = DummyScanner(clock=FakeClock())
    threads: queue.Queue[str] = queue.Queue()
    scanner.start(lambda code: threads.put(threading.current_thread().name))
    scanner.push(b"CODE-1\r\n")
    scanner.push(b"\xff")
    scanner.push("CODE-2")
    assert threads.get(timeout=WAIT) == "dummy-reader"
    assert threads.get(timeout=WAIT) == "dummy-reader"
    scanner.stop()
    assert scanner.delivered == ["CODE-1", "CODE-2"]
    assert scanner.pushed[1] == b"\xff"
    assert scanner.stats.dropped == {"not_utf8": 1}
    assert not scanner.healthy


def test_handler_errors_do_not_stop_the_reader():
    scanner = DummyScanner()
    got: queue.Queue[str] = queue.Queue()

    def handler(code: str) -> None:
        if code == "BAD":
            raise ValueError(code)
        got.put(code)

    scanner.start(handler)
    scanner.push("BAD")
    scanner.push("GOOD")
    assert got.get(timeout=WAIT) == "GOOD"
    scanner.stop()


def test_unavailable_device_is_retried_and_recovers():
    scanner = DummyScanner(retry_s=0.01)
    scanner.available = False
    codes = collect(scanner)
    assert not scanner.wait_health(True, 0.05)
    scanner.available = True
    assert scanner.wait_health(True, WAIT)
    scanner.push("AFTER")
    assert codes.get(timeout=WAIT) == "AFTER"
    scanner.available = False
    assert scanner.wait_health(False, WAIT)
    scanner.stop()
    assert scanner.stats.failures == 2


def test_start_twice_is_refused():
    scanner = DummyScanner()
    scanner.start(lambda code: None)
    with pytest.raises(RuntimeError, match="already started"):
        scanner.start(lambda code: None)
    scanner.stop()


# --- wedge and camera drivers with their simulators -------------------------------------------


def test_wedge_scanner_with_simulator():
    scanner, sim = simulated_scanner("wedge")
    assert isinstance(scanner, WedgeScanner)
    assert isinstance(sim, WedgeScannerSim)
    codes = collect(scanner)
    sim.type_by_hand("HUMAN-TYPING")
    sim.present("https://example.org/r?c=1")
    assert codes.get(timeout=WAIT) == "https://example.org/r?c=1"
    sim.silent = True
    sim.present("LOST")
    sim.silent = False
    sim.present("SECOND")
    assert codes.get(timeout=WAIT) == "SECOND"
    scanner.stop()
    assert scanner.stats.delivered == 2


def test_camera_frames_decode_as_images_and_raw_bytes():
    frame = render_code_frame("受理通知书 SH-1")
    assert frame.size == (1280, 720)
    assert decode_frame(frame) == ["受理通知书 SH-1".encode()]
    raw = RawFrame(frame.tobytes(), 1280, 720)
    assert decode_frame(raw) == ["受理通知书 SH-1".encode()]
    assert decode_frame(render_code_frame("TILT", angle=17)) == [b"TILT"]
    with pytest.raises(ValueError, match="width"):
        RawFrame(b"123", 2, 2)


def test_camera_scanner_delivers_a_held_code_once():
    sim = CameraScannerSim(hold_frames=4, raw=True)
    scanner = CameraScanner(sim)
    codes = collect(scanner)
    sim.present("HELD-IN-VIEW")
    sim.present("NEXT")
    sim.hold_frames = 1
    sim.present("END")  # frames are read in order: when END is out, the others are done
    assert [codes.get(timeout=WAIT) for _ in range(3)] == ["HELD-IN-VIEW", "NEXT", "END"]
    scanner.stop()
    assert codes.empty()
    assert scanner.stats.dropped == {"repeated": 6}


def test_camera_scanner_reads_a_presented_receipt():
    from locker.receipt_image import ReceiptFields, render_receipt
    from locker.receipt_keys import generate_private_key as new_key
    from locker.receipt_token import ReceiptIssuer, ReceiptKind, ReceiptVerifier

    key = new_key()
    token = ReceiptIssuer(key, "k1").issue("SH310115202601010001", ReceiptKind.MATERIALS_RECEIPT)
    fields = ReceiptFields(ReceiptKind.MATERIALS_RECEIPT, "SH310115202601010001", "3号窗口",
                           "个体工商户登记", "新办", "李四", "13900001111", date(2026, 1, 1))
    scanner, sim = simulated_scanner("camera")
    codes = collect(scanner)
    sim.present_image(render_receipt(fields, token).rotate(90, expand=True))
    code = codes.get(timeout=WAIT)
    scanner.stop()
    assert ReceiptVerifier({"k1": key.public_key()}).verify(code).case_no == fields.case_no


def test_image_file_source(tmp_path):
    paths = []
    for i, code in enumerate(["FILE-1", "FILE-2"]):
        paths.append(tmp_path / f"frame{i}.png")
        render_code_frame(code).save(paths[-1])
    scanner = CameraScanner(ImageFileSource(paths))
    codes = collect(scanner)
    assert [codes.get(timeout=WAIT), codes.get(timeout=WAIT)] == ["FILE-1", "FILE-2"]
    scanner.stop()


def test_camera_unplugged():
    scanner, sim = simulated_scanner("camera", retry_s=0.01)
    collect(scanner)
    assert scanner.wait_health(True, WAIT)
    sim.unplugged = True
    assert scanner.wait_health(False, WAIT)
    sim.unplugged = False
    assert scanner.wait_health(True, WAIT)
    scanner.stop()


def test_unknown_simulated_kind():
    with pytest.raises(ValueError, match="serial, wedge or camera"):
        simulated_scanner("laser")


def test_serial_sim_builds_a_serial_driver():
    scanner, sim = simulated_scanner("serial")
    assert isinstance(scanner, SerialScanner)
    assert isinstance(sim, SerialScannerSim)
    assert scanner.settings.link == sim.link
    assert (scanner.settings.baud, scanner.settings.parity) == (9600, "N")
    sim.close()


# --- fuzzing the whole input path -------------------------------------------------------------

BLOB = st.one_of(
    st.binary(max_size=160),
    st.integers(MAX_CODE_BYTES - 3, MAX_CODE_BYTES + 40).map(lambda n: b"A" * n),
)
STEPS = (0.0, 0.004, 0.06, 0.6, 2.0)


def pieces(rng: random.Random, data, marks):
    """Cut `data` at random places, sprinkling line ends (`marks`) in between."""
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, 64)
        out.append(data[i:i + n] + (rng.choice(marks) if rng.random() < 0.4 else data[:0]))
        i += n
    return out or [data]


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["raw", "serial", "wedge"]), BLOB, st.text(max_size=40),
       st.integers(0, 2**32))
def test_fuzz_scanner_input(kind, blob, text, seed):
    """Whatever arrives, in whatever pieces and rhythm: only clean codes come out."""
    rng = random.Random(seed)
    clock = FakeClock()
    f = CodeFilter(clock=clock)
    delivered: list[str | None] = []
    if kind == "raw":
        for raw in (blob, text, blob.decode("utf-8", "surrogateescape")):
            clock.advance(rng.choice(STEPS))
            delivered.append(f.accept(raw))
    elif kind == "serial":
        splitter = LineSplitter(clock=clock)
        for chunk in pieces(rng, blob, [b"\r", b"\n", b"\r\n"]):
            clock.advance(rng.choice(STEPS))
            for line in splitter.feed(chunk):
                assert len(line) <= MAX_CODE_BYTES + 1
                delivered.append(f.accept(line))
    else:
        burst = KeyBurst(min_length=1)
        for keys in pieces(rng, text, ["\r", "\n"]):
            clock.advance(rng.choice(STEPS))
            for code in burst.add(keys, clock()):
                delivered.append(f.accept(code))
    for code in filter(None, delivered):
        assert_clean(code)
    assert f.stats.delivered == sum(1 for c in delivered if c is not None)
