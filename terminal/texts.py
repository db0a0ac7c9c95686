"""UI strings: Chinese first, with the English translation (DESIGN §8; DB31/T 862 H.1.4.1)."""

from __future__ import annotations

from locker.models import Outcome

TITLE = ("政务服务 24小时自助服务区", "Government services · 24-hour self-service")
PICKUP_TILE = ("取件", "Pickup")
PICKUP_TILE_HINT = ("扫描受理通知书或输入取件码，刷身份证取件",
                    "Scan your receipt or enter the code, then show your ID card")
GUIDE_TILE = ("办事指南", "Service guides")
GUIDE_TILE_HINT = ("查询事项的条件、材料和流程", "Conditions, materials and steps")
DECLARE_TILE = ("自助申报", "Apply")
DECLARE_TILE_HINT = ("填写表格、拍摄材料、提交申请", "Fill in the form, capture documents, submit")
PROGRESS_TILE = ("进度查询", "Progress")
PROGRESS_TILE_HINT = ("扫描凭证或输入办件号", "Scan your receipt or enter the case number")
HELP = ("呼叫帮助", "Call for help")
HELP_CALLED = ("已通知工作人员，请稍候", "Staff have been called; please wait")
LANGUAGE = ("English", "中文")
SCAN_RECEIPT = ("请将受理通知书或收件凭证上的二维码对准扫描口",
                "Hold the QR code of your receipt to the scanner")
USE_CODE = ("没有凭证？输入取件码", "No receipt? Enter the pickup code")
CHECKING = ("正在核验，请稍候…", "Checking, please wait…")
PLACE_CARD = ("请将本人（或代领人）身份证放在读卡区",
              "Place your ID card (or the proxy's) on the reader")
CARD_WAIT = ("还剩 {s} 秒", "{s} s left")
TAKE_AND_CLOSE = ("{c} 号格口已打开\n请取出材料并关好柜门",
                  "Compartment {c} is open.\nTake your documents and close the door.")
CLOSE_REMINDER = ("请关好 {c} 号柜门", "Please close door {c}")
EVALUATE = ("请对本次服务进行评价", "How was this service?")
EVAL_LEVELS = (("非常满意", "Very satisfied"), ("满意", "Satisfied"), ("基本满意", "Fair"),
               ("不满意", "Dissatisfied"), ("非常不满意", "Very dissatisfied"))
SKIP = ("跳过", "Skip")
THANKS = ("取件完成，感谢您的评价", "Pickup complete. Thank you for your rating.")
THANKS_NO_EVAL = ("取件完成，祝您生活愉快", "Pickup complete. Have a nice day.")
IDLE_WARNING = ("长时间无操作，{s} 秒后返回首页", "No activity: back to the start in {s} s")
MORE_TIME = ("延长时间", "More time")
OUT_OF_SERVICE = ("取件柜暂停服务\n办事指南等服务仍可使用",
                  "The locker is out of service.\nGuides and other services still work.")
APOLOGY = ("抱歉，出现了问题，请重新开始", "Sorry, something went wrong. Please start again.")
TERMINAL_DOWN = ("本终端暂停服务，正在自动重启\n请稍候或前往服务窗口办理",
                 "This terminal is out of service and restarting.\n"
                 "Please wait, or ask at the service window.")
ELDERLY = ("长辈模式", "Elderly mode")
ELDERLY_ON = ("长辈模式：已开启", "Elderly mode: on")
ENTER_CODE = ("请输入取件码", "Enter your pickup code")
STAFF = ("工作人员", "Staff")
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


def bilingual(pair: tuple[str, str], en_px: int, lang: str = "zh", **fmt: object) -> str:
    """Chinese line(s), then the English in smaller print (Kivy markup, `en_px` pixels).

    With `lang="en"` the English alone, at full size: the person switched to English.
    """
    zh, en = pair
    if lang == "en":
        return escape(en.format(**fmt))
    return f"{escape(zh.format(**fmt))}\n[size={en_px}]{escape(en.format(**fmt))}[/size]"


def pick(pair: tuple[str, str], lang: str, **fmt: object) -> str:
    """One language of a pair, formatted (no markup)."""
    return (pair[1] if lang == "en" else pair[0]).format(**fmt)


def escape(text: str) -> str:
    """Text safe inside Kivy markup (a case number or a name may hold `[`)."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")
