"""The compartment grid of the staff screens: one block per board, every cell in words.

Each cell says its id, size, state and door ("A07 小 / 空闲·门关", "离线" for a board that
does not answer) as well as being coloured, so nothing is told by colour alone. The selected
cell gets a thick frame and a ● mark; the cell whose door is open for the person at the
screen gets a ▶ mark, a thick frame and a yellow fill. Tapping a cell fires
`on_pick(compartment_id)` (only cells whose colour key is in `pickable`, when that is set:
the deposit screen offers free compartments only).
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label

from terminal import staff_texts as ST

FILLS = {"empty": (0.84, 0.93, 0.84, 1), "occupied": (0.75, 0.82, 0.95, 1),
         "attention": (1.0, 0.86, 0.55, 1), "disabled": (0.72, 0.72, 0.72, 1),
         "fault": (0.96, 0.62, 0.58, 1), "offline": (0.52, 0.52, 0.52, 1)}
MARKED = (1.0, 0.85, 0.2, 1)  # the door open for the person at the screen
LEGEND = (("empty", ("空闲", "free")),
          ("occupied", ("有件", "in use")), ("attention", ("逾期/待处理", "expired/held")),
          ("disabled", ST.STOPPED), ("fault", ("故障/待查", "fault/check")),
          ("offline", ST.BOARD_OFFLINE))


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


class GridCell(ButtonBehavior, Cell):
    """A tappable compartment cell."""

    compartment = StringProperty("")


class CompartmentGrid(BoxLayout):
    """Boards stacked; `cells` are maintenance_flow.CellView values.

    The number of columns (at most `cols`) and the text size (at most 16 sp × `font_scale`)
    are chosen to fit the widget, so every cell keeps its two lines of words, also in
    elderly mode.
    """

    cells = ListProperty()
    selected = StringProperty("")
    marked = StringProperty("")
    pickable = ListProperty()  # colour keys a tap may pick; empty: every cell
    lang = StringProperty("zh")
    font_scale = NumericProperty(1.0)
    cols = NumericProperty(8)  # at most this many cells a row
    __events__ = ("on_pick",)

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("orientation", "vertical")
        kw.setdefault("spacing", dp(6))
        super().__init__(**kw)
        self._trigger = Clock.create_trigger(self._rebuild, -1)
        for name in ("cells", "selected", "marked", "pickable", "lang", "font_scale", "cols",
                     "size"):
            self.fbind(name, self._trigger)

    def on_pick(self, compartment_id: str) -> None:
        """Default handler: the screen binds its own."""

    def cell_texts(self) -> list[str]:
        """Every cell's text as shown (for tests and screenshots)."""
        return [w.text for w in self.walk(restrict=True) if isinstance(w, GridCell)]

    def fit(self, counts: list[int]) -> tuple[int, float]:
        """(columns, font size) for boards of `counts` cells: the largest font that fits."""
        base = sp(16) * self.font_scale
        most = max(1, int(self.cols))
        if self.width < 50 or self.height < 50 or not counts:
            return most, base
        gap = dp(4)
        best = (most, 0.0)
        for cols in range(most, 2, -1):  # the most columns first: ties keep the wider cells
            rows = sum(-(-n // cols) for n in counts)
            by_width = (self.width - (cols - 1) * gap) / cols / 7.0
            room = self.height - self.spacing * 2 * len(counts) - rows * gap
            by_height = room / (rows * 3.0 + len(counts) * 1.9 + 2.0)
            font = min(base, by_width, by_height)
            if font > best[1] + 0.01:
                best = (cols, font)
        return best

    def _rebuild(self, *_args: Any) -> None:
        self.clear_widgets()
        units = sorted({c.unit for c in self.cells})
        cols, font = self.fit([sum(1 for c in self.cells if c.unit == u) for u in units])
        i = 1 if self.lang == "en" else 0
        for unit in units:
            board = [c for c in self.cells if c.unit == unit]
            offline = all(c.fill == "offline" for c in board)
            state = (ST.OFFLINE if offline else ST.ONLINE)[i]
            head = f"{unit} 号板 · {state}" if i == 0 else f"Board {unit} · {state}"
            self.add_widget(Label(text=head, color=(0.05, 0.2, 0.45, 1), bold=True,
                                  font_size=font * 1.1, size_hint_y=None,
                                  height=font * 1.9))
            grid = GridLayout(cols=cols, spacing=dp(4))
            for c in board:
                grid.add_widget(self._cell(c, i, font))
            rows = -(-len(board) // cols)
            grid.size_hint_y = rows
            self.add_widget(grid)
        if units:
            self.add_widget(self._legend(i, font))

    def _cell(self, c: Any, i: int, font: float) -> GridCell:
        text = c.text(self.lang)
        frame = 1.0
        fill = FILLS.get(c.fill, (0.9, 0.9, 0.9, 1))
        if c.id == self.marked:
            text, frame, fill = f"▶{text}", 4.0, MARKED
        elif c.id == self.selected:
            text, frame = f"●{text}", 4.0
        cell = GridCell(text=text, compartment=c.id, color=(0, 0, 0, 1), font_size=font,
                        halign="center", valign="middle", fill=fill, frame=frame,
                        bold=frame > 1)
        cell.bind(size=lambda w, s: setattr(w, "text_size", s))
        if not self.pickable or c.fill in self.pickable:
            cell.bind(on_release=lambda w: self.dispatch("on_pick", w.compartment))
        return cell

    def _legend(self, i: int, font: float) -> BoxLayout:
        row = BoxLayout(size_hint_y=None, height=font * 2.0, spacing=dp(8))
        row.add_widget(Label(text=ST.LEGEND[i], color=(0.1, 0.1, 0.1, 1), font_size=font,
                             size_hint_x=0.6))
        for key, words in LEGEND:
            row.add_widget(Cell(text=words[i], color=(0, 0, 0, 1), font_size=font * 0.9,
                                fill=FILLS[key]))
        return row
