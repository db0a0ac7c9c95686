"""Staff deposit: scan the result's label (or type the case number), open, close, next item.

The compartment is chosen by size unless a free cell of the grid is tapped; the open door is
marked on the grid; the wait for the close runs on the wait worker with a timeout, after
which a reminder shows and the wait goes on. The batch list shows this session's deposits
(compartment, case number, outcome). Logic is in terminal/staff_items_flow.py.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, StringProperty

from terminal import staff_texts as ST
from terminal.maintenance_flow import cell_view
from terminal.screens import keyboard  # noqa: F401  (registers NumericKeypad for the kv)
from terminal.screens.common import load_kv
from terminal.screens.compartment_grid import CompartmentGrid  # noqa: F401  (kv)
from terminal.screens.staff_base import StaffScreen, close_timeout
from terminal.staff_items_flow import DepositFlow

load_kv(__file__)

STEPS = ("scan", "ready", "open", "closed")
BATCH_WORDS = {"stored": ST.BATCH_STORED, "cancelled": ST.BATCH_CANCELLED, "open": ST.BATCH_OPEN}


class StaffDepositScreen(StaffScreen):
    """Thin: properties for the kv and handlers that run DepositFlow on the workers."""

    step = StringProperty("scan")
    busy = BooleanProperty(False)
    reminder = BooleanProperty(False)
    case_no = StringProperty("")
    chosen = StringProperty("")
    marked = StringProperty("")
    cells = ListProperty()
    note = ListProperty(["", ""])
    note_good = BooleanProperty(False)
    summary = ListProperty()  # [dict] of the current case, as DepositFlow.summary gives it
    batch = ListProperty()

    _flow: DepositFlow | None = None
    _boxes: dict[str, Any] = {}  # noqa: RUF012  (replaced per instance in on_kv_post)
    _column: Any = None

    def on_kv_post(self, base_widget: Any) -> None:
        """Keep the step parts (ids are weak references), show only the current one."""
        self._boxes = {name: self.ids[f"step_{name}"].__self__ for name in STEPS}
        self._column = self.ids.instruction.parent.__self__
        self._show_step()

    def on_step(self, *_args: Any) -> None:
        """Swap the left column's part (kept out of the tree, it catches no touches)."""
        self._show_step()

    def _show_step(self) -> None:
        if not self._boxes:
            return
        for box in self._boxes.values():
            if box.parent is not None:
                box.parent.remove_widget(box)
        self._column.add_widget(self._boxes[self.step], index=1)

    def entered(self) -> None:
        """A deposit flow for this session (kept while the session lasts), a fresh grid."""
        if self._flow is None or self._flow.staff is not self.flow:
            self._flow = DepositFlow(self.flow, getattr(self.app.runtime, "platform", None),
                                     close_timeout_s=close_timeout(self.app))
        self.step = self._flow.step.value
        self.refresh()
        if self.step == "open":  # back from the menu with the door still open: wait again
            self._flow.door.arm()
            self._wait()

    def refresh(self) -> None:
        """The grid from the locker's status (worker)."""
        controller = self.flow.controller
        if controller is not None:
            self.app.background.submit(controller.status, self._status)

    def _status(self, status: Any, error: BaseException | None) -> None:
        if error is None and status is not None:
            self.cells = [cell_view(c) for c in status.compartments]

    # -- the case ------------------------------------------------------------------------------
    def on_scan(self, code: str) -> None:
        """A scanned label: look the case up (not while a door is open)."""
        if self.step in ("scan", "ready", "closed"):
            self.look_up(code)

    def look_up(self, code: str) -> None:
        """Ask the platform about the case (worker)."""
        flow = self._flow
        if self.busy or flow is None or not code.strip():
            return
        if self.step == "closed":
            self.next_item()
        self.busy, self.note = True, ["", ""]
        self.app.background.submit(lambda: flow.look_up(code), self._looked)

    def _looked(self, refused: Any, error: BaseException | None) -> None:
        self.busy = False
        flow = self._flow
        if flow is None:
            return
        if error is not None or refused is not None:
            self._say(refused.pair() if refused is not None else ST.PLATFORM_DOWN, False)
            return
        self.case_no = flow.case_no
        self.summary = [flow.summary()]
        self.chosen = ""
        self.step = "ready"
        self.ids.keypad.text = ""

    def pick(self, compartment_id: str) -> None:
        """A free cell tapped: deposit there (tapped again: back to automatic)."""
        if self.step != "ready" or self._flow is None:
            return
        self.chosen = "" if compartment_id == self.chosen else compartment_id
        self._flow.choose(self.chosen or None)

    # -- the door ------------------------------------------------------------------------------
    def open_door(self) -> None:
        """Deposit and open (worker); then wait for the close."""
        flow = self._flow
        if self.busy or flow is None or self.step != "ready":
            return
        self.busy, self.note = True, ["", ""]
        self.app.background.submit(flow.open_door, self._opened)

    def _opened(self, refused: Any, error: BaseException | None) -> None:
        self.busy = False
        flow = self._flow
        if flow is None:
            return
        if error is not None or refused is not None:
            self._say(refused.pair() if refused is not None else ST.DOOR_FAILED, False)
            self.chosen = ""
            self.refresh()
            return
        self.marked = (flow.result.compartment_id or "") if flow.result else ""
        self.summary, self.step, self.reminder = [], "open", False
        self.batch = list(flow.batch)
        self.refresh()
        self._wait()

    def _wait(self) -> None:
        flow = self._flow
        if flow is not None:
            self.app.waits.submit(flow.wait_closed, lambda r, e, f=flow: self._closed(f, r, e))

    def _closed(self, flow: DepositFlow, closed: Any, error: BaseException | None) -> None:
        if flow is not self._flow or self.step != "open":
            return  # left, reset or signed out meanwhile
        if closed is None:
            return
        if closed and error is None:
            self.app.background.submit(flow.settle, self._settled)
            return
        self.reminder = True  # the timeout: say so, and keep waiting
        self._wait()

    def _settled(self, outcome: Any, error: BaseException | None) -> None:
        flow = self._flow
        if flow is None:
            return
        self.step, self.reminder = "closed", False
        self.batch = list(flow.batch)
        if outcome is not None:
            self._say(outcome.pair(), outcome.good)
        self.refresh()

    def next_item(self) -> None:
        """Ready for the next label."""
        if self._flow is not None:
            self._flow.next_item()
        self.step, self.marked, self.chosen, self.case_no = "scan", "", "", ""
        self.summary, self.note = [], ["", ""]
        self.ids.keypad.text = ""

    def to_menu(self) -> None:
        """Back to the staff menu (a door still open completes when it is closed)."""
        if self._flow is not None:
            self._flow.door.cancel()
            if self.step != "open":
                self.next_item()
        self.app.go("staff_menu")

    # -- shown text ----------------------------------------------------------------------------
    def instruction(self, step: str, reminder: bool, marked: str, scale: float, lang: str) -> str:
        """What to do now, in both languages."""
        pair = {"scan": ST.SCAN_LABEL, "ready": ST.CHOOSE_HINT,
                "open": ST.CLOSE_PLEASE if reminder else ST.PUT_AND_CLOSE}.get(step)
        return self.app.bi(pair, scale, lang, c=marked) if pair else ""

    def info(self, summary: list, lang: str) -> str:
        """The case as shown: item, masked collector name, size (never an ID number)."""
        if not summary:
            return ""
        s = summary[0]
        text = self.app.tr(ST.ASSIGNMENT, lang, **s)
        proxy = ("  " + self.app.tr(ST.PROXY_NAMED, lang)) if s.get("proxy") else ""
        return f"{self.case_no} · {s['item']}\n{text}{proxy}"

    def batch_text(self, batch: list, lang: str) -> str:
        """The deposits of this session, one line each."""
        head = self.app.tr(ST.BATCH, lang, n=sum(1 for e in batch if e.outcome == "stored"))
        lines = [f"{e.compartment_id}   {e.case_no}   {self.app.tr(BATCH_WORDS[e.outcome], lang)}"
                 for e in reversed(batch[-8:])]
        return "\n".join([head, *lines])

    def _say(self, pair: tuple[str, str], good: bool) -> None:
        self.note, self.note_good = list(pair), good

    def forget(self) -> None:
        """Forget the case, the batch and the flow (the session has ended)."""
        if self._flow is not None:
            self._flow.wipe()
        self._flow = None
        self.step, self.busy, self.reminder = "scan", False, False
        self.case_no = self.chosen = self.marked = ""
        self.summary, self.batch, self.cells = [], [], []
        self.note = ["", ""]
        if "keypad" in self.ids:
            self.ids.keypad.text = ""
