"""A longer hostile-input campaign against the real CLI: the hypothesis tests with more examples.

`kiosk bench cli_fuzz [--examples N]` runs tests/integration/test_cli_hostile_input.py with
N examples per property (the suite runs 150) and prints JSON: examples, seconds, examples
per second and whether every example ended in exactly one line and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = "tests/integration/test_cli_hostile_input.py"


def main() -> int:
    """Run the campaign and print its figures."""
    parser = argparse.ArgumentParser(prog="kiosk bench cli_fuzz")
    parser.add_argument("--examples", type=int, default=2000, help="examples per property")
    args = parser.parse_args()
    env = {**os.environ, "KIOSK_FUZZ_EXAMPLES": str(args.examples),
           "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "pytest", TESTS, "-q", "-p", "no:randomly",
                          "-k", "in_one_line", "-p", "no:cacheprovider"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    total = 2 * args.examples  # the two in-process properties (configs, arguments)
    print(json.dumps({"examples": total, "seconds": round(seconds, 1),
                      "examples_per_s": round(total / seconds, 1),
                      "all_one_line": out.returncode == 0,
                      "pytest_tail": out.stdout.strip().splitlines()[-1:]}, indent=2))
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())
