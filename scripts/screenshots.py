"""Render every screen of the terminal to PNG under Xvfb (docs/screenshots/).

The UI scenarios take the pictures on their way through the app (normal, elderly and English
where it matters), so the screenshots show real states reached by real touches.
Run: xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SCENARIOS = (("pickup_scenario.py",), ("services_scenario.py",), ("staff_scenario.py",),
             ("keyboard_scenario.py", "1920x1080"), ("keyboard_scenario.py", "1280x800"),
             ("lockdown_scenario.py",), ("survival_scenario.py",))
"""Each scenario's script and its arguments between the data dir and the screenshot folder."""


def main() -> int:
    """Run each scenario with the screenshot folder; fail if one fails."""
    for script, *args in SCENARIOS:
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([sys.executable, str(ROOT / "tests" / "ui" / script), tmp,
                                   *args, str(OUT)], check=False, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
                return 1
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
