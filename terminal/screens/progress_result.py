"""A case's timeline, and every missing material listed at once (一次性告知).

Each state has its time and deadline; the current one is marked by shape and words (◉ 当前状态).
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from terminal import guide_texts as T
from terminal.progress_flow import STATE_NAMES, local_time, timeline_rows
from terminal.screens.common import load_kv
from terminal.texts import escape, pick

load_kv(__file__)


class ProgressResultScreen(Screen):
    """Set `progress` (a CaseProgress) before showing."""

    progress = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    timeline = StringProperty("")
    missing = StringProperty("")

    def on_enter(self, *_args: Any) -> None:
        """Lay out in the current language."""
        app = App.get_running_app()
        app.bind(lang=self._render)
        self._render()

    def on_leave(self, *_args: Any) -> None:
        """Stop following the language."""
        App.get_running_app().unbind(lang=self._render)

    def _render(self, *_args: Any) -> None:
        p = self.progress
        if p is None:
            return
        lang = App.get_running_app().lang
        state = pick(STATE_NAMES[p.state], lang)
        self.title = escape(f"{p.case_no} · {p.item_name} · {state}")
        lines = []
        for row in timeline_rows(p):
            mark = "◉" if row.current else "●"
            name = pick(row.state, lang)
            line = f"{mark} [b]{escape(name)}[/b]  {row.at}"
            if row.current:
                line += f"  [color=b34700]({pick(T.CURRENT, lang)})[/color]"
            if row.note:
                line += f"\n\u3000\u3000{escape(row.note)}"  # not a break point
            if row.deadline:
                line += f"\n\u3000\u3000{pick(T.DEADLINE, lang)}: {row.deadline}"
            lines.append(line)
        if p.promised_by:
            lines.append(pick(T.PROMISED, lang, d=local_time(p.promised_by)))
        if p.cached_at:  # the platform is down: an earlier answer, and how old it is
            as_of = pick(T.CACHED_AS_OF, lang, d=local_time(p.cached_at))
            lines.insert(0, f"[color=b34700]{escape(as_of)}[/color]")
        self.timeline = "\n".join(lines)
        if p.missing_materials:
            items = "\n".join(f"{i}. {escape(m)}" for i, m in enumerate(p.missing_materials, 1))
            by = (f"\n\n{pick(T.MISSING_BY, lang, d=local_time(p.missing_deadline))}"
                  if p.missing_deadline else "")
            self.missing = f"[b]{pick(T.MISSING, lang)}[/b]\n{items}{by}"
        else:
            self.missing = ""

    def wipe(self) -> None:
        """Forget the case."""
        self.progress = None
        self.title = self.timeline = self.missing = ""
