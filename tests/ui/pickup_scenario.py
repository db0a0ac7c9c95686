"""Drive the real terminal app with simulated touches: a whole verified pickup, then idle.

A result is deposited; the receipt QR is presented through the scanner simulator, a wrong ID
card and then the right one through the card-reader simulator; the door is closed through the
board simulator's control interface; the evaluation is tapped; the countdown's "more time" is
used once and then the idle reset goes home and leaves no personal data in any widget.
Run in its own process by test_terminal_ui.py; prints one JSON object with what it saw.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

CASE = "SJ20261120000005"  # a completed demo case of assets/catalogue/cases.json (黄俊杰)
APPLICANT_ID = "000000198805090776"


def widget_texts(root) -> list[str]:
    """Every text shown by any widget under `root` (labels, buttons, inputs)."""
    return [str(w.text) for w in root.walk(restrict=True) if isinstance(getattr(w, "text", None),
                                                                       str)]


def main(data_dir: str, shots: str | None = None) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1280x800"\n'
                        'idle_s = 2\nidle_warn_s = 2\n'
                        '[bus]\nbaud = 115200\n[locker]\ndoor_open_confirm_s = 1.0\n'
                        '[devices]\ncard_timeout_s = 20\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)

    from hardware.drivers.id_reader_sim import fake_card
    from hardware.drivers.sim_control import ControlHandler, ControlServer, SimControl
    from locker.receipt_token import ReceiptKind
    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from terminal.devices import open_devices
    from terminal.identity_setup import local_issuer
    from tests.ui.scenario_kit import (
        Step,
        find_button,
        frames,
        run_steps,
        screenshot,
        showing,
        stored_result,
        tap,
        variants,
    )

    issuer = local_issuer(cfg)  # the platform stand-in: its key is trusted when the locker opens
    token = issuer.issue(CASE, ReceiptKind.ACCEPTANCE_NOTICE)
    applicant = fake_card(1, name="黄俊杰", id_number=APPLICANT_ID)
    stranger = fake_card(2)
    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {}

    def keypad(label: str):
        return find_button(app.root.get_screen("pickup_code"), label)

    def on(name: str) -> Step:
        return showing(app, name)

    def snap(name: str) -> None:
        screenshot(app, shots, name)

    def shot(name: str) -> Iterator[Step]:
        return variants(app, shots, name)

    def scenario() -> Iterator[Step]:
        yield lambda: app.runtime is not None and app.devices is not None and app.locker_up
        rt, dev = app.runtime, app.devices
        server = ControlServer(ControlHandler(rt.sim))
        control = SimControl(server.start())
        stored: dict = {}
        yield from stored_result(app, control, CASE, applicant, stored)
        dep, spec = stored["deposit"], stored["spec"]
        seen["compartment"] = dep.compartment_id

        # English at any time, and back
        home = app.root.get_screen("home")
        yield frames()
        tap(home.ids.language)
        yield frames()
        seen["english_title"] = home.ids.pickup.text
        tap(home.ids.language)
        yield frames()

        # a receipt and the wrong person's card: refused, nothing opens
        tap(home.ids.pickup)
        yield on("pickup_start")
        yield frames()
        yield from shot("pickup_start")
        dev.scanner_sim.present(token)
        scanned_at = time.monotonic()
        yield on("pickup_card")
        yield frames()
        yield from shot("pickup_card")
        dev.id_reader_sim.present(stranger)
        msg = app.root.get_screen("message")
        yield on("message")
        seen["wrong_card_good"] = msg.good
        seen["wrong_card_text"] = msg.text
        yield frames()
        yield from shot("pickup_refused")
        seen["door_after_wrong_card"] = control.channel(spec.unit, spec.channel)["door_open"]
        dev.id_reader_sim.remove()
        tap(msg.ids.done)
        yield on("home")
        yield frames()

        # the receipt again, and the applicant's card: the door opens
        # the scanner passes the same code again only after its debounce window (1.5 s)
        yield lambda: time.monotonic() - scanned_at > 1.6
        tap(home.ids.pickup)
        yield on("pickup_start")
        yield frames()
        dev.scanner_sim.present(token)
        yield on("pickup_card")
        dev.id_reader_sim.present(applicant)
        yield on("door_open")
        yield frames()
        door = app.root.get_screen("door_open")
        seen["door_text"] = door.ids.instruction.text
        seen["holder_shown"] = door.holder
        seen["map_marked"] = [t for t in door.ids.map.cell_texts() if "▶" in t]
        seen["door_open"] = control.channel(spec.unit, spec.channel)["door_open"]
        yield from shot("door_open")
        control.take(spec.unit, spec.channel)
        control.close(spec.unit, spec.channel)
        yield on("evaluation")
        yield frames()
        yield from shot("evaluation")
        evaluation = app.root.get_screen("evaluation")
        satisfied = next(w for w in evaluation.ids.levels.children if "满意" in w.text
                         and "★★★★☆" in w.text)
        tap(satisfied)
        yield on("message")
        seen["thanks"] = msg.text
        seen["thanks_good"] = msg.good
        yield lambda: next(c for c in rt.controller.status().compartments
                           if c.id == dep.compartment_id).item_state is None
        seen["compartment_after"] = next(c for c in rt.controller.status().compartments
                                         if c.id == dep.compartment_id).state.value
        seen["evaluations"] = _count(rt.store, "SELECT count(*) FROM outbox "
                                     "WHERE kind = 'evaluation'")
        receipt = rt.controller.delivery_receipt(CASE)
        seen["delivery_receipt"] = receipt.as_body() if receipt else None
        # the platform (the local adapter) hears deposit, pickup and evaluation, once each
        yield lambda: _count(rt.store, "SELECT count(*) FROM outbox WHERE state != "
                                       "'delivered'") == 0
        progress = app.platform.case_progress(CASE, id_number=APPLICANT_ID)
        seen["platform_state"] = progress.state.value
        seen["platform_receipt"] = app.platform.delivery_receipt(CASE) is not None
        seen["platform_evaluations"] = app.platform.evaluation_levels(CASE)

        # idle: the countdown offers more time once; then home, and nothing personal is left
        tap(msg.ids.done)
        yield on("home")
        yield frames()
        tap(home.ids.pickup)
        yield on("pickup_start")
        yield frames()
        tap(app.root.get_screen("pickup_start").ids.use_code)
        yield on("pickup_code")
        yield frames()
        for digit in "1234":
            tap(keypad(digit))
        yield lambda: app._overlay is not None
        yield frames()
        seen["countdown_text"] = app._overlay.ids.countdown.text
        if shots:  # one picture only: switching modes would restart the countdown
            snap("idle_countdown")
        tap(app._overlay.ids.more_time)
        yield lambda: app._overlay is None
        seen["code_kept_after_more_time"] = app.root.get_screen("pickup_code").code
        started = time.monotonic()
        yield on("home")
        seen["idle_reset_s"] = round(time.monotonic() - started, 1)
        texts = "\n".join(t for s in app.root.screens for t in widget_texts(s))
        seen["leftovers"] = [v for v in ("1234", CASE, "黄*杰",
                                         dep.compartment_id) if v in texts]
        seen["pickup_flow_after_idle"] = app.pickup_flow is not None
        control.disconnect()
        server.stop()
        seen["rss_mb"] = psutil.Process().memory_info().rss / 2**20  # for bench/terminal.py
        if os.environ.get("KIOSK_MAPS"):
            maps = {}
            for m in psutil.Process().memory_maps():
                maps[m.path or "[anon]"] = maps.get(m.path or "[anon]", 0) + m.rss
            import gc

            seen["py_objects"] = len(gc.get_objects())
            seen["pypinyin_loaded"] = "pypinyin" in sys.modules
            seen["maps"] = sorted(((round(v / 2**20, 1), k) for k, v in maps.items()),
                                  reverse=True)[:8]
        seen["done"] = True

    run_steps(app, scenario(), seen, timeout_s=30)
    app.run()
    print(json.dumps(seen, ensure_ascii=False))
    return 0 if seen.get("done") else 1


def _count(store, sql: str) -> int | None:
    """A count from the locker's store; None where the table does not exist (yet)."""
    import sqlite3

    with store.read() as conn:
        try:
            return conn.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:
            return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
