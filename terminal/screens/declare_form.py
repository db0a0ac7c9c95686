"""Self-declaration, step 1: the form generated from the guide's schema, card autofill, pages.

The active field takes input from the keys suited to its kind: letters (pinyin, with the
in-app pinyin keyboard where available) for text, digits for numbers, phones and dates, and
big buttons for a choice. Values live in the DeclarationFlow only.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from hardware.document_camera import CameraError
from hardware.id_reader import IdCard
from remote.platform_models import FieldKind, Guide
from terminal import guide_texts as T
from terminal import voice_texts as V
from terminal.declaration_flow import MAX_PAGES, DeclarationFlow, check_field, shown_value
from terminal.screens.common import load_kv
from terminal.texts import escape

load_kv(__file__)
DIGIT_KEYS = "1234567890-X"
LETTER_KEYS = "QWERTYUIOPASDFGHJKLZXCVBNM"


class DeclareFormScreen(Screen):
    """`start(guide)` makes a new DeclarationFlow; `next()` goes to the review."""

    prompt = V.DECLARE_FORM  # read aloud in elderly mode

    title = StringProperty("")
    active = StringProperty("")
    reading = BooleanProperty(False)
    capturing = BooleanProperty(False)
    pages = NumericProperty(0)
    max_pages = NumericProperty(MAX_PAGES)  # the capture button is off at the limit
    status_pair = ListProperty(["", ""])
    flow: DeclarationFlow | None = None

    def start(self, guide: Guide) -> None:
        """A fresh declaration for `guide`."""
        app = App.get_running_app()
        controller = app.runtime.controller if app.runtime else None
        enqueue = controller.enqueue_message if controller is not None else _no_outbox
        self.flow = DeclarationFlow(guide, enqueue, app.cfg.terminal.id)
        self.title = escape(f"{guide.name_zh}  {guide.name_en}")
        self.pages = 0
        self.status_pair = ["", ""]
        self.active = guide.form[0].key if guide.form else ""
        self._build_fields()

    def _build_fields(self, with_input: bool = True) -> None:
        box = self.ids.fields
        box.clear_widgets()
        flow = self.flow
        if flow is None:
            return
        app = App.get_running_app()
        for spec in flow.fields:
            value = flow.values.get(spec.key, "")
            problem = check_field(spec, value) if value else None
            label = spec.label_en if app.lang == "en" else spec.label_zh
            mark = " [color=b32d00]![/color]" if problem else ""
            row = Factory.FieldRow(text=f"[b]{escape(label)}[/b]{mark}\n"
                                        f"{escape(shown_value(spec, value)) or '—'}")
            row.state = "down" if spec.key == self.active else "normal"
            row.bind(on_release=lambda _r, k=spec.key: self.select(k))
            box.add_widget(row)
            if spec.key == self.active:  # keep the field being typed into in view
                Clock.schedule_once(lambda _dt, r=row: self.ids.field_scroll.scroll_to(r), 0)
        if with_input:
            self._build_input()

    def select(self, key: str) -> None:
        """Make a field the one the keys type into."""
        self.active = key
        self._build_fields()

    def _build_input(self) -> None:
        area = self.ids.input_area
        area.clear_widgets()
        spec = self._spec()
        if spec is None:
            return
        if spec.kind is FieldKind.CHOICE:  # the chosen one: a mark and words, not colour alone
            chosen = self.flow.values.get(spec.key, "") if self.flow else ""
            for choice in spec.choices:
                mark = "● " if choice == chosen else "○ "
                button = Factory.BigButton(text=mark + escape(choice), size_hint_y=None,
                                           height=110 * App.get_running_app().scale)
                if choice == chosen:
                    button.background_color = (0.1, 0.55, 0.25, 1)
                button.bind(on_release=lambda _b, c=choice: self._set(c))
                area.add_widget(button)
            area.add_widget(Factory.Widget())
            return
        value = self.flow.values.get(spec.key, "") if self.flow else ""
        if spec.kind is FieldKind.TEXT:  # Chinese: the in-app pinyin keyboard
            from terminal.screens.keyboard import PinyinKeyboard

            board = PinyinKeyboard(text=value, max_length=spec.max_length)
            board.bind(text=lambda _kb, text: self._set(text, rebuild_input=False))
            area.add_widget(board)
            return
        keys = DIGIT_KEYS if spec.kind in (FieldKind.NUMBER, FieldKind.PHONE,
                                           FieldKind.DATE) else LETTER_KEYS
        grid = Factory.GridLayout(cols=3 if keys is DIGIT_KEYS else 7, spacing=6)
        for key in keys:
            button = Factory.LetterKey(text=key)
            button.bind(on_release=lambda b: self._type(b.text))
            grid.add_widget(button)
        for label, action in (("退格", self._delete),
                              ("C", lambda: self._set("", rebuild_input=False))):
            button = Factory.LetterKey(text=label)
            button.bind(on_release=lambda _b, act=action: act())
            grid.add_widget(button)
        area.add_widget(grid)

    def _spec(self) -> Any:
        flow = self.flow
        return None if flow is None else next((f for f in flow.fields if f.key == self.active),
                                              None)

    def _type(self, key: str) -> None:
        flow = self.flow
        if flow is not None and self.active:
            self._set(flow.values.get(self.active, "") + key, rebuild_input=False)

    def _delete(self) -> None:
        flow = self.flow
        if flow is not None and self.active:
            self._set(flow.values.get(self.active, "")[:-1], rebuild_input=False)

    def _set(self, value: str, rebuild_input: bool = True) -> None:
        if self.flow is not None and self.active:
            self.flow.set_value(self.active, value)
            self._build_fields(with_input=rebuild_input)

    def read_card(self) -> None:
        """Name, ID number and address from the card (on the wait worker)."""
        app = App.get_running_app()
        reader = app.devices.id_reader if app.devices else None
        if reader is None or self.flow is None:
            return
        self.reading = True
        reader.forget_card()  # the person just asked: a card lying there now is theirs
        app.waits.submit(lambda: reader.read_card(app.cfg.devices.card_timeout_s), self._card)

    def _card(self, card: Any, error: BaseException | None) -> None:
        self.reading = False
        if isinstance(card, IdCard) and self.flow is not None:
            self.flow.autofill(card)
            self._build_fields()

    def capture(self) -> None:
        """One page from the document camera (on the worker); refused at the page limit."""
        app = App.get_running_app()
        camera = app.devices.camera if app.devices else None
        if camera is None or self.flow is None or self.capturing:
            return
        if self.flow.pages_full:
            self.status_pair = _pages_full()
            return
        self.capturing = True
        app.background.submit(camera.capture, self._captured)

    def _captured(self, jpeg: Any, error: BaseException | None) -> None:
        self.capturing = False
        if error is not None or self.flow is None:
            if isinstance(error, CameraError) or error is not None:
                self.status_pair = list(T.CAMERA_FAILED)
            return
        if not self.flow.add_page(jpeg):  # a capture already under way when the limit came
            self.status_pair = _pages_full()
        self.pages = len(self.flow.pages)
        if self.flow.pages_full:
            self.status_pair = _pages_full()

    def next(self) -> None:
        """On to the review, once every field is acceptable."""
        flow = self.flow
        if flow is None:
            return
        if flow.errors():
            self.status_pair = list(T.FIX_FIELDS)
            self._build_fields()
            return
        app = App.get_running_app()
        app.root.get_screen("declare_review").flow = flow
        app.go("declare_review")

    def on_leave(self, *_args: Any) -> None:
        """Stop waiting for a card."""
        app = App.get_running_app()
        if self.reading and app.devices is not None and app.devices.id_reader is not None:
            app.devices.id_reader.cancel()

    def wipe(self) -> None:
        """Forget the form, the card's data and the pages."""
        if self.flow is not None:
            self.flow.wipe()
        self.flow = None
        self.title, self.active, self.pages = "", "", 0
        self.status_pair = ["", ""]
        self.ids.fields.clear_widgets()
        self.ids.input_area.clear_widgets()


def _pages_full() -> list[str]:
    return [text.format(n=MAX_PAGES) for text in T.PAGES_FULL]


def _no_outbox(*_args: Any, **_kw: Any) -> str:
    raise RuntimeError("the locker's store (and with it the outbox) is not open")
