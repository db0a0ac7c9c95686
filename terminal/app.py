"""The Kivy terminal app: screens, language, elderly mode, idle reset; blocking work off-thread.

Screens only lay out and react (terminal/screens); flows are plain Python (terminal/*_flow.py);
everything that can block runs on the `Background` worker and comes back through
Clock.schedule_once (DESIGN §2). The locker and the peripherals open in the background, so
Home is interactive at once and guides work even when the locker is down.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from terminal import texts, voice_texts
from terminal.app_idle import IdleReset
from terminal.app_lockdown import Lockdown
from terminal.app_survive import Survival
from terminal.app_text import TextHelpers
from terminal.background import Background
from terminal.config import Config
from terminal.idle import IdleWatch
from terminal.integrity_setup import refusal_line
from terminal.pickup_flow import PickupFlow
from terminal.screens import registry
from terminal.screens.idle_overlay import IdleOverlay

log = logging.getLogger(__name__)

ELDERLY_SCALE = 1.4
STATUS_REFRESH_S = 2.0
HOME = "home"


class KioskApp(TextHelpers, IdleReset, Lockdown, Survival, App):
    """The terminal; `open_locker` and `open_devices` run on the worker at start."""

    scale = NumericProperty(1.0)
    elderly = BooleanProperty(False)
    line_height = NumericProperty(1.3)
    lang = StringProperty("zh")
    locker_up = BooleanProperty(False)
    availability = StringProperty("")
    locker_problem = StringProperty("")  # a refusal to start (LockerIntegrityError), for staff

    def __init__(self, config: Config, open_locker: Callable[[Config], Any],
                 open_devices: Callable[[Config], Any] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.cfg = config
        self._open_locker = open_locker
        self._open_devices = open_devices
        self.runtime: Any = None
        self.devices: Any = None
        self.background = Background(lambda fn: Clock.schedule_once(lambda _dt: fn(), 0))
        # Waiting for a person (card on the reader, door closed) must not hold up the worker.
        self.waits = Background(lambda fn: Clock.schedule_once(lambda _dt: fn(), 0),
                                "terminal-wait")
        self.idle = IdleWatch(config.terminal.idle_s, config.terminal.idle_warn_s)
        self._overlay: IdleOverlay | None = None
        self.pickup_flow: PickupFlow | None = None
        self.platform: Any = None
        self.guide_index: Any = None
        self._guide_waiters: list[Callable[[bool], None]] = []
        self.title = "政务服务自助终端"

    def set_elderly(self, on: bool) -> None:
        """长辈模式: 1.4x text and targets, line spacing 1.3+, twice the time."""
        self.elderly = on
        self.scale = ELDERLY_SCALE if on else 1.0
        self.line_height = 1.45 if on else 1.3
        self.idle.set_elderly(on)
        voice = getattr(self.devices, "voice", None)
        if on:
            self.say(voice_texts.ELDERLY_ON)
        elif voice is not None:
            voice.stop()

    def say(self, pair: tuple[str, str] | None) -> None:
        """Read a (zh, en) prompt aloud, in elderly mode only, where there is a voice."""
        voice = getattr(self.devices, "voice", None)
        if pair and self.elderly and voice is not None:
            voice.say(pair[0])

    def _screen_shown(self, sm: ScreenManager, name: str) -> None:
        """Every screen change: a screen with a `prompt` has it read aloud (长辈模式)."""
        if name and sm.has_screen(name):
            self.say(getattr(sm.get_screen(name), "prompt", None))

    def toggle_language(self) -> None:
        """中文 ⇄ English, at any time."""
        self.lang = "en" if self.lang == "zh" else "zh"

    # -- life cycle ------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        """The screens, the idle watch, the scanner route; locker and devices in the background."""
        self.start_survival()  # an exception in a callback: apology and Home, never an exit
        sm = registry.LazyScreenManager(transition=NoTransition())
        sm.add_widget(registry.screen_class(HOME)())  # the others are built on first use
        sm.bind(current=self._screen_shown)
        Window.bind(on_touch_down=self._touched, on_key_down=self._touched)
        self.every(0.5, lambda dt: self._idle_check(dt))  # the wipe must not stop on an error
        self.start_lockdown()  # no exit but maintenance; the systemd watchdog
        self.background.submit(self._open_all, self._opened)
        return sm

    def _open_all(self) -> tuple[Any, Any, BaseException | None]:
        devices = self._open_devices(self.cfg) if self._open_devices else None
        try:
            from terminal.platform_setup import open_platform

            self.platform = open_platform(self.cfg)
        except Exception:  # guides and queries show that they are unavailable
            log.exception("the platform adapter could not be opened")
        try:
            if self.platform is not None:
                return devices, self._open_locker(self.cfg, platform=self.platform), None
            return devices, self._open_locker(self.cfg), None
        except Exception as err:  # the locker down: guides and queries still work
            log.exception("the locker could not be opened")
            return devices, None, err

    def on_stop(self) -> None:
        """Release the locker (bus, store) and the peripherals when the window closes."""
        self.stopping()
        self.stop_survival()
        if self.pickup_flow is not None:
            self.pickup_flow.cancel_card()
        self.waits.shutdown(wait=True)
        self.background.shutdown()
        if self.runtime is not None:
            self.runtime.close()
        if self.devices is not None:
            self.devices.close()

    def _opened(self, opened: Any, error: BaseException | None) -> None:
        devices, runtime, locker_error = opened if opened else (None, None, error)
        self.devices = devices
        if devices is not None and devices.scanner is not None:
            devices.scanner.start(lambda code: Clock.schedule_once(lambda _dt: self.on_scan(code)))
        if runtime is None:
            self.locker_up = False
            log.error("locker out of service: %s", locker_error)
            self.locker_problem = refusal_line(locker_error)
            self.notifier.status("serving guides; locker out of service"
                                 + (f": {self.locker_problem}" if self.locker_problem else ""))
            return
        self.notifier.status("serving; locker open")
        self.runtime = runtime
        mqtt = getattr(runtime, "mqtt", None)
        if mqtt is not None and mqtt.doctor is not None:
            mqtt.doctor.devices = devices  # the remote doctor reports on the peripherals in use
        self.every(STATUS_REFRESH_S, lambda _dt: self.refresh_status())
        self.refresh_status()
        # Everything built so far lives as long as the app: keep the collector from walking it
        # again (a full collection over ~300,000 start-up objects stalls drawing for 100 ms).
        gc.collect()
        gc.freeze()

    def refresh_status(self) -> None:
        """Free compartments by size and whether the locker can serve, from the worker."""
        if self.runtime is not None:
            self.background.submit(self.runtime.controller.status, self._show_status)

    def _show_status(self, status: Any, error: BaseException | None) -> None:
        free: dict[str, int] = {}
        online = False
        for c in [] if error else status.compartments:
            online = online or c.board_online
            if c.state.value == "empty" and c.enabled and c.board_online:
                free[c.size.value] = free.get(c.size.value, 0) + 1
        self.locker_up = online
        self.availability = " · ".join(f"{texts.SIZE_NAMES[s]} {s} {n}" for s, n in free.items())
        self.last_status = None if error else status

    # -- navigation and scanning -----------------------------------------------------------
    def go(self, name: str) -> None:
        """Show a screen (its `on_enter` prepares it); none while out of service."""
        if not self.broken:
            self.root.current = name

    def on_scan(self, code: str) -> None:
        """A code from the scanner goes to the screen showing, if it takes codes."""
        self.idle.touch()
        screen = self.root.current_screen
        handler = getattr(screen, "on_scan", None)
        if handler is not None:
            handler(code)

    def new_pickup(self) -> PickupFlow:
        """A fresh pickup for the person at the screen."""
        if self.pickup_flow is not None:
            self.pickup_flow.wipe()
        dv = self.cfg.devices
        factor = 2.0 if self.elderly else 1.0
        self.pickup_flow = PickupFlow(
            self.runtime.controller if self.runtime else None,
            self.devices.id_reader if self.devices else None,
            card_timeout_s=dv.card_timeout_s * factor,
            close_timeout_s=dv.door_close_timeout_s)
        return self.pickup_flow

    # -- guides and declarations -----------------------------------------------------------
    def ensure_guides(self, ready: Callable[[bool], None]) -> None:
        """Build the guide index once (on the worker); `ready(ok)` on the UI thread."""
        if self.guide_index is not None:
            ready(True)
            return
        self._guide_waiters.append(ready)
        if len(self._guide_waiters) > 1:
            return

        def build() -> Any:
            from terminal.guide_search import GuideIndex

            if self.platform is None:
                raise RuntimeError("no platform adapter")
            return GuideIndex(self.platform.guides())

        def built(index: Any, error: BaseException | None) -> None:
            self.guide_index = index
            waiters, self._guide_waiters = self._guide_waiters, []
            for waiter in waiters:
                waiter(error is None)

        self.background.submit(build, built)

    def start_declaration(self, guide: Any) -> None:
        """Self-declaration of one service item: its form first."""
        if guide is None or not self.root.has_screen("declare_form"):
            return
        self.root.get_screen("declare_form").start(guide)
        self.go("declare_form")
