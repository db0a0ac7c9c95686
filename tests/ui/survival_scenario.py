"""Drive the real terminal into the edges where an exception used to end it.

1. Self-declaration: 20 pages captured by touch; the capture button is then off with the
   reason shown, and a capture that still comes back is refused without an exception.
2. An exception in a button handler (its message carries a fake ID number) and one in a
   worker's result handed back through Clock.schedule_once: the app keeps running, apologises
   over Home, the declaration's personal data is gone, the traceback is in the log, redacted.
   The idle check (a clock interval) raises once: recovered, and the idle reset still runs.
   A thread other than the UI's dies: logged with its traceback, redacted.
3. An exception storm (a window callback raising every frame): the out-of-service screen,
   no more WATCHDOG=1 on the sd_notify socket bound here, logged and audited once.
Run in its own process by test_survival_ui.py; prints one JSON object with what it saw:
`python tests/ui/survival_scenario.py DATA_DIR [SHOT_DIR | --wipe-fails]`; with --wipe-fails
a screen's wipe raises while recovering: out of service at once, the other screens wiped.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402
from tests.ui.notify_inbox import NotifyInbox  # noqa: E402


def main(data_dir: str, shots: str | None = None) -> int:
    mode, shots = (shots, None) if shots == "--wipe-fails" else (None, shots)
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1920x1080"\n'
                        'idle_s = 600\n[bus]\nbaud = 115200\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    log_file = Path(data_dir) / "logs" / "terminal.log"
    from terminal.log_setup import install_file

    install_file(log_file, cfg.log, cfg.terminal.id)
    notify = NotifyInbox("survival")
    os.environ["WATCHDOG_USEC"] = "200000"  # a ping every 0.1 s

    from kivy.clock import Clock
    from kivy.core.window import Window

    from hardware.drivers.id_reader_sim import fake_card
    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from terminal.declaration_flow import MAX_PAGES
    from terminal.devices import open_devices
    from tests.ui.scenario_kit import Step, frames, run_steps, screenshot, showing, tap

    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {}
    card = fake_card(5)
    inbox, received = notify.messages, notify.received

    def shot(name: str) -> None:
        if shots:
            screenshot(app, shots, name)

    def after(seconds: float) -> Step:
        until = time.monotonic() + seconds
        return lambda: time.monotonic() >= until

    def log_entries() -> list[dict]:
        return [json.loads(line) for line in log_file.read_text("utf-8").splitlines()]

    def declaration_with_card() -> Iterator[Step]:
        home, guides = app.root.get_screen("home"), app.root.get_screen("guides")
        tap(home.ids.declare)
        yield showing(app, "guides")
        yield lambda: len(guides.ids.results.children) > 0
        tap(next(reversed(guides.ids.results.children)))
        yield showing(app, "declare_form")
        yield frames()
        form = app.root.get_screen("declare_form")
        tap(form.ids.read_card)
        yield lambda: form.reading
        app.devices.id_reader_sim.present(card)
        yield lambda: not form.reading and form.flow.card_used

    def no_apology() -> Iterator[Step]:
        overlay = app._apology
        app._drop_apology()
        yield lambda: overlay is None or overlay.parent is None

    def scenario() -> Iterator[Step]:
        yield lambda: app.devices is not None and app.platform is not None and app.locker_up
        yield frames()
        # 1. the page limit, by touch
        yield from declaration_with_card()
        form = app.root.get_screen("declare_form")
        for n in range(1, MAX_PAGES + 1):
            tap(form.ids.capture)
            yield lambda n=n: form.pages == n and not form.capturing
        yield frames()
        seen["capture_disabled"] = form.ids.capture.disabled
        seen["limit_status"] = form.ids.status.text
        tap(form.ids.capture)  # a disabled button: nothing
        form.capture()  # and the screen refuses by itself
        yield frames(3)
        form._captured(b"late page", None)  # a capture that was under way at the limit
        seen["pages_after"] = [form.pages, len(form.flow.pages), form.capturing]
        seen["exceptions_at_limit"] = app.crash_guard.total
        seen["screen_at_limit"] = app.root.current
        shot("declare_pages_full")

        # 2a. a button handler raises (its message carries an ID number): apology, Home, wiped
        flow = form.flow
        form.next = lambda: int(f"not a number {card.id_number}")  # type: ignore[method-assign]
        Clock.schedule_once(lambda _dt: tap(form.ids.next))  # from the main loop, not this step
        yield lambda: app.root.current == "home" and app._apology is not None
        yield frames(3)
        seen["after_button"] = [app.root.current, app.crash_guard.total]
        seen["apology"] = app._apology.text
        seen["form_flow"] = form.flow is not None
        seen["flow_values_left"] = [v for v in flow.values.values() if v]
        seen["flow_pages_left"] = len(flow.pages)
        shot("apology")
        entries = log_entries()
        crash = [e for e in entries if e["msg"].startswith("uncaught exception")]
        seen["logged"] = [e["level"] for e in crash]
        seen["traceback"] = crash[0].get("exc", "") if crash else ""
        seen["raw_id_in_log"] = card.id_number in log_file.read_text("utf-8")
        overlay = app._apology
        tap(overlay.ids.ok)
        yield lambda: app._apology is None and overlay.parent is None
        # still serving: the guides open
        tap(app.root.get_screen("home").ids.guides)
        yield showing(app, "guides")
        seen["guides_after"] = True
        app.go_home()
        yield frames()

        # 2b. a worker's result handler raises on the UI thread (through Clock.schedule_once)
        def bad_result(_result, _error):
            raise RuntimeError("a result handler failed")
        app.background.submit(lambda: 42, bad_result)
        yield lambda: app.crash_guard.total == 2 and app._apology is not None
        seen["after_worker"] = app.root.current

        # 2c. the idle check raised (a clock interval): recovered, and the idle reset goes on
        def broken_state():
            del app.idle.state  # once: the class's own again
            raise RuntimeError("the idle watch failed")
        yield from no_apology()
        tap(app.root.get_screen("home").ids.guides)
        yield showing(app, "guides")
        app.idle.state = broken_state
        yield lambda: app.crash_guard.total == 3 and app.root.current == "home"
        yield from no_apology()
        tap(app.root.get_screen("home").ids.guides)
        yield showing(app, "guides")
        app.idle.idle_s, app.idle.warn_s = 0.5, 60  # a slow frame must not skip the countdown
        yield lambda: app._overlay is not None  # the countdown: the idle check still runs
        app.idle.warn_s = 0.1
        yield showing(app, "home")
        seen["idle_after_error"] = app.crash_guard.total
        app.idle.idle_s, app.idle.warn_s = 600, 10

        # 2d. a thread other than the UI's dies: its traceback in the log (redacted), no more
        def thread_body():
            raise LookupError(f"no such card {card.id_number}")
        thread = threading.Thread(target=thread_body, name="survival-test-thread")
        thread.start()
        yield lambda: not thread.is_alive()
        died = [e for e in log_entries() if "survival-test-thread" in e["msg"]]
        seen["thread_died"] = [(e["level"], e["msg"], "LookupError" in e.get("exc", ""),
                                "[id-number-redacted]" in e.get("exc", "")) for e in died]
        seen["thread_counted"] = app.crash_guard.total

        # 3. a storm: every frame raises; out of service, and the pings stop
        received()
        before = len(inbox)
        yield lambda: received() is not None and "WATCHDOG=1" in inbox[before:]
        ticking = Clock.schedule_interval(lambda _dt: 1 / 0, 0)
        yield lambda: app.crash_guard.total > 3
        yield frames(5)
        seen["interval_after_raising"] = [app.crash_guard.total, ticking.is_triggered]

        def storm(*_args):  # every frame, for as long as it is bound
            raise ZeroDivisionError("every frame")
        Window.bind(on_flip=storm)
        yield showing(app, "out_of_service")
        yield frames(5)
        received()
        seen["storm_status"] = [m for m in inbox if m.startswith("STATUS=restart wanted")]
        quiet_from = len(inbox)
        yield after(0.8)  # four ping intervals: none may come
        received()
        seen["pings_out_of_service"] = inbox[quiet_from:].count("WATCHDOG=1")
        seen["out_of_service_text"] = app.root.current_screen.text
        seen["storm_exceptions"] = app.crash_guard.total
        app.go("home")  # nothing takes the terminal out of it but the restart
        yield frames(3)
        seen["screen_after_go"] = app.root.current
        shot("out_of_service")
        Window.unbind(on_flip=storm)
        entries = log_entries()
        seen["storm_logged"] = sum(e["msg"].startswith("uncaught exception") for e in entries)
        seen["withheld_logged"] = sum(e["msg"].startswith("watchdog pings withheld")
                                      for e in entries)
        seen["done"] = True

    def wipe_fails() -> Iterator[Step]:
        """The recovery itself raises (a screen's wipe): out of service at once, still wiped."""
        yield lambda: app.devices is not None and app.platform is not None and app.locker_up
        yield frames()
        yield from declaration_with_card()
        form = app.root.get_screen("declare_form")
        guides = app.root.get_screen("guides")  # built before the form: wiped before it

        def wipe_raises():
            raise RuntimeError("a wipe failed")
        guides.wipe = wipe_raises
        received()
        Clock.schedule_once(lambda _dt: 1 / 0)
        yield showing(app, "out_of_service")
        yield frames(3)
        seen["wipe_fails"] = [app.crash_guard.total, form.flow is not None]
        yield after(0.6)
        received()
        seen["wipe_fails_pings"] = [m for m in inbox if m == "WATCHDOG=1" or
                                    m.startswith("STATUS=restart")][-2:]
        seen["wipe_fails_logged"] = [e["msg"] for e in log_entries() if e["level"] != "INFO"
                                     and e["logger"].startswith("terminal")]
        seen["done"] = True

    Clock.schedule_interval(lambda _dt: received(), 0.05)
    run_steps(app, wipe_fails() if mode == "--wipe-fails" else scenario(), seen, timeout_s=30)
    app.run()
    notify.close()
    from locker.store import Store

    store = Store.open(cfg.db_path)
    try:
        with store.read() as conn:
            seen["audit"] = [tuple(r) for r in conn.execute(
                "SELECT actor, action FROM audit WHERE action LIKE 'terminal.%'")]
    finally:
        store.close()
    print(json.dumps(seen, ensure_ascii=False, default=str))
    return 0 if seen.get("done") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
