"""Pickup, step 2: the ID card on the reader (a picture shows where), then the door opens."""

from __future__ import annotations

import time
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from hardware.id_reader import IdCard
from terminal import voice_texts as V
from terminal.pickup_flow import Notice
from terminal.screens import pictures
from terminal.screens.common import load_kv

load_kv(__file__)


class PickupCardScreen(Screen):
    """Reads the card on the app's wait worker, opens on its main worker."""

    prompt = V.PICKUP_CARD  # read aloud in elderly mode

    seconds = NumericProperty(0)
    opening = BooleanProperty(False)
    picture = StringProperty("")
    keep_awake = BooleanProperty(True)  # the card wait has its own visible countdown

    def on_enter(self, *_args: Any) -> None:
        """Start waiting for the card, with a visible countdown."""
        app = App.get_running_app()
        self.picture = str(pictures.place_card(app.cfg.data_dir))
        flow = app.pickup_flow
        self.opening = False
        if flow is None:
            app.go_home()
            return
        self._deadline = time.monotonic() + flow.card_timeout_s
        self._tick = Clock.schedule_interval(self._count, 0.25)
        self._count(0)
        app.waits.submit(flow.read_card, self._card_read)

    def on_leave(self, *_args: Any) -> None:
        """Stop the countdown; stop waiting for a card nobody will bring."""
        self._stop_tick()
        flow = App.get_running_app().pickup_flow
        if flow is not None and not self.opening:
            flow.cancel_card()

    def _stop_tick(self) -> None:
        tick = getattr(self, "_tick", None)
        if tick is not None:
            tick.cancel()
            self._tick = None

    def _count(self, _dt: float) -> None:
        self.seconds = max(0, round(self._deadline - time.monotonic()))

    def _card_read(self, card: Any, error: BaseException | None) -> None:
        app = App.get_running_app()
        flow = app.pickup_flow
        if self.manager is None or self.manager.current != self.name or flow is None:
            return  # the person left (back, idle): the card is not used
        self._stop_tick()
        if error is not None or isinstance(card, Notice):
            pair = card.pair() if isinstance(card, Notice) else T_FAILED
            app.root.get_screen("message").show(pair, good=False)
            return
        assert isinstance(card, IdCard)
        self.opening = True
        app.background.submit(lambda: flow.open_with(card), self._opened)

    def _opened(self, result: Any, error: BaseException | None) -> None:
        app = App.get_running_app()
        self.opening = False
        flow = app.pickup_flow
        if error is not None or flow is None:
            app.root.get_screen("message").show(T_FAILED, good=False)
            return
        if flow.notice is not None:
            app.root.get_screen("message").show(flow.notice.pair(), good=False)
            return
        app.go("door_open")

    def cancel(self) -> None:
        """Back home; the card wait is cancelled by `on_leave`."""
        App.get_running_app().go_home()

    def wipe(self) -> None:
        """Nothing personal is kept on this screen."""
        self.seconds = 0


T_FAILED = ("取件柜暂时无法开门，请稍后再试或联系工作人员",
            "The locker cannot open a door right now. Try again later or ask staff.")
