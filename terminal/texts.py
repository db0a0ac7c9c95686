"""UI strings: Chinese first, with the English translation (DESIGN §8; DB31/T 862 H.1.4.1)."""

from __future__ import annotations

from locker.models import Outcome

TITLE = ("政务服务 24小时自助服务区", "Government services · 24-hour self-service")
PICKUP_TILE = ("取件", "Pickup")
PICKUP_TILE_HINT = ("凭取件码取回办理结果", "Collect your result with a pickup code")
ELDERLY = ("长辈模式", "Elderly mode")
ELDERLY_ON = ("长辈模式：已开启", "Elderly mode: on")
ENTER_CODE = ("请输入取件码", "Enter your pickup code")
OK = ("确认", "OK")
BACK = ("返回", "Back")
CLEAR = ("清除", "Clear")
DELETE = ("退格", "Delete")
DONE = ("完成", "Done")
WORKING = ("正在开启柜门，请稍候…", "Opening the door, please wait…")
LOCKER_DOWN = ("取件柜暂停服务，请联系服务窗口",
               "The locker is out of service; please ask at the window")
FREE = ("空闲格口", "Free compartments")
SIZE_NAMES = {"S": "小", "M": "中", "L": "大", "XL": "特大"}

OUTCOME_TEXT: dict[Outcome, tuple[str, str]] = {
    Outcome.OPENED: ("{c} 号格口已打开\n请取出材料并关好柜门",
                     "Compartment {c} is open.\nTake your documents and close the door."),
    Outcome.ALREADY_OPEN: ("{c} 号格口已打开\n请取出材料并关好柜门",
                           "Compartment {c} is open.\nTake your documents and close the door."),
    Outcome.DENIED: ("取件码无效或已使用\n请核对后重新输入", "This pickup code is not valid or "
                     "was already used.\nPlease check it and try again."),
    Outcome.JAMMED: ("柜门未能打开，已通知工作人员\n请联系服务窗口",
                     "The door did not open; staff have been told.\nPlease ask at the window."),
    Outcome.FAILED: ("取件柜暂时无法开门\n请稍后再试或联系工作人员",
                     "The locker cannot open a door right now.\nTry again later or ask staff."),
}


def bilingual(pair: tuple[str, str], en_px: int, **fmt: str) -> str:
    """Chinese line(s), then the English in smaller print (Kivy markup, `en_px` pixels)."""
    zh, en = pair
    return f"{zh.format(**fmt)}\n[size={en_px}]{en.format(**fmt)}[/size]"
