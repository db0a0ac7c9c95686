"""Records exchanged with the government platform (DESIGN §7), shared by every adapter.

Guides carry every element DOMAIN item 4 demands; cases carry the states of item 7; reports
carry the delivery receipt of item 3. Plain frozen dataclasses, JSON through `remote.wire`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Audience(Enum):
    """Who a service item is for (服务对象)."""

    INDIVIDUAL = "individual"  # 个人
    COMPANY = "company"  # 法人/企业


class FieldKind(Enum):
    """The kinds of form field a guide's declaration form may ask for."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    PHONE = "phone"


class Autofill(Enum):
    """Where a form field is filled from instead of typed."""

    NONE = "none"
    CARD_NAME = "card_name"  # 身份证 姓名
    CARD_ID_NUMBER = "card_id_number"  # 身份证号 (kept only in memory and the sealed outbox)
    CARD_ADDRESS = "card_address"


@dataclass(frozen=True)
class FormField:
    """One field of a self-declaration form (generated from the guide's schema)."""

    key: str
    label_zh: str
    label_en: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int = 60
    autofill: Autofill = Autofill.NONE
    hint_zh: str = ""


@dataclass(frozen=True)
class Material:
    """One required material (申请材料): originals and copies, and whether it may be missing."""

    name: str
    originals: int = 1
    copies: int = 0
    required: bool = True
    note: str = ""
    tolerated: bool = False  # may be completed later under 容缺受理


@dataclass(frozen=True)
class FaqEntry:
    """A common question and its answer (常见问题)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Guide:
    """A complete service guide (办事指南): every element of DB31/T 862 §6.2.2."""

    item_code: str
    name_zh: str
    name_en: str
    audiences: tuple[Audience, ...]
    topic_zh: str
    topic_en: str
    department: str
    legal_basis: tuple[str, ...]
    statutory_days: int  # 法定期限, working days
    promised_days: int  # 承诺期限, working days
    conditions: tuple[str, ...]
    materials: tuple[Material, ...]
    fees: str  # "不收费" where free
    procedure: tuple[str, ...]
    location: str
    hours: str
    consult_phone: str
    complaint_phone: str
    faq: tuple[FaqEntry, ...]
    sample_forms: tuple[str, ...]  # 示范文本
    common_mistakes: tuple[str, ...]  # 错误示例
    link: str  # the same guide on the web (一数一源), shown as "send to phone" QR
    form: tuple[FormField, ...] = ()
    locker_pickup: bool = True  # the result may be collected from the 24h locker
    updated_at: datetime | None = None
    keywords: tuple[str, ...] = ()  # everyday words people search by (领证, 退休, 开店)


class CaseState(Enum):
    """The states a case goes through (DOMAIN item 7), in the usual order."""

    RECEIVED = "received"  # 收件
    ACCEPTED = "accepted"  # 受理
    CORRECTION = "correction"  # 补正: one written notice of everything missing
    TOLERATED = "tolerated"  # 容缺受理: accepted, secondary materials due by a deadline
    REVIEW = "review"  # 审查
    DECIDED = "decided"  # 决定
    COMPLETED = "completed"  # 办结
    IN_LOCKER = "in_locker"  # 出件: waiting in the 24h locker
    DELIVERED = "delivered"  # 送达
    NOT_ACCEPTED = "not_accepted"  # 不予受理 (final)


FINAL_STATES = frozenset({CaseState.DELIVERED, CaseState.NOT_ACCEPTED})
"""A case in one of these states changes no more."""


@dataclass(frozen=True)
class TimelineEntry:
    """One step of a case's progress, with the promised deadline where one applies."""

    state: CaseState
    at: datetime
    note: str = ""
    deadline: datetime | None = None


@dataclass(frozen=True)
class CaseProgress:
    """What the progress screen shows: the timeline and everything still missing."""

    case_no: str
    item_code: str
    item_name: str
    state: CaseState
    timeline: tuple[TimelineEntry, ...]
    missing_materials: tuple[str, ...] = ()
    missing_deadline: datetime | None = None
    promised_by: datetime | None = None
    masked_applicant: str = ""
    cached_at: datetime | None = None  # set when served from the terminal's offline cache


@dataclass(frozen=True)
class LockerAssignment:
    """What staff need to put a case's result into the locker: who may collect it.

    Handed to signed-in staff only; the terminal keeps these values in memory for the
    deposit (which stores keyed hashes and masked forms) and never writes them down.
    """

    case_no: str
    item_name: str
    applicant_name: str
    applicant_id_number: str = field(repr=False)  # not in logs or tracebacks
    phone: str = field(repr=False)
    proxy_name: str = ""
    proxy_id_number: str = field(default="", repr=False)
    size_hint: str = "M"  # S, M, L or XL: the compartment size the result needs


class DeliveryMethod(Enum):
    """送达方式 of the delivery receipt (DB31/T 862 Appendix G)."""

    WINDOW = "窗口送达"
    POST = "邮寄送达"
    LOCKER = "自助取件"


@dataclass(frozen=True)
class DeliveryReceipt:
    """送达回执: how, to whom (or to which proxy) and when a result was delivered."""

    case_no: str
    method: DeliveryMethod
    recipient_masked_name: str
    proxy_masked_name: str  # "" unless collected by a proxy (代收人)
    delivered_at: datetime
    terminal_id: str
    compartment_id: str


class MessageKind(Enum):
    """What the platform must hear, each sent through the durable outbox."""

    DEPOSIT = "deposit"
    PICKUP = "pickup"  # carries the delivery receipt
    RETRIEVAL = "retrieval"  # an expired result taken back by staff
    EXPIRY = "expiry"
    DECLARATION = "declaration"
    EVALUATION = "evaluation"
    ALARM = "alarm"
    NOTICE = "notice"  # for the applicant (sent by the platform, e.g. SMS): the pickup code


@dataclass(frozen=True)
class OutboundMessage:
    """One outbox entry: `key` makes delivery idempotent; order is kept per `case_no`."""

    key: str
    kind: MessageKind
    case_no: str
    body: dict
    created_at: datetime
    attachments: tuple[bytes, ...] = field(default=())


class EvaluationLevel(Enum):
    """好差评, five levels (DB31/T 862 §10.1); the value is the score."""

    VERY_SATISFIED = 5  # 非常满意
    SATISFIED = 4  # 满意
    BASICALLY = 3  # 基本满意
    DISSATISFIED = 2  # 不满意
    VERY_DISSATISFIED = 1  # 非常不满意
