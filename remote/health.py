"""The periodic `health` payload (DESIGN §6) and the thread that publishes it.

Decoupled from the locker and the bus: a callable returns a plain dict of what the terminal
knows (compartment counts, boards, peripherals, ...); this module adds uptime, disk, memory
and the outbox depth, and keeps only the documented keys.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import psutil

log = logging.getLogger(__name__)

HealthSource = Callable[[], Mapping[str, Any]]
"""Returns any of: boards, compartments, open_doors, peripherals, platform_reachable."""

SOURCE_KEYS = ("boards", "compartments", "open_doors", "peripherals", "platform_reachable")


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
