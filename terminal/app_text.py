"""Text helpers the .kv files call on the app: bilingual markup, one language, tiles.

kv passes `app.scale` and `app.lang` to them, so every text follows elderly mode and the
language switch when they change.
"""

from __future__ import annotations

from typing import Any

from kivy.core.window import Window

from terminal import texts


class TextHelpers:
    """A mixin of KioskApp; pure functions of their arguments."""

    def bi(self, pair: tuple[str, str], scale: float = 1.0, lang: str = "zh", **fmt: Any) -> str:
        """Chinese with its English in smaller print, or English alone in English mode.

        kv passes `app.scale` and `app.lang` so the text follows both when they change.
        """
        return texts.bilingual(pair, round(20 * scale * Window.dpi / 96), lang, **fmt)

    def tr(self, pair: tuple[str, str], lang: str = "zh", **fmt: Any) -> str:
        """One language of a pair (no markup), following `app.lang` when kv passes it."""
        return texts.pick(pair, lang, **fmt)

    def tile(self, pair: tuple[str, str], hint: tuple[str, str], scale: float = 1.0,
             lang: str = "zh") -> str:
        """A big tile: the title (and its English), then a one-line hint in small print."""
        small = round(22 * scale * Window.dpi / 96)
        title = pair[1] if lang == "en" else f"[b]{pair[0]}[/b]  {pair[1]}"
        return f"{title}\n[size={small}]{texts.pick(hint, lang)}[/size]"


    def line(self, pair: tuple[str, str], scale: float = 1.0, lang: str = "zh",
             **fmt: Any) -> str:
        """Chinese and its English on one line (English smaller), or English alone."""
        if lang == "en":
            return texts.escape(pair[1].format(**fmt))
        small = round(20 * scale * Window.dpi / 96)
        return (f"{texts.escape(pair[0].format(**fmt))}  "
                f"[size={small}]{texts.escape(pair[1].format(**fmt))}[/size]")
