"""A night at one terminal (issue 7), played in order; what was seen goes back to the test.

Staff deposit the twenty results (badge + PIN, labels scanned); citizens collect fifteen with
their receipt and ID card (two show a wrong card first, one result goes to the named proxy);
a door is left open after a pickup; board 1 goes offline and comes back; the network (broker
and platform) goes down for "an hour" while pickups go on; the app is SIGKILLed twice (once
with a pickup's door open, once at an arbitrary point during the outage); five results expire
and staff retrieve them. The world (`night_world`) is real but the hardware; each terminal
life is a child process (`night_life`, `night_terminal`) on the same data directory.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from hardware.drivers.id_reader_sim import fake_card
from locker.receipt_token import ReceiptKind
from tests.e2e.night_life import Hands, Life
from tests.e2e.night_world import PROXY_CASE, TERMINAL_ID, NightWorld
from tests.waiting import wait_for

BADGE = "88001234"  # tests.ui.staff_scenario's admin
STRANGER = fake_card(90, name="路人甲")
COLLECTED = 15
WRONG_CARD_FIRST = (0, 5)
DOOR_LEFT_OPEN = 2
KILLED_WITH_DOOR_OPEN = 4
DURING_OUTAGE = (6, 7, 8)
EXPIRY_DAYS = 7  # locker.expiry_days, the default
KILLED_AFTER = 7  # the second kill: just after this pickup, the outbox still full


class Night:
    """The night's script over one world; `seen` collects what the test asserts."""

    def __init__(self, world: NightWorld, root: Path) -> None:
        self.world, self.hands = world, Hands(world)
        self.config = world.terminal_config(root / "terminal")
        self.logs = root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.lives = 0
        self.outage_at = 0.0
        self.life: Life | None = None
        self.seen: dict[str, Any] = {"decisions": [], "refusals": [], "collected": {},
                                     "deposits": {}, "retrieved": [], "timings": {}}
        self.tokens = {c.case_no: world.centre.keys.issue(c.case_no, ReceiptKind.ACCEPTANCE_NOTICE)
                       for c in world.cases}

    # -- lives -------------------------------------------------------------------------------
    def start_life(self, days_later: int = 0) -> Life:
        self.lives += 1
        self.life = Life(self.config, self.logs / f"life{self.lives}.log", enrol=self.lives == 1,
                         days_later=days_later)
        self.seen["decisions"] += self.life.ready["decisions"]
        return self.life

    def run(self, cmd: dict, **kw: Any) -> dict:
        assert self.life is not None
        return self.hands.run(self.life, cmd, **kw)

    # -- monitor -----------------------------------------------------------------------------
    def alarms_at_monitor(self) -> dict[str, dict]:
        state = self.world.monitor.state
        with state.lock:
            term = state.terminals.get(TERMINAL_ID)
            return dict(term.alarms) if term else {}

    def wait_alarm(self, kind: str, raised: bool, timeout: float = 30.0) -> bool:
        return wait_for(lambda: any(a.get("type") == kind for a in
                                    self.alarms_at_monitor().values()) == raised, timeout)

    # -- the night ---------------------------------------------------------------------------
    def play(self) -> dict[str, Any]:
        started = time.monotonic()
        self.start_life()
        self.deposit_all()
        self.seen["timings"]["deposits_s"] = round(time.monotonic() - started, 1)
        for i in range(COLLECTED):
            self.citizen(i)
            if i == DOOR_LEFT_OPEN:
                self.board_offline_and_back()
        self.seen["timings"]["pickups_s"] = round(time.monotonic() - started, 1)
        first = self.world.cases[0]  # a used receipt, shown again with the right card
        self.seen["replayed"] = self.run({"do": "pickup"}, code=self.tokens[first.case_no],
                                         card=first.applicant)
        self.expire_and_retrieve()
        assert self.life is not None
        self.seen["report"] = self.run({"do": "report"})
        self.life.quit()
        self.seen["lives"] = self.lives
        self.seen["timings"]["night_s"] = round(time.monotonic() - started, 1)
        return self.seen

    def deposit_all(self) -> None:
        self.seen["signin"] = self.run({"do": "signin"}, code=BADGE)
        for case in self.world.cases:
            done = self.run({"do": "deposit", "case": case.case_no}, code=f"case:{case.case_no}")
            self.seen["deposits"][case.case_no] = done["compartment"]
        self.seen["signout"] = self.run({"do": "signout"})

    def citizen(self, i: int) -> None:
        case = self.world.cases[i]
        token = self.tokens[case.case_no]
        if i == DURING_OUTAGE[0]:
            self.world.network_down()
            self.outage_at = time.monotonic()
        if i in WRONG_CARD_FIRST:
            self.seen["refusals"].append(self.run({"do": "pickup"}, code=token, card=STRANGER))
        card = case.proxy if i == PROXY_CASE else case.applicant
        on_door = {DOOR_LEFT_OPEN: self.leave_door_open,
                   KILLED_WITH_DOOR_OPEN: self.kill_with_door_open}.get(i)
        done = self.run({"do": "pickup"}, code=token, card=card, on_door=on_door)
        self.seen["collected"][case.case_no] = done
        if "killed" in done:
            self.start_life()
        if i == KILLED_AFTER:
            assert self.life is not None
            self.life.kill()  # the arbitrary point: two pickups queued for a platform away
            self.start_life()
        if i == DURING_OUTAGE[-1]:
            self.seen["outbox_during_outage"] = self.run({"do": "report"})["outbox"]
            self.world.network_up()
            self.seen["timings"]["outage_s"] = round(time.monotonic() - self.outage_at, 1)
            back = time.monotonic()
            self.seen["receipts_after_outage"] = wait_for(
                lambda: self.receipts_at_centre() >= DURING_OUTAGE[-1] + 1, 60)
            self.seen["timings"]["drained_after_s"] = round(time.monotonic() - back, 1)

    def receipts_at_centre(self) -> int:
        from centre.platform_store import delivery_receipts

        with self.world.centre.store.engine.connect() as conn:
            return len(conn.execute(delivery_receipts.select()).all())

    def leave_door_open(self, door: dict) -> str | None:
        """The citizen takes the result and walks away; the alarm rises, then someone shuts it."""
        control = self.world.control
        control.take(door["unit"], door["channel"])
        self.seen["door_left_open_raised"] = self.wait_alarm("door_left_open", True)
        control.close(door["unit"], door["channel"])
        self.seen["door_left_open_cleared"] = self.wait_alarm("door_left_open", False)
        return None

    def kill_with_door_open(self, door: dict) -> str | None:
        """SIGKILL with the pickup's door open; the citizen takes the result and shuts it."""
        assert self.life is not None
        self.life.kill()
        self.world.control.take(door["unit"], door["channel"])
        self.world.control.close(door["unit"], door["channel"])
        return "killed"

    def board_offline_and_back(self) -> None:
        control = self.world.control
        control.offline(1)  # the board holding the results: nothing may open or be lost
        self.seen["board_offline_raised"] = self.wait_alarm("board_offline", True)
        control.online(1)
        self.seen["board_offline_cleared"] = self.wait_alarm("board_offline", False)

    def expire_and_retrieve(self) -> None:
        """Eight days on (the terminal restarted cleanly meanwhile): five results expired."""
        assert self.life is not None
        self.life.quit()
        self.start_life(days_later=EXPIRY_DAYS + 1)
        self.seen["expired"] = self.run({"do": "expired"})
        self.run({"do": "signin"}, code=BADGE)
        left = len(self.world.cases) - COLLECTED
        for _ in range(left):
            self.seen["retrieved"].append(self.run({"do": "retrieve"}))
        self.run({"do": "signout"})


def play_night(root: Path, crc_rate: float = 0.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Play the whole night in a new world; what was seen and the end-of-night accounting."""
    from tests.e2e.night_checks import account

    world = NightWorld(root, crc_rate=crc_rate)
    night: Night | None = None
    try:
        night = Night(world, root)
        seen = night.play()
        end = account(world, night.config)
        (root / "night.json").write_text(json.dumps({"seen": seen, "end": end}, default=str,
                                                    ensure_ascii=False, indent=1))
        return seen, end
    finally:
        if night is not None and night.life is not None and night.life.proc.poll() is None:
            night.life.kill()  # a night that failed half-way leaves no terminal behind
        world.close()
