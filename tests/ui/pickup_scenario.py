"""Drive the real terminal app with simulated touches: deposit, pickup by code, wrong code, idle.

Run in its own process by test_terminal_ui.py (one Kivy window per process); prints one JSON
object with what it saw, exit status 0 when the scenario ran to the end.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

Step = Callable[[], bool]


def main(data_dir: str) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1280x800"\nidle_s = 2\n'
                        '[bus]\nbaud = 115200\n[locker]\ndoor_open_confirm_s = 1.0\n',
                        encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    from kivy.clock import Clock
    from kivy.tests.common import UnitTestTouch
    from kivy.uix.button import Button

    from locker.models import ItemState, Size
    from terminal.app import KioskApp
    from terminal.composition import open_locker

    app = KioskApp(cfg, open_locker)
    seen: dict = {}

    def tap(widget) -> None:
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def keypad(label: str):
        screen = app.root.get_screen("pickup_code")
        return next(w for w in screen.walk()
                    if isinstance(w, Button) and getattr(w, "text", None) == label)

    def frames(n: int = 3) -> Step:
        """Let Kivy lay out and draw for a few frames (positions are known only after layout)."""
        left = [n]

        def done() -> bool:
            left[0] -= 1
            return left[0] < 0
        return done

    def scenario() -> Iterator[Step]:
        yield lambda: app.runtime is not None and app.root.get_screen("home").locker_up
        rt = app.runtime
        result = {}
        app.background.submit(lambda: rt.controller.deposit(
            "SH-UI-1", "000000190001010019", "测试一", "10012345678", Size.S, "courier-ui"),
            lambda r, e: result.update(r=r, e=e))
        yield lambda: "r" in result
        dep = result["r"]
        spec = next(c for c in rt.controller.status().compartments if c.id == dep.compartment_id)
        board = rt.sim.board(spec.unit)
        board.put(spec.channel)
        board.close(spec.channel)
        yield lambda: next(c for c in rt.controller.status().compartments
                           if c.id == dep.compartment_id).item_state is ItemState.STORED

        # a wrong code first
        tap(app.root.get_screen("home").ids.pickup)
        yield lambda: app.root.current == "pickup_code"
        yield frames()
        for digit in "99999999":
            tap(keypad(digit))
        yield frames()
        tap(app.root.get_screen("pickup_code").ids.ok)
        msg = app.root.get_screen("message")
        yield lambda: app.root.current == "message" and not msg.busy
        seen["wrong_code_good"] = msg.good
        seen["wrong_code_text"] = msg.text
        app.go_home()
        yield frames()

        # the right code, typed on the keypad
        tap(app.root.get_screen("home").ids.pickup)
        yield lambda: app.root.current == "pickup_code"
        yield frames()
        for digit in dep.pickup_code:
            tap(keypad(digit))
        yield frames()
        seen["typed"] = app.root.get_screen("pickup_code").code == dep.pickup_code
        tap(app.root.get_screen("pickup_code").ids.ok)
        yield lambda: app.root.current == "message" and not msg.busy
        seen["pickup_good"] = msg.good
        seen["pickup_text"] = msg.text
        seen["door_open"] = board.channel(spec.channel).door_open
        board.take(spec.channel)
        board.close(spec.channel)
        yield lambda: next(c for c in rt.controller.status().compartments
                           if c.id == dep.compartment_id).item_state is None
        seen["compartment_after"] = next(c for c in rt.controller.status().compartments
                                         if c.id == dep.compartment_id).state.value

        # idle: a half-typed code is wiped and the terminal goes home by itself
        tap(app.root.get_screen("message").children[0].children[0])  # 完成 Done
        yield lambda: app.root.current == "home"
        yield frames()
        tap(app.root.get_screen("home").ids.pickup)
        yield lambda: app.root.current == "pickup_code"
        yield frames()
        for digit in "1234":
            tap(keypad(digit))
        yield frames()
        started = time.monotonic()
        yield lambda: app.root.current == "home"
        seen["idle_reset_s"] = round(time.monotonic() - started, 1)
        seen["code_after_idle"] = app.root.get_screen("pickup_code").code
        seen["message_after_idle"] = msg.text
        seen["done"] = True

    steps = scenario()
    state = {"wait": None, "deadline": time.monotonic() + 30}

    def tick(_dt: float) -> None:
        wait = state["wait"]
        if wait is not None and not wait():
            if time.monotonic() > state["deadline"]:
                seen["timed_out_at"] = wait.__code__.co_firstlineno
                app.stop()
            return
        try:
            state["wait"] = next(steps)
            state["deadline"] = time.monotonic() + 30
        except StopIteration:
            Clock.unschedule(tick)
            app.stop()

    Clock.schedule_interval(tick, 0.05)
    app.run()
    print(json.dumps(seen, ensure_ascii=False))
    return 0 if seen.get("done") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
