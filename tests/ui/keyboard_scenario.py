"""Drive the pinyin keyboard and the numeric keypad with simulated touches in a real window.

Run in its own process by test_keyboard_ui.py: argv is the data dir, the window size
(WIDTHxHEIGHT) and optionally a folder for screenshots. Uses the terminal's own Kivy set-up
(CJK font), a tiny app with the two keyboards, and prints one JSON object with what it saw.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

Step = Callable[[], bool]
ID_NUMBER = "00000020000101003X"


def main(data_dir: str, window: str, shots: str | None = None) -> int:
    cfg_file = Path(data_dir) / "ui.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{data_dir}"\nwindow = "{window}"\n',
                        encoding="utf-8")
    prepare_kivy(load_config(cfg_file))
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.lang import Builder
    from kivy.properties import NumericProperty
    from kivy.tests.common import UnitTestTouch

    from terminal.pinyin_lexicon import warm_up
    from terminal.screens.keyboard import KeyboardKey

    root_kv = """
#:import NoTransition kivy.uix.screenmanager.NoTransition
ScreenManager:
    transition: NoTransition()
    Screen:
        name: "pinyin"
        BoxLayout:
            orientation: "vertical"
            Label:
                text: "姓名 Name:  " + kb.text
                font_size: sp(40) * app.scale
                color: 0, 0, 0, 1
                canvas.before:
                    Color:
                        rgba: 0.94, 0.96, 0.98, 1
                    Rectangle:
                        pos: self.pos
                        size: self.size
            PinyinKeyboard:
                id: kb
                max_length: 20
                on_enter: app.entered.append(args[1])
    Screen:
        name: "keypad"
        canvas.before:
            Color:
                rgba: 0.94, 0.96, 0.98, 1
            Rectangle:
                pos: self.pos
                size: self.size
        BoxLayout:
            orientation: "vertical"
            padding: dp(20)
            Label:
                text: "身份证号 ID number:  " + (pad.text or "_")
                font_size: sp(40) * app.scale
                color: 0, 0, 0, 1
                size_hint_y: 0.2
            AnchorLayout:
                NumericKeypad:
                    id: pad
                    allow_x: True
                    max_length: 18
                    min_length: 18
                    on_enter: app.entered.append(args[1])
"""

    class KeyboardDemo(App):
        scale = NumericProperty(1.0)
        line_height = NumericProperty(1.3)

        def __init__(self) -> None:
            super().__init__()
            self.entered: list[str] = []

        def build(self):
            return Builder.load_string(root_kv)

    app = KeyboardDemo()
    seen: dict = {"window": window}
    out = Path(shots) if shots else None
    suffix = "" if window == "1920x1080" else f"_{window}"

    def tap(widget) -> None:
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def key(parent, token: str):
        return next(w for w in parent.walk() if isinstance(w, KeyboardKey) and w.token == token
                    and w.opacity > 0)

    def frames(n: int = 3) -> Step:
        left = [n]

        def done() -> bool:
            left[0] -= 1
            return left[0] < 0
        return done

    def shot(name: str) -> None:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            produced = app.root_window.screenshot(str(out / f"{name}{suffix}.png"))
            Path(produced).replace(out / f"{name}{suffix}.png")  # Kivy appends a counter

    def fits(parent) -> dict:
        """Every key's label inside the key, the keyboard inside the window; key sizes."""
        keys = [w for w in parent.walk() if isinstance(w, KeyboardKey) and w.opacity > 0
                and w.width > 0]
        clipped = [w.token or w.text.split("\n")[0] for w in keys
                   if w.texture_size[0] > w.width + 1 or w.texture_size[1] > w.height + 1]
        inside = parent.x >= 0 and parent.y >= 0 and parent.right <= Window.width + 1 \
            and parent.top <= Window.height + 1
        return {"clipped": clipped, "inside": inside,
                "min_key_px": round(min(min(w.width, w.height) for w in keys), 1)}

    def typing(kb, letters: str) -> None:
        for letter in letters:
            tap(key(kb, letter))

    def scenario() -> Iterator[Step]:
        warm_up().join()
        yield frames()
        kb = app.root.ids.kb
        typing(kb, "zhang")
        yield frames()
        seen["composition_zhang"] = kb.composition
        tap(key(kb.ids.bar, "张"))
        yield frames()
        typing(kb, "san")
        yield frames()
        tap(key(kb.ids.bar, "三"))
        yield frames()
        seen["name"] = kb.text
        seen["composing_after_name"] = kb.composition

        typing(kb, "shenfenzheng")
        yield frames()
        seen["sfz_first"] = kb.candidates[0]
        seen["normal"] = fits(kb)
        seen["normal_font"] = key(kb, "q").font_size
        shot("keyboard_pinyin")
        app.scale = 1.4
        yield frames(5)
        seen["elderly"] = fits(kb)
        seen["elderly_font"] = key(kb, "q").font_size
        shot("keyboard_pinyin_elderly")
        tap(kb.ids.next)
        yield frames()
        seen["page_after_next"] = kb.page
        tap(kb.ids.prev)
        yield frames()
        seen["page_after_prev"] = kb.page
        app.scale = 1.0
        yield frames()

        tap(kb.ids.clear_key)
        tap(kb.ids.lang)
        yield frames()
        typing(kb, "hi")
        seen["english"] = kb.text
        tap(kb.ids.lang)
        tap(kb.ids.digits)
        yield frames()
        tap(key(kb, "1"))
        tap(key(kb, "号"))
        tap(kb.ids.backspace)
        tap(key(kb, "室"))
        yield frames()
        seen["digits"] = kb.text
        seen["digits_view"] = fits(kb)
        shot("keyboard_digits")
        tap(kb.ids.ok)
        yield frames()

        app.root.current = "keypad"
        yield frames()
        pad = app.root.ids.pad
        for ch in ID_NUMBER[:10]:
            tap(key(pad, ch))
        yield frames()
        seen["ok_before_full"] = (pad.ids.ok.disabled, pad.ids.x.disabled)
        seen["keypad"] = fits(pad)
        shot("keypad")
        app.scale = 1.4
        yield frames(5)
        seen["keypad_elderly"] = fits(pad)
        shot("keypad_elderly")
        app.scale = 1.0
        yield frames()
        for ch in ID_NUMBER[10:]:
            tap(key(pad, ch))
        tap(key(pad, "5"))  # past the end: ignored
        yield frames()
        seen["id_number"] = pad.text
        tap(pad.ids.ok)
        yield frames()
        seen["entered"] = list(app.entered)
        seen["done"] = True

    steps = scenario()
    state = {"wait": None, "deadline": time.monotonic() + 30}

    def tick(_dt: float) -> None:
        wait = state["wait"]
        if wait is not None and not wait():
            if time.monotonic() > state["deadline"]:
                seen["timed_out_at"] = wait.__code__.co_firstlineno
                app.stop()
            return
        try:
            state["wait"] = next(steps)
            state["deadline"] = time.monotonic() + 30
        except StopIteration:
            Clock.unschedule(tick)
            app.stop()
        except Exception:  # report, do not hang the window
            seen["error"] = traceback.format_exc()
            Clock.unschedule(tick)
            app.stop()

    Clock.schedule_interval(tick, 0.05)
    app.run()
    print(json.dumps(seen, ensure_ascii=False))
    return 0 if seen.get("done") else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
