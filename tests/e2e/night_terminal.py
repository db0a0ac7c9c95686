"""One life of the terminal for the night: the real KioskApp under Xvfb, driven from stdin.

`python tests/e2e/night_terminal.py CONFIG [--enrol]`. The app is composed as `kiosk run`
composes it (`open_terminal_locker`, `open_devices`) from a config that points at the real
broker, the centre's server and the simulators the parent process owns. JSON commands arrive
one a line on stdin (`{"do": "pickup"}`, see `night_steps.NightSteps`); what the life sees
goes out as `NIGHT {...}` lines on stdout. The parent may SIGKILL this process at any moment.
`--enrol` (the first life only) enrols the staff admin of tests/ui/staff_scenario.py;
`--days-later N` runs the locker's clock N days ahead (see `days_later`).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminal.app_runner import prepare_kivy  # noqa: E402
from terminal.config import load_config  # noqa: E402

COMMAND_WAIT_S = 3600.0  # between commands the life just idles, as a terminal does at night


def compress_the_hour(clock: Callable[[], datetime]) -> None:
    """Shorten the back-offs so an hour-long outage plays in seconds.

    The outbox sender pauses 5 s, doubling up to 10 min, and paho reconnects after 1 s
    doubling up to 2 min: over a real hour both settle at a try every few minutes. The night
    keeps the network away for three pickups (about 10 s), so the same back-off
    schedule is scaled down: 0.5 s doubling up to 2 s for the platform outbox (sender and
    per-entry), 1 s up to 2 s for the MQTT reconnect. Nothing else about delivery changes.
    The sender keeps time by `clock`, the locker's (see `days_later`).
    """
    import locker.outbox
    import remote.mqtt_link
    import remote.platform_sender
    import terminal.composition

    class QuickSender(remote.platform_sender.OutboxSender):
        def __init__(self, source, platform, **kw) -> None:
            super().__init__(source, platform, clock, base_pause_s=0.5, max_pause_s=2.0,
                             idle_check_s=2.0, **kw)

    terminal.composition.OutboxSender = QuickSender  # type: ignore[misc]
    defaults = locker.outbox.Outbox.__init__.__kwdefaults__
    defaults.update(base_backoff_s=0.5, max_backoff_s=2.0)
    make_client = remote.mqtt_link.MqttLink._make_client

    def quick_client(self):
        client = make_client(self)
        client.reconnect_delay_set(1, 2)
        return client

    remote.mqtt_link.MqttLink._make_client = quick_client  # type: ignore[method-assign]


def days_later(days: int) -> Callable[[], datetime]:
    """The locker's clock, `days` ahead of the wall clock (0: the wall clock itself).

    A later life plays "eight days on", when uncollected results have expired: the
    controller (journal, audit, outbox stamps, staff sessions) and the outbox sender share
    this clock, as they share the wall clock in the field.
    """
    import terminal.identity_setup

    shift = timedelta(days=days)
    if days:
        options = terminal.identity_setup.controller_options
        terminal.identity_setup.controller_options = lambda cfg: {  # type: ignore[assignment]
            **options(cfg), "clock": lambda: datetime.now(UTC) + shift}
    return lambda: datetime.now(UTC) + shift


def read_commands(into: queue.Queue) -> None:
    """Every stdin line as a command, until stdin closes (then: quit)."""
    for line in sys.stdin:
        if line.strip():
            into.put(json.loads(line))
    into.put({"do": "quit"})


def main(config_file: str, enrol: bool, days: int) -> int:
    cfg = load_config(Path(config_file))
    prepare_kivy(cfg)
    if enrol:
        from tests.ui.staff_scenario import enrol_staff

        enrol_staff(cfg)
    compress_the_hour(days_later(days))
    from terminal.app import KioskApp
    from terminal.composition import open_terminal_locker
    from terminal.devices import open_devices
    from tests.e2e.night_steps import NightSteps, emit
    from tests.ui.scenario_kit import frames, patient, run_steps

    app = KioskApp(cfg, open_terminal_locker, open_devices)
    commands: queue.Queue = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    steps = NightSteps(app)
    seen: dict = {}

    def life() -> Iterator:
        yield patient(lambda: app.runtime is not None and app.devices is not None
                      and app.locker_up, 60)
        yield frames(5)
        rt = app.runtime
        emit(at="ready", decisions=[f"{d.kind.value}:{d.decision}" for d in rt.decisions])
        while True:
            yield patient(lambda: not commands.empty(), COMMAND_WAIT_S)
            cmd = commands.get()
            if cmd["do"] == "quit":
                emit(done="quit")
                return
            yield from getattr(steps, cmd["do"])(cmd)

    run_steps(app, life(), seen, timeout_s=40)
    app.run()
    if "timed_out_at" in seen or "error" in seen:
        emit(failed=seen, screen=getattr(app.root, "current", None))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--enrol" in sys.argv[2:],
                  int(sys.argv[sys.argv.index("--days-later") + 1])
                  if "--days-later" in sys.argv else 0))
