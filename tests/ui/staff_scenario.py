"""Drive the real terminal app through the staff screens with simulated touches.

A staff member (admin: deposit and maintenance) is enrolled through the locker's StaffAuth
before the app starts, as `kiosk staff enrol` does. Through the screens: a wrong PIN is
refused; the right one signs in; two results are deposited (one label scanned with the
compartment chosen by size, one case number typed with the compartment tapped by hand), each
door closed through the board simulator's control interface, "next item" offered; the items
expire and one is retrieved; maintenance shows every compartment in words, disables one,
runs the door test and shows bus statistics; sign-out goes home and ends the session.
The two results belong to demo cases of assets/catalogue/cases.json: the app's own `local`
platform says who may collect them (fictional applicants, ID numbers from the asset file).
Screenshots of every staff screen (normal and elderly) go to the folder given as the second
argument, if any (scripts/screenshots.py passes docs/screenshots/); a test run writes none.
Run in its own process by test_staff_ui.py; prints one JSON object with what it saw:
`python tests/ui/staff_scenario.py DATA_DIR [SHOT_DIR]`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from remote.local_catalogue import mask_name  # noqa: E402
from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

BADGE = "88001234"  # digits, so it can be typed on the keypad as well as scanned
PIN = "482915"
SCANNED = "SJ20261109000061"  # completed, 居民身份证换领: a small result (size hint S)
TYPED = "20261121000017"  # completed, digits only (typed on the keypad), with a named proxy
DEMO = {c["case_no"]: c for c in json.loads(
    (ROOT / "assets" / "catalogue" / "cases.json").read_text(encoding="utf-8"))}


def widget_texts(root) -> list[str]:
    """Every text shown by any widget under `root`."""
    return [str(w.text) for w in root.walk(restrict=True)
            if isinstance(getattr(w, "text", None), str)]


def enrol_staff(cfg) -> None:
    """Enrol the test admin straight into the store (what `kiosk staff enrol` does)."""
    from datetime import UTC, datetime

    from locker.audit import AuditLog, head_key
    from locker.identity_hash import IdentityHasher
    from locker.staff_auth import StaffAuth
    from locker.store import Store
    from terminal.identity_setup import staff_settings

    key = cfg.hash_key()
    store = Store.open(cfg.db_path)
    try:
        StaffAuth(store, IdentityHasher(key), AuditLog(head_key(key)),
                  lambda: datetime.now(UTC), staff_settings(cfg)).enrol(
            "A001", "测试管理员", "admin", BADGE, PIN)
    finally:
        store.close()


def id_numbers(case_no: str) -> list[str]:
    """The ID numbers of a demo case's applicant and proxy, as the asset file has them."""
    case = DEMO[case_no]
    return [p["id_number"] for p in (case["applicant"], case.get("proxy")) if p]


