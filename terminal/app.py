"""The Kivy terminal app: screens, the elderly-mode scale, idle reset; locker work off-thread.

Screens only lay out and react (terminal/screens); everything that can block runs on the
`Background` worker and comes back through Clock.schedule_once (DESIGN §2).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from locker.models import DOOR_SEEN_OPEN, CompartmentState, Outcome
from terminal import texts
from terminal.background import Background
from terminal.config import Config
from terminal.screens.home import HomeScreen
from terminal.screens.message import MessageScreen
from terminal.screens.pickup_code import PickupCodeScreen

log = logging.getLogger(__name__)

ELDERLY_SCALE = 1.4
STATUS_REFRESH_S = 2.0


class KioskApp(App):
    """The terminal; `open_locker` is called on the worker so start-up never blocks drawing."""

    scale = NumericProperty(1.0)
    elderly = BooleanProperty(False)
    line_height = NumericProperty(1.3)

    def __init__(self, config: Config, open_locker: Callable[[Config], Any], **kw: Any) -> None:
        super().__init__(**kw)
        self.cfg = config
        self._open_locker = open_locker
        self.runtime: Any = None
        self.background = Background(lambda fn: Clock.schedule_once(lambda _dt: fn(), 0))
        self._last_touch = time.monotonic()
        self.title = "政务服务自助终端"

    # -- kv helpers ------------------------------------------------------------------------
    def bi(self, pair: tuple[str, str], scale: float = 1.0) -> str:
        """Bilingual markup with the English at 55% of the Chinese size."""
        return texts.bilingual(pair, en_px=round(20 * scale * Window.dpi / 96))

    def tile(self, pair: tuple[str, str], hint: tuple[str, str], scale: float = 1.0) -> str:
        """A big tile: the Chinese word and its English, then a one-line hint in small print."""
        small = round(24 * scale * Window.dpi / 96)
        return (f"[b]{pair[0]}[/b]  {pair[1]}\n"
                f"[size={small}]{hint[0]} · {hint[1]}[/size]")

    def set_elderly(self, on: bool) -> None:
        """长辈模式: 1.4x text and targets, line spacing 1.3+, twice the time."""
        self.elderly = on
        self.scale = ELDERLY_SCALE if on else 1.0
        self.line_height = 1.45 if on else 1.3

    # -- life cycle ------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        """The screens, the idle watch, and the locker opened in the background."""
        sm = ScreenManager(transition=NoTransition())
        for screen in (HomeScreen(), PickupCodeScreen(), MessageScreen()):
            sm.add_widget(screen)
        Window.bind(on_touch_down=self._touched, on_key_down=self._touched)
        Clock.schedule_interval(self._idle_check, 1.0)
        self.background.submit(lambda: self._open_locker(self.cfg), self._locker_opened)
        return sm

    def on_stop(self) -> None:
        """Release the locker (bus, store) when the window closes."""
        self.background.shutdown()
        if self.runtime is not None:
            self.runtime.close()

    def _locker_opened(self, runtime: Any, error: BaseException | None) -> None:
        home = self.root.get_screen("home")
        if error is not None:
            home.locker_up = False
            home.availability = self.bi(texts.LOCKER_DOWN, self.scale)
            return
        self.runtime = runtime
        Clock.schedule_interval(lambda _dt: self.refresh_status(), STATUS_REFRESH_S)
        self.refresh_status()

    def refresh_status(self) -> None:
        """Free compartments by size and whether the locker can serve, from the worker."""
        if self.runtime is not None:
            self.background.submit(self.runtime.controller.status, self._show_status)

    def _show_status(self, status: Any, error: BaseException | None) -> None:
        home = self.root.get_screen("home")
        free: dict[str, int] = {}
        online = False
        for c in [] if error else status.compartments:
            online = online or c.board_online
            if c.state is CompartmentState.EMPTY and c.board_online:
                free[c.size.value] = free.get(c.size.value, 0) + 1
        home.locker_up = online
        if not online:
            home.availability = self.bi(texts.LOCKER_DOWN, self.scale)
            return
        sizes = " · ".join(f"{texts.SIZE_NAMES[s]} {s} {n}" for s, n in free.items())
        home.availability = f"{texts.FREE[0]} {texts.FREE[1]}: {sizes or '0'}"

    # -- pickup ----------------------------------------------------------------------------
    def pickup(self, code: str) -> None:
        """Run the pickup on the worker; show the door or the reason."""
        msg = self.root.get_screen("message")
        msg.busy, msg.good, msg.text = True, True, self.bi(texts.WORKING, self.scale)
        self.root.current = "message"
        self.background.submit(lambda: self.runtime.controller.pickup(code), self._picked)

    def _picked(self, result: Any, error: BaseException | None) -> None:
        msg = self.root.get_screen("message")
        self.root.get_screen("pickup_code").busy = False
        outcome = Outcome.FAILED if error else result.outcome
        pair = texts.OUTCOME_TEXT.get(outcome, texts.OUTCOME_TEXT[Outcome.FAILED])
        c = "" if error else (result.compartment_id or "")
        msg.busy, msg.good = False, outcome in DOOR_SEEN_OPEN
        msg.text = self.bi((pair[0].format(c=c), pair[1].format(c=c)), self.scale)
        self.refresh_status()

    # -- idle reset ------------------------------------------------------------------------
    def _touched(self, *_args: Any) -> None:
        self._last_touch = time.monotonic()

    def idle_limit(self) -> float:
        """Seconds of no touch before the session is wiped (twice as long in elderly mode)."""
        return self.cfg.terminal.idle_s * (2 if self.elderly else 1)

    def _idle_check(self, _dt: float) -> None:
        if self.root.current != "home" and not self.root.get_screen("message").busy and \
                time.monotonic() - self._last_touch > self.idle_limit():
            self.go_home()

    def go_home(self) -> None:
        """Back to Home, wiping every piece of personal data from the screens."""
        self.root.get_screen("pickup_code").code = ""
        self.root.get_screen("message").text = ""
        self.root.current = "home"
