"""Shared by the benchmarks: the DESIGN §11 JSON shape, a simulator subprocess, statistics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def figure(value: float, unit: str, limit: float | None = None) -> dict:
    """One figure: value, unit, the limit measured or computed in the same run, and the ratio."""
    ratio = round(value / limit, 3) if limit else None
    return {"value": round(value, 3), "unit": unit,
            "limit": None if limit is None else round(limit, 3), "ratio": ratio}


def emit(name: str, figures: dict, **extra: object) -> None:
    """Print the one JSON object every benchmark ends with."""
    print(json.dumps({"bench": name, "figures": figures, **extra}, ensure_ascii=False))


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (0 for no values): p99 of 400 samples is the 396th smallest."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


@contextmanager
def sim_process(*args: str) -> Iterator[dict]:
    """`kiosk sim board ... --json` in its own process (no GIL shared with what is measured)."""
    cmd = [sys.executable, "-m", "hardware.drivers.sim_cli", *args, "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            raise RuntimeError(f"simulator did not start: {cmd}")
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()  # else a ResourceWarning (an error under pytest's filterwarnings)
