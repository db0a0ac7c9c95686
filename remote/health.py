"""The periodic `health` payload (DESIGN §6) and the thread that publishes it.

Decoupled from the locker and the bus: a callable returns a plain dict of what the terminal
knows (compartment counts, boards, peripherals, the platform outbox, platform reachability);
this module adds uptime, disk, memory and the MQTT outbox depth, and keeps only the documented
keys. `outbox_body` shapes the platform outbox's depth and its sender's state;
`ReachabilityProbe` answers "is the platform reachable?" from a cache refreshed at most every
30 s on its own thread, so a platform behind a dead network never holds up a report.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

import psutil

from remote.mqtt_topics import rfc3339

log = logging.getLogger(__name__)

HealthSource = Callable[[], Mapping[str, Any]]
"""Returns any of: boards, compartments, open_doors, peripherals, platform_reachable, outbox."""

SOURCE_KEYS = ("boards", "compartments", "open_doors", "peripherals", "platform_reachable",
               "outbox")
_SENDER_TIMES = ("failing_since", "paused_until", "last_delivery")


class HealthSink(Protocol):
    """What the reporter publishes to (an `MqttLink`)."""

    def publish_health(self, body: Mapping[str, Any]) -> bool: ...  # noqa: D102

    def outbox_depth(self) -> int: ...  # noqa: D102


def build_health(source: Mapping[str, Any], *, uptime_s: float, outbox_depth: int,
                 disk_path: str = "/") -> dict[str, Any]:
    """The `health` body (without ts/session/seq) from the source's dict and local figures."""
    disk = shutil.disk_usage(disk_path)
    mem = psutil.virtual_memory()
    body: dict[str, Any] = {key: source[key] for key in SOURCE_KEYS if key in source}
    body.setdefault("boards", [])
    body.setdefault("compartments", {})
    body.setdefault("open_doors", [])
    body.setdefault("peripherals", {})
    body.setdefault("platform_reachable", None)
    body.update({
        "uptime_s": round(uptime_s, 1),
        "outbox_depth": outbox_depth,
        "disk": {"free_bytes": disk.free, "total_bytes": disk.total},
        "memory": {"available_bytes": mem.available, "total_bytes": mem.total},
    })
    return body


def outbox_body(depth: int, sender: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `outbox` object: the platform outbox's depth and, if known, its sender's state.

    `sender` is `OutboxSender.state()`: consecutive failures and since when, the pause after
    them, the last delivery. No message content, so no personal data.
    """
    body: dict[str, Any] = {"depth": int(depth)}
    if sender is not None:
        body["consecutive_failures"] = int(sender.get("consecutive_failures") or 0)
        for key in _SENDER_TIMES:
            moment = sender.get(key)
            body[key] = rfc3339(moment) if isinstance(moment, datetime) else None
    return body


class ReachabilityProbe:
    """`platform.reachable()`, at most once per `interval_s`, on a thread of its own.

    `value()` never waits more than `wait_s`: it returns the last answer (None before the
    first), starting a check in the background when the last one is older than `interval_s`,
    and gives a quick check (the local adapter, a healthy network) `wait_s` to finish so the
    report carries it at once. A check that hangs is not started again until it returns.
    """

    def __init__(self, check: Callable[[], bool], interval_s: float = 30.0,
                 wait_s: float = 0.5, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._check, self._interval, self._wait = check, interval_s, wait_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: bool | None = None
        self._started_at: float | None = None
        self._running: threading.Event | None = None  # set when the check under way ends

    def value(self) -> bool | None:
        """The last known reachability; may start a check (waiting for it at most `wait_s`)."""
        with self._lock:
            now = self._monotonic()
            due = self._started_at is None or now - self._started_at >= self._interval
            started = None
            if due and self._running is None:
                self._started_at = now
                started = self._running = threading.Event()
                threading.Thread(target=self._run, args=(started,), name="platform-probe",
                                 daemon=True).start()
        if started is not None:
            started.wait(self._wait)
        return self._value

    def _run(self, done: threading.Event) -> None:
        try:
            answer = bool(self._check())
        except Exception:  # reachable() should not raise; if it does, the platform is not there
            answer = False
        with self._lock:
            self._value, self._running = answer, None
        done.set()


def locker_source(status: Any) -> dict[str, Any]:
    """Counts by state and open doors from a `locker.reports.LockerStatus`."""
    return {
        "compartments": {state.value: n for state, n in status.counts.items()},
        "open_doors": sorted(c.id for c in status.compartments if c.door_open),
    }


class HealthReporter:
    """Publishes `health` every `interval` s on its own thread until `stop()`."""

    def __init__(self, sink: HealthSink, source: HealthSource, interval: float = 30.0,
                 disk_path: str = "/") -> None:
        self._sink = sink
        self._source = source
        self._interval = interval
        self._disk_path = disk_path
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-health", daemon=True)

    def start(self) -> None:
        """Start the reporting thread."""
        self._thread.start()

    def report_once(self) -> bool:
        """Build and publish one report now; False if the link is down."""
        body = build_health(self._source(), uptime_s=time.monotonic() - self._started,
                            outbox_depth=self._sink.outbox_depth(), disk_path=self._disk_path)
        return self._sink.publish_health(body)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.report_once()
            except Exception:  # a failing source must not end reporting
                log.exception("health report failed")
