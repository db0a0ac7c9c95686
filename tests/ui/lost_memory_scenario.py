"""Drive the real terminal over a lost locker database: out of service, with the reason shown.

The locker is opened once (database, key, audit anchor), then its database is deleted. The app
must not die nor start empty: Home shows the locker out of service with the one-line reason
for staff, the systemd status carries it, pickup is off and the guides still work.
Run in its own process by test_lost_memory_ui.py; prints one JSON object with what it saw:
`python tests/ui/lost_memory_scenario.py DATA_DIR [SHOT_DIR]`.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402


def main(data_dir: str, shots_dir: str | None = None) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1920x1080"\n'
                        '[bus]\nbaud = 115200\npoll_interval_s = 0.05\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    from terminal.composition import open_locker, open_terminal_locker

    open_locker(cfg).close()  # a database, its key and its anchor
    cfg.db_path.unlink()

    from terminal.app import KioskApp
    from terminal.devices import open_devices
    from tests.ui.scenario_kit import frames, run_steps, screenshot, showing, tap

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # what systemd would hear
    notify.bind(f"\0kiosk-lost-{os.getpid()}".encode())
    notify.setblocking(False)
    os.environ["NOTIFY_SOCKET"] = f"@kiosk-lost-{os.getpid()}"
    app = KioskApp(cfg, open_terminal_locker, open_devices)
    seen: dict = {}

    def statuses() -> list[str]:
        got = []
        while True:
            try:
                got.append(notify.recv(4096).decode())
            except BlockingIOError:
                return [m for m in got if m.startswith("STATUS=")]

    def scenario():
        yield lambda: app.devices is not None and bool(app.locker_problem)
        yield frames()
        home = app.root.get_screen("home")
        seen["runtime"] = app.runtime is not None
        seen["problem_shown"] = home.ids.locker_problem.text
        seen["problem_height"] = home.ids.locker_problem.height
        seen["notice"] = home.ids.availability.text
        seen["pickup_disabled"] = home.ids.pickup.disabled
        seen["statuses"] = statuses()
        seen["db_created"] = cfg.db_path.exists()
        if shots_dir:
            screenshot(app, shots_dir, "home_locker_refused")
        tap(home.ids.guides)
        yield showing(app, "guides")
        guides = app.root.get_screen("guides")
        yield lambda: len(guides.ids.results.children) > 0
        seen["guides"] = len(guides.ids.results.children)
        seen["done"] = True

    run_steps(app, scenario(), seen, timeout_s=40)
    app.run()
    print(json.dumps(seen, ensure_ascii=False, default=str))
    return 0 if seen.get("done") else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
