"""Model-based test of the locker at scale (issue 11): thousands of random sequences.

Runs the hypothesis state machine of `tests/integration/test_locker_model.py` (deposits,
pickups by right and wrong people, staff opens, forced doors, board faults, restarts, kills,
layout changes over the real driver and the simulator on a pty) in a pytest subprocess with
`--examples` sequences, randomised (a new seed each run unless `--seed`), and reports how many
sequences and steps ran and how many violated an invariant (must be 0). The first violation
hypothesis finds is shrunk to a minimal counterexample, printed to stderr and in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, emit, figure

TEST = "tests/integration/test_locker_model.py"
FAMILIES = ("layout", "code_only", "restart_alarms")  # the machine's FLAGS


def main(argv: list[str] | None = None) -> int:
    """Run the machine, print the DESIGN §11 JSON last; exit 1 on any violation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="sequences to run")
    parser.add_argument("--steps", type=int, default=12, help="at most this many steps each")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: new)")
    parser.add_argument("--skip", action="append", default=[], choices=FAMILIES,
                        help="leave out a rule family that fails on main, to look past it")
    args = parser.parse_args(argv)
    if args.examples < 1 or args.steps < 1:
        print("locker_model: --examples and --steps must be at least 1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-locker-model-") as tmp:
        report = Path(tmp) / "report.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCKER_MODEL_EXAMPLES": str(args.examples),
               "LOCKER_MODEL_STEPS": str(args.steps), "LOCKER_MODEL_REPORT": str(report),
               "LOCKER_MODEL_SEED": str(args.seed if args.seed is not None else "random"),
               "HYPOTHESIS_STORAGE_DIRECTORY": f"{tmp}/hypothesis"}  # no replay of old failures
        env.update({f"LOCKER_MODEL_{f.upper()}": "0" for f in args.skip})
        cmd = [sys.executable, "-m", "pytest", f"{TEST}::test_locker_model_holds_every_invariant",
               "-q", "-x", "-p", "no:cacheprovider"]
        if args.seed is not None:
            cmd += [f"--hypothesis-seed={args.seed}"]
        started = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        if not report.is_file():
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
            print("locker_model: the test run produced no report", file=sys.stderr)
            return 2
        data = json.loads(report.read_text(encoding="utf-8"))
    if data["violations"]:
        tail = proc.stdout[proc.stdout.find("Failing test case"):][:4000]
        sys.stderr.write(f"counterexample: {data['counterexample']}\n{tail}\n")
    figures = {
        "sequences": figure(data["sequences"], "sequences"),
        "steps": figure(data["steps"], "steps"),
        "violations": figure(data["violations"], "violations", 0),
        "run_s": figure(elapsed, "s"),
    }
    emit("locker_model", figures, skipped=args.skip, rules=dict(sorted(data["rules"].items())),
         counterexample=data["counterexample"])
    return 1 if data["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
