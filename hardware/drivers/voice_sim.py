"""A simulated voice: records what was said, as a person standing at the terminal would hear it.

Chosen by config (`[devices] voice = "sim"`). `speak_s` makes each prompt take time (so a test
can see a new prompt cut short the one being said), `fail` makes speaking fail (no audio
device) to show that nothing reaches the app but one log line.
"""

from __future__ import annotations

import threading

from hardware.voice import VoiceError, VoicePrompter


class SimVoice(VoicePrompter):
    """`said` lists every prompt begun, in order; `cut_short` those interrupted."""

    def __init__(self, speak_s: float = 0.0) -> None:
        super().__init__()
        self.speak_s = speak_s
        self.fail = False
        self.said: list[str] = []
        self.cut_short: list[str] = []

    def _speak(self, text: str, cut: threading.Event) -> None:
        if self.fail:
            raise VoiceError("the simulated voice was told to fail")
        self.said.append(text)
        if self.speak_s > 0 and cut.wait(self.speak_s):
            self.cut_short.append(text)
