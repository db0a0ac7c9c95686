"""Carrying out the centre's remote commands on this terminal (DESIGN §6).

paho's thread only queues a message; one worker thread takes them in arrival order and, for
each: verifies it (`remote.mqtt_commands`), claims its `req_id` in the ledger (a repeat is
answered `rejected: replayed` with the first answer, never run again), audits it in the
locker's hash chain with the operator, answers `accepted`, does it, and answers `done` or
`failed`. Anything refused is answered `rejected` with the reason, and audited too.

open -> the controller's staff open with the operator as actor; disable/enable ->
`set_enabled`; rebirth -> birth and the retained state again; sync -> every compartment and
`alarm/active` from fresh state; snapshot -> a health report and every compartment now;
doctor -> the in-process checks (`terminal.doctor_live`), whose report rides in the `done` ack.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from locker.audit import SYSTEM, staff_actor
from locker.errors import CompartmentBusy, LockerError, UnknownCompartment
from locker.models import Outcome
from locker.staff_identity import Technician
from remote.command_ledger import CommandLedger
from remote.mqtt_commands import Command, CommandVerifier, Reason, Rejection

log = logging.getLogger(__name__)

_OPENED = (Outcome.OPENED, Outcome.ALREADY_OPEN)


class AckSink(Protocol):
    """What the runner answers and republishes through (an `MqttLink`)."""

    def publish_cmd_ack(self, req_id: str, result: str, reason: str = "",  # noqa: D102
                        earlier: Any = None, report: Any = None) -> None: ...

    def rebirth(self) -> None: ...  # noqa: D102

    def republish_state(self) -> None: ...  # noqa: D102

    def set_active_alarms(self, alarms: Any) -> None: ...  # noqa: D102


class CommandRunner:
    """Verifies, de-duplicates, audits, executes and acknowledges remote commands."""

    def __init__(self, link: AckSink, verifier: CommandVerifier, ledger: CommandLedger,
                 controller: Any, *, publish_compartments: Callable[[], Any],
                 report_health: Callable[[], Any],
                 doctor: Callable[[], Mapping[str, Any]] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._link = link
        self._verifier = verifier
        self._ledger = ledger
        self._controller = controller
        self._publish_compartments = publish_compartments
        self._report_health = report_health
        self._doctor = doctor
        self._clock = clock or (lambda: datetime.now(UTC))
        self._queue: queue.Queue[tuple[str, bytes, bool] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mqtt-commands", daemon=True)

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the command under way, then stop (queued ones are dropped, never half-run)."""
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(self, req_id: str, payload: bytes, retained: bool = False) -> None:
        """Queue one `cmd/{req_id}` message (called on paho's thread: returns at once)."""
        self._queue.put((req_id, payload, retained))

    def handle(self, req_id: str, payload: bytes, retained: bool = False) -> str:
        """Process one message to the end; the last answer given (for tests and logs)."""
        verdict = self._verifier.verify(req_id, payload, retained)
        signed = isinstance(verdict, Command) or verdict.signed
        if signed:  # only the centre's own words may take a req_id: no burning by junk
            earlier = self._ledger.claim(req_id, verdict.command, verdict.operator,
                                         verdict.expires_at, self._clock())
            if earlier is not None:
                self._audit(verdict, "remote_cmd.replayed", earlier=earlier.result)
                self._ack(req_id, "rejected", Reason.REPLAYED.value,
                          {"result": earlier.result, "reason": earlier.reason})
                return "rejected"
        if isinstance(verdict, Rejection):
            self._audit(verdict, "remote_cmd.rejected", reason=verdict.reason.value)
            if signed:
                self._ledger.finish(req_id, "rejected", verdict.reason.value)
            self._ack(req_id, "rejected", verdict.reason.value)
            return "rejected"
        self._audit(verdict, "remote_cmd.accepted")
        self._ack(req_id, "accepted")
        report: Mapping[str, Any] | None = None
        try:
            if verdict.command == "doctor":
                result, reason, report = self._run_doctor()
            else:
                result, reason = self._execute(verdict)
        except Exception as err:  # the command failed; the terminal carries on
            log.exception("remote command %s (%s) failed", req_id, verdict.command)
            result, reason = "failed", f"error: {err.__class__.__name__}"
        self._ledger.finish(req_id, result, reason)
        self._audit(verdict, f"remote_cmd.{result}", reason=reason)
        self._ack(req_id, result, reason, report=report)
        return result

    # -- internals ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self.handle(*item)
            except Exception:  # e.g. the ledger's disk: log, answer nothing, keep serving
                log.exception("remote command %s not processed", item[0])

    def _run_doctor(self) -> tuple[str, str, Mapping[str, Any] | None]:
        """The checks run here, on the command thread (never Kivy's); each probe has a limit."""
        if self._doctor is None:
            return "failed", "unsupported", None
        report = self._doctor()
        failed = (report.get("counts") or {}).get("fail", 0)
        return "done", f"{failed} check(s) failed" if failed else "all checks passed", report

    def _execute(self, cmd: Command) -> tuple[str, str]:
        ctl = self._controller
        if cmd.command == "open":
            try:
                res = ctl.staff_open(cmd.compartment, Technician(cmd.operator),
                                     f"remote command {cmd.req_id}")
            except LockerError as err:
                return "failed", _locker_reason(err)
            return ("done" if res.outcome in _OPENED else "failed"), res.outcome.value
        if cmd.command in ("disable", "enable"):
            try:
                ctl.set_enabled(cmd.compartment, cmd.command == "enable",
                                Technician(cmd.operator))
            except LockerError as err:
                return "failed", _locker_reason(err)
            self._publish_compartments()
            return "done", ""
        if cmd.command == "rebirth":
            self._link.rebirth()
            self._link.republish_state()
        elif cmd.command == "sync":
            self._link.set_active_alarms(ctl.open_alarms())
            self._publish_compartments()
        elif cmd.command == "snapshot":
            self._report_health()
            self._publish_compartments()
        return "done", ""

    def _audit(self, verdict: Command | Rejection, action: str, **detail: Any) -> None:
        signed = isinstance(verdict, Command) or verdict.signed
        actor = staff_actor(verdict.operator) if signed else SYSTEM
        compartment = verdict.compartment if isinstance(verdict, Command) else None
        extra = {"command": verdict.command, "role": verdict.role} if signed else {}
        self._controller.record_audit(actor, action, compartment, req_id=verdict.req_id[:64],
                                      via="mqtt", **extra, **detail)

    def _ack(self, req_id: str, result: str, reason: str = "",
             earlier: dict[str, str] | None = None,
             report: Mapping[str, Any] | None = None) -> None:
        try:
            if report is None:
                self._link.publish_cmd_ack(req_id, result, reason, earlier)
            else:
                self._link.publish_cmd_ack(req_id, result, reason, earlier, report=report)
        except ValueError:  # a req_id that cannot be a topic level gets no answer
            log.warning("no ack possible for command %r", req_id[:64])


def _locker_reason(err: LockerError) -> str:
    if isinstance(err, UnknownCompartment):
        return "unknown_compartment"
    if isinstance(err, CompartmentBusy):
        return "compartment_busy"
    return f"refused: {err}"
