"""The pickup-locker domain: compartments, items, pickup codes, journal, audit, SQLite store.

Knows no Kivy, MQTT or HTTP; talks to the lock boards only through `hardware.lock_board.LockBus`.
"""

from locker.audit import VerifyResult, head_key, verify
from locker.controller import LockerController
from locker.models import CompartmentState, IntentKind, ItemState, Outcome, Size
from locker.reports import OpenResult
from locker.settings import CompartmentSpec, LockerSettings, default_layout
from locker.store import Store

__all__ = [
    "CompartmentSpec",
    "CompartmentState",
    "IntentKind",
    "ItemState",
    "LockerController",
    "LockerSettings",
    "OpenResult",
    "Outcome",
    "Size",
    "Store",
    "VerifyResult",
    "default_layout",
    "head_key",
    "verify",
]
