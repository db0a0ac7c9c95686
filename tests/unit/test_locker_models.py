import pytest

from locker.identity_hash import (
    IdentityHasher,
    mask_id_number,
    mask_name,
    mask_phone,
)
from locker.models import ASSIGNABLE, UNAVAILABLE, CompartmentState, Size
from locker.settings import LockerSettings, default_layout
from tests.unit.locker_fakes import TEST_HASH_KEY_ONLY_FOR_TESTS, fake_id, fake_phone


def test_sizes_are_ordered():
    assert Size.S < Size.M < Size.L < Size.XL
    assert sorted([Size.XL, Size.S, Size.L, Size.M]) == [Size.S, Size.M, Size.L, Size.XL]
    assert Size.M <= Size.M


def test_state_sets_do_not_overlap():
    assert not ASSIGNABLE & UNAVAILABLE
    assert CompartmentState.RESERVED not in ASSIGNABLE


def test_default_layout_two_boards_of_24():
    layout = default_layout()
    assert len(layout) == 48
    assert layout[0].id == "A01"
    assert (layout[0].unit, layout[0].channel) == (1, 0)
    assert layout[-1].id == "B24"
    assert (layout[-1].unit, layout[-1].channel) == (2, 23)
    assert {c.size for c in layout} == set(Size)


def test_settings_refuse_missing_or_short_key():
    with pytest.raises(ValueError, match="hash_key"):
        LockerSettings(hash_key=b"short")
    settings = LockerSettings(hash_key=TEST_HASH_KEY_ONLY_FOR_TESTS)
    assert "unit-test-key" not in repr(settings)


def test_settings_from_mapping_refuses_unknown_keys():
    s = LockerSettings.from_mapping({"expiry_days": 3, "reminder_hours_before": [24]},
                                    TEST_HASH_KEY_ONLY_FOR_TESTS)
    assert s.expiry_days == 3
    assert s.reminder_hours_before == (24,)
    with pytest.raises(ValueError, match="bogus"):
        LockerSettings.from_mapping({"bogus": 1}, TEST_HASH_KEY_ONLY_FOR_TESTS)


def test_masks():
    assert mask_id_number("00000019000101123X") == "0000**********123X"
    assert mask_name("张三") == "张*"
    assert mask_name("王小明") == "王*明"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_phone("10012345678") == "100****5678"
    assert mask_phone("+86 100-1234-5678") == "100****5678"


def test_keyed_hashes_normalise_and_separate_kinds():
    h = IdentityHasher(TEST_HASH_KEY_ONLY_FOR_TESTS)
    other = IdentityHasher(b"another-test-key-0000000000000000")
    assert h.id_number(fake_id(1)) == h.id_number(" " + fake_id(1) + " ")
    assert h.id_number("00000019000101123x") == h.id_number("00000019000101123X")
    assert h.id_number(fake_id(1)) != other.id_number(fake_id(1))
    assert h.phone(fake_phone(1)) != h.pickup_code(fake_phone(1))
    assert len(h.id_number(fake_id(1))) == 64


def test_malformed_id_is_refused_without_echo():
    h = IdentityHasher(TEST_HASH_KEY_ONLY_FOR_TESTS)
    with pytest.raises(ValueError) as err:
        h.id_number("12345")
    assert "12345" not in str(err.value)
