"""`kiosk doctor`'s core: check records, and a runner that gives every check its own time limit.

A check that hangs (a serial port that never answers, a broker that swallows packets) ends as
FAIL "did not finish" after its limit; the others still report. Each probe runs on its own
daemon thread, all at once, so the doctor takes as long as its slowest check, not their sum.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

log = logging.getLogger(__name__)


class Status(Enum):
    """The outcome of one check."""

    OK = "ok"
    WARN = "warn"  # works, but a technician should look (exit status stays 0)
    FAIL = "fail"  # broken: the terminal cannot do part of its job (exit status 1)
    SKIPPED = "skipped"  # not configured ("none", mqtt off), or what it needs failed first


MARKS = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIPPED: "-"}


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, what was seen, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON-ready (the status as its plain value)."""
        return {**asdict(self), "status": self.status.value}


def ok(name: str, detail: str) -> Check:
    """A passed check."""
    return Check(name, Status.OK, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    """A check that passed with something to look at."""
    return Check(name, Status.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    """A failed check and what to do."""
    return Check(name, Status.FAIL, detail, fix)


def skipped(name: str, detail: str) -> Check:
    """A check with nothing to check."""
    return Check(name, Status.SKIPPED, detail)


@dataclass(frozen=True)
class Probe:
    """A named piece of checking: `run()` returns one or more checks within `limit_s` seconds.

    `names` are the checks it reports when it cannot finish (e.g. every board of the bus).
    """

    name: str
    run: Callable[[], Sequence[Check]]
    limit_s: float = 10.0
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """Every check, in the order the probes were given."""

    checks: tuple[Check, ...]
    elapsed_s: float

    @property
    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if c.status is Status.FAIL]

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings allowed)."""
        return not self.failed

    def counts(self) -> dict[str, int]:
        """How many checks ended in each status."""
        return {s.value: sum(c.status is s for c in self.checks) for s in Status}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: `ok`, counts, elapsed seconds and every check."""
        return {"ok": self.ok, "counts": self.counts(), "elapsed_s": round(self.elapsed_s, 3),
                "checks": [c.as_dict() for c in self.checks]}


class _Slot:
    """One probe running on its own thread."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.result: list[Check] | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._main, name=f"doctor-{probe.name}",
                                       daemon=True)

    def _main(self) -> None:
        try:
            self.result = list(self.probe.run())
        except Exception as err:  # a bug in a check must not hide the others
            log.exception("doctor check %s crashed", self.probe.name)
            self.result = [fail(self.probe.name, f"the check itself failed: {err!r}",
                                "report this to the maintainers with `kiosk doctor -v`")]
        finally:
            self.done.set()

    def outcome(self, deadline: float) -> list[Check]:
        if self.done.wait(max(0.0, deadline - time.monotonic())) and self.result is not None:
            return self.result
        p = self.probe
        detail = f"did not finish within {p.limit_s:g} s (something hangs: a port, a network)"
        fix = "run `kiosk doctor -v` to see where it stops; check the device or the network"
        return [fail(name, detail, fix) for name in (p.names or (p.name,))]


def run_probes(probes: Sequence[Probe]) -> Report:
    """Run every probe at once; each is cut off at its own limit, counted from the start."""
    start = time.monotonic()
    slots = [_Slot(p) for p in probes]
    for slot in slots:
        slot.thread.start()
    checks: list[Check] = []
    for slot in slots:
        checks += slot.outcome(start + slot.probe.limit_s)
    return Report(tuple(checks), time.monotonic() - start)


def human(report: Report) -> str:
    """One line per check (✓ ! ✗ -), the fix indented under a failure or warning; a summary."""
    width = max((len(c.name) for c in report.checks), default=0)
    lines = []
    for c in report.checks:
        lines.append(f"{MARKS[c.status]} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status in (Status.FAIL, Status.WARN):
            lines += [f"    → {part}" for part in c.fix.splitlines()]
    n = report.counts()
    verdict = "all checks passed" if report.ok else f"{n['fail']} check(s) FAILED"
    lines.append(f"{verdict}: {n['ok']} ok, {n['warn']} warning(s), {n['fail']} failed, "
                 f"{n['skipped']} skipped ({report.elapsed_s:.1f} s)")
    return "\n".join(lines)
