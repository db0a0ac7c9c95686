"""Which compartment a new item goes into: the smallest free size that fits.

Skips compartments that are disabled, faulty, suspect, reserved or occupied, that have an
opening under way, whose board is offline, or whose sensors read an item or an open door;
a compartment chosen by hand is allowed only if it passes the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from locker.errors import CompartmentNotAssignable, NoCompartmentAvailable
from locker.models import ASSIGNABLE, Compartment, Size


@dataclass(frozen=True)
class SensorView:
    """What the boards last reported: online units, channels reading occupied or door open."""

    online_units: frozenset[int]
    occupied: frozenset[tuple[int, int]] = frozenset()
    open_doors: frozenset[tuple[int, int]] = frozenset()


def refusal(compartment: Compartment, busy: set[str], view: SensorView) -> str | None:
    """Why the compartment cannot take a new item, or None if it can."""
    where = (compartment.unit, compartment.channel)
    if not compartment.enabled:
        return "disabled"
    if compartment.state not in ASSIGNABLE:
        return compartment.state.value
    if compartment.id in busy:
        return "being opened"
    if compartment.unit not in view.online_units:
        return "board offline"
    if where in view.occupied:
        return "item sensor reads occupied"
    if where in view.open_doors:
        return "door reads open"
    return None


def choose(compartments: Iterable[Compartment], size: Size, busy: set[str], view: SensorView,
           chosen: str | None = None) -> Compartment:
    """The compartment for an item of `size` (or the one `chosen` by hand, if assignable)."""
    pool = list(compartments)
    if chosen is not None:
        match = next((c for c in pool if c.id == chosen), None)
        if match is None:
            raise CompartmentNotAssignable(f"no compartment {chosen!r}")
        if match.size < size:
            raise CompartmentNotAssignable(
                f"compartment {chosen} is size {match.size.value}, too small for {size.value}")
        reason = refusal(match, busy, view)
        if reason is not None:
            raise CompartmentNotAssignable(f"compartment {chosen} cannot be used: {reason}")
        return match
    fitting = sorted((c for c in pool if size <= c.size and refusal(c, busy, view) is None),
                     key=lambda c: (c.size.rank, c.id))
    if not fitting:
        raise NoCompartmentAvailable(
            f"no free compartment of size {size.value} or larger; "
            "free one up, or take the item back to the result window")
    return fitting[0]
