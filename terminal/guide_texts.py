"""UI strings of the guide, progress and declaration screens: (Chinese, English) pairs."""

from __future__ import annotations

from terminal.texts import BACK, OK

__all__ = ["BACK", "OK"]

GUIDES = ("办事指南", "Service guides")
DECLARE_PICK = ("自助申报：请选择事项", "Apply: choose the service")
SEARCH_HINT = ("输入拼音或首字母，如 sfz 查身份证", "Type pinyin or initials, e.g. sfz")
ALL = ("全部", "All")
INDIVIDUAL = ("个人办事", "Individuals")
COMPANY = ("法人办事", "Companies")
FOUND = ("共 {n} 项", "{n} services")
LOADING = ("正在加载办事指南…", "Loading the guides…")
UNAVAILABLE = ("办事指南暂时无法加载", "The guides cannot be loaded right now")
CLEAR = ("清除", "Clear")
DELETE = ("退格", "Delete")
SEND_TO_PHONE = ("扫码发送到手机", "Scan to read it on your phone")
APPLY = ("在线申报", "Apply here")
PRINT = ("打印指南", "Print")
NO_PRINTER = ("本终端未配置打印机", "No printer at this terminal")
PROGRESS = ("进度查询", "Progress query")
CASE_NO = ("办件号（或扫描凭证二维码）", "Case number (or scan your receipt)")
LAST6 = ("身份证号后 6 位（或刷身份证）", "Last 6 of the ID number (or show your ID card)")
QUERY = ("查询", "Search")
QUERYING = ("正在查询…", "Searching…")
CURRENT = ("当前状态", "Now")
DEADLINE = ("期限", "Due")
MISSING = ("需补充的材料（一次性告知）", "Materials still needed (all of them)")
MISSING_BY = ("请于 {d} 前补齐", "Please bring them by {d}")
PROMISED = ("承诺办结时间：{d}", "Promised by: {d}")
CACHED_AS_OF = ("暂时无法连接办件系统，以下为 {d} 查询到的进度",
                "The case system cannot be reached: progress as of {d}")
DONE = ("完成", "Done")
DECLARE = ("自助申报", "Self-declaration")
READ_CARD = ("刷身份证自动填写", "Fill in from the ID card")
CARD_READING = ("请将身份证放在读卡区…", "Place the ID card on the reader…")
CAPTURE = ("拍摄材料 · 已拍 {n} 页", "Capture · {n} pages")
PAGES_FULL = ("最多拍摄 {n} 页材料，已达上限", "At most {n} pages: the limit is reached")
CAMERA_FAILED = ("拍摄失败，请重试", "The picture failed; please try again")
NEXT = ("下一步：核对", "Next: review")
FIX_FIELDS = ("请先填写或更正标记“!”的项目", "Fill in or correct the items marked “!”")
REVIEW = ("请核对申报内容", "Please check your application")
PAGES = ("材料 {n} 页", "{n} pages of documents")
SUBMIT = ("确认提交", "Submit")
SUBMITTED = ("申报已提交，请保存申报号\n{number}", "Submitted. Keep your number:\n{number}")
SUBMITTED_HINT = ("扫码或凭申报号和身份证查询进度", "Scan this or use the number and your ID to "
                  "check progress")
SUBMITTED_TITLE = ("申报已提交", "Application submitted")
