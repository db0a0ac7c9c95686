"""One service guide in full (every element of DOMAIN item 4), with a QR to read it on a phone."""

from __future__ import annotations

import io
import re
from typing import Any

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from terminal.guide_view import guide_sections, qr_png
from terminal.print_layouts import guide_printout
from terminal.screens.common import load_kv
from terminal.screens.printing import PrintsMixin
from terminal.texts import escape

load_kv(__file__)
_NUMBERED = re.compile(r"^(\d+)\. ", re.MULTILINE)


class GuideDetailScreen(PrintsMixin, Screen):
    """Set `guide` (a remote.platform_models.Guide), then show it."""

    guide = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    body = StringProperty("")
    qr_texture = ObjectProperty(None, allownone=True)

    def on_enter(self, *_args: Any) -> None:
        """Lay the guide out in the current language."""
        app = App.get_running_app()
        app.bind(lang=self._render)
        self._render()
        self.reset_print()
        self.ids.scroll.scroll_y = 1

    def on_leave(self, *_args: Any) -> None:
        """Stop following the language."""
        App.get_running_app().unbind(lang=self._render)

    def _render(self, *_args: Any) -> None:
        app = App.get_running_app()
        g = self.guide
        if g is None:
            return
        self.title = escape(g.name_en if app.lang == "en" else f"{g.name_zh}  {g.name_en}")
        parts = []
        for heading, text in guide_sections(g, app.lang):
            text = _NUMBERED.sub(lambda m: m.group(1) + ".\u3000", text)  # no orphaned "1."
            parts.append(f"[b][color=0d336e]{escape(heading)}[/color][/b]\n{escape(text)}")
        self.body = "\n\n".join(parts)
        png = qr_png(g.link, 360)
        self.qr_texture = CoreImage(io.BytesIO(png), ext="png").texture

    def print_guide(self) -> None:
        """Print the guide as shown (its language), where this terminal has a printer."""
        guide, lang = self.guide, App.get_running_app().lang
        if guide is not None:
            self.start_print(lambda: guide_printout(guide, lang))

    def wipe(self) -> None:
        """Forget the guide shown."""
        self.guide = None
        self.title = self.body = ""
