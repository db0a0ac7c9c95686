"""Maintenance mode: the compartment grid in colour and words, actions, and the status panel.

Tap a cell to select it; open it, enable or disable it, or run the door test over every
enabled empty compartment. The panel shows boards, bus statistics, connectivity, alarms,
open tasks and the recent audit log, refreshed every few seconds while the screen shows.
Every action goes through the controller with the signed-in session (allowed by role,
audited). "Exit the app" (tapped twice) is the only way to close the terminal; it stays
awake during the door test, and otherwise idles back to Home (signed out) as usual.
Logic is in terminal/maintenance_flow.py and terminal/maintenance_panel.py.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from terminal import staff_texts as ST
from terminal.maintenance_flow import MaintenanceFlow
from terminal.maintenance_panel import panel_sections
from terminal.screens.common import load_kv
from terminal.screens.compartment_grid import CompartmentGrid  # noqa: F401  (kv)
from terminal.screens.staff_base import MENU, StaffScreen
from terminal.texts import escape

load_kv(__file__)

REFRESH_S = 3.0
QUIT_ARMED_S = 5.0  # the second tap of "exit the app" must come within this


class MaintenanceScreen(StaffScreen):
    """Thin: the snapshot on the worker, actions on the workers, results in words."""

    cells = ListProperty()
    selected = StringProperty("")
    snapshot = ObjectProperty(None, allownone=True)
    busy = BooleanProperty(False)
    testing = BooleanProperty(False)
    note = ListProperty(["", ""])
    note_good = BooleanProperty(False)
    quit_armed = BooleanProperty(False)

    _flow: MaintenanceFlow | None = None
    _tick: Any = None

    def entered(self) -> None:
        """A flow for this session; refresh now and every few seconds while shown."""
        if self._flow is None or self._flow.staff is not self.flow:
            self._flow = MaintenanceFlow(self.flow, self.app.runtime)
        self.refresh()
        if self._tick is None:
            self._tick = Clock.schedule_interval(lambda _dt: self.refresh(), REFRESH_S)

    def on_leave(self, *_args: Any) -> None:
        """Stop refreshing."""
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def refresh(self) -> None:
        """A new snapshot (worker)."""
        flow = self._flow
        if flow is not None and flow.controller is not None:
            self.app.background.submit(flow.snapshot, self._shown)

    def _shown(self, snap: Any, error: BaseException | None) -> None:
        if error is not None or snap is None or self._flow is None:
            return
        self.snapshot = snap
        self.cells = snap.cells

    def panel_text(self, snap: Any, lang: str) -> str:
        """The side panel: headed sections of lines."""
        if snap is None:
            return ""
        return "\n\n".join(f"[b][color=0d3373]{escape(head)}[/color][/b]\n" +
                             "\n".join(escape(line) for line in lines)
                           for head, lines in panel_sections(snap, lang))

    def selection_text(self, snap: Any, selected: str, lang: str) -> str:
        """The selected compartment in words, or how to select one."""
        cell = snap.cell(selected) if snap is not None and selected else None
        if cell is None:
            return self.app.tr(ST.NONE_SELECTED, lang)
        i = 1 if lang == "en" else 0
        return (self.app.tr(ST.SELECTED, lang, c=cell.id) +
                f"  {ST.SIZE_WORDS[cell.size][i]} · {cell.state[i]} · {cell.door[i]}")

    def pick(self, compartment_id: str) -> None:
        """Select a cell (tapped again: unselect)."""
        self.selected = "" if compartment_id == self.selected else compartment_id

    # -- actions -------------------------------------------------------------------------------
    def open_selected(self) -> None:
        """Open the selected compartment (reason: maintenance)."""
        self._act(lambda flow, cid: flow.open_one(cid))

    def set_selected(self, enabled: bool) -> None:
        """Enable or disable the selected compartment."""
        self._act(lambda flow, cid: flow.set_enabled(cid, enabled))

    def door_test(self) -> None:
        """The door test sweep, on the wait worker (it takes a while)."""
        flow = self._flow
        if self.busy or flow is None:
            return
        self.busy, self.testing, self.note = True, True, ["", ""]
        self.app.waits.submit(flow.door_test, self._done)

    def _act(self, action: Any) -> None:
        flow, cid = self._flow, self.selected
        if self.busy or flow is None or not cid:
            return
        self.busy, self.note = True, ["", ""]
        self.app.background.submit(lambda: action(flow, cid), self._done)

    def _done(self, outcome: Any, error: BaseException | None) -> None:
        self.busy = self.testing = False
        if error is not None or outcome is None:
            self.note, self.note_good = list(ST.DOOR_FAILED), False
        else:
            self.note, self.note_good = list(outcome.pair()), outcome.good
        self.refresh()

    def on_testing(self, _screen: Any, testing: bool) -> None:
        """No idle reset while the door test sweeps (the technician watches the doors)."""
        self.keep_awake = testing

    def quit_app(self) -> None:
        """First tap: arm; second tap within 5 s: audit, sign out, close the app for good."""
        flow = self._flow
        if self.busy or flow is None:
            return
        if not self.quit_armed:
            self.quit_armed = True
            Clock.schedule_once(lambda _dt: setattr(self, "quit_armed", False), QUIT_ARMED_S)
            return
        self.busy, self.quit_armed = True, False
        self.app.background.submit(flow.exit_app, self._quit_recorded)

    def _quit_recorded(self, refused: Any, error: BaseException | None) -> None:
        self.busy = False
        if error is None and refused is None:
            self.app.exit_from_maintenance()
            return
        self.note, self.note_good = list(refused.pair() if refused else ST.SESSION_ENDED), False

    def leave(self) -> None:
        """Exit maintenance: back to the staff menu."""
        self.selected = ""
        self.app.go(MENU)

    def forget(self) -> None:
        """Nothing survives the session."""
        self.on_leave()
        self._flow = None
        self.cells, self.note, self.snapshot = [], ["", ""], None
        self.selected, self.busy, self.testing, self.quit_armed = "", False, False, False
