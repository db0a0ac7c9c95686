"""Guide lookup: search by pinyin letters (full or initials), by audience and topic.

The letter keys type pinyin straight into the search (`sfz` finds 身份证 items); the index
(terminal/guide_search.py) answers within a keystroke, so the search runs on the UI thread.
In "declare" mode a tap starts the self-declaration of that item instead of showing the guide.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import OptionProperty, StringProperty
from kivy.uix.screenmanager import Screen

from terminal import guide_texts as T
from terminal import voice_texts as V
from terminal.screens.common import load_kv

load_kv(__file__)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_RESULTS = 80


class GuidesScreen(Screen):
    """Search box, audience and topic filters, results; the app supplies `guide_index`."""

    query = StringProperty("")
    audience = StringProperty("")
    topic = StringProperty("")
    summary = StringProperty("")
    mode = OptionProperty("guide", options=["guide", "declare"])

    @property
    def prompt(self) -> tuple[str, str]:
        """Read aloud in elderly mode: find a guide, or choose what to apply for."""
        return V.DECLARE_PICK if self.mode == "declare" else V.GUIDES

    def on_kv_post(self, *_args: Any) -> None:
        """Letter keys once."""
        for letter in LETTERS:
            key = Factory.LetterKey(text=letter)
            key.bind(on_release=lambda b: self.type(b.text))
            self.ids.letters.add_widget(key)
        app = App.get_running_app()
        for pair, action in ((T.DELETE, self.delete), (T.CLEAR, self.clear)):
            key = Factory.LetterKey(text=app.tr(pair), font_size=self.ids.letters.children[0]
                                    .font_size * 0.7)
            key.bind(on_release=lambda _b, act=action: act())
            self.ids.letters.add_widget(key)

    def on_enter(self, *_args: Any) -> None:
        """Load the index if needed, then show everything for the filters."""
        App.get_running_app().ensure_guides(self._index_ready)

    def _index_ready(self, ok: bool) -> None:
        if not ok:
            self.summary = App.get_running_app().tr(T.UNAVAILABLE)
            return
        self._fill_topics()
        self.refresh()

    def type(self, letter: str) -> None:
        """One letter key."""
        if len(self.query) < 30:
            self.query += letter

    def delete(self) -> None:
        """Backspace."""
        self.query = self.query[:-1]

    def clear(self) -> None:
        """Empty the search."""
        self.query = ""

    def on_query(self, *_args: Any) -> None:
        """Search as the person types."""
        self.refresh()

    def on_audience(self, *_args: Any) -> None:
        """Filter, and offer that audience's topics."""
        self.topic = ""
        self._fill_topics()
        self.refresh()

    def on_topic(self, *_args: Any) -> None:
        """Filter by topic."""
        self.refresh()

    def _fill_topics(self) -> None:
        app = App.get_running_app()
        index = app.guide_index
        box = self.ids.topics
        box.clear_widgets()
        if index is None:
            return
        for zh, en in [("", ""), *index.topics(self._audience())]:
            shown = (en if app.lang == "en" else zh) or app.tr(T.ALL, app.lang)
            chip = Factory.AudienceButton(text=shown, group="topic", size_hint_x=None)
            chip.width = max(120, len(chip.text) * chip.font_size * (0.6 if app.lang == "en"
                                                                       else 1.1))
            chip.state = "down" if zh == self.topic else "normal"
            chip.bind(on_release=lambda _b, n=zh: setattr(self, "topic", n))
            box.add_widget(chip)

    def _audience(self) -> Any:
        from remote.platform_models import Audience

        return Audience(self.audience) if self.audience else None

    def refresh(self) -> None:
        """Run the search and list the results."""
        app = App.get_running_app()
        index = app.guide_index
        box = self.ids.results
        box.clear_widgets()
        if index is None:
            self.summary = app.tr(T.LOADING, app.lang)
            return
        found = index.search(self.query, audience=self._audience(), topic=self.topic or None,
                             limit=MAX_RESULTS)
        self.summary = app.tr(T.FOUND, app.lang, n=len(found))
        small = round(20 * app.scale)
        for guide in found:
            button = Factory.GuideResult(
                text=f"[b]{guide.name_zh}[/b]\n[size={small}]{guide.name_en} · "
                     f"{guide.topic_zh} · {guide.department}[/size]")
            button.bind(on_release=lambda _b, g=guide: self.choose(g))
            box.add_widget(button)
        self.ids.scroll.scroll_y = 1

    def choose(self, guide: Any) -> None:
        """Show the guide, or start its declaration."""
        app = App.get_running_app()
        if self.mode == "declare":
            app.start_declaration(guide)
        else:
            app.root.get_screen("guide_detail").guide = guide
            app.go("guide_detail")

    def wipe(self) -> None:
        """Searches are not personal, but the next person starts clean."""
        self.query = self.topic = self.audience = ""
        self.mode = "guide"
