import threading

from locker import audit
from locker.models import CompartmentState, Outcome
from locker.staff_identity import Technician
from tests.unit.locker_fakes import fake_id, fake_phone, make_rig


def test_operations_while_the_bus_thread_polls(tmp_path):
    """Callers and a polling bus thread share the store; completions come only from polls."""
    rig = make_rig(tmp_path)
    ctl = rig.controller
    stop = threading.Event()

    def poll():  # the bus thread: a poll every 2 ms (its period, not a synchronisation)
        while not stop.wait(0.002):
            rig.bus.push()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        codes = {}
        for n in range(8):
            result = ctl.deposit(f"CASE-{n}", fake_id(n), "测试人", fake_phone(n), "S",
                                 Technician("S001"))
            assert result.outcome is Outcome.OPENED
            spec = rig.settings.spec(result.compartment_id)
            rig.bus.set_door(spec.unit, spec.channel, False, occupied=True, push=False)
            assert ctl.wait_closed(result.intent_id, timeout=10)
            codes[result.pickup_code] = (spec, n)
        assert ctl.status().counts[CompartmentState.OCCUPIED] == 8
        for code, (spec, n) in codes.items():
            result = ctl.pickup_with_code(code, fake_id(n))
            assert result.outcome is Outcome.OPENED
            rig.bus.set_door(spec.unit, spec.channel, False, occupied=False, push=False)
            assert ctl.wait_closed(result.intent_id, timeout=10)
    finally:
        stop.set()
        poller.join(10)
    assert ctl.status().counts[CompartmentState.EMPTY] == 48
    assert ctl.open_alarms() == []
    assert ctl.tasks() == []
    assert audit.verify(rig.store, audit.head_key(rig.settings.hash_key)).ok
