"""Run blocking work (bus, disk) off the UI thread and hand results back through `post`.

No Kivy import: the app passes `post` (Clock.schedule_once-based) so this stays testable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """One worker thread: locker operations are serial anyway; the UI never waits on them."""

    def __init__(self, post: Callable[[Callable[[], None]], None],
                 name: str = "terminal-work") -> None:
        self._post = post
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def submit(self, work: Callable[[], Any], done: Callable[[Any, BaseException | None], None]
               ) -> Future:
        """Run `work` on the worker; call `done(result, error)` on the UI thread afterwards."""
        def finished(fut: Future) -> None:
            error = fut.exception()
            result = None if error else fut.result()
            if error:  # with its traceback: the UI only learns that it failed
                log.error("background work failed: %s", error, exc_info=error)
            self._post(lambda: done(result, error))

        future = self._pool.submit(work)
        future.add_done_callback(finished)
        return future

    def shutdown(self, wait: bool = True) -> None:
        """Finish queued work (or drop what has not started) and stop the worker."""
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
