"""Crash test: a locker process doing deposits and pickups is SIGKILLed at random points.

One lock-board simulator (its own process, on a pty at 115200 baud) lives through the whole
run: its doors and item counts are the ground truth. A worker (bench/crash_rig.py) opens the
locker, reconciles, checks the invariants and says it is ready (one JSON line); after a random
0.05–1.0 s of deposits, pickups and staff rounds it is SIGKILLed and started again. About one
kill in ten lands during start-up instead (during reconciliation or the check). A last worker
probes every used or void code and empties the locker through its front door.

Figures: `kills`, `violations` (must be 0), `worker_errors` (workers that died on their own or
never became ready, and ERROR lines in their logs), `restarts_s_p50`/`_p95` (spawn to ready,
against the bare interpreter + import time measured in this run), `open_locker_s_p50`,
`staff_tasks`, `reconcile_decisions`, `run_s` (against the 10-minute budget).
Usage: python bench/crash_kill.py [--kills N] [--seed S] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, emit, figure, quantile, sim_process
from bench.crash_rig import RECEIPT_KID
from locker.receipt_keys import generate_private_key, save_private_key, save_public_keys

READY_TIMEOUT_S = 60.0
FINAL_TIMEOUT_S = 300.0
KILL_DELAY_S = (0.05, 1.0)
STARTUP_KILL_SHARE = 0.1
BUDGET_S = 600.0

_EOF = ""


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


class WorkerProcess:
    """A worker subprocess whose stdout lines arrive on a queue (read with a deadline)."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        self.started = time.perf_counter()
        with stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bench.crash_rig", "worker", *args],
                stdout=subprocess.PIPE, stderr=err, cwd=ROOT, text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(_EOF)

    def readline(self, timeout: float) -> str | None:
        """The next line; `_EOF` if the worker has exited; None if `timeout` passed first."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def survives(self, seconds: float) -> bool:
        """Wait up to `seconds` for the worker to exit on its own; True if it is still alive."""
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return True
        return False

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._reader.join(10)  # the pipe reaches EOF once the worker is gone
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()


def write_config(workdir: Path, link: str) -> Path:
    """The terminal config of every worker: simulator pty, fast polls, short door timings."""
    key = workdir / "hash.key"
    if not key.exists():
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    platform, jwks = workdir / "platform.pem", workdir / "receipt_keys.json"
    if not platform.exists():  # the platform's signing key; terminals get the public half
        signing = generate_private_key()
        save_private_key(signing, platform)
        save_public_keys({RECEIPT_KID: signing.public_key()}, jwks)
    path = workdir / "crash.toml"
    path.write_text(
        f'[terminal]\ndata_dir = "{workdir / "data"}"\n\n'
        f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n\n'
        "[locker]\ndoor_open_confirm_s = 0.3\ndoor_left_open_s = 60.0\n\n"
        '[pickup]\nmethods = ["receipt_and_card", "code_and_card"]\n\n'
        f'[receipts]\npublic_keys_file = "{jwks}"\nlocal_issuer = false\n\n'
        f'[security]\nhash_key_file = "{key}"\n', encoding="utf-8")
    return path


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
    parser.add_argument("--kills", type=int, default=200)
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
        "run_s": figure(run.elapsed_s, "s", BUDGET_S),
    }
    keep = args.keep or bool(violations) or bool(run.errors)
    if not keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    emit("crash_kill", figures, seed=seed, decisions=dict(sorted(decisions.items())),
         tasks_by_kind=tasks, kill_points=dict(run.kill_points().most_common()),
         history=final.get("history", {}), items_by_state=final.get("items_by_state", {}),
         violation_list=violations[:20], errors=run.errors[:10],
         workdir=str(workdir) if keep else None)
    return 1 if violations or run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
