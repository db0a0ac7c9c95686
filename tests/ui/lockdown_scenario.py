"""Drive the real terminal: no way out but maintenance, and the technicians' hidden entry.

Escape and window close requests (Alt+F4, the close button) are refused on Home and in
maintenance. Four taps on the invisible top-left corner of Home do nothing; five within 3 s
open the technician sign-in: a courier is refused (not a technician), a wrong PIN stays there,
the technician goes straight to maintenance. Left alone, maintenance idles back to Home and
signs the technician out (audited). Back in, "exit the app" tapped twice closes the app with
the status that keeps the systemd unit down (audited). The app talks sd_notify to an abstract
socket bound here: READY=1, then WATCHDOG=1 from the main loop, none while the loop is frozen.
Enrolment as in staff_scenario.py.
Run in its own process by test_kiosk_lockdown_ui.py; prints one JSON object with what it saw:
`python tests/ui/lockdown_scenario.py DATA_DIR [SHOT_DIR]`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402
from tests.ui.notify_inbox import NotifyInbox  # noqa: E402

TECH = ("T001", "测试技术员", "technician", "77001234", "482915")
COURIER = ("C001", "测试流转员", "courier", "66005678", "539271")


def enrol(cfg, *people: tuple[str, str, str, str, str]) -> None:
    """Enrol staff straight into the store (what `kiosk staff enrol` does)."""
    from datetime import UTC, datetime

    from locker.audit import AuditLog, head_key
    from locker.identity_hash import IdentityHasher
    from locker.staff_auth import StaffAuth
    from locker.store import Store
    from terminal.identity_setup import staff_settings

    key = cfg.hash_key()
    store = Store.open(cfg.db_path)
    try:
        auth = StaffAuth(store, IdentityHasher(key), AuditLog(head_key(key)),
                         lambda: datetime.now(UTC), staff_settings(cfg))
        for staff_id, name, role, badge, pin in people:
            auth.enrol(staff_id, name, role, badge, pin)
    finally:
        store.close()


def audit_actions(cfg, actor: str) -> list[str]:
    """The audit actions of one actor, oldest first (read after the app closed its store)."""
    from locker.store import Store

    store = Store.open(cfg.db_path)
    try:
        with store.read() as conn:
            return [r[0] for r in conn.execute(
                "SELECT action FROM audit WHERE actor = ? ORDER BY seq", (actor,))]
    finally:
        store.close()


def main(data_dir: str, shots_dir: str | None = None) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1920x1080"\n'
                        'idle_s = 600\nidle_warn_s = 10\n'
                        '[bus]\nbaud = 115200\npoll_interval_s = 0.05\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    enrol(cfg, TECH, COURIER)
    notify = NotifyInbox("lockdown")
    os.environ["WATCHDOG_USEC"] = "200000"  # a ping every 0.1 s
    from kivy.clock import Clock
    from kivy.core.window import Window

    from terminal.app import KioskApp
    from terminal.app_lockdown import STAY_DOWN_MARKER
    from terminal.composition import open_locker
    from terminal.devices import open_devices
    from terminal.screens.keyboard import KeyboardKey
    from tests.ui.scenario_kit import Step, frames, run_steps, showing, tap

    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {"shots": []}
    out = Path(shots_dir) if shots_dir else None

    def shot(name: str) -> None:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            app.root.export_to_png(str(out / f"{name}.png"))
            seen["shots"].append(f"{name}.png")

    def type_digits(keypad, digits: str) -> None:
        for d in digits:
            tap(next(w for w in keypad.walk(restrict=True)
                     if isinstance(w, KeyboardKey) and w.token == d))

    def after(seconds: float) -> Step:
        """Wait for real time to pass (the 3-second tap window must lapse)."""
        until = time.monotonic() + seconds
        return lambda: time.monotonic() >= until

    def try_to_leave(where: str) -> Iterator[Step]:
        """Escape, then a close request from the keyboard and from the window manager."""
        Window.dispatch("on_key_down", 27, 41, None, [])
        Window.dispatch("on_keyboard", 27, 41, None, [])
        seen[f"{where}_close_kept"] = [Window.dispatch("on_request_close", source="keyboard"),
                                       bool(Window.dispatch("on_request_close"))]
        yield frames(10)
        seen[f"{where}_after_close"] = app.root.current

    inbox, received = notify.messages, notify.received

    def frozen_loop_stops_pings() -> Iterator[Step]:
        """READY=1 came; pings come from the main loop: none while it is stuck for 1 s."""
        received()
        seen["ready"] = any(m.startswith("READY=1") for m in inbox)
        seen["pings_before"] = inbox.count("WATCHDOG=1")
        stuck_until = time.monotonic() + 1.0
        while time.monotonic() < stuck_until:  # the frozen main loop under test, not a wait
            pass
        seen["pings_while_frozen"] = received().count("WATCHDOG=1")
        before = inbox.count("WATCHDOG=1")
        yield lambda: not received() and inbox.count("WATCHDOG=1") > before
        seen["pings_resumed"] = True

    def hidden_entry(home, taps: int) -> None:
        for _ in range(taps):
            tap(home.ids.corner)

    def sign_in(signin, badge: str, pin: str) -> Iterator[Step]:
        app.devices.scanner_sim.present(badge)
        yield lambda: signin.badge == badge and signin.field == "pin"
        type_digits(signin.ids.keypad, pin)
        tap(signin.ids.sign_in)

    def scenario() -> Iterator[Step]:
        yield lambda: app.runtime is not None and app.devices is not None and app.locker_up
        home = app.root.get_screen("home")
        yield frames(5)
        seen["corner_size"] = list(home.ids.corner.size)
        from kivy.config import Config as KivyConfig

        seen["exit_on_escape"] = KivyConfig.getint("kivy", "exit_on_escape")
        yield from try_to_leave("home")
        yield from frozen_loop_stops_pings()

        # four taps: nothing; five within 3 s: the technician sign-in
        hidden_entry(home, 4)
        yield frames(10)
        seen["after_4_taps"] = app.root.current
        yield after(3.3)
        hidden_entry(home, 5)
        yield showing(app, "staff_signin")
        signin = app.root.get_screen("staff_signin")
        yield frames(4)
        seen["signin_title"] = signin.ids.title.text
        shot("staff_signin_technician")

        # a courier is not let in; a wrong PIN stays here; the technician goes to maintenance
        yield from sign_in(signin, COURIER[3], COURIER[4])
        yield lambda: signin.error[0] != ""
        seen["courier"] = [app.root.current, signin.error_text,
                           app.staff_flow.session is not None]
        yield from sign_in(signin, TECH[3], "135790")
        yield lambda: signin.error[0] != "" and not signin.busy
        seen["wrong_pin"] = [app.root.current, signin.error_text]
        seen["trail_before_tech"] = list(seen["trail"])
        type_digits(signin.ids.keypad, TECH[4])  # the badge stays; the PIN again
        tap(signin.ids.sign_in)
        yield showing(app, "maintenance")
        mnt = app.root.get_screen("maintenance")
        yield lambda: mnt.snapshot is not None
        yield frames(4)
        seen["maintenance_session"] = app.staff_flow.session.staff_id
        seen["trail_to_maintenance"] = seen["trail"][len(seen["trail_before_tech"]) - 1:]
        yield from try_to_leave("maintenance")

        # left alone: the countdown, then Home, signed out
        app.idle.idle_s, app.idle.warn_s = 1.5, 1.5
        started = time.monotonic()
        yield lambda: app._overlay is not None
        seen["countdown_in_maintenance"] = True
        yield showing(app, "home")
        seen["idle_home_s"] = round(time.monotonic() - started, 1)
        yield frames(10)
        seen["session_after_idle"] = app.staff_flow.session is not None
        seen["signin_purpose_after_idle"] = signin.purpose
        app.idle.idle_s, app.idle.warn_s = 600, 10

        # back in: "exit the app" arms on the first tap and closes on the second
        hidden_entry(home, 5)
        yield showing(app, "staff_signin")
        yield from sign_in(signin, TECH[3], TECH[4])
        yield showing(app, "maintenance")
        yield lambda: mnt.snapshot is not None
        yield frames(4)
        tap(mnt.ids.quit_app)
        yield frames(4)
        seen["quit_armed_text"] = mnt.ids.quit_app.text
        seen["still_running_after_one_tap"] = app.root.current
        shot("maintenance_exit_armed")
        seen["done"] = True
        tap(mnt.ids.quit_app)
        yield lambda: False  # the app stops here; a timeout would mean it did not

    Clock.schedule_interval(lambda _dt: received(), 0.05)  # as systemd reads: all the time
    run_steps(app, scenario(), seen, timeout_s=30)
    app.run()
    seen["exit_status"] = app.exit_status
    seen["stay_down_marker"] = (cfg.data_dir / STAY_DOWN_MARKER).is_file()
    received()
    seen["stopping"] = any(m.startswith("STOPPING=1") for m in inbox)
    notify.close()
    seen["tech_audit"] = audit_actions(cfg, f"staff:{TECH[0]}")
    seen["courier_audit"] = audit_actions(cfg, f"staff:{COURIER[0]}")
    print(json.dumps(seen, ensure_ascii=False))
    return 0 if seen.get("done") and "timed_out_at" not in seen else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
