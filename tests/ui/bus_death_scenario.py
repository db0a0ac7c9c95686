"""Drive the real terminal while its lock-bus worker dies: out of service, watchdog starved.

The app runs on its built-in simulated bus with sd_notify on an abstract socket bound here
(a ping every 0.1 s). Once the locker is up and pings flow, one board's answer parsing raises
what no guard in the worker catches (a BaseException), so the worker thread ends. The Home
screen must show the locker out of service, the pings must stop (systemd would restart the
app) while the main loop keeps drawing, and the pickup tile must be disabled.
Run in its own process by test_bus_death_ui.py; prints one JSON object with what it saw:
`python tests/ui/bus_death_scenario.py DATA_DIR`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402
from tests.ui.notify_inbox import NotifyInbox  # noqa: E402


class WorkerKiller(BaseException):
    """Not an Exception: the bus worker's guards let it through, so the thread dies."""


def main(data_dir: str) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1920x1080"\n'
                        'idle_s = 600\nidle_warn_s = 10\n'
                        '[bus]\nbaud = 115200\npoll_interval_s = 0.05\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    notify = NotifyInbox("busdeath")
    os.environ["WATCHDOG_USEC"] = "200000"  # a ping every 0.1 s
    from kivy.clock import Clock

    from hardware.drivers.modbus_board import ModbusBoard
    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from tests.ui.scenario_kit import Step, frames, run_steps

    app = KioskApp(cfg, open_locker)
    seen: dict = {}
    inbox, received = notify.messages, notify.received

    class DyingBoard(ModbusBoard):
        def channel_states(self, doors, items):
            raise WorkerKiller("injected into the poll")

    def after(seconds: float) -> Step:
        until = time.monotonic() + seconds
        return lambda: time.monotonic() >= until

    def scenario() -> Iterator[Step]:
        yield lambda: app.runtime is not None and app.locker_up
        home = app.root.get_screen("home")
        seen["text_before"] = home.ids.availability.text
        received()
        mark = len(inbox)
        yield after(0.5)
        received()
        seen["pings_before"] = inbox[mark:].count("WATCHDOG=1")
        bus = app.runtime.bus
        unit = bus.units()[0]
        bus._boards[unit] = DyingBoard(unit, bus._boards[unit].profile)
        yield lambda: not bus.running
        yield lambda: not app.locker_up  # the next status refresh (every 2 s)
        yield frames(3)
        seen["text_after"] = home.ids.availability.text
        seen["pickup_tile_disabled"] = bool(home.ids.pickup.disabled)
        received()
        mark, started = len(inbox), Clock.frames_displayed
        yield after(1.0)
        received()
        seen["pings_after"] = inbox[mark:].count("WATCHDOG=1")
        seen["frames_while_starved"] = Clock.frames_displayed - started
        seen["status_lines"] = [m for m in inbox if m.startswith("STATUS=")]
        seen["done"] = True

    Clock.schedule_interval(lambda _dt: received(), 0.05)
    run_steps(app, scenario(), seen, timeout_s=60)
    app.run()
    notify.close()
    print(json.dumps(seen, ensure_ascii=False))
    return 0 if seen.get("done") and "timed_out_at" not in seen else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
