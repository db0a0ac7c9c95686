"""Staff roles and what each may do; the signed-in session staff operations take.

Couriers (物料流转员) put results in and take uncollected ones back; technicians run maintenance;
admins may do everything and manage staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

from locker.errors import LockerError


class Role(StrEnum):
    """A staff member's role."""

    COURIER = "courier"
    TECHNICIAN = "technician"
    ADMIN = "admin"


class Permission(StrEnum):
    """One kind of staff action."""

    DEPOSIT = "deposit"
    RETRIEVE = "retrieve"
    OPEN = "open"
    DOOR_TEST = "door_test"
    ENABLE = "enable"  # take compartments out of service and back
    MAINTENANCE = "maintenance"  # maintenance mode, staff tasks
    MANAGE_STAFF = "manage_staff"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.COURIER: frozenset({Permission.DEPOSIT, Permission.RETRIEVE}),
    Role.TECHNICIAN: frozenset({Permission.OPEN, Permission.DOOR_TEST, Permission.ENABLE,
                                Permission.MAINTENANCE}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class StaffSettings:
    """Lock-out after repeated failures, session length and the shortest PIN."""

    max_failures: int = 5
    lockout_s: float = 900.0
    session_s: float = 900.0
    min_pin_digits: int = 6

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("staff: max_failures must be at least 1")
        if self.lockout_s <= 0 or self.session_s <= 0:
            raise ValueError("staff: lockout_s and session_s must be positive")
        if self.min_pin_digits < 6:
            raise ValueError("staff: min_pin_digits must be at least 6")


@dataclass(frozen=True)
class StaffMember:
    """An enrolled staff member as listed (no badge, no PIN)."""

    staff_id: str
    name: str
    role: Role
    active: bool
    failures: int
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member; staff operations accept it instead of a plain staff id."""

    staff_id: str
    name: str
    role: Role
    signed_in_at: datetime
    expires_at: datetime
    token: str = field(repr=False, default="")

    def may(self, permission: Permission) -> bool:
        """Whether the role allows this kind of action."""
        return permission in ROLE_PERMISSIONS[self.role]


class StaffNotAllowed(LockerError):
    """The session may not do this (role, expired, signed out, deactivated); audited."""

    def __init__(self, staff_id: str, permission: Permission, why: str) -> None:
        super().__init__(f"staff {staff_id} may not {permission.value}: {why}")
        self.staff_id = staff_id
        self.permission = permission
        self.why = why


class SignInRefusal(StrEnum):
    """Why a sign-in failed."""

    UNKNOWN_BADGE = "unknown_badge"
    WRONG_PIN = "wrong_pin"
    LOCKED_OUT = "locked_out"
    INACTIVE = "inactive"


SIGN_IN_MESSAGES: dict[SignInRefusal, tuple[str, str]] = {
    SignInRefusal.UNKNOWN_BADGE: ("工作证无法识别。", "This badge is not known here."),
    SignInRefusal.WRONG_PIN: ("密码错误。", "Wrong PIN."),
    SignInRefusal.LOCKED_OUT: ("错误次数过多，账号已暂时锁定，请{minutes}分钟后再试。",
                               "Too many failures: sign-in is locked; try again in "
                               "{minutes} min."),
    SignInRefusal.INACTIVE: ("该账号已停用。", "This staff account is deactivated."),
}


class SignInRefused(Exception):
    """A sign-in failed: the reason, a lock-out end if any, and messages in both languages."""

    def __init__(self, reason: SignInRefusal, locked_until: datetime | None = None,
                 minutes: int = 0) -> None:
        zh, en = SIGN_IN_MESSAGES[reason]
        self.reason = reason
        self.locked_until = locked_until
        self.message_zh = zh.format(minutes=minutes)
        self.message_en = en.format(minutes=minutes)
        super().__init__(f"{reason.value}: {self.message_en}")


def check_pin(pin: str, min_digits: int = 6) -> None:
    """PIN rules: digits only, long enough, not one digit repeated, not a run, not a pattern.

    Raises ValueError saying which rule failed (never echoing the PIN).
    """
    if not (pin.isascii() and pin.isdigit()):
        raise ValueError("PIN: digits only")
    if not min_digits <= len(pin) <= 12:
        raise ValueError(f"PIN: {min_digits} to 12 digits")
    if len(set(pin)) == 1:
        raise ValueError("PIN: not all the same digit")
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    if steps in ({1}, {9}):
        raise ValueError("PIN: not a simple sequence such as 123456 or 654321")
    for period in range(2, len(pin) // 2 + 1):
        if len(pin) % period == 0 and pin == pin[:period] * (len(pin) // period):
            raise ValueError("PIN: not a repeated pattern such as 121212")
