"""The reference model: what the locker's world should be, and the pulses it may explain.

Physical truth lives in the simulator (doors, item sensors, every unlock pulse per channel);
this model adds what only the test knows: who deposited what where, who may collect it with
which code, which pulses an operation may cause, and which compartments have ever held an item
(their wiring is fixed from then on, DESIGN §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.drivers.board_sim import SimBus
from locker.models import Size
from tests.integration.locker_model.adapter import Wire

Key = tuple[int, int]
CHANNELS = 4  # compartments per board in the base layout: small, so collisions are likely
SIZES = (Size.S, Size.S, Size.M, Size.L)


def base_layout(units: tuple[int, ...]) -> tuple[Wire, ...]:
    """A01..A04 on the first unit, B01..B04 on the second: channels 0..3."""
    return tuple(Wire(f"{chr(ord('A') + k)}{ch + 1:02d}", unit, ch, SIZES[ch])
                 for k, unit in enumerate(units) for ch in range(CHANNELS))


def changed_layout(base: tuple[Wire, ...], variant: str) -> tuple[Wire, ...]:
    """A technician's edited layout: same boards, other wiring or sizes (no physical change)."""
    if variant == "base":
        return base
    if variant == "swap":  # the first two compartments of board one swap channels
        a, b, *rest = base
        return (Wire(a.id, b.unit, b.channel, a.size), Wire(b.id, a.unit, a.channel, b.size),
                *rest)
    if variant == "shift":  # every compartment moves one channel up (channel 4 was spare)
        return tuple(Wire(w.id, w.unit, w.channel + 1, w.size) for w in base)
    if variant == "resize":  # every size one step larger, XL stays
        order = list(Size)
        return tuple(Wire(w.id, w.unit, w.channel, order[min(order.index(w.size) + 1, 3)])
                     for w in base)
    raise ValueError(variant)


LAYOUT_VARIANTS = ("base", "swap", "shift", "resize")


@dataclass
class Item:
    """A result deposited by the test: where it physically is and who may collect it."""

    case_no: str
    compartment_id: str
    key: Key  # the board channel it physically sits behind
    applicant: str
    proxy: str | None
    code: str
    code_spent: bool = False  # a pickup with this code pulsed the lock: it never opens again
    inside: bool = True


@dataclass
class World:
    """The model's state, next to the simulator it describes."""

    sim: SimBus
    wiring: dict[str, Wire] = field(default_factory=dict)  # what each compartment must open
    items: dict[str, Item] = field(default_factory=dict)  # by case number
    used: set[str] = field(default_factory=set)  # compartments that have held an item
    busy: dict[Key, int | None] = field(default_factory=dict)  # doors left open: intent id
    forced: set[Key] = field(default_factory=set)  # doors opened with no operation
    pulses: dict[Key, int] = field(default_factory=dict)  # unlock counts last accounted for
    violations: list[str] = field(default_factory=list)

    # -- the simulator's physical side ------------------------------------------------------

    def door_open(self, key: Key) -> bool:
        """The physical door."""
        with self.sim.lock:
            return self.sim.board(key[0]).channel(key[1]).door_open

    def items_at(self, key: Key) -> int:
        """Items physically behind a door (the item sensor)."""
        with self.sim.lock:
            return self.sim.board(key[0]).channel(key[1]).item_count

    def unlock_counts(self) -> dict[Key, int]:
        """Every unlock pulse the simulator saw, per channel."""
        with self.sim.lock:
            return {(u, i): ch.unlock_count for u, b in self.sim.boards.items()
                    for i, ch in enumerate(b.channels)}

    def new_pulses(self) -> dict[Key, int]:
        """Pulses since the last call, per channel (accounted for from now on)."""
        now = self.unlock_counts()
        fresh = {k: n - self.pulses.get(k, 0) for k, n in now.items()
                 if n != self.pulses.get(k, 0)}
        self.pulses = now
        return fresh

    # -- explaining pulses ------------------------------------------------------------------

    def explain(self, what: str, allowed: Key | None, max_pulses: int) -> dict[Key, int]:
        """Account the pulses of one step: only `allowed` may have pulsed, at most `max_pulses`.

        Every other pulse is a door opened for nobody in particular: a violation.
        """
        fresh = self.new_pulses()
        for key, n in fresh.items():
            if key != allowed:
                self.violate(f"{what}: unexplained unlock pulse on board {key[0]} channel "
                             f"{key[1]} (allowed: {allowed})")
            elif n > max_pulses:
                self.violate(f"{what}: {n} unlock pulses on board {key[0]} channel {key[1]} "
                             f"for one operation (at most {max_pulses})")
        return fresh

    def violate(self, text: str) -> None:
        """Record a violation (the machine fails the sequence on it)."""
        self.violations.append(text)

    # -- queries ----------------------------------------------------------------------------

    def item_at(self, key: Key) -> Item | None:
        """The model's item inside behind a door."""
        return next((i for i in self.items.values() if i.inside and i.key == key), None)

    def occupied(self, compartment_id: str) -> bool:
        """Whether the compartment holds an item in the model."""
        return any(i.inside and i.compartment_id == compartment_id for i in self.items.values())
