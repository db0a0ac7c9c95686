"""Pickup, step 4: the five-level evaluation (好差评), stars and words (never colour alone)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.uix.screenmanager import Screen

from remote.platform_models import EvaluationLevel
from terminal import texts
from terminal import voice_texts as V
from terminal.screens.common import load_kv

load_kv(__file__)


class EvaluationScreen(Screen):
    """One tap sends the rating through the outbox; 0 skips."""

    prompt = V.EVALUATION  # read aloud in elderly mode

    def rate(self, score: int) -> None:
        """Record the rating (on the worker) and thank the person."""
        app = App.get_running_app()
        flow = app.pickup_flow
        level = EvaluationLevel(score) if score else None
        if flow is None:
            app.go_home()
            return
        app.background.submit(lambda: flow.evaluate(level), self._sent)
        thanks = texts.THANKS if level else texts.THANKS_NO_EVAL
        app.root.get_screen("message").show(thanks, good=True)

    def _sent(self, _key: Any, error: BaseException | None) -> None:
        pass  # a failure is logged by the worker; the person is not held up by it