def main(data_dir: str, shots_dir: str | None = None) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1920x1080"\n'
                        'idle_s = 600\nidle_warn_s = 10\n'
                        '[bus]\nbaud = 115200\npoll_interval_s = 0.05\n'
                        '[locker]\ndoor_open_confirm_s = 1.0\n'
                        '[devices]\ndoor_close_timeout_s = 20\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    enrol_staff(cfg)
    from datetime import UTC, datetime, timedelta

    from hardware.drivers.sim_control import ControlHandler, ControlServer, SimControl
    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from terminal.devices import open_devices
    from terminal.screens.compartment_grid import GridCell
    from terminal.screens.keyboard import KeyboardKey
    from tests.ui.scenario_kit import Step, patient, run_steps, showing, tap
    from tests.ui.scenario_kit import frames as kit_frames

    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {"shots": [], "views": []}
    out = Path(shots_dir) if shots_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def type_digits(keypad, digits: str) -> None:
        for d in digits:
            tap(next(w for w in keypad.walk(restrict=True)
                     if isinstance(w, KeyboardKey) and w.token == d))

    def cell(grid, compartment_id: str):
        return next(w for w in grid.walk(restrict=True)
                    if isinstance(w, GridCell) and w.compartment == compartment_id)

    def frames(n: int = 4) -> Step:
        return kit_frames(n)

    def on(name: str) -> Step:
        return showing(app, name)

    def shot(name: str) -> None:
        seen["views"].append(name)
        if out is not None:
            path = out / f"{name}.png"
            app.root.export_to_png(str(path))
            seen["shots"].append(path.name)

    def shots(name: str) -> Iterator[Step]:
        """The screen as it is, then in elderly mode, then back."""
        yield frames()
        shot(name)
        app.set_elderly(True)
        yield frames(6)
        shot(f"{name}_elderly")
        app.set_elderly(False)
        yield frames()

    def comp(rt, cid: str):
        return next(c for c in rt.controller.status().compartments if c.id == cid)

    def scenario() -> Iterator[Step]:
        yield lambda: app.runtime is not None and app.devices is not None and app.locker_up
        rt, dev = app.runtime, app.devices
        seen["platform"] = type(rt.platform).__name__  # the app's own adapter, not a stand-in
        server = ControlServer(ControlHandler(rt.sim))
        control = SimControl(server.start())
        home = app.root.get_screen("home")
        yield frames()

        # sign-in: the badge scanned, a wrong PIN refused, then the right PIN
        tap(home.ids.staff)
        yield on("staff_signin")
        signin = app.root.get_screen("staff_signin")
        yield from shots("staff_signin")
        dev.scanner_sim.present(BADGE)
        yield lambda: signin.badge == BADGE and signin.field == "pin"
        seen["badge_shown"] = signin.ids.badge.text
        type_digits(signin.ids.keypad, "135790")
        seen["pin_shown"] = signin.ids.pin.text
        tap(signin.ids.sign_in)
        yield lambda: signin.error[0] != ""
        yield frames()
        seen["wrong_pin_text"] = signin.error_text
        seen["wrong_pin_screen"] = app.root.current
        shot("staff_signin_refused")
        type_digits(signin.ids.keypad, PIN)
        tap(signin.ids.sign_in)
        yield on("staff_menu")
        menu = app.root.get_screen("staff_menu")
        yield frames()
        seen["greeting"] = menu.ids.greeting.text
        yield from shots("staff_menu")

        # deposit 1: the label scanned, the compartment chosen by size
        tap(menu.ids.deposit)
        yield on("staff_deposit")
        dep = app.root.get_screen("staff_deposit")
        yield lambda: len(dep.cells) > 0
        yield from shots("staff_deposit_scan")
        dev.scanner_sim.present(f"case:{SCANNED}")
        yield lambda: dep.step == "ready"
        yield frames()
        seen["case_info_1"] = dep.ids.case_info.text
        yield from shots("staff_deposit")
        tap(dep.ids.open_door)
        yield lambda: dep.step == "open"
        first = dep.marked
        spec = comp(rt, first)
        seen["first"] = {"id": first, "size": spec.size.value,
                         "door_open": control.channel(spec.unit, spec.channel)["door_open"]}
        seen["map_marked_1"] = [t for t in dep.ids.grid.cell_texts() if "▶" in t]
        yield from shots("staff_deposit_open")
        control.put(spec.unit, spec.channel)
        control.close(spec.unit, spec.channel)
        yield lambda: dep.step == "closed"
        yield frames()
        seen["note_1"] = dep.ids.note.text
        seen["next_item_shown"] = dep.ids.next_item.opacity == 1
        shot("staff_deposit_closed")
        tap(dep.ids.next_item)
        yield lambda: dep.step == "scan"

        # deposit 2: the case number typed, a compartment tapped by hand
        type_digits(dep.ids.keypad, TYPED)
        tap(dep.ids.keypad.ids.ok)
        yield lambda: dep.step == "ready"
        yield frames()
        seen["case_info_2"] = dep.ids.case_info.text
        target = next(c.id for c in rt.controller.status().compartments
                      if c.state.value == "empty" and c.size.value == "L" and c.enabled)
        tap(cell(dep.ids.grid, target))
        yield lambda: dep.chosen == target
        yield frames()
        seen["chosen_text"] = dep.ids.chosen.text
        tap(dep.ids.open_door)
        yield lambda: dep.step == "open"
        seen["second"] = {"wanted": target, "opened": dep.marked}
        spec2 = comp(rt, dep.marked)
        control.put(spec2.unit, spec2.channel)
        control.close(spec2.unit, spec2.channel)
        yield lambda: dep.step == "closed"
        yield frames()
        seen["batch_text"] = dep.ids.batch.text
        seen["batch"] = [(e.compartment_id, e.case_no, e.outcome) for e in dep._flow.batch]
        seen["stored"] = {c.id: (c.case_no, c.item_state.value if c.item_state else None)
                          for c in rt.controller.status().compartments if c.case_no}
        texts = "\n".join(widget_texts(dep))
        seen["id_numbers_shown"] = [n for c in (SCANNED, TYPED) for n in id_numbers(c)
                                    if n in texts]
        tap(dep.ids.menu)
        yield on("staff_menu")
        yield frames()

        # both expire: retrieve one of them
        done: dict = {}
        app.background.submit(lambda: rt.controller.expire_due(
            datetime.now(UTC) + timedelta(days=30)), lambda r, e: done.update(r=r, e=e))
        yield lambda: "r" in done
        tap(menu.ids.retrieve)
        yield on("staff_retrieve")
        ret = app.root.get_screen("staff_retrieve")
        yield lambda: len(ret.items) == 2 and len(ret.ids.rows.children) == 2
        yield frames()
        seen["retrieve_rows"] = sorted(w.text for w in ret.ids.rows.children)
        yield from shots("staff_retrieve")
        tap(ret.ids.rows.children[-1])  # the first row
        yield lambda: ret.step == "open"
        spec3 = comp(rt, ret.marked)
        seen["retrieved"] = ret.marked
        control.take(spec3.unit, spec3.channel)
        control.close(spec3.unit, spec3.channel)
        yield lambda: ret.step == "list" and ret.note[0] != ""
        yield lambda: len(ret.items) == 1
        yield frames()
        seen["retrieve_note"] = ret.ids.note.text
        seen["retrieved_state"] = comp(rt, seen["retrieved"]).state.value
        tap(ret.ids.menu)
        yield on("staff_menu")
        yield frames()

        # maintenance: every compartment in words, disable one, the door test, bus statistics
        tap(menu.ids.maintenance)
        yield on("maintenance")
        mnt = app.root.get_screen("maintenance")
        yield lambda: mnt.snapshot is not None and len(mnt.ids.grid.cell_texts()) > 0
        yield frames()
        cells = mnt.ids.grid.cell_texts()
        seen["grid_cells"] = len(cells)
        seen["compartments"] = len(rt.controller.status().compartments)
        seen["grid_sample"] = cells[:2]
        yield from shots("maintenance")
        victim = next(c.id for c in rt.controller.status().compartments
                      if c.state.value == "empty" and c.enabled)
        tap(cell(mnt.ids.grid, victim))
        yield lambda: mnt.selected == victim
        tap(mnt.ids.disable)
        yield lambda: not mnt.busy and mnt.note[0] != ""
        seen["disable_note"] = mnt.ids.note.text
        seen["disabled_status"] = {"enabled": comp(rt, victim).enabled,
                                   "state": comp(rt, victim).state.value}
        yield lambda: any(victim in t and "停用" in t for t in mnt.ids.grid.cell_texts())
        seen["disabled_cell"] = next(t for t in mnt.ids.grid.cell_texts() if victim in t)
        control.auto_close(200)  # the doors of the sweep close by themselves
        tap(mnt.ids.door_test)
        yield lambda: mnt.testing
        seen["testing_text"] = mnt.ids.door_test.text
        yield patient(lambda: not mnt.testing, 150)
        yield lambda: not any("门开" in t for t in mnt.ids.grid.cell_texts())
        mnt.refresh()
        yield frames(30)
        seen["door_test_note"] = mnt.ids.note.text
        seen["panel"] = mnt.ids.panel.text
        seen["bus_transactions"] = rt.bus.stats().transactions
        yield from shots("maintenance_after_test")
        app.toggle_language()
        yield frames(6)
        shot("maintenance_english")
        app.toggle_language()
        yield frames()

        # sign out: home, and the session is over
        tap(mnt.ids.sign_out)
        yield on("home")
        yield frames(10)
        seen["session_after"] = app.staff_flow.session is not None
        with rt.store.read() as conn:
            seen["audit_actions"] = sorted({r[0] for r in conn.execute(
                "SELECT action FROM audit WHERE actor = 'staff:A001'")})
        leftovers = "\n".join(t for s in app.root.screens for t in widget_texts(s))
        gone = (SCANNED, TYPED, "测试管理员", mask_name(DEMO[SCANNED]["applicant"]["name"]),
                mask_name(DEMO[TYPED]["applicant"]["name"]), BADGE)
        seen["leftovers"] = [v for v in gone if v in leftovers]

        # the badge typed this time; then nobody touches the screen: idle signs out
        app.idle.idle_s, app.idle.warn_s = 2.0, 2.0
        tap(home.ids.staff)
        yield on("staff_signin")
        yield frames()
        type_digits(signin.ids.keypad, BADGE)
        tap(signin.ids.keypad.ids.ok)
        yield lambda: signin.field == "pin"
        type_digits(signin.ids.keypad, PIN)
        tap(signin.ids.keypad.ids.ok)
        yield on("staff_menu")
        seen["typed_badge_signed_in"] = app.staff_flow.session is not None
        started = time.monotonic()
        yield on("home")
        seen["idle_home_s"] = round(time.monotonic() - started, 1)
        yield frames(10)
        seen["session_after_idle"] = app.staff_flow.session is not None
        with rt.store.read() as conn:
            seen["sign_outs"] = conn.execute("SELECT count(*) FROM audit WHERE actor = "
                                             "'staff:A001' AND action = 'staff.signed_out'"
                                             ).fetchone()[0]
        control.disconnect()
        server.stop()
        seen["done"] = True

    run_steps(app, scenario(), seen, timeout_s=30)
    app.run()
    if "timed_out_at" in seen:
        seen["screen_note"] = list(getattr(app.root.current_screen, "note", []))
    print(json.dumps(seen, ensure_ascii=False))
    return 0 if seen.get("done") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
