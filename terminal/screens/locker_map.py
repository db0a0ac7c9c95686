"""A picture of the locker: one cell per compartment, the one that matters marked.

A person finds "A07" faster on a picture of the cabinet than by reading labels; the marked
cell has a thick frame and arrows as well as a colour (never colour alone).
"""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import sp
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label

STATE_COLOURS = {"empty": (0.85, 0.9, 0.85, 1), "occupied": (0.75, 0.82, 0.95, 1),
                 "disabled": (0.7, 0.7, 0.7, 1), "fault": (0.95, 0.7, 0.6, 1)}
MARKED = (1.0, 0.85, 0.2, 1)


class Cell(Label):
    """One compartment: its id, and a frame drawn on the canvas."""

    fill = ListProperty([0.9, 0.9, 0.9, 1])
    frame = NumericProperty(1.0)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.bind(pos=self._draw, size=self._draw, fill=self._draw, frame=self._draw)

    def _draw(self, *_args: Any) -> None:
        self.canvas.before.clear()
        with self.canvas.before:
            Color(*self.fill)
            Rectangle(pos=self.pos, size=self.size)
            Color(0.2, 0.2, 0.2, 1)
            Line(rectangle=(*self.pos, *self.size), width=self.frame)


class LockerMap(GridLayout):
    """Compartments as a grid, one column per board; `marked` is drawn out."""

    status = ObjectProperty(None, allownone=True)
    marked = StringProperty("")
    font_scale = NumericProperty(1.0)

    def on_status(self, *_args: Any) -> None:
        """Rebuild the cells for a new status."""
        self._rebuild()

    def on_marked(self, *_args: Any) -> None:
        """Re-mark."""
        self._rebuild()

    def _rebuild(self) -> None:
        self.clear_widgets()
        comps = list(self.status.compartments) if self.status is not None else []
        if not comps:
            return
        boards = sorted({c.unit for c in comps})
        by_board = {u: sorted((c for c in comps if c.unit == u), key=lambda c: c.channel)
                    for u in boards}
        rows = max(len(v) for v in by_board.values())
        self.cols = len(boards)
        for r in range(rows):
            for u in boards:
                col = by_board[u]
                if r >= len(col):
                    self.add_widget(Label())
                    continue
                c = col[r]
                mark = c.id == self.marked
                state = "disabled" if not c.enabled else c.state.value
                self.add_widget(Cell(
                    text=f"▶ {c.id} ◀" if mark else c.id, bold=mark,
                    color=(0, 0, 0, 1), font_size=sp(18 if not mark else 24) * self.font_scale,
                    fill=MARKED if mark else STATE_COLOURS.get(state, (0.9, 0.9, 0.9, 1)),
                    frame=4.0 if mark else 1.0))
