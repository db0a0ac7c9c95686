"""A locker rig with receipts, pickup policy and staff sign-in, for the identity tests.

Reuses the fake bus and clock of locker_fakes; receipts are signed with a test key whose
issuer follows the fake clock. Fast argon2 parameters keep the staff tests quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher

from locker.controller import LockerController
from locker.pickup_policy import PickupMethod, PickupPolicy
from locker.receipt_keys import generate_private_key
from locker.receipt_token import ReceiptIssuer, ReceiptKind
from locker.settings import LockerSettings
from locker.staff_identity import Technician
from locker.staff_roles import StaffSettings
from locker.store import Store
from tests.unit.locker_fakes import (
    TEST_HASH_KEY_ONLY_FOR_TESTS,
    FakeBus,
    FakeClock,
    fake_id,
    fake_phone,
)

PLATFORM_KEY = generate_private_key()
KID = "platform-2026a"
FAST_PH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
BOTH = frozenset(PickupMethod)


@dataclass
class IdRig:
    """A controller with identity options over a tmp database, a fake bus and a fake clock."""

    controller: LockerController
    bus: FakeBus
    clock: FakeClock
    store: Store
    path: Path
    policy: PickupPolicy
    staff_settings: StaffSettings
    issuer: ReceiptIssuer

    def receipt(self, case_no: str, kind: ReceiptKind = ReceiptKind.ACCEPTANCE_NOTICE,
                valid_for_s: int | None = 90 * 86400) -> str:
        return self.issuer.issue(case_no, kind, valid_for_s=valid_for_s)

    def restart(self, start: bool = True) -> IdRig:
        """A new controller on the same database, as after a crash or a power cut."""
        self.controller.close()
        self.bus.listeners.clear()
        self.store.close()
        return make_id_rig(self.path.parent, bus=self.bus, clock=self.clock, policy=self.policy,
                           staff_settings=self.staff_settings, start=start)

    def actions(self) -> list[tuple[str, str, str]]:
        with self.store.read() as conn:
            return [(r["actor"], r["action"], r["detail"])
                    for r in conn.execute("SELECT * FROM audit ORDER BY seq")]

    def close_door(self, compartment_id: str, occupied: bool = False) -> None:
        unit, channel = unit_channel(compartment_id)
        self.bus.set_door(unit, channel, False, occupied=occupied)


def unit_channel(compartment_id: str) -> tuple[int, int]:
    return (1 if compartment_id[0] == "A" else 2), int(compartment_id[1:]) - 1


def make_id_rig(tmp_path: Path, *, bus: FakeBus | None = None, clock: FakeClock | None = None,
                policy: PickupPolicy | None = None, staff_settings: StaffSettings | None = None,
                start: bool = True, keys: bool = True) -> IdRig:
    bus = bus or FakeBus()
    clock = clock or FakeClock()
    policy = policy or PickupPolicy(methods=BOTH)
    staff_settings = staff_settings or StaffSettings()
    path = tmp_path / "locker.db"
    store = Store.open(path)
    controller = LockerController(
        store, bus, LockerSettings(hash_key=TEST_HASH_KEY_ONLY_FOR_TESTS), clock.now,
        monotonic=clock.monotonic, sleep=clock.sleep, pickup_policy=policy,
        receipt_keys={KID: PLATFORM_KEY.public_key()} if keys else None,
        staff_settings=staff_settings, password_hasher=FAST_PH)
    if start:
        controller.start()
        bus.push()
    issuer = ReceiptIssuer(PLATFORM_KEY, KID, clock=lambda: clock.now().timestamp())
    return IdRig(controller, bus, clock, store, path, policy, staff_settings, issuer)


def deposit(rig: IdRig, n: int = 1, *, case_no: str | None = None, proxy: int | None = None,
            code: str | None = None, staff: object = Technician("S001"), name: str = "测试申请人"):
    """Deposit fake applicant n's item and close the door on it; proxy: fake proxy number."""
    result = rig.controller.deposit(
        case_no=case_no or f"CASE-{n:04d}", applicant_id_number=fake_id(n),
        applicant_name=name, phone=fake_phone(n), size="S", staff=staff, pickup_code=code,
        proxy_name=None if proxy is None else "测试代领人",
        proxy_id_number=None if proxy is None else fake_id(proxy))
    if result.compartment_id:
        rig.close_door(result.compartment_id, occupied=True)
    return result
