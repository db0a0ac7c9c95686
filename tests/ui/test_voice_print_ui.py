"""Voice prompts in elderly mode and printing, in the real app under Xvfb (its own process)."""

from __future__ import annotations

from PIL import Image

from tests.ui.test_terminal_ui import run_scenario


def test_elderly_voice_prompts_printed_receipt_and_guide_and_paper_out(tmp_path):
    seen = run_scenario("voice_print_scenario.py", tmp_path)
    # silent unless elderly mode is on
    assert seen["silent_before_elderly"] == []
    assert seen["said_without_elderly"] == []
    # each pickup step read aloud, in order, the open door by its number
    assert seen["said_at_scan"][-1] == "请扫描受理通知书上的二维码"
    assert seen["said_at_card"][-1] == "请将身份证放在读卡区"
    assert seen["said_pickup"][-2:] == [f"{seen['compartment']}号格口已打开，请取走材料并关门",
                                        "请对本次服务进行评价"]
    assert seen["elderly_after_home"] is False  # going home ends elderly mode (and the voice)
    # the declaration receipt prints by itself; its QR is the number on the screen
    assert seen["pages_before_submit"] == 0
    assert seen["printing_shown"][0] == "正在打印…"
    assert seen["receipt_pages"] == 1
    assert seen["receipt_qr"] == [seen["number"]]
    assert seen["receipt_size"][0] == 576
    with Image.open(seen["receipt_png"]) as png:
        assert png.size[0] == 576
    assert "打印完成，请取走凭条" in seen["review_hint"]
    assert seen["reprint_visible"] == 1
    assert seen["reprint_qr"] == [seen["number"]]
    # a guide prints with the QR of its web page; paper out is said in words, nothing printed
    assert seen["print_button"].startswith("打印指南")
    assert seen["print_button_visible"] == 1
    assert seen["guide_status"].startswith("打印完成，请取走凭条")
    assert seen["guide_qr"] == [seen["guide_link"]]
    assert seen["guide_size"][0] == 576
    assert seen["paper_out_status"].startswith("打印机缺纸，请联系工作人员")
    assert seen["pages_after_paper_out"] == 3
    # declaration steps, the print outcome and the idle countdown are read aloud as well
    said = seen["said_all"]
    for text in ("请选择要申报的事项", "请填写申报表，可以刷身份证自动填写", "打印完成，请取走凭条",
                 "即将返回首页，需要更多时间请点延长"):
        assert text in said, text
