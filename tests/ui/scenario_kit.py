"""What every UI scenario shares: touches, waits as steps, screenshots, the step runner.

A scenario is a generator of steps; a step is a function that says whether the scenario may
go on (the screen it waits for is showing, a few frames were drawn, ...). `run_steps` polls
the current step from the Kivy clock, so waiting never blocks drawing, and stops the app when
the story ends, fails, or a step waits longer than its deadline. Import only after Kivy is
prepared (`terminal.app_runner.prepare_kivy`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.tests.common import UnitTestTouch

Step = Callable[[], bool]


def tap(widget: Any) -> None:
    """A finger down and up at the widget's centre, through the window's input path."""
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def frames(n: int = 3) -> Step:
    """A step that lets Kivy lay out and draw `n` frames (positions exist only after layout)."""
    left = [n]

    def done() -> bool:
        left[0] -= 1
        return left[0] < 0
    return done


def showing(app: Any, name: str) -> Step:
    """A step that waits for screen `name`."""
    return lambda: app.root.current == name


def find_button(root: Any, label: str) -> Any:
    """The first pressable widget under `root` whose text is exactly `label`."""
    for w in root.walk():
        if getattr(w, "text", None) == label and hasattr(w, "on_release"):
            return w
    raise LookupError(f"no key {label!r} under {getattr(root, 'name', root)}")


def screenshot(app: Any, folder: str | Path, name: str) -> None:
    """The window as `folder/name.png` (Kivy appends a counter; the file is renamed)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    produced = app.root_window.screenshot(str(out / f"{name}.png"))
    Path(produced).replace(out / f"{name}.png")


def variants(app: Any, folder: str | Path | None, name: str) -> Iterator[Step]:
    """Normal, elderly and English pictures of what is on screen (nothing without a folder)."""
    if not folder:
        return
    screenshot(app, folder, name)
    elderly, lang = app.elderly, app.lang
    app.set_elderly(True)
    yield frames()
    screenshot(app, folder, f"{name}_elderly")
    app.set_elderly(elderly)
    app.lang = "en"
    yield frames()
    screenshot(app, folder, f"{name}_english")
    app.lang = lang
    yield frames()


def patient(step: Step, seconds: float) -> Step:
    """The same step, allowed `seconds` instead of the runner's timeout (a door-test sweep)."""
    step.allow_s = seconds  # type: ignore[attr-defined]
    return step


def stored_result(app: Any, control: Any, case_no: str, card: Any, into: dict
                  ) -> Iterator[Step]:
    """Deposit a result for `card`'s holder (on the app's worker), put it in and close the door
    through the simulator's control interface; `into["deposit"]` is the deposit's OpenResult."""
    from locker.models import ItemState, Size
    from locker.staff_identity import Technician

    rt, done = app.runtime, {}
    app.background.submit(lambda: rt.controller.deposit(
        case_no, card.id_number, card.name, "10012345678", Size.S, Technician("courier-ui")),
        lambda r, e: done.update(r=r, e=e))
    yield lambda: "r" in done
    dep = done["r"]
    spec = next(c for c in rt.controller.status().compartments if c.id == dep.compartment_id)
    control.put(spec.unit, spec.channel)
    control.close(spec.unit, spec.channel)
    yield lambda: next(c for c in rt.controller.status().compartments
                       if c.id == dep.compartment_id).item_state is ItemState.STORED
    into["deposit"], into["spec"] = dep, spec


def run_steps(app: Any, steps: Iterator[Step], seen: dict, timeout_s: float = 40.0) -> None:
    """Drive `steps` from the clock, then stop the app; the outcome goes into `seen`.

    `timed_out_at` (the waiting step's line) and `screen` when a step waits too long,
    `error` when the story raises, `trail` the screens shown in order.
    """
    state: dict[str, Any] = {"wait": None, "deadline": time.monotonic() + timeout_s}

    def tick(_dt: float) -> None:
        trail = seen.setdefault("trail", [])
        if app.root is not None and (not trail or trail[-1] != app.root.current):
            trail.append(app.root.current)
        wait = state["wait"]
        if wait is not None and not wait():
            if time.monotonic() > state["deadline"]:
                seen["timed_out_at"] = wait.__code__.co_firstlineno
                seen["screen"] = app.root.current
                Clock.unschedule(tick)
                app.stop()
            return
        try:
            state["wait"] = next(steps)
            allowed = getattr(state["wait"], "allow_s", timeout_s)
            state["deadline"] = time.monotonic() + allowed
        except StopIteration:
            Clock.unschedule(tick)
            app.stop()
        except Exception as err:  # report, don't hang
            seen["error"] = repr(err)
            Clock.unschedule(tick)
            app.stop()

    Clock.schedule_interval(tick, 0.05)
