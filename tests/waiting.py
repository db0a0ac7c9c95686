"""The one way tests wait on state that has no event to await: poll it with a deadline.

For the simulator's physical state, a broker's retained messages, a file being written, and the
like. Where the code under test offers an event (a Condition, `wait_closed`, `wait_idle`), await
that instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.01,
             message: str | None = None) -> T:
    """The first truthy value of `predicate()` within `timeout` s, else its last (falsy) value.

    With a `message`, running out of time raises AssertionError(message) instead of returning.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            break
        time.sleep(interval)
    if not value and message is not None:
        raise AssertionError(message)
    return value
