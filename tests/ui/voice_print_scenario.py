"""Drive the real app: voice prompts in elderly mode, the printed receipt, a printed guide.

Elderly mode on; a pickup with the receipt through the scanner simulator and the applicant's
card through the reader simulator, to the door and the evaluation, listening to the simulated
voice at each step; a self-declaration submitted, whose receipt the simulated printer prints
by itself (and once more on "print another copy"); a guide printed; the paper runs out and the
screen says so; the idle countdown is read aloud. Prints one JSON object with what it saw.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

CASE = "SJ20261120000005"  # a completed demo case of assets/catalogue/cases.json (黄俊杰)
APPLICANT_ID = "000000198805090776"


def main(data_dir: str, shots: str | None = None) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "1920x1080"\n'
                        'idle_s = 600\n[bus]\nbaud = 115200\n[locker]\n'
                        'door_open_confirm_s = 1.0\n[devices]\nprinter = "sim"\n'
                        'voice = "sim"\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    prepare_kivy(cfg)
    from pyzbar.pyzbar import ZBarSymbol, decode

    from hardware.drivers.id_reader_sim import fake_card
    from hardware.drivers.sim_control import ControlHandler, ControlServer, SimControl
    from locker.receipt_token import ReceiptKind
    from terminal.app import KioskApp
    from terminal.composition import open_locker
    from terminal.devices import open_devices
    from terminal.identity_setup import local_issuer
    from terminal.idle import IdleWatch
    from tests.ui.scenario_kit import (
        Step,
        find_button,
        frames,
        run_steps,
        showing,
        stored_result,
        tap,
    )
    from tests.ui.services_scenario import _value_for

    token = local_issuer(cfg).issue(CASE, ReceiptKind.ACCEPTANCE_NOTICE)
    applicant = fake_card(1, name="黄俊杰", id_number=APPLICANT_ID)
    app = KioskApp(cfg, open_locker, open_devices)
    seen: dict = {}
    out = Path(shots) if shots else None

    def key(screen, label: str):
        return find_button(screen, label)

    def on(name: str) -> Step:
        return showing(app, name)

    def said(text: str) -> Step:
        return lambda: text in app.devices.voice.said

    def qr(image) -> list[str]:
        return [s.data.decode() for s in decode(image.convert("L"), symbols=[ZBarSymbol.QRCODE])]

    def shot(name: str) -> None:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            produced = app.root_window.screenshot(str(out / f"{name}.png"))
            Path(produced).replace(out / f"{name}.png")  # Kivy appends a counter

    def scenario() -> Iterator[Step]:
        yield lambda: (app.runtime is not None and app.devices is not None
                       and app.platform is not None and app.locker_up)
        rt, dev = app.runtime, app.devices
        voice, printer = dev.voice, dev.printer
        server = ControlServer(ControlHandler(rt.sim))
        control = SimControl(server.start())
        stored: dict = {}
        yield from stored_result(app, control, CASE, applicant, stored)
        dep, spec = stored["deposit"], stored["spec"]
        seen["compartment"] = dep.compartment_id

        # elderly mode: every step of the pickup is read aloud
        home = app.root.get_screen("home")
        yield frames()
        seen["silent_before_elderly"] = list(voice.said)
        tap(home.ids.pickup)  # not in elderly mode: nothing is said
        yield on("pickup_start")
        yield frames(5)
        seen["said_without_elderly"] = list(voice.said)
        app.go_home()
        yield on("home")
        yield frames()
        tap(home.ids.elderly)
        yield lambda: app.elderly
        tap(home.ids.pickup)
        yield on("pickup_start")
        yield said("请扫描受理通知书上的二维码")
        seen["said_at_scan"] = list(voice.said)
        shot("pickup_start_elderly")
        dev.scanner_sim.present(token)
        yield on("pickup_card")
        yield said("请将身份证放在读卡区")
        seen["said_at_card"] = list(voice.said)
        dev.id_reader_sim.present(applicant)
        yield on("door_open")
        yield said(f"{dep.compartment_id}号格口已打开，请取走材料并关门")
        control.take(spec.unit, spec.channel)
        control.close(spec.unit, spec.channel)
        yield on("evaluation")
        yield said("请对本次服务进行评价")
        evaluation = app.root.get_screen("evaluation")
        tap(next(w for w in evaluation.ids.levels.children if "★★★★☆" in w.text))
        yield on("message")
        yield frames()
        tap(app.root.get_screen("message").ids.done)
        yield on("home")
        seen["said_pickup"] = list(voice.said)
        seen["elderly_after_home"] = app.elderly

        # a declaration: the receipt prints by itself, and once more on request
        yield frames()
        tap(home.ids.elderly)
        yield lambda: app.elderly
        tap(home.ids.declare)
        yield on("guides")
        guides = app.root.get_screen("guides")
        yield lambda: len(guides.ids.results.children) > 0
        yield said("请选择要申报的事项")
        tap(next(reversed(guides.ids.results.children)))
        yield on("declare_form")
        yield said("请填写申报表，可以刷身份证自动填写")
        yield frames()
        form = app.root.get_screen("declare_form")
        tap(form.ids.read_card)
        yield lambda: form.reading
        dev.id_reader_sim.present(fake_card(4))
        yield lambda: not form.reading
        dev.id_reader_sim.remove()
        for spec_ in form.flow.fields:
            if form.flow.values.get(spec_.key):
                continue
            form.select(spec_.key)
            yield frames(1)
            if spec_.kind.value == "text":  # pinyin: type, take the first candidate
                for ch in "ZHANG":
                    tap(key(form, ch))
                yield frames(1)
                form.ids.input_area.children[0].choose(0)
            else:
                for ch in _value_for(spec_):
                    tap(key(form, ch))
            if spec_.choices:  # a big button per choice, marked ○ / ●
                tap(next(w for w in form.walk() if hasattr(w, "on_release")
                         and str(getattr(w, "text", "")).endswith(spec_.choices[0])))
            yield frames(1)
        tap(form.ids.capture)
        yield lambda: form.pages == 1
        tap(form.ids.next)
        yield on("declare_review")
        yield frames()
        review = app.root.get_screen("declare_review")
        seen["pages_before_submit"] = len(printer.pages)
        tap(review.ids.submit)
        yield lambda: review.number != ""
        seen["printing_shown"] = list(review.print_status)
        yield lambda: review.print_status[0] == "打印完成，请取走凭条"
        yield frames()
        seen["number"] = review.number
        seen["receipt_pages"] = len(printer.pages)
        seen["receipt_qr"] = qr(printer.pages[0])
        seen["receipt_png"] = str(printer.paths[0])
        seen["receipt_size"] = list(printer.pages[0].size)
        seen["review_hint"] = review.ids.hint.text
        seen["reprint_visible"] = review.ids.reprint.opacity
        yield said("打印完成，请取走凭条")
        shot("declare_printed")
        tap(review.ids.reprint)
        yield lambda: len(printer.pages) == 2 and not review.printing
        seen["reprint_qr"] = qr(printer.pages[1])
        tap(review.ids.submit)  # 完成 Done
        yield on("home")
        yield frames()

        # a guide: print it, then the paper runs out
        tap(home.ids.guides)
        yield on("guides")
        yield lambda: len(guides.ids.results.children) > 0
        tap(next(reversed(guides.ids.results.children)))
        yield on("guide_detail")
        yield frames()
        detail = app.root.get_screen("guide_detail")
        seen["print_button"] = detail.ids.print_button.text
        seen["print_button_visible"] = detail.ids.print_button.opacity
        tap(detail.ids.print_button)
        yield lambda: len(printer.pages) == 3 and not detail.printing
        seen["guide_status"] = detail.ids.print_status.text
        seen["guide_qr"] = qr(printer.pages[2])
        seen["guide_link"] = detail.guide.link
        seen["guide_size"] = list(printer.pages[2].size)
        seen["guide_png"] = str(printer.paths[2])
        printer.paper_out = True
        tap(detail.ids.print_button)
        yield lambda: not detail.printing and detail.print_status[0] != "打印完成，请取走凭条"
        yield frames()
        seen["paper_out_status"] = detail.ids.print_status.text
        seen["pages_after_paper_out"] = len(printer.pages)
        shot("guide_paper_out")

        # the idle countdown is read aloud too
        app.set_elderly(True)
        app.idle = IdleWatch(0.5, 30.0)
        app.idle.set_elderly(True)
        yield lambda: app._overlay is not None
        yield said("即将返回首页，需要更多时间请点延长")
        tap(app._overlay.ids.more_time)
        yield lambda: app._overlay is None
        seen["said_all"] = list(voice.said)
        control.disconnect()
        server.stop()
        seen["done"] = True

    run_steps(app, scenario(), seen, timeout_s=40)
    app.run()
    if "timed_out_at" in seen and app.devices is not None:
        seen["said"] = list(app.devices.voice.said)
    print(json.dumps(seen, ensure_ascii=False, default=str))
    return 0 if seen.get("done") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
