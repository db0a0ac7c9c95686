"""Render the terminal's screens to PNG under Xvfb: normal and elderly mode (docs/screenshots/).

Run: xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    """Open the app on a temporary data dir, step through the screens, save PNGs."""
    tmp = Path(tempfile.mkdtemp())
    cfg_file = tmp / "shots.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{tmp}"\nwindow = "1280x800"\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    from kivy.clock import Clock

    from terminal.app import KioskApp
    from terminal.composition import open_locker

    app = KioskApp(cfg, open_locker)
    OUT.mkdir(parents=True, exist_ok=True)
    steps = []

    def shot(name: str):
        def take() -> None:
            produced = app.root_window.screenshot(str(OUT / f"{name}.png"))
            Path(produced).replace(OUT / f"{name}.png")  # Kivy appends a counter
        return take

    def pickup_screen() -> None:
        app.root.current = "pickup_code"
        app.root.get_screen("pickup_code").code = "1234"

    def wrong_code() -> None:
        app.pickup("00000000")

    for mode, elderly in (("normal", False), ("elderly", True)):
        steps += [lambda e=elderly: app.set_elderly(e), lambda: None,
                  shot(f"home_{mode}"), pickup_screen, lambda: None, shot(f"pickup_code_{mode}"),
                  wrong_code, lambda: None, lambda: None, shot(f"pickup_denied_{mode}"),
                  app.go_home]
    steps.append(app.stop)

    def run_next(_dt: float) -> None:
        if app.runtime is None:  # wait for the locker to open before the first shot
            Clock.schedule_once(run_next, 0.2)
            return
        if steps:
            steps.pop(0)()
            Clock.schedule_once(run_next, 0.6)

    Clock.schedule_once(run_next, 1.0)
    app.run()
    print("\n".join(str(p) for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
