"""The crash campaign: one simulator for the whole run, a worker killed `kills` times at random
points (some during start-up), every restart's check collected, then the final life."""

# One lock-board simulator (its own process, on a pty at 115200 baud) lives through the whole
# run: its doors and item counts are the ground truth. A worker (bench/crash_rig.py) opens the
# locker, reconciles, checks the invariants and says it is ready (one JSON line); after a random
# 0.05-1.0 s of deposits, pickups and staff rounds it is SIGKILLed and started again. About one
# kill in ten lands during start-up instead (during reconciliation or the check). A last worker
# probes every used or void code and empties the locker through its front door.

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import sim_process
from bench.crash_worker_process import WorkerProcess
from bench.crash_world import write_config

READY_TIMEOUT_S = 60.0
FINAL_TIMEOUT_S = 300.0
KILL_DELAY_S = (0.05, 1.0)
STARTUP_KILL_SHARE = 0.1


@dataclass
class Campaign:
    """What a run saw: every start-up check, the final check, timings and failures."""

    kills: int = 0
    startup_kills: int = 0
    checks: list[dict] = field(default_factory=list)
    final: dict = field(default_factory=dict)
    restart_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    workdir: str = ""

    @property
    def violations(self) -> list[dict]:
        """Every distinct violation seen by any check."""
        seen: dict[tuple[str, str], dict] = {}
        for check in [*self.checks, self.final]:
            for v in check.get("violations", []):
                seen.setdefault((v["kind"], v["detail"]), v)
        return list(seen.values())

    def kill_points(self) -> Counter[str]:
        """Where the kills landed: the last side-log step before the kill, and the outcome
        recorded for the intent reconciliation found (`pending`: the unlock result never made
        it to the journal)."""
        return Counter(c["kill_point"] for c in self.checks if c.get("kill_point"))

    def decisions(self) -> Counter[str]:
        """Reconciliation decisions by intent kind and decision (with the end of a wait)."""
        tally: Counter[str] = Counter()
        for check in self.checks:
            for d in check["decisions"]:
                what = d["decision"]
                if what == "waiting_for_close":
                    what = f"waiting_for_close->{d['final']}"
                tally[f"{d['kind']}:{what}"] += 1
        return tally


def _parse(line: str, what: str) -> dict:
    try:
        return json.loads(line)
    except ValueError as err:
        raise RuntimeError(f"{what}: not a JSON line: {line!r}") from err


def run_campaign(kills: int, seed: int, workdir: Path, *,
                 on_check: Callable[[dict], None] | None = None,
                 progress: Callable[[str], None] | None = None,
                 sabotage: str | None = None,
                 startup_kill_share: float = STARTUP_KILL_SHARE) -> Campaign:
    """Kill a worker `kills` times, check after every restart (`on_check` sees each check)."""
    rng = random.Random(seed)
    result = Campaign(workdir=str(workdir))
    t0 = time.perf_counter()
    stderr_path = workdir / "workers.stderr"
    with sim_process("--units", "1,2", "--baud", "115200", "--link", "pty") as sim:
        config = write_config(workdir, sim["link"])
        common = ["--config", str(config), "--control", sim["control"],
                  "--log", str(workdir / "side.jsonl"), "--seed", str(seed),
                  "--platform-key", str(workdir / "platform.pem")]
        if sabotage:
            common += ["--sabotage", sabotage]
        life = 0
        failures_in_a_row = 0
        reported = 0
        while result.kills < kills:
            life += 1
            worker = WorkerProcess([*common, "--life", str(life)], stderr_path)
            try:
                early = rng.random() < startup_kill_share
                line = worker.readline(rng.uniform(0.1, 0.8) if early else READY_TIMEOUT_S)
                if line is None and early:
                    result.startup_kills += 1  # killed in start-up: checked by the next life
                elif not line:
                    result.errors.append(f"life {life}: " + (
                        "not ready in time" if line is None else
                        f"exited with {worker.proc.wait()} before it was ready"))
                    failures_in_a_row += 1
                    if failures_in_a_row >= 3:
                        raise RuntimeError(f"workers keep failing: {result.errors[-3:]}")
                    continue
                else:
                    failures_in_a_row = 0
                    result.restart_s.append(time.perf_counter() - worker.started)
                    check = _parse(line, f"life {life}")
                    result.checks.append(check)
                    if on_check is not None:
                        on_check(check)
                    if not worker.survives(rng.uniform(*KILL_DELAY_S)):
                        result.errors.append(f"life {life}: exited with "
                                             f"{worker.proc.returncode} before the kill")
                result.kills += 1
            finally:
                worker.kill()
            if progress is not None and result.kills - reported >= 20:
                reported = result.kills
                progress(f"crash_kill: {result.kills}/{kills} kills, "
                         f"{len(result.violations)} violations, {len(result.errors)} errors, "
                         f"{time.perf_counter() - t0:.0f} s")
        result.final = _final(common, life + 1, stderr_path, result, on_check)
    result.errors += _log_errors(stderr_path)
    result.elapsed_s = time.perf_counter() - t0
    return result


def _final(common: list[str], life: int, stderr_path: Path, result: Campaign,
           on_check: Callable[[dict], None] | None) -> dict:
    """The last life: start-up check with every used/void code probed, then the drain."""
    worker = WorkerProcess([*common, "--life", str(life), "--final"], stderr_path)
    try:
        line = worker.readline(READY_TIMEOUT_S)
        if not line:
            raise RuntimeError("the final worker did not start; see workers.stderr")
        check = _parse(line, "final start-up")
        result.checks.append(check)
        if on_check is not None:
            on_check(check)
        line = worker.readline(FINAL_TIMEOUT_S)
        if not line:
            raise RuntimeError("the final worker did not finish; see workers.stderr")
        final = _parse(line, "final")
        if not worker.survives(10) and worker.proc.returncode != 0:
            result.errors.append(f"final worker exited with {worker.proc.returncode}")
        return final
    finally:
        worker.kill()


def _log_errors(stderr_path: Path) -> list[str]:
    """ERROR lines and tracebacks the workers logged (a killed worker logs nothing)."""
    if not stderr_path.exists():
        return []
    return [line for line in stderr_path.read_text(encoding="utf-8", errors="replace")
            .splitlines() if " ERROR " in line or line.startswith("Traceback")]
