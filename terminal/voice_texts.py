"""What the terminal says aloud in elderly mode (长辈模式, DESIGN §8): (Chinese, English) pairs.

A screen that has something to say has a `prompt` attribute holding one of these (or a
property formatting one); the app speaks the Chinese when the screen is shown and elderly mode
is on. Short, one instruction each, in the words on the screen: an older person hears what
to do next, then sees the same words.
"""

from __future__ import annotations

ELDERLY_ON = ("长辈模式已开启，每一步都会有语音提示", "Elderly mode is on: each step is read aloud")
PICKUP_START = ("请扫描受理通知书上的二维码", "Please scan the QR code on your acceptance notice")
PICKUP_CODE = ("请输入取件码", "Please enter your pickup code")
PICKUP_CARD = ("请将身份证放在读卡区", "Please place your ID card on the reader")
DOOR_OPEN = ("{c}号格口已打开，请取走材料并关门",
             "Door {c} is open: please take your documents and close the door")
EVALUATION = ("请对本次服务进行评价", "Please rate this service")
GUIDES = ("请输入拼音首字母查找办事指南", "Type the pinyin initials to find a guide")
DECLARE_PICK = ("请选择要申报的事项", "Please choose the service to apply for")
PROGRESS = ("请输入办件号或扫描凭证二维码，再刷身份证", "Enter the case number or scan your "
            "receipt, then show your ID card")
DECLARE_FORM = ("请填写申报表，可以刷身份证自动填写", "Please fill in the form; your ID card can "
                "fill in part of it")
IDLE = ("即将返回首页，需要更多时间请点延长", "Going back to the start soon; tap More time if "
        "you need it")
