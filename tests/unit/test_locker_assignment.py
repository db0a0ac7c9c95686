import pytest

from locker.assignment import SensorView, choose
from locker.errors import CompartmentNotAssignable, NoCompartmentAvailable
from locker.models import Compartment, CompartmentState, Size

E = CompartmentState.EMPTY


def comp(cid, size, unit=1, channel=0, state=E, enabled=True):
    return Compartment(cid, unit, channel, size, enabled, state)


POOL = [
    comp("A01", Size.S, channel=0),
    comp("A02", Size.S, channel=1),
    comp("A03", Size.M, channel=2),
    comp("A04", Size.L, channel=3),
    comp("B01", Size.XL, unit=2, channel=0),
]
ALL_ONLINE = SensorView(frozenset({1, 2}))


def test_smallest_fitting_size_first():
    assert choose(POOL, Size.S, set(), ALL_ONLINE).id == "A01"
    assert choose(POOL, Size.M, set(), ALL_ONLINE).id == "A03"
    assert choose(POOL, Size.XL, set(), ALL_ONLINE).id == "B01"


@pytest.mark.parametrize("state", [CompartmentState.OCCUPIED, CompartmentState.RESERVED,
                                   CompartmentState.FAULT, CompartmentState.SUSPECT,
                                   CompartmentState.DISABLED])
def test_skips_unavailable_states(state):
    pool = [comp("A01", Size.S, state=state), comp("A02", Size.S, channel=1)]
    assert choose(pool, Size.S, set(), ALL_ONLINE).id == "A02"


def test_skips_disabled_busy_offline_and_sensor_occupied_or_open():
    pool = [comp("A01", Size.S, enabled=False), comp("A02", Size.S, channel=1),
            comp("A03", Size.S, channel=2), comp("A04", Size.S, channel=3),
            comp("B01", Size.S, unit=2), comp("A05", Size.M, channel=4)]
    view = SensorView(frozenset({1}), occupied=frozenset({(1, 2)}),
                      open_doors=frozenset({(1, 3)}))
    assert choose(pool, Size.S, {"A02"}, view).id == "A05"


def test_falls_back_to_larger_size():
    pool = [comp("A01", Size.S, state=CompartmentState.OCCUPIED), comp("A03", Size.M)]
    assert choose(pool, Size.S, set(), ALL_ONLINE).id == "A03"


def test_none_fits_is_a_clear_error():
    with pytest.raises(NoCompartmentAvailable, match="size XL"):
        choose(POOL, Size.XL, set(), SensorView(frozenset({1})))


def test_chosen_by_hand():
    assert choose(POOL, Size.S, set(), ALL_ONLINE, chosen="A04").id == "A04"
    with pytest.raises(CompartmentNotAssignable, match="too small"):
        choose(POOL, Size.L, set(), ALL_ONLINE, chosen="A01")
    with pytest.raises(CompartmentNotAssignable, match="being opened"):
        choose(POOL, Size.S, {"A02"}, ALL_ONLINE, chosen="A02")
    with pytest.raises(CompartmentNotAssignable, match="board offline"):
        choose(POOL, Size.S, set(), SensorView(frozenset({1})), chosen="B01")
    with pytest.raises(CompartmentNotAssignable, match="no compartment"):
        choose(POOL, Size.S, set(), ALL_ONLINE, chosen="Z99")
