"""`kiosk run`: prepare Kivy (window, CJK font) from the config, then run the app.

Kivy reads its configuration when first imported, so everything is set here before the app
module is imported.
"""

from __future__ import annotations

import os

from locker.cjk_font import FontMissing, find_cjk_font
from terminal.config import Config, ConfigError
from terminal.fonts import simplified_face


def prepare_kivy(cfg: Config) -> None:
    """Window size or full screen, no Kivy argv parsing, the CJK font as the default font."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")  # Kivy logs its own; the root level stays ours
    try:
        width, height = (int(v) for v in cfg.terminal.window.lower().split("x"))
    except ValueError:
        raise ConfigError(f"terminal.window: must be WIDTHxHEIGHT, not {cfg.terminal.window!r}") \
            from None
    from kivy.config import Config as KivyConfig

    KivyConfig.set("graphics", "width", str(width))
    KivyConfig.set("graphics", "height", str(height))
    KivyConfig.set("graphics", "fullscreen", "auto" if cfg.terminal.fullscreen else "0")
    KivyConfig.set("kivy", "exit_on_escape", "0")  # no way out but maintenance mode
    KivyConfig.set("input", "mouse", "mouse,multitouch_on_demand")
    try:
        font = simplified_face(find_cjk_font(cfg.terminal.font), cfg.data_dir / "fonts")
    except FontMissing as err:
        raise ConfigError(str(err)) from err
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(DEFAULT_FONT, str(font))


def _refuse_if_owned(cfg: Config) -> None:
    from terminal.composition import take_ownership
    from terminal.owner_lock import ROLE_TERMINAL, OwnedElsewhere

    try:
        locks = take_ownership(cfg, ROLE_TERMINAL)
    except OwnedElsewhere as err:
        raise ConfigError(f"the terminal cannot start: {err}") from None
    for lock in locks:
        lock.release()


def run_terminal(cfg: Config) -> int:
    """Run the terminal until a technician exits it (or SIGTERM); the exit status.

    A second terminal on the same data dir or bus refuses at once, in one line (the locker
    takes the OS locks itself when it opens, terminal.composition).
    """
    _refuse_if_owned(cfg)
    prepare_kivy(cfg)
    from terminal.app import KioskApp
    from terminal.composition import open_terminal_locker
    from terminal.devices import open_devices

    app = KioskApp(cfg, open_terminal_locker, open_devices)
    app.run()
    return app.exit_status  # 10 after "exit the app" in maintenance (the unit stays down)
