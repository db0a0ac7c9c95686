"""Make the unit-test helpers importable both ways: `locker_fakes` and `tests.unit.locker_fakes`.

With `tests/unit/__init__.py` present pytest puts only the repository root on sys.path; the
older tests import their helpers as top-level modules.
"""

from __future__ import annotations

import sys
from pathlib import Path

for _path in (Path(__file__).resolve().parent, Path(__file__).resolve().parents[2]):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
