"""UI strings of the staff screens and maintenance mode: (Chinese, English) pairs.

Kept apart from terminal/texts.py so the citizen screens and the staff screens can change
independently. Cell words are short on purpose: they sit inside one grid cell.
"""

from __future__ import annotations

from locker.models import CompartmentState, ItemState

# -- sign-in and menu -------------------------------------------------------------------------
SIGNIN_TITLE = ("工作人员登录", "Staff sign-in")
SIGNIN_HINT = ("请扫描工作证（或输入工作证号），再输入密码",
               "Scan your badge (or type its number), then enter your PIN")
BADGE = ("工作证", "Badge")
PIN = ("密码", "PIN")
BADGE_SCANNED = ("已扫描", "scanned")
SIGN_IN = ("登录", "Sign in")
SIGNING_IN = ("正在核验，请稍候…", "Checking, please wait…")
MENU_TITLE = ("{name}，您好", "Hello, {name}")
ROLE_NAMES = {"courier": ("物料流转员", "Courier"), "technician": ("技术人员", "Technician"),
              "admin": ("管理员", "Administrator")}
DEPOSIT = ("存件", "Deposit results")
RETRIEVE = ("取回逾期件", "Retrieve expired items")
MAINTENANCE = ("维护模式", "Maintenance")
NOT_ALLOWED = ("（无此权限）", "(not permitted)")
SIGN_OUT = ("退出登录", "Sign out")
MENU = ("返回菜单", "Back to menu")
SESSION_ENDED = ("登录已过期或权限不足，请重新登录",
                 "Your session ended or this is not permitted; please sign in again")
TECH_SIGNIN_TITLE = ("技术人员登录（维护）", "Technician sign-in (maintenance)")
TECH_ONLY = ("此入口仅限技术人员进入维护模式", "This entry is for technicians (maintenance) only")

# -- deposit ------------------------------------------------------------------------------
DEPOSIT_TITLE = ("存件", "Deposit")
SCAN_LABEL = ("扫描结果标签的二维码，或输入办件号",
              "Scan the label's QR code, or type the case number")
CASE_NO = ("办件号", "Case no.")
LOOK_UP = ("查询", "Look up")
LOOKING_UP = ("正在查询办件，请稍候…", "Looking up the case…")
ASSIGNMENT = ("领取人：{name}　格口：{size_zh}（{size}）", "Collector: {name} · size {size}")
PROXY_NAMED = ("（另有代领人）", "(a proxy is named)")
CHOOSE_HINT = ("可点选空闲格口；不选则自动分配",
               "Tap a free cell to choose it, or the locker picks the smallest fit")
CHOSEN = ("已选：{c}", "Chosen: {c}")
AUTO = ("自动分配", "Automatic")
OPEN_DOOR = ("开门存件", "Open the door")
OPENING = ("正在开门，请稍候…", "Opening the door…")
PUT_AND_CLOSE = ("{c} 号格口已打开\n请放入材料并关好柜门", "Compartment {c} is open.\n"
                 "Put the documents in and close the door.")
CLOSE_PLEASE = ("请关好 {c} 号柜门（等待超时，仍在等待）",
                "Please close door {c} (still waiting)")
STORED = ("{c} 号格口已存入，可以继续下一件", "Stored in {c}. Ready for the next item.")
NOT_STORED = ("{c} 号门已关，但未检测到材料，本次存件已取消",
              "Door {c} closed with nothing inside: this deposit was cancelled.")
NEXT_ITEM = ("下一件", "Next item")
BATCH = ("本次已存 {n} 件", "This session: {n} item(s)")
BATCH_STORED = ("已存入", "stored")
BATCH_CANCELLED = ("已取消", "cancelled")
BATCH_OPEN = ("门未关", "door open")
CANCEL = ("取消", "Cancel")

# -- deposit refusals -------------------------------------------------------------------------
BAD_LABEL = ("无法识别该标签，请扫描结果材料标签或输入办件号",
             "That label is not recognised. Scan the result's label or type the case number.")
CASE_NOT_FOUND = ("未找到该办件，请核对办件号", "No case with that number was found.")
CASE_REJECTED = ("该办件暂不能存入取件柜：{why}", "This case cannot go into the locker: {why}")
PLATFORM_DOWN = ("暂时无法连接办件系统，请稍后再试",
                 "The case system cannot be reached right now; try again later.")
NO_PLATFORM = ("本终端未连接办件系统，无法存件", "This terminal has no case system: no deposits.")
NO_COMPARTMENT = ("没有可用的合适格口：{why}", "No suitable compartment: {why}")
DOOR_JAMMED = ("{c} 号柜门未能打开（已记录），请换一个格口",
               "Door {c} did not open (recorded); please use another compartment.")
DOOR_FAILED = ("取件柜暂时无法开门，请稍后再试", "The locker cannot open a door right now.")
LOCKER_DOWN = ("取件柜暂不可用", "The locker is not available.")

