"""Pickup verification policy (DB31/T 862 §8.3.2 应通过身份验证后自取): what a citizen must show.

`receipt_and_card` (default): the signed QR of the acceptance notice / receipt of materials plus
the ID card of the applicant or of the proxy named on the case. `code_and_card`: the pickup
code plus that ID card. Proxy collection (代领) can be switched off per terminal.

Every refusal has a stable reason code and a message in Chinese and English (no personal data).
A wrong code and a live code with the wrong card get the same answer (`no_match`): the screen
must not confirm that a typed code is live, nor name its compartment. (A receipt is a signed
token checked before anything else: a wrong card with it is answered `wrong_card`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from locker.attempt_limits import AttemptLimits
from locker.receipt_token import MESSAGES as RECEIPT_MESSAGES
from locker.receipt_token import RejectReason


class PickupMethod(StrEnum):
    """What a citizen shows besides the ID card."""

    RECEIPT_AND_CARD = "receipt_and_card"
    CODE_AND_CARD = "code_and_card"


@dataclass(frozen=True)
class PickupPolicy:
    """The methods this terminal accepts, proxy collection, and the wrong-attempt limits."""

    methods: frozenset[PickupMethod] = frozenset({PickupMethod.RECEIPT_AND_CARD})
    allow_proxy: bool = True
    receipt_leeway_s: int = 60
    limits: AttemptLimits = field(default_factory=AttemptLimits)

    def __post_init__(self) -> None:
        if not self.methods:
            raise ValueError("pickup policy: at least one method")
        if self.receipt_leeway_s < 0:
            raise ValueError("pickup policy: receipt_leeway_s must be 0 or more")

    @classmethod
    def of(cls, methods: Iterable[str], allow_proxy: bool = True,
           receipt_leeway_s: int = 60, limits: AttemptLimits | None = None) -> PickupPolicy:
        """Build from method names (config); ValueError names an unknown one."""
        chosen = set()
        for name in methods:
            try:
                chosen.add(PickupMethod(name))
            except ValueError:
                known = ", ".join(m.value for m in PickupMethod)
                raise ValueError(f"pickup method {name!r} unknown (known: {known})") from None
        return cls(frozenset(chosen), allow_proxy, receipt_leeway_s, limits or AttemptLimits())


class Refusal(StrEnum):
    """Why a verified pickup opened nothing (the `reason` of the OpenResult)."""

    METHOD_DISABLED = "method_disabled"
    RECEIPTS_UNAVAILABLE = "receipts_unavailable"
    CARD_REQUIRED = "card_required"
    CARD_INVALID = "card_invalid"
    WRONG_CARD = "wrong_card"  # audited as such; answered as NO_MATCH
    PROXY_NOT_ALLOWED = "proxy_not_allowed"
    NO_ITEM = "no_item"
    UNKNOWN_CODE = "unknown_code"  # audited as such; answered as NO_MATCH
    NO_MATCH = "no_match"  # the answer to a wrong code and to a live code with a wrong card
    LOCKED = "attempts_locked"  # this code, receipt, card or case: too many wrong attempts
    TERMINAL_COOLDOWN = "terminal_cooldown"  # a short slow-down of the whole terminal
    NEEDS_STAFF = "needs_staff"
    UNAVAILABLE = "unavailable"


MESSAGES: dict[Refusal, tuple[str, str]] = {
    Refusal.METHOD_DISABLED: ("本机不支持此取件方式，请选择其他方式或到出件窗口咨询。",
                              "This pickup method is not offered here. Please choose another "
                              "or ask at the result window."),
    Refusal.RECEIPTS_UNAVAILABLE: ("本机暂时无法校验凭证，请使用取件码或到出件窗口咨询。",
                                   "Receipts cannot be checked here at the moment. Please use "
                                   "your pickup code or ask at the result window."),
    Refusal.CARD_REQUIRED: ("请将身份证放在读卡区。",
                            "Please place your ID card on the reader."),
    Refusal.CARD_INVALID: ("身份证读取异常，请重新放置身份证。",
                           "The ID card could not be read properly. Please place it again."),
    Refusal.WRONG_CARD: ("身份证与办件申请人或指定代领人不符，不能取件。",
                         "This ID card does not belong to the applicant or the named proxy."),
    Refusal.PROXY_NOT_ALLOWED: ("本机不支持代领，请到出件窗口办理。",
                                "Collection by a proxy is not offered here. Please go to the "
                                "result window."),
    Refusal.NO_ITEM: ("本柜没有该办件的待取结果（可能已取走或尚未投递）。",
                      "There is no result for this case in this locker (already collected or "
                      "not delivered yet)."),
    Refusal.UNKNOWN_CODE: ("取件码无效（错误或已使用）。",
                           "This pickup code is not valid (wrong, or already used)."),
    Refusal.NO_MATCH: ("取件码无效（错误或已使用），或身份证与办件申请人或指定代领人不符，"
                       "不能取件。请核对后重试。",
                       "The pickup code is not valid (wrong or already used), or the ID card "
                       "is not the applicant's or the named proxy's. Please check and try "
                       "again."),
    Refusal.LOCKED: ("错误次数过多，已暂时锁定，请{minutes}分钟后再试或到出件窗口咨询。",
                     "Too many wrong attempts. Please try again in {minutes} min or ask at "
                     "the result window."),
    Refusal.TERMINAL_COOLDOWN: ("本机错误尝试较多，请{seconds}秒后再试。",
                                "Many wrong attempts at this terminal. Please try again in "
                                "{seconds} s."),
    Refusal.NEEDS_STAFF: ("该件需要工作人员协助，请联系工作人员。",
                          "This item needs staff help. Please ask staff."),
    Refusal.UNAVAILABLE: ("柜门暂时无法打开，您的凭证仍然有效，请稍后再试或联系工作人员。",
                          "The locker cannot open this compartment now. Your receipt or code "
                          "is still valid; please try again later or ask staff."),
}


ANSWERED_AS: dict[Refusal, Refusal] = {Refusal.UNKNOWN_CODE: Refusal.NO_MATCH,
                                       Refusal.WRONG_CARD: Refusal.NO_MATCH}
"""Refusals audited precisely but answered alike, so an answer never confirms a live code."""


def refusal_text(refusal: Refusal | RejectReason, minutes: int = 0,
                 seconds: int = 0) -> tuple[str, str, str]:
    """(reason code, Chinese, English) of a refusal; receipt rejections as `receipt_<reason>`."""
    if isinstance(refusal, RejectReason):
        zh, en = RECEIPT_MESSAGES[refusal]
        return f"receipt_{refusal.value}", zh, en
    zh, en = MESSAGES.get(refusal, ("", ""))
    return (refusal.value, zh.format(minutes=minutes, seconds=seconds),
            en.format(minutes=minutes, seconds=seconds))
