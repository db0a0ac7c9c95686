"""Self-declaration, steps 2 and 3: review (personal values masked), submit, the receipt's QR.

Submitting only writes the outbox (sealed), so it succeeds with the network down; the number
shown is the declaration's case number at the platform.
"""

from __future__ import annotations

import io
from typing import Any

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from terminal import guide_texts as T
from terminal.declaration_flow import DeclarationFlow
from terminal.guide_view import qr_png
from terminal.print_layouts import declaration_receipt
from terminal.screens.common import load_kv
from terminal.screens.printing import PrintsMixin
from terminal.texts import escape, pick

load_kv(__file__)


class DeclareReviewScreen(PrintsMixin, Screen):
    """Set `flow` before showing; the receipt prints by itself where there is a printer."""

    flow: DeclarationFlow | None = None
    submitted: Any = None  # number, item, time, pages: what the paper receipt shows
    summary = StringProperty("")
    number = StringProperty("")
    busy = BooleanProperty(False)
    qr_texture = ObjectProperty(None, allownone=True)

    def on_enter(self, *_args: Any) -> None:
        """Show what will be sent."""
        flow = self.flow
        if flow is None:
            App.get_running_app().go_home()
            return
        lang = App.get_running_app().lang
        self.number = ""
        self.submitted = None
        self.reset_print()
        rows = [f"[b]{escape(flow.guide.name_zh)}[/b]"]
        rows += [f"{escape(en if lang == 'en' else zh)}：{escape(value) or '—'}"
                 for zh, en, value in flow.review()]
        rows.append(pick(T.PAGES, lang, n=len(flow.pages)))
        self.summary = "\n".join(rows)

    def submit(self) -> None:
        """Into the outbox (on the worker), then the number and its QR."""
        flow = self.flow
        if flow is None:
            return
        self.busy = True
        App.get_running_app().background.submit(flow.submit, self._submitted)

    def _submitted(self, done: Any, error: BaseException | None) -> None:
        self.busy = False
        app = App.get_running_app()
        if error is not None:
            app.root.get_screen("message").show(("提交失败，请联系工作人员",
                                                 "The application could not be saved; "
                                                 "please ask staff."), good=False)
            return
        self.number = done.number
        self.summary = app.bi(T.SUBMITTED, app.scale, app.lang, number=done.number)
        self.qr_texture = CoreImage(io.BytesIO(qr_png(done.number, 300)), ext="png").texture
        if self.flow is not None:
            self.flow.wipe()
        self.submitted = done
        self.print_receipt()

    def print_receipt(self) -> None:
        """收件凭证 on paper (automatically once, then on "print another copy")."""
        done, term = self.submitted, App.get_running_app().cfg.terminal
        if done is not None:
            self.start_print(lambda: declaration_receipt(
                done.number, done.item_name, done.submitted_at, done.pages,
                centre=term.centre_name, tz=term.timezone))

    def wipe(self) -> None:
        """Forget everything shown."""
        if self.flow is not None:
            self.flow.wipe()
        self.flow = self.submitted = None
        self.summary = self.number = ""
        self.print_status = ["", ""]
        self.qr_texture = None
