"""Staff at the terminal (DESIGN §5, §8): badge + PIN sign-in, one session, signed out on exit.

The signed-in `StaffSession` lives only in this object's memory; every staff operation passes
it to the controller, which checks the role and audits the person. `detach()` forgets it at
once (the UI thread, on idle reset or exit) and `sign_out()` ends it in the store (the
worker). `DoorWait` waits for a door in short slices so that leaving the screen stops it.
Deposit and retrieval are in terminal/staff_items_flow.py; no Kivy import here.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from locker.errors import LockerError
from locker.models import DOOR_SEEN_OPEN, Outcome
from locker.reports import OpenResult
from locker.staff_roles import Permission, SignInRefused, StaffNotAllowed, StaffSession
from terminal import staff_texts as ST
from terminal.pickup_flow import Notice

log = logging.getLogger(__name__)

MAX_BADGE = 64
MAX_PIN = 12
WAIT_SLICE_S = 0.5


def notice(pair: tuple[str, str], good: bool = False, **fmt: object) -> Notice:
    """A Notice from a staff_texts pair, formatted."""
    return Notice(pair[0].format(**fmt), pair[1].format(**fmt), good)


SESSION_ENDED = notice(ST.SESSION_ENDED)
LOCKER_DOWN = notice(ST.LOCKER_DOWN)


def refusal(err: BaseException, compartment: str = "") -> Notice:
    """What to tell staff when the controller refused (role, session, compartment)."""
    if isinstance(err, StaffNotAllowed):
        return SESSION_ENDED
    if isinstance(err, LockerError | ValueError):
        return notice(ST.ACTION_FAILED, why=str(err))
    log.error("staff operation failed on %s: %s", compartment or "-", err)
    return notice(ST.ACTION_FAILED, why=type(err).__name__)


def unopened(result: OpenResult) -> Notice | None:
    """None if the door read open; otherwise why nothing opened, for staff."""
    c = result.compartment_id or ""
    if result.outcome in DOOR_SEEN_OPEN:
        return None
    if result.outcome is Outcome.JAMMED:
        return notice(ST.DOOR_JAMMED, c=c)
    if result.outcome is Outcome.DENIED:
        return notice(ST.ACTION_FAILED, why=result.message)
    return notice(ST.DOOR_FAILED)


class StaffFlow:
    """Sign-in and the signed-in session of the one staff member at the screen."""

    def __init__(self, controller: Any) -> None:
        self.controller = controller
        self._session: StaffSession | None = None
        self._lock = threading.Lock()

    @property
    def session(self) -> StaffSession | None:
        """The live session, or None when nobody is signed in."""
        with self._lock:
            return self._session

    def signed_in(self) -> bool:
        """Whether someone is signed in here."""
        return self.session is not None

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in role allows this (the controller checks again, and audits)."""
        session = self.session
        return session is not None and session.may(permission)

    def sign_in(self, badge: str, pin: str, need: Permission | None = None) -> Notice | None:
        """Check badge and PIN (argon2: slow, run on the worker); None when signed in.

        Wrong PINs count towards the lock-out; the Notice says which refusal it was and,
        once locked out, for how many minutes. With `need` (the technicians' hidden entry),
        a role without it is refused (audited) and signed out again at once.
        """
        badge, pin = (badge or "").strip()[:MAX_BADGE], (pin or "").strip()[:MAX_PIN]
        if self.controller is None:
            return LOCKER_DOWN
        if not badge or not pin:
            return notice(ST.SIGNIN_HINT)
        try:
            session = self.controller.staff_auth.sign_in(badge, pin)
        except SignInRefused as err:
            return Notice(err.message_zh, err.message_en)
        if need is not None and not session.may(need):
            with contextlib.suppress(StaffNotAllowed):
                self.controller.staff_auth.authorise(session, need)  # audits staff.denied
            self.controller.staff_auth.sign_out(session)
            return notice(ST.TECH_ONLY)
        with self._lock:
            previous, self._session = self._session, session
        if previous is not None and previous.token != session.token:
            self.sign_out(previous)
        return None

    def detach(self) -> StaffSession | None:
        """Forget the session now (any thread); the session to pass to `sign_out`, if any."""
        with self._lock:
            session, self._session = self._session, None
        return session

    def sign_out(self, session: StaffSession | None = None) -> None:
        """End the session in the store (audited; blocking: run on the worker)."""
        session = session or self.detach()
        if session is None or self.controller is None:
            return
        try:
            self.controller.staff_auth.sign_out(session)
        except Exception:  # the session expires by itself; never stop the reset for this
            log.exception("staff sign-out not recorded")


class DoorWait:
    """Waits for a journalled opening to complete, in slices, until a timeout or `cancel()`."""

    def __init__(self, controller: Any, timeout_s: float) -> None:
        self.controller = controller
        self.timeout_s = timeout_s
        self._cancelled = threading.Event()

    def wait(self, intent_id: int | None, timeout: float | None = None) -> bool | None:
        """True once closed, False at the timeout, None if cancelled (blocking: the worker)."""
        if intent_id is None:
            return False
        deadline = time.monotonic() + (self.timeout_s if timeout is None else timeout)
        while not self._cancelled.is_set():
            left = deadline - time.monotonic()
            if self.controller.wait_closed(intent_id, max(0.0, min(WAIT_SLICE_S, left))):
                return True
            if left <= 0:
                return False
        return None

    def arm(self) -> None:
        """Ready for a new door (a cancel of the previous wait no longer applies)."""
        self._cancelled.clear()

    def cancel(self) -> None:
        """Stop a wait under way (any thread): the screen was left or reset."""
        self._cancelled.set()
