"""Drive the real app through the services that need no locker: guides, progress, declaration.

Guide search by pinyin initials typed on the letter keys, to the full guide; a progress query
of a demo case with the last 6 characters of the ID number; a self-declaration with the ID
card (through the reader simulator), typed fields, a page from the simulated document camera,
review and submit into the outbox. Screenshots of every screen go to the folder given as the
second argument, if any. Prints one JSON object with what it saw.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

DEMO_CASE = "SJ20261116000047"  # a 补正 case of assets/catalogue/cases.json


def main(data_dir: str, shots: str | None = None) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    window = os.environ.get("KIOSK_UI_WINDOW", "1920x1080")  # portrait kiosks: 1080x1920
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "{window}"\n'
                        'idle_s = 600\n[bus]\nbaud = 115200\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)

    from hardware.drivers.id_reader_sim import fake_card
    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from terminal.devices import open_devices
    from tests.ui.scenario_kit import (
        Step,
        find_button,
        frames,
        run_steps,
        screenshot,
        showing,
        tap,
        variants,
    )

    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {}
    out = Path(shots) if shots else None

    def key(screen, label: str):
        return find_button(screen, label)

    def on(name: str) -> Step:
        return showing(app, name)

    def snap(name: str) -> None:
        screenshot(app, out, name)

    def shot(name: str) -> Iterator[Step]:
        return variants(app, out, name)

    def scenario() -> Iterator[Step]:
        yield lambda: app.devices is not None and app.platform is not None and app.locker_up
        home = app.root.get_screen("home")
        yield frames()
        yield from shot("home")
        # guides: pinyin initials, then the full guide
        tap(home.ids.guides)
        yield on("guides")
        guides = app.root.get_screen("guides")
        yield lambda: len(guides.ids.results.children) > 0
        seen["all_guides"] = guides.summary
        for letter in "SFZ":
            tap(key(guides, letter))
        yield frames()
        titles = [w.text for w in reversed(guides.ids.results.children)]
        seen["sfz_first"] = titles[0] if titles else ""
        yield from shot("guides_search")
        tap(next(reversed(guides.ids.results.children)))
        yield on("guide_detail")
        yield frames()
        detail = app.root.get_screen("guide_detail")
        seen["detail_title"] = detail.title
        seen["detail_body"] = detail.body
        seen["detail_qr"] = detail.qr_texture is not None
        yield from shot("guide_detail")
        tap(detail.ids.back)
        yield on("guides")
        yield frames()
        tap(guides.ids.back)
        yield on("home")
        yield frames()

        # progress: case number typed, a wrong last 6, then the right one
        tap(home.ids.progress)
        yield on("progress")
        yield frames()
        progress = app.root.get_screen("progress")
        for ch in DEMO_CASE:
            tap(key(progress, ch))
        tap(progress.ids.last6_field)
        yield frames()
        for ch in "111111":
            tap(key(progress, ch))
        tap(progress.ids.query)
        yield lambda: not progress.busy and progress.status_pair[0] != ""
        seen["wrong_last6"] = progress.status_pair[0]
        yield from shot("progress")
        right = _last6(DEMO_CASE)
        for ch in right:
            tap(key(progress, ch))
        tap(progress.ids.query)
        yield on("progress_result")
        yield frames()
        result = app.root.get_screen("progress_result")
        seen["timeline"] = result.timeline
        seen["missing"] = result.missing
        yield from shot("progress_result")
        tap(result.ids.done)
        yield on("home")
        yield frames()

        # declaration: choose the item, card autofill, typed fields, one page, submit
        tap(home.ids.declare)
        yield on("guides")
        yield lambda: len(guides.ids.results.children) > 0
        seen["declare_mode"] = guides.mode
        tap(next(reversed(guides.ids.results.children)))
        yield on("declare_form")
        yield frames()
        form = app.root.get_screen("declare_form")
        card = fake_card(4)
        tap(form.ids.read_card)
        yield lambda: form.reading
        app.devices.id_reader_sim.present(card)
        yield lambda: not form.reading
        seen["autofilled"] = form.flow.card_used
        for spec in form.flow.fields:
            if form.flow.values.get(spec.key):
                continue
            form.select(spec.key)
            yield frames(1)
            value = _value_for(spec)
            if spec.kind.value == "text":  # pinyin keyboard: type, then take the first word
                for ch in "ZHANG":
                    tap(key(form, ch))
                yield frames(1)
                board = form.ids.input_area.children[0]
                seen.setdefault("candidates", list(board.candidates)[:5])
                board.choose(0)  # the candidate bar's first word
                value = ""
            for ch in value:
                tap(key(form, ch))
            if spec.choices:
                tap(key(form, "○ " + spec.choices[0]))
            yield frames(1)
        tap(form.ids.capture)
        yield lambda: form.pages == 1
        yield from shot("declare_form")
        tap(form.ids.next)
        yield on("declare_review")
        yield frames()
        review = app.root.get_screen("declare_review")
        seen["review"] = review.summary
        yield from shot("declare_review")
        tap(review.ids.submit)
        yield lambda: review.number != ""
        yield frames()
        seen["number"] = review.number
        yield from shot("declare_done")
        with app.runtime.store.read() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE kind = 'declaration'").fetchone()
            seen["outbox_declaration"] = None if row is None else dict(row)
        seen["outbox_declaration"] = {k: (v if isinstance(v, (str, int, type(None))) else
                                          f"<{len(v)} bytes>")
                                      for k, v in (seen["outbox_declaration"] or {}).items()}
        seen["card_id"] = card.id_number
        tap(review.ids.submit)  # 完成 Done
        yield on("home")

        # elderly mode: every touch target on Home and the guide search at least 15 mm
        # (60 px on a 21.5-inch 1080p panel), also in portrait
        app.set_elderly(True)
        yield frames()
        seen["small_targets"] = _small_targets(home)
        tap(home.ids.guides)
        yield on("guides")
        yield lambda: len(guides.ids.results.children) > 0
        yield frames()
        seen["small_targets"] += _small_targets(guides)
        tap(guides.ids.back)
        yield on("home")
        yield frames()
        tap(home.ids.progress)
        yield on("progress")
        yield frames()
        seen["small_targets"] += _small_targets(app.root.get_screen("progress"))
        tap(app.root.get_screen("progress").ids.back)
        yield on("home")

        # the locker goes down: pickup off with a clear notice, guides still work
        from hardware.drivers.sim_control import SimControl

        control = SimControl(app.runtime.sim)
        for unit in app.runtime.sim.boards:
            control.call("offline", unit=unit)
        yield lambda: not app.locker_up
        yield frames()
        seen["down_notice"] = home.ids.availability.text
        seen["down_pickup_disabled"] = home.ids.pickup.disabled
        yield from shot("home_locker_down")
        tap(home.ids.guides)
        yield on("guides")
        yield lambda: len(guides.ids.results.children) > 0
        seen["down_guides"] = len(guides.ids.results.children)
        seen["done"] = True

    run_steps(app, scenario(), seen, timeout_s=40)
    app.run()
    print(json.dumps(seen, ensure_ascii=False, default=str))
    return 0 if seen.get("done") else 1


def _small_targets(screen) -> list[str]:
    """Buttons of a screen smaller than 60 px (15 mm at 1080p / 21.5") in either direction."""
    from kivy.uix.button import Button

    return [f"{screen.name}:{w.text[:12]!r}:{int(w.width)}x{int(w.height)}"
            for w in screen.walk(restrict=True)
            if isinstance(w, Button) and w.opacity > 0 and min(w.size) < 60]


def _last6(case_no: str) -> str:
    """The demo applicant's last 6 (fictional data shipped in assets/catalogue/cases.json)."""
    cases = json.loads((ROOT / "assets" / "catalogue" / "cases.json").read_text("utf-8"))
    case = next(c for c in cases if c["case_no"] == case_no)
    return case["applicant"]["id_number"][-6:]


def _value_for(spec) -> str:
    kind = spec.kind.value
    if kind == "phone":
        return "13812345678"
    if kind == "date":
        return "2026-12-01"
    if kind == "number":
        return "2"
    if kind == "choice":
        return ""
    return "ABC"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