# -- retrieval ------------------------------------------------------------------------------
RETRIEVE_TITLE = ("取回逾期件", "Retrieve expired and held items")
RETRIEVE_HINT = ("点击要取回的材料，对应柜门将打开", "Tap an item: its door opens")
NOTHING_TO_RETRIEVE = ("当前没有需要取回的材料", "Nothing to retrieve right now.")
RETRIEVE_ROW = ("{c}　{state}　办件号 {case}", "{c} · {state} · case {case}")
TAKE_OUT = ("{c} 号格口已打开\n请取出材料并关好柜门",
            "Compartment {c} is open.\nTake the documents out and close the door.")
RETRIEVED = ("{c} 号格口已取回", "Retrieved from {c}.")
NOT_TAKEN = ("{c} 号门已关，但材料仍在格口内", "Door {c} closed with the item still inside.")
RETRIEVE_DENIED = ("{c} 号格口没有可取回的材料", "Compartment {c} holds nothing to retrieve.")

# -- maintenance ----------------------------------------------------------------------------
MAINT_TITLE = ("维护模式", "Maintenance")
SELECTED = ("选中格口：{c}", "Selected: {c}")
NONE_SELECTED = ("请点击格口选择", "Tap a compartment to select it")
OPEN_ONE = ("开门", "Open")
ENABLE = ("启用", "Enable")
DISABLE = ("停用", "Disable")
DOOR_TEST = ("门测试", "Door test")
DOOR_TESTING = ("正在逐个开门测试，请稍候…", "Testing every empty door in turn…")
EXIT = ("退出维护", "Exit")
QUIT_APP = ("退出程序", "Exit the app")
QUIT_CONFIRM = ("再按一次退出程序", "Tap again to exit the app")
OPENED_ONE = ("{c} 号格口已打开（维护）", "Compartment {c} opened (maintenance).")
ENABLED = ("{c} 号格口已启用", "Compartment {c} is back in service.")
DISABLED = ("{c} 号格口已停用", "Compartment {c} is out of service.")
TEST_DONE = ("门测试完成：打开 {ok} 个，未打开 {jammed} 个{which}，跳过 {skipped} 个",
             "Door test: {ok} opened, {jammed} did not open{which}, {skipped} skipped")
ACTION_FAILED = ("操作未完成：{why}", "Not done: {why}")
BOARDS = ("控制板", "Boards")
BOARD_ROW = ("{unit} 号板：{state}，错误 {errors}", "Board {unit}: {state}, {errors} errors")
ONLINE = ("在线", "online")
OFFLINE = ("离线", "OFFLINE")
BUS = ("总线统计", "Bus statistics")
BUS_ROW = ("交易 {transactions}　超时 {timeouts}　校验错 {crc_errors}　异常 {exceptions}　"
           "重试 {retries}　畸形应答 {malformed}",
           "transactions {transactions} · timeouts {timeouts} · CRC {crc_errors} · "
           "exceptions {exceptions} · retries {retries} · malformed {malformed}")
NO_BUS_STATS = ("无总线统计", "no bus statistics")
CONNECTIVITY = ("连接状态", "Connectivity")
MQTT_ROW = ("监控平台（MQTT）：{state}", "Fleet monitor (MQTT): {state}")
PLATFORM_ROW = ("办件系统：{state}", "Case platform: {state}")
OUTBOX_ROW = ("待发送消息：{n}", "Messages waiting to send: {n}")
CONNECTED = ("已连接", "connected")
DISCONNECTED = ("未连接", "NOT connected")
NOT_CONFIGURED = ("未启用", "not enabled")
UNKNOWN = ("未知", "unknown")
ALARMS = ("当前告警", "Active alarms")
NO_ALARMS = ("无", "none")
TASKS = ("待处理任务：{n}", "Open staff tasks: {n}")
RECENT_LOG = ("最近操作日志", "Recent log")
LEGEND = ("图例：", "Legend:")

# -- grid cell words (short) ------------------------------------------------------------------
STATE_WORDS: dict[CompartmentState, tuple[str, str]] = {
    CompartmentState.EMPTY: ("空闲", "free"),
    CompartmentState.RESERVED: ("预留", "reserved"),
    CompartmentState.OCCUPIED: ("有件", "in use"),
    CompartmentState.DISABLED: ("停用", "disabled"),
    CompartmentState.FAULT: ("故障", "FAULT"),
    CompartmentState.SUSPECT: ("待查", "check"),
}
ITEM_WORDS: dict[ItemState, tuple[str, str]] = {
    ItemState.EXPIRED: ("逾期", "expired"),
    ItemState.HELD: ("待处理", "held"),
    ItemState.DEPOSITING: ("存入中", "depositing"),
    ItemState.RELEASING: ("取出中", "releasing"),
}
STOPPED = ("停用", "disabled")
DOOR_OPEN = ("门开", "open")
DOOR_CLOSED = ("门关", "shut")
DOOR_UNKNOWN = ("门?", "door ?")
BOARD_OFFLINE = ("离线", "offline")
SIZE_WORDS = {"S": ("小", "S"), "M": ("中", "M"), "L": ("大", "L"), "XL": ("特大", "XL")}
