"""The composition root: the one place that picks drivers and simulators from the config.

`open_locker(config)` gives a started locker: store, bus owner on the configured link (or an
in-process simulated bus on its own pseudo-terminal when `bus.link = "sim"`), controller
reconciled and watching the doors. Nothing else in the code base chooses a driver.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.board_profile import BoardProfile, load_profile
from hardware.drivers.board_sim import SimBoard, SimBus
from hardware.drivers.bus_owner import BusTiming, ModbusLockBus
from hardware.drivers.modbus_board import ModbusBoard
from hardware.drivers.rtu_link import RtuLink, SerialSettings
from hardware.drivers.sim_serve import Endpoint, open_endpoint
from hardware.lock_board import BoardUnavailable
from locker.controller import LockerController
from locker.models import Size
from locker.reconcile import Decision
from locker.settings import CompartmentSpec, LockerSettings
from locker.store import Store
from remote.platform_port import Platform
from remote.platform_sender import OutboxSender
from terminal import identity_setup, integrity_setup
from terminal.config import Config
from terminal.owner_lock import ROLE_TERMINAL, OwnerLock, bus_lock, data_dir_lock

log = logging.getLogger(__name__)

SIM_LINK = "sim"
BUS_READY_S = 30.0  # start-up of the bus worker: relays off and a first read of every board
# Per 24 channels, as common result lockers are built: small on top, extra large at the bottom.
_SIZE_SHARE = ((Size.S, 10), (Size.M, 8), (Size.L, 4), (Size.XL, 2))


def unit_letters(unit: int) -> str:
    """The letters of a board's compartments, from its unit id: 1 A, 26 Z, 27 AA, 28 AB ...

    Taken from the unit id, not the board's place in the list, so adding or removing a board
    never renames another board's doors.
    """
    letters = ""
    while unit > 0:
        unit, rest = divmod(unit - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def auto_layout(boards: list[tuple[int, int]]) -> tuple[CompartmentSpec, ...]:
    """One compartment per channel, named by unit (unit 2 channel 0 is B01); the usual sizes."""
    specs = []
    for unit, channels in sorted(boards):
        sizes: list[Size] = []
        for size, share in _SIZE_SHARE:
            sizes += [size] * round(share * channels / 24)
        sizes = (sizes + [Size.XL] * channels)[:channels]
        letter = unit_letters(unit)
        specs += [CompartmentSpec(f"{letter}{ch + 1:02d}", unit, ch, sizes[ch])
                  for ch in range(channels)]
    return tuple(specs)


def locker_settings(cfg: Config, profiles: dict[int, BoardProfile]) -> LockerSettings:
    """The locker domain's settings from the terminal config (layout, timing, hash key)."""
    if cfg.locker.compartments:
        layout = tuple(CompartmentSpec(c.id, c.unit, c.channel, Size(c.size))
                       for c in cfg.locker.compartments)
    else:
        layout = auto_layout([(u, p.channels) for u, p in profiles.items()])
    lk = cfg.locker
    return LockerSettings(hash_key=cfg.hash_key(), layout=layout, expiry_days=lk.expiry_days,
                          reminder_hours_before=lk.reminder_hours_before,
                          door_left_open_s=lk.door_left_open_s,
                          door_open_confirm_s=lk.door_open_confirm_s,
                          jam_retries=lk.jam_retries, terminal_id=cfg.terminal.id)


