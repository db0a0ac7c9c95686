"""The voice prompt port (长辈模式 reads each step aloud, DESIGN §8): say a Chinese sentence.

`say()` never blocks the UI thread: the sentence goes into a one-place slot that one worker
thread speaks from. A new prompt replaces one not yet said (a person who has already moved to
the next screen needs the next instruction, not the last), and cuts short the one being said
where the driver can. Speech is a help, never a dependency: a failing driver is logged once
when it starts failing and once when it recovers, and nothing is ever raised into the app.
Drivers live in hardware/drivers; each supplies `_speak(text, cut)`, which blocks while it
speaks and should return early once its own `cut` event is set (each prompt has its own, so
cutting an old prompt can never silence the new one).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class VoiceError(Exception):
    """A driver could not speak (no synthesiser, no audio device)."""


class VoicePrompter(ABC):
    """Speaks one prompt at a time on its own thread, started on the first `say`."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: str | None = None
        self._speaking = False
        self._cut: threading.Event | None = None  # the prompt being said
        self._closed = False
        self._failing = False
        self._thread: threading.Thread | None = None

    def say(self, text_zh: str) -> None:
        """Speak `text_zh` soon; replaces a prompt not yet said, cuts short the current one."""
        text = text_zh.strip()
        if not text:
            return
        with self._cond:
            if self._closed:
                return
            self._pending = text
            self._cut_current()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def stop(self) -> None:
        """Silence: drop the prompt not yet said and cut short the one being said."""
        with self._cond:
            self._pending = None
            self._cut_current()

    def close(self) -> None:
        """Stop speaking and end the worker thread (the prompter is done for good)."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cut_current()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is pending or being said; False on timeout (for tests, demos)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._speaking,
                                       timeout)

    # -- what a driver supplies ----------------------------------------------------------
    @abstractmethod
    def _speak(self, text: str, cut: threading.Event) -> None:
        """Say `text`, returning when done or soon after `cut` is set; may raise on failure."""

    # -- the worker ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                text, self._pending = self._pending, None
                self._speaking = True
                cut = self._cut = threading.Event()
            try:
                self._speak(text or "", cut)
            except Exception as err:  # speech is a help: never take the app down for it
                self._failed(err)
            else:
                self._recovered()
            finally:
                with self._cond:
                    self._speaking = False
                    self._cut = None
                    self._cond.notify_all()

    def _cut_current(self) -> None:
        """Under the lock: ask the driver to stop the prompt being said, if any."""
        if self._cut is not None:
            self._cut.set()

    def _failed(self, err: BaseException) -> None:
        if not self._failing:
            self._failing = True
            log.warning("voice prompts failing (further failures not logged): %s", err)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.info("voice prompts working again")
