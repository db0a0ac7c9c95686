"""The serial scanner driver against its simulator over a real pseudo-terminal."""

from __future__ import annotations

import logging
import queue
import random

import pytest

from hardware.drivers.scanner_sim import SerialScannerSim
from hardware.drivers.serial_scanner import SerialScanner, SerialScannerSettings
from locker.receipt_keys import generate_private_key
from locker.receipt_token import ReceiptIssuer, ReceiptKind, ReceiptVerifier

WAIT = 5.0  # generous: only ever reached when something is broken


@pytest.fixture
def scanner_rig():
    """A started driver on a fresh simulator; yields (sim, scanner, codes)."""
    sim = SerialScannerSim()
    scanner = SerialScanner(SerialScannerSettings(sim.link), poll_s=0.05, retry_s=0.05)
    codes: queue.Queue[str] = queue.Queue()
    scanner.start(codes.put)
    assert scanner.wait_health(True, WAIT)  # the port flushes its input on open: wait for it
    yield sim, scanner, codes
    scanner.stop()
    sim.close()


def next_codes(codes: queue.Queue[str], n: int) -> list[str]:
    return [codes.get(timeout=WAIT) for _ in range(n)]


def test_codes_with_every_terminator(scanner_rig):
    sim, scanner, codes = scanner_rig
    sim.present("ONE", terminator=b"\r")
    sim.present("TWO", terminator=b"\n")
    sim.present("THREE", terminator=b"\r\n")
    sim.present("取件码 123456")
    assert next_codes(codes, 4) == ["ONE", "TWO", "THREE", "取件码 123456"]
    assert scanner.stats.delivered == 4


def test_a_receipt_token_comes_through_intact_and_verifies(scanner_rig):
    sim, _, codes = scanner_rig
    key = generate_private_key()
    token = ReceiptIssuer(key, "k1").issue("SH310115202601010001", ReceiptKind.ACCEPTANCE_NOTICE)
    for i in range(0, len(token), 50):  # a slow UART delivers it in pieces
        sim.write_raw(token[i:i + 50].encode())
    sim.write_raw(b"\r\n")
    code = codes.get(timeout=WAIT)
    assert code == token
    assert ReceiptVerifier({"k1": key.public_key()}).verify(code).case_no == "SH310115202601010001"


def test_double_scan_is_delivered_once(scanner_rig):
    sim, scanner, codes = scanner_rig
    sim.present("SAME")
    sim.present("SAME")
    sim.present("OTHER")
    assert next_codes(codes, 2) == ["SAME", "OTHER"]  # in order: SAME's repeat came before
    assert scanner.stats.dropped == {"repeated": 1}


def test_line_noise_does_not_stop_the_scanner(scanner_rig):
    sim, scanner, codes = scanner_rig
    rng = random.Random(20260101)
    for _ in range(10):  # 1 kB: well inside the pty's buffer, so nothing is lost to overrun
        sim.noise(rng.randbytes(100) + b"\r")
    sim.present("AFTER-NOISE")
    got = []
    while not got or got[-1] != "AFTER-NOISE":
        got.append(codes.get(timeout=WAIT))
    for code in got:  # noise may happen to form a printable line; never a dirty one
        assert code.isprintable()
        assert len(code.encode()) <= 2048
    assert scanner.healthy
    assert sum(scanner.stats.dropped.values()) > 0


def test_over_long_code_is_refused_without_logging_it(scanner_rig, caplog):
    caplog.set_level(logging.WARNING)
    sim, scanner, codes = scanner_rig
    sim.present("SECRET" * 500)
    sim.present("NEXT")
    assert codes.get(timeout=WAIT) == "NEXT"
    assert scanner.stats.dropped == {"too_long": 1}
    assert "too_long" in caplog.text
    assert "SECRET" not in caplog.text


def test_silent_scanner_delivers_nothing_until_it_wakes(scanner_rig):
    sim, scanner, codes = scanner_rig
    sim.silent = True
    sim.present("LOST")
    sim.silent = False
    sim.present("BACK")
    assert codes.get(timeout=WAIT) == "BACK"
    assert scanner.healthy  # a silent scanner cannot be told from an idle one


def test_unplugged_adapter_is_reported_and_stop_is_prompt(scanner_rig, caplog):
    caplog.set_level(logging.WARNING)
    sim, scanner, _ = scanner_rig
    sim.disconnect()
    assert scanner.wait_health(False, WAIT)
    assert scanner.stats.failures == 1
    assert caplog.text.count("unavailable") == 1  # logged once, not on every retry
    scanner.stop(timeout=WAIT)
    assert not scanner.healthy


def test_missing_device_is_retried_quietly():
    scanner = SerialScanner(SerialScannerSettings("/dev/does-not-exist"), retry_s=0.01)
    scanner.start(lambda code: None)
    assert not scanner.wait_health(True, 0.1)
    scanner.stop()
    assert scanner.stats.failures == 1
