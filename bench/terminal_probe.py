"""One measurement inside a Kivy process, for bench/terminal.py (one window per process).

Modes: `cold` (the terminal until Home is drawn and takes touches), `bare` (a Kivy app with
one label: the reference start-up), `stall` (the longest gap between frames, with the board
answering and then with it switched off through the simulator's control interface).
Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

STALL_WINDOW_S = 4.0


def since_process_start() -> float:
    """Seconds since this process was created (interpreter start-up included)."""
    return time.time() - psutil.Process().create_time()


def config(tmp: Path):
    """A terminal config on a temporary data dir with the simulated board and devices."""
    path = tmp / "bench.toml"
    path.write_text(f'[terminal]\ndata_dir = "{tmp}"\nwindow = "1920x1080"\nidle_s = 600\n',
                    encoding="utf-8")
    return load_config(path)


def bare() -> dict:
    """Reference: the time a minimal Kivy app needs to draw its first frame."""
    cfg = config(Path(tempfile.mkdtemp()))
    prepare_kivy(cfg)
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.label import Label

    seen: dict = {}

    class Bare(App):
        def build(self):
            Clock.schedule_once(self.drawn, 0)
            return Label(text="政务服务")

        def drawn(self, _dt):
            seen["start_s"] = since_process_start()
            seen["rss_mb"] = psutil.Process().memory_info().rss / 2**20
            self.stop()

    Bare().run()
    return seen


def cold() -> dict:
    """The terminal: process start → Home drawn with its tiles taking touches."""
    cfg = config(Path(tempfile.mkdtemp()))
    prepare_kivy(cfg)
    from kivy.clock import Clock

    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from terminal.devices import open_devices

    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {}

    def drawn(_dt: float) -> None:
        home = app.root.get_screen("home")
        if app.root.current == "home" and not home.ids.guides.disabled:
            seen["start_s"] = since_process_start()
            seen["rss_mb"] = psutil.Process().memory_info().rss / 2**20
            Clock.schedule_once(lambda _dt: app.stop(), 0)
        else:
            Clock.schedule_once(drawn, 0)

    Clock.schedule_once(drawn, 0)
    app.run()
    return seen


def stall() -> dict:
    """Longest frame gap while every board stops answering, and the reference: the longest
    frame while the screen redraws the same way with the boards answering (a language switch
    re-renders every label; with software GL a full 1080p frame is itself the slow part)."""
    cfg = config(Path(tempfile.mkdtemp()))
    prepare_kivy(cfg)
    from kivy.clock import Clock

    from hardware.drivers.sim_control import SimControl
    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from terminal.devices import open_devices

    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {"redraw_ms": 0.0, "offline_ms": 0.0}
    state = {"phase": "wait", "last": 0.0, "until": 0.0}

    def frame(_dt: float) -> None:
        now = time.monotonic()
        phase = state["phase"]
        if phase == "wait":
            if app.runtime is not None and app.locker_up:
                state.update(phase="redraw", last=now, until=now + STALL_WINDOW_S)
                for delay in (0.5, 1.5, 2.5, 3.5):  # the screen changes as much, no bus
                    Clock.schedule_once(lambda _dt: app.toggle_language(), delay)
            return
        gap = (now - state["last"]) * 1000
        state["last"] = now
        key = f"{phase}_ms"
        seen[key] = max(seen[key], gap)
        if now < state["until"]:
            return
        if phase == "redraw":
            control = SimControl(app.runtime.sim)
            for unit in app.runtime.sim.boards:
                control.call("offline", unit=unit)
            seen["boards_off"] = len(app.runtime.sim.boards)
            state.update(phase="offline", last=time.monotonic(),
                         until=time.monotonic() + STALL_WINDOW_S)
        else:
            seen["locker_up_after"] = app.locker_up
            app.stop()

    def status_pressure(_dt: float) -> None:  # the app's own refresh, faster: more bus work
        app.refresh_status()

    Clock.schedule_interval(frame, 0)
    Clock.schedule_interval(status_pressure, 0.25)
    app.run()
    return seen


if __name__ == "__main__":
    mode = sys.argv[1]
    result = {"bare": bare, "cold": cold, "stall": stall}[mode]()
    print(json.dumps(result))
