"""Identity timings: offline receipt-token verification and QR decoding of a camera frame.

token_verify_ms: the whole ReceiptVerifier.verify (parse, header checks, Ed25519, claims);
limit: the bare Ed25519 signature check of the same bytes with `cryptography`, same run.
qr_decode_ms: pyzbar decode of a 1280x720 frame holding a receipt QR; limit: the 30 ms goal
(one frame at 30 fps), as there is no physical bound to compute.
"""

from __future__ import annotations

import base64
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, figure
from hardware.drivers.camera_scanner import decode_frame
from hardware.drivers.scanner_sim import render_code_frame
from locker.receipt_keys import generate_private_key
from locker.receipt_token import ReceiptIssuer, ReceiptKind, ReceiptVerifier

ROUNDS = 2000
FRAMES = 60
FRAME_BUDGET_MS = 30.0


def _median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    key = generate_private_key()
    token = ReceiptIssuer(key, "bench-1").issue("SH2026-BENCH-000123",
                                                ReceiptKind.ACCEPTANCE_NOTICE, valid_for_s=86400)
    verifier = ReceiptVerifier({"bench-1": key.public_key()})
    assert verifier.verify(token).case_no == "SH2026-BENCH-000123"
    head, payload, sig = token.split(".")
    signed = f"{head}.{payload}".encode()
    raw_sig = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    public = key.public_key()
    verify_ms = _median_ms(lambda: verifier.verify(token), ROUNDS)
    bare_ms = _median_ms(lambda: public.verify(raw_sig, signed), ROUNDS)

    frame = render_code_frame(token)
    assert frame.size == (1280, 720)
    assert decode_frame(frame) == [token.encode()]
    decode_ms = _median_ms(lambda: decode_frame(frame), FRAMES)
    emit("identity", {
        "token_verify_ms": figure(verify_ms, "ms", bare_ms),
        "qr_decode_ms": figure(decode_ms, "ms", FRAME_BUDGET_MS),
    }, token_bytes=len(token))


if __name__ == "__main__":
    main()
