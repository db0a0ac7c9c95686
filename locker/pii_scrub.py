"""The one scrubber: ID-number-shaped and mobile-number-shaped runs in free text become marks.

Used for log records and tracebacks, crash records, the support bundle and the free text printed
on receipts. It lives in locker, the lowest package all of those (terminal, locker) may import.
It is defence in depth: code never logs or prints a raw ID number or phone on purpose.
"""

from __future__ import annotations

import re

# 18 characters (the last a digit or X) or the old 15-digit form; not part of a longer run of
# letters and digits (hashes, tokens).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# 1[3-9] and 9 more digits, optionally after +86 / 86, optionally spaced or dashed 3-4-4.
MOBILE = re.compile(r"(?<![0-9A-Za-z+])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}"
                    r"(?![0-9A-Za-z])")
ID_MARK = "[id-number-redacted]"
PHONE_MARK = "[phone-redacted]"


def scrub(text: str) -> str:
    """`text` with every ID-number-shaped and mobile-number-shaped run replaced by a mark."""
    return MOBILE.sub(PHONE_MARK, ID_NUMBER.sub(ID_MARK, text))