@dataclass
class LockerRuntime:
    """A running locker and what it owns; `close()` releases everything in order."""

    config: Config
    store: Store
    bus: ModbusLockBus
    controller: LockerController
    decisions: list[Decision]
    sim: SimBus | None = None
    sim_endpoint: Endpoint | None = None
    mqtt: Any = None  # terminal.mqtt_setup.MqttRuntime when [mqtt] enabled
    platform: Platform | None = None  # the [platform] adapter the outbox is delivered through
    sender: OutboxSender | None = None  # drains the controller's outbox into `platform`
    expiry: Any = None  # terminal.expiry_sweep.ExpirySweep: flags uncollected results
    guard: Any = None  # terminal.integrity_setup.LockerGuard: the audit anchor and the backups
    locks: list[OwnerLock] = field(default_factory=list)  # data dir and bus, released last
    control: Any = None  # terminal.control_server.ControlServer of the running terminal
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Stop the controller, the bus worker, the simulator and the store."""
        if self._closed:
            return
        self._closed = True
        if self.control is not None:
            self.control.close()
        if self.expiry is not None:
            self.expiry.close()
        if self.mqtt is not None:
            self.mqtt.close()
        close_platform = getattr(self.platform, "close", None)
        if close_platform is not None:
            close_platform()  # first: ends a delivery's back-off wait at once
        if self.sender is not None:
            self.sender.close()
        self.controller.close()
        self.bus.close()
        if self.sim_endpoint is not None:
            self.sim_endpoint.stop()
        if self.guard is not None:
            self.guard.close()  # the final audit anchor, before the store closes
        self.store.close()
        for lock in self.locks:
            lock.release()


def _start_sim(cfg: Config, profiles: dict[int, BoardProfile]) -> tuple[SimBus, Endpoint, str]:
    sim = SimBus(boards={u: SimBoard(u, p) for u, p in profiles.items()})
    endpoint = open_endpoint(sim, "pty", cfg.bus.baud)
    link = endpoint.start()
    log.info("simulated lock bus (%d boards) on %s", len(profiles), link)
    return sim, endpoint, link


def _start_sender(cfg: Config, controller: LockerController, platform: Platform | None = None,
                  ) -> tuple[Platform | None, OutboxSender | None]:
    """The platform adapter and the thread that delivers the outbox through it (DESIGN §3).

    An adapter that cannot be opened does not stop the locker: messages wait in the outbox.
    The app passes the adapter it already opened for guides, so there is one per process.
    """
    from terminal.platform_setup import open_platform

    try:
        platform = platform if platform is not None else open_platform(cfg)
    except Exception:
        log.exception("platform adapter not opened: the outbox keeps every message")
        return None, None
    sender = OutboxSender(controller.outbox, platform)
    controller.outbox.add_listener(sender.notify)  # an enqueue wakes it at once
    return platform, sender.start()


def take_ownership(cfg: Config, role: str) -> list[OwnerLock]:
    """The OS locks on the data dir and the bus (DESIGN §3); OwnedElsewhere when taken.

    The in-process simulated bus is private to this process and needs no lock.
    """
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    locks = [data_dir_lock(cfg.data_dir, role).acquire()]
    if cfg.bus.link != SIM_LINK:
        try:
            locks.append(bus_lock(cfg.bus.link, role).acquire())
        except BaseException:
            locks[0].release()
            raise
    return locks


def open_locker(cfg: Config, platform: Platform | None = None, *, role: str = "kiosk locker",
                connect_mqtt: bool = True, restore_from: Path | None = None) -> LockerRuntime:
    """Open the store, start the bus owner and the controller, reconcile; ready to use.

    `platform`: an adapter already open (the app's); otherwise one is opened from the config.
    `role` is written into the owner lock (terminal.owner_lock) for whoever finds it taken.
    `connect_mqtt=False` for one-shot verbs: the MQTT client id is the terminal's alone, and
    what the monitor must hear is read from the audit log when the terminal runs.
    A start that fails half way releases what it opened (port, threads, simulator, store).
    Refuses with LockerIntegrityError when the database, its anchor, the hash key and the item
    sensors disagree (terminal.integrity_setup); `restore_from` puts a backup in place first.
    """
    locks = take_ownership(cfg, role)
    undo = contextlib.ExitStack()
    try:
        runtime = _open_owned(cfg, platform, undo, connect_mqtt, restore_from)
    except BaseException:
        undo.close()
        for lock in locks:
            lock.release()
        raise
    runtime.locks = locks
    return runtime


def _open_owned(cfg: Config, platform: Platform | None, undo: contextlib.ExitStack,
                connect_mqtt: bool, restore_from: Path | None) -> LockerRuntime:
    """`open_locker`'s steps; what each opens goes on `undo` until the runtime owns it."""
    profiles = {b.unit: load_profile(b.profile) for b in cfg.bus.boards}
    guard = integrity_setup.preflight(cfg, restore_from)  # before a key or database is created
    settings = locker_settings(cfg, profiles)
    sim = endpoint = None
    link = cfg.bus.link
    if link == SIM_LINK:
        sim, endpoint, link = _start_sim(cfg, profiles)
        undo.callback(endpoint.stop)
    undo.callback(guard.drop_refused_database)  # runs after the store is closed
    store = Store.open(cfg.db_path)
    undo.callback(store.close)
    serial = SerialSettings(link=link, baud=cfg.bus.baud, parity=cfg.bus.parity,
                            stopbits=cfg.bus.stopbits,
                            response_timeout=cfg.bus.response_timeout_s)
    boards = [ModbusBoard(b.unit, profiles[b.unit], b.pulse_ms) for b in cfg.bus.boards]
    timing = BusTiming(retries=cfg.bus.retries, poll_interval=cfg.bus.poll_interval_s,
                       offline_probe=cfg.bus.offline_probe_s)
    bus = ModbusLockBus(RtuLink(serial), boards, timing)
    undo.callback(bus.close)
    bus.start()
    if not bus.wait_ready(BUS_READY_S):
        raise BoardUnavailable(f"the lock bus on {link} did not start within {BUS_READY_S:.0f} s"
                               " (its worker stopped or hung; see the log)")
    guard.admit(store, bus, settings.layout)
    undo.callback(guard.close)
    controller = LockerController(store, bus, settings, **identity_setup.controller_options(cfg))
    undo.callback(controller.close)
    decisions = controller.start()
    runtime = LockerRuntime(cfg, store, bus, controller, decisions, sim, endpoint, guard=guard)
    undo.pop_all()  # the runtime owns everything now; it closes all of it on a failure
    undo.callback(runtime.close)
    runtime.platform, runtime.sender = _start_sender(cfg, controller, platform)
    if runtime.platform is not None:
        from terminal.key_sync import sync_receipt_keys

        sync_receipt_keys(cfg, runtime.platform, controller)
    if cfg.mqtt.enabled and connect_mqtt:
        from terminal.mqtt_setup import start_mqtt

        runtime.mqtt = start_mqtt(cfg, controller, bus, platform=runtime.platform,
                                  sender=runtime.sender)
    return runtime


def open_terminal_locker(cfg: Config, platform: Platform | None = None) -> LockerRuntime:
    """`open_locker` for the running terminal: it also flags uncollected results itself.

    The expiry sweep (terminal.expiry_sweep) and the control channel (terminal.control_server,
    which carries out `kiosk locker ...` on this locker) run as long as the runtime; one-shot
    verbs use plain `open_locker`.
    """
    from terminal.control_server import ChannelRefused, ControlServer
    from terminal.expiry_sweep import ExpirySweep

    runtime = open_locker(cfg, platform, role=ROLE_TERMINAL)
    runtime.expiry = ExpirySweep(runtime.controller).start()
    runtime.guard.schedule_backups(runtime.store)
    try:
        runtime.control = ControlServer(runtime).start()
    except (ChannelRefused, OSError) as err:  # the terminal serves; technicians stop it to act
        log.error("no control channel for `kiosk locker ...`: %s", err)
    return runtime
