"""What a terminal life does on command, with real touches on the real screens.

Each command is a generator of steps for `tests.ui.scenario_kit.run_steps`. Where a person or
a door has to act, the step says so on stdout (`{"at": "scan"}`, `{"at": "card"}`,
`{"at": "door-open", ...}`) and waits for the screen to move on: the parent process presents
the receipt, badge or card through the simulators and opens or closes doors on the board
simulator. Every command ends with one `{"done": ...}` line. Import after `prepare_kivy`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from locker.models import ItemState
from terminal.screens.keyboard import KeyboardKey
from tests.ui.scenario_kit import Step, frames, patient, showing, tap

PIN = "482915"  # tests.ui.staff_scenario enrols its admin with this PIN
DOOR_WAIT_S = 90.0  # a door left open on purpose, or a board offline meanwhile


def emit(**fields: Any) -> None:
    """One line for the parent, marked so Kivy's own output is never mistaken for it."""
    print("NIGHT " + json.dumps(fields, ensure_ascii=False, default=str), flush=True)


class NightSteps:
    """The commands of a life: sign-in/out, deposit, pickup, expired, retrieve, report."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def screen(self, name: str) -> Any:
        return self.app.root.get_screen(name)

    def on(self, name: str) -> Step:
        return showing(self.app, name)

    def spec(self, compartment_id: str) -> Any:
        return next(c for c in self.app.runtime.controller.status().compartments
                    if c.id == compartment_id)

    def door(self, compartment_id: str, **extra: Any) -> None:
        c = self.spec(compartment_id)
        emit(at="door-open", compartment=c.id, unit=c.unit, channel=c.channel, **extra)

    def on_worker(self, fn: Callable[[], Any], into: dict) -> Step:
        """Run `fn` on the app's worker (never on the Kivy thread); a step until it returned."""
        self.app.background.submit(fn, lambda r, e: into.update(r=r, e=e))
        return lambda: "r" in into

    # -- staff -----------------------------------------------------------------------------
    def signin(self, _cmd: dict) -> Iterator[Step]:
        yield frames()
        tap(self.screen("home").ids.staff)
        yield self.on("staff_signin")
        signin = self.screen("staff_signin")
        yield frames()
        emit(at="scan", what="badge")
        yield lambda: signin.field == "pin"
        for digit in PIN:
            tap(next(w for w in signin.ids.keypad.walk(restrict=True)
                     if isinstance(w, KeyboardKey) and w.token == digit))
        tap(signin.ids.sign_in)
        yield self.on("staff_menu")
        yield frames()
        emit(done="signin", greeting=self.screen("staff_menu").ids.greeting.text)

    def signout(self, _cmd: dict) -> Iterator[Step]:
        if self.app.root.current != "staff_menu":
            tap(self.app.root.current_screen.ids.menu)
            yield self.on("staff_menu")
        yield frames()
        tap(self.screen("staff_menu").ids.sign_out)
        yield self.on("home")
        yield frames()
        emit(done="signout", session=self.app.staff_flow.session is not None)

    def deposit(self, cmd: dict) -> Iterator[Step]:
        dep = self.screen("staff_deposit")
        if self.app.root.current != "staff_deposit":
            yield frames()
            tap(self.screen("staff_menu").ids.deposit)
            yield self.on("staff_deposit")
        yield lambda: dep.step == "scan" and len(dep.cells) > 0
        yield frames()
        emit(at="scan", case=cmd["case"])
        yield lambda: dep.step == "ready"
        yield frames()
        tap(dep.ids.open_door)
        yield lambda: dep.step == "open"
        compartment = dep.marked
        self.door(compartment)
        yield patient(lambda: dep.step == "closed", DOOR_WAIT_S)
        yield frames()
        note = dep.ids.note.text
        tap(dep.ids.next_item)
        yield lambda: dep.step == "scan"
        emit(done="deposit", case=cmd["case"], compartment=compartment, note=note)

    def retrieve(self, _cmd: dict) -> Iterator[Step]:
        yield frames()
        tap(self.screen("staff_menu").ids.retrieve)
        yield self.on("staff_retrieve")
        ret = self.screen("staff_retrieve")
        yield lambda: len(ret.items) > 0 and len(ret.ids.rows.children) == len(ret.items)
        yield frames()
        left = len(ret.items)
        row = ret.ids.rows.children[-1].text  # the first row
        tap(ret.ids.rows.children[-1])
        yield lambda: ret.step == "open"
        compartment = ret.marked
        self.door(compartment)
        yield patient(lambda: ret.step == "list" and ret.note[0] != "", DOOR_WAIT_S)
        yield lambda: len(ret.items) == left - 1
        note = ret.ids.note.text
        yield frames()
        tap(ret.ids.menu)
        yield self.on("staff_menu")
        emit(done="retrieve", compartment=compartment, row=row, note=note, left=left - 1)

    def expired(self, _cmd: dict) -> Iterator[Step]:
        """The compartments whose results the terminal's own sweep flagged as expired.

        terminal.expiry_sweep runs at start, on the locker's clock (night_terminal.days_later).
        """
        rt = self.app.runtime
        for _look in range(50):
            done: dict = {}
            yield self.on_worker(lambda: [c.id for c in rt.controller.status().compartments
                                          if c.item_state is ItemState.EXPIRED], done)
            if done["r"]:
                break
            yield frames(4)
        emit(done="expired", compartments=done["r"])

    # -- citizens --------------------------------------------------------------------------
    def pickup(self, _cmd: dict) -> Iterator[Step]:
        home, msg = self.screen("home"), self.screen("message")
        yield frames()
        tap(home.ids.pickup)
        yield self.on("pickup_start")
        yield frames()
        emit(at="scan")
        yield lambda: self.app.root.current in ("pickup_card", "message")
        if self.app.root.current == "pickup_card":
            yield frames()
            emit(at="card")
            yield lambda: self.app.root.current in ("door_open", "message")
        if self.app.root.current == "message":
            emit(at="refused")
            text, good = msg.text, msg.good
            yield frames()
            tap(msg.ids.done)
            yield self.on("home")
            emit(done="refused", text=text, good=good)
            return
        result = self.app.pickup_flow.result
        door = self.screen("door_open")
        yield frames()
        self.door(result.compartment_id, holder=door.holder, text=door.ids.instruction.text)
        yield patient(self.on("evaluation"), DOOR_WAIT_S)
        yield frames()
        levels = self.screen("evaluation").ids.levels.children
        tap(next(w for w in levels if "★★★★★" in w.text))
        yield self.on("message")
        thanks = msg.text
        yield frames()
        tap(msg.ids.done)
        yield self.on("home")
        emit(done="collected", compartment=result.compartment_id, case=result.case_no,
             thanks=thanks)

    # -- the end of a life -----------------------------------------------------------------
    def report(self, _cmd: dict) -> Iterator[Step]:
        done: dict = {}
        rt = self.app.runtime
        yield self.on_worker(lambda: (rt.controller.status(), rt.controller.outbox_depth(),
                                      rt.controller.open_alarms(), rt.controller.tasks()), done)
        status, depth, alarms, tasks = done["r"]
        emit(done="report", outbox=depth, alarms=[a.type.value for a in alarms],
             tasks=[t.kind.value for t in tasks],
             occupied=[c.id for c in status.compartments if c.item_state is not None],
             offline=sorted({c.unit for c in status.compartments if not c.board_online}))
