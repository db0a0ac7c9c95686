"""Crash test: a locker process doing deposits and pickups is SIGKILLed at random points.
Runs the campaign (bench/crash_campaign.py) with its seeded events (layout changes, a second
owner, a damaged data dir: bench/crash_events.py) and prints its figures (docs/BENCHMARKS.md).
Usage: python bench/crash_kill.py [--kills N] [--seed S] [--keep]"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, emit, figure, quantile
from bench.crash_campaign import run_campaign

BUDGET_S = 1200.0  # 500 kills with their events


def import_time_s(runs: int = 3) -> float:
    """Median time of a bare interpreter importing the worker: the floor of a restart."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import bench.crash_rig"], cwd=ROOT, check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/crash_kill.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args, _rest = parser.parse_known_args(argv)  # `kiosk bench crash_kill` passes its own
    seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
    floor = import_time_s()
    workdir = Path(tempfile.mkdtemp(prefix="crash_kill_"))
    print(f"crash_kill: seed {seed}, work directory {workdir}", file=sys.stderr, flush=True)
    run = run_campaign(args.kills, seed, workdir,
                       progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    violations = run.violations
    final = run.final
    opens = [c["timings"]["open_s"] for c in run.checks]
    decisions = run.decisions()
    tasks = final.get("tasks_by_kind", {})
    ev = run.events
    layout = run.layout_figures()
    seconds = ev["second_process_exact"] + ev["second_process_attributed"]
    # worker_errors: workers that died on their own or never became ready, and ERROR lines in
    # their logs; restarts_s: spawn to ready, against the bare interpreter + import time.
    figures = {
        "kills": figure(run.kills, "kills"),
        "startup_kills": figure(run.startup_kills, "kills"),
        "violations": figure(len(violations), "violations"),
        "worker_errors": figure(len(run.errors), "errors"),
        "restarts_s_p50": figure(quantile(run.restart_s, 0.5), "s", floor),
        "restarts_s_p95": figure(quantile(run.restart_s, 0.95), "s", floor),
        "open_locker_s_p50": figure(statistics.median(opens) if opens else 0.0, "s"),
        "staff_tasks": figure(sum(tasks.values()), "tasks"),
        "reconcile_decisions": figure(sum(decisions.values()), "decisions"),
        # the seeded events (bench/crash_events.py): limits are the attempts
        "layout_changes": figure(ev["layout_changes"], "restarts"),
        "layout_applies": figure(layout["layout_applies"], "lives"),
        "layout_changes_applied": figure(layout["layout_changes_applied"], "changes"),
        "layout_changes_refused": figure(layout["layout_changes_refused"], "changes"),
        "removed_board_items": figure(layout["removed_board_items"], "items"),
        "second_process_refusals": figure(ev["second_process_refusals"], "refusals", seconds),
        "damaged_starts_refused": figure(ev["damaged_starts_refused"], "refusals",
                                         ev["damages"]),
        "damage_repairs": figure(ev["repairs"], "repairs", ev["damages"]),
        "run_s": figure(run.elapsed_s, "s", BUDGET_S),
    }
    flagged: Counter[str] = Counter()  # not violations: the locker asked staff to look
    for kind, _detail in {(f["kind"], f["detail"]) for c in [*run.checks, final]
                          for f in c.get("flagged", [])}:
        flagged[kind] += 1
    keep = args.keep or bool(violations) or bool(run.errors)
    if not keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    emit("crash_kill", figures, seed=seed, decisions=dict(sorted(decisions.items())),
         tasks_by_kind=tasks, kill_points=dict(run.kill_points().most_common()),
         history=final.get("history", {}), items_by_state=final.get("items_by_state", {}),
         events=dict(sorted(ev.items())), layout=layout, refusal_lines=run.refusals,
         flagged=dict(sorted(flagged.items())),
         violation_list=violations[:20], errors=run.errors[:10],
         workdir=str(workdir) if keep else None)
    return 1 if violations or run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
