"""Staff retrieval: expired (uncollected) and held items, one door at a time.

The list comes from the locker's status (expired or held items only); tapping a row opens
that compartment through the controller (audited with the staff member); the open door is
marked on the grid; the close is awaited with a timeout and a reminder; the list refreshes.
"""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ListProperty, StringProperty

from terminal import staff_texts as ST
from terminal.maintenance_flow import cell_view
from terminal.screens.common import load_kv
from terminal.screens.compartment_grid import CompartmentGrid  # noqa: F401  (kv)
from terminal.screens.staff_base import StaffScreen, close_timeout
from terminal.staff_items_flow import RetrieveFlow

load_kv(__file__)


class StaffRetrieveScreen(StaffScreen):
    """Thin: the list and the door; RetrieveFlow does the work on the workers."""

    step = StringProperty("list")  # list, open
    busy = BooleanProperty(False)
    reminder = BooleanProperty(False)
    marked = StringProperty("")
    cells = ListProperty()
    items = ListProperty()
    note = ListProperty(["", ""])
    note_good = BooleanProperty(False)

    _flow: RetrieveFlow | None = None

    def entered(self) -> None:
        """A retrieval flow for this session, the list and the grid."""
        if self._flow is None or self._flow.staff is not self.flow:
            self._flow = RetrieveFlow(self.flow, close_timeout_s=close_timeout(self.app))
        self.refresh()

    def refresh(self) -> None:
        """Expired and held items, and the grid (worker)."""
        flow = self._flow
        if flow is None or flow.controller is None:
            return
        self.app.background.submit(lambda: (flow.items(), flow.controller.status()),
                                   self._listed)

    def _listed(self, found: Any, error: BaseException | None) -> None:
        if error is not None or found is None:
            return
        self.items, status = found
        self.cells = [cell_view(c) for c in status.compartments]

    def on_items(self, *_args: Any) -> None:
        """One big row per item: compartment, state word, case number."""
        box = self.ids.rows
        box.clear_widgets()
        lang = self.app.lang
        for c in self.items:
            state = ST.ITEM_WORDS.get(c.item_state, ST.UNKNOWN)
            row = Factory.BigButton(
                text=self.app.tr(ST.RETRIEVE_ROW, lang, c=c.id, case=c.case_no or "-",
                                 state=state[1] if lang == "en" else state[0]),
                size_hint_y=None, height=dp(90) * self.app.scale,
                font_size=sp(30) * self.app.scale)
            row.bind(on_release=lambda _w, cid=c.id: self.retrieve(cid))
            box.add_widget(row)

    def retrieve(self, compartment_id: str) -> None:
        """Open this compartment to take its item back (worker)."""
        flow = self._flow
        if self.busy or flow is None or self.step != "list":
            return
        self.busy, self.note = True, ["", ""]
        self.app.background.submit(lambda: flow.retrieve(compartment_id),
                                   lambda r, e, cid=compartment_id: self._opened(cid, r, e))

    def _opened(self, cid: str, refused: Any, error: BaseException | None) -> None:
        self.busy = False
        if self._flow is None:
            return
        if error is not None or refused is not None:
            self._say(refused.pair() if refused is not None else ST.DOOR_FAILED, False)
            self.refresh()
            return
        self.step, self.marked, self.reminder = "open", cid, False
        self.refresh()
        self._wait()

    def _wait(self) -> None:
        flow = self._flow
        if flow is not None:
            self.app.waits.submit(flow.wait_closed, lambda r, e, f=flow: self._closed(f, r, e))

    def _closed(self, flow: RetrieveFlow, closed: Any, error: BaseException | None) -> None:
        if flow is not self._flow or self.step != "open" or closed is None:
            return
        if closed and error is None:
            self.app.background.submit(flow.settle, self._settled)
            return
        self.reminder = True
        self._wait()

    def _settled(self, outcome: Any, error: BaseException | None) -> None:
        self.step, self.marked, self.reminder = "list", "", False
        if outcome is not None:
            self._say(outcome.pair(), outcome.good)
        self.refresh()

    def instruction(self, step: str, reminder: bool, marked: str, empty: bool, scale: float,
                    lang: str) -> str:
        """What to do now, in both languages."""
        if step == "open":
            pair = ST.CLOSE_PLEASE if reminder else ST.TAKE_OUT
        else:
            pair = ST.NOTHING_TO_RETRIEVE if empty else ST.RETRIEVE_HINT
        return self.app.bi(pair, scale, lang, c=marked)

    def to_menu(self) -> None:
        """Back to the menu (a door still open completes when it is closed)."""
        if self._flow is not None:
            self._flow.door.cancel()
        self.step, self.marked = "list", ""
        self.app.go("staff_menu")

    def _say(self, pair: tuple[str, str], good: bool) -> None:
        self.note, self.note_good = list(pair), good

    def forget(self) -> None:
        """Nothing survives the session."""
        if self._flow is not None:
            self._flow.wipe()
        self._flow = None
        self.step, self.marked, self.busy, self.reminder = "list", "", False, False
        self.items, self.cells, self.note = [], [], ["", ""]
