"""Modbus RTU wire time: the physical limit the bus owner, the simulator and the benchmarks share.

A character is 11 bits (start, 8 data, parity or second stop, stop). Before each frame the line
stays silent for 3.5 characters, fixed at 1.75 ms above 19200 baud (Modbus over serial line
spec §2.5.1.1).
"""

from __future__ import annotations

BITS_PER_CHAR = 11


def char_time(baud: int) -> float:
    """Seconds one character takes on the wire."""
    return BITS_PER_CHAR / baud


def silent_interval(baud: int) -> float:
    """The 3.5-character gap that delimits RTU frames, in seconds."""
    return 0.00175 if baud > 19200 else 3.5 * char_time(baud)


def frame_time(n_bytes: int, baud: int) -> float:
    """Seconds to send a frame of `n_bytes`, without the gap before it."""
    return n_bytes * char_time(baud)


def transaction_time(request_bytes: int, response_bytes: int, baud: int) -> float:
    """The physical minimum of one request/response: both frames plus a gap before each."""
    return (frame_time(request_bytes + response_bytes, baud) + 2 * silent_interval(baud))


def read_bits_response_bytes(count: int) -> int:
    """RTU frame length of a read-coils / read-discrete-inputs response for `count` bits."""
    return 5 + (count + 7) // 8


def read_registers_response_bytes(count: int) -> int:
    """RTU frame length of a read-registers response for `count` registers."""
    return 5 + 2 * count


REQUEST_BYTES_FIXED = 8  # FC 1-6 requests and FC 5/6 echo responses are 8 bytes
