from datetime import timedelta

from locker.models import ItemState, NoticeKind
from locker.records import get_item
from tests.unit.locker_fakes import deposit, make_rig, pick


def test_reminders_once_each_then_expiry(tmp_path):
    rig = make_rig(tmp_path)
    dep = deposit(rig)
    start = rig.clock.now()
    ctl = rig.controller
    assert ctl.due_reminders(start + timedelta(days=3)) == []
    first = ctl.due_reminders(start + timedelta(days=4, minutes=1))
    assert [(n.kind, n.due_at) for n in first] == [
        (NoticeKind.REMINDER, start + timedelta(days=4))]
    assert ctl.due_reminders(start + timedelta(days=4, hours=2)) == []
    second = ctl.due_reminders(start + timedelta(days=6, hours=1))
    assert [n.due_at for n in second] == [start + timedelta(days=6)]
    assert ctl.due_reminders(start + timedelta(days=6, hours=2)) == []
    assert ctl.expire_due(start + timedelta(days=6, hours=23)) == []
    assert ctl.expire_due(start + timedelta(days=7)) == [dep.item_id]
    assert ctl.expire_due(start + timedelta(days=8)) == []
    assert ctl.due_reminders(start + timedelta(days=8)) == []
    with rig.store.read() as conn:
        assert get_item(conn, dep.item_id).state is ItemState.EXPIRED
        kinds = [r[0] for r in conn.execute("SELECT kind FROM notices ORDER BY id")]
    assert kinds == ["reminder", "reminder", "expired"]


def test_collected_items_get_no_reminder(tmp_path):
    rig = make_rig(tmp_path)
    deposit(rig, code="11112222")
    pick(rig, "11112222")
    rig.bus.set_door(1, 0, False, occupied=False)
    later = rig.clock.now() + timedelta(days=10)
    assert rig.controller.due_reminders(later) == []
    assert rig.controller.expire_due(later) == []


def test_expired_item_can_still_be_collected(tmp_path):
    rig = make_rig(tmp_path)
    dep = deposit(rig, code="11112222")
    rig.clock.advance(8 * 86400)
    rig.controller.expire_due()
    result = pick(rig, "11112222")
    rig.bus.set_door(1, 0, False, occupied=False)
    assert rig.controller.wait_closed(result.intent_id, 1)
    with rig.store.read() as conn:
        assert get_item(conn, dep.item_id).state is ItemState.COLLECTED


def test_short_expiry_skips_reminders_before_deposit(tmp_path):
    rig = make_rig(tmp_path, expiry_days=2)
    deposit(rig)
    notices = rig.controller.due_reminders(rig.clock.now() + timedelta(days=1, hours=1))
    assert [n.due_at - rig.clock.now() for n in notices] == [timedelta(days=1)]
