"""Printing from a screen: render on the worker, print, and say what happened in words.

Pure Python (no Kivy): `print_page` runs on the app's Background worker, so neither drawing
the page nor a slow serial printer ever holds up the UI thread (DESIGN §2). Every outcome is a
(Chinese, English) sentence the screen shows — and reads aloud in elderly mode — never a
colour alone: the person at the terminal at 2 a.m. must know whether to take a slip or to
ask staff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PIL import Image

from hardware.printer import PrinterError, PrinterStatus, ReceiptPrinter

log = logging.getLogger(__name__)

PRINT = ("打印", "Print")
PRINT_GUIDE = ("打印指南", "Print the guide")
REPRINT = ("再打印一份", "Print another copy")
PRINTING = ("正在打印…", "Printing…")
PRINTED = ("打印完成，请取走凭条", "Printed: please take your slip")
PAPER_OUT = ("打印机缺纸，请联系工作人员", "The printer is out of paper; please ask staff")
OFFLINE = ("打印机暂时无法使用，请联系工作人员", "The printer is not working; please ask staff")
FAILED = ("打印失败，请联系工作人员", "Printing failed; please ask staff")

Pair = tuple[str, str]


def outcome_for(status: PrinterStatus) -> Pair:
    """The sentence for a printer that did not print."""
    return PAPER_OUT if status is PrinterStatus.PAPER_OUT else OFFLINE


def print_page(printer: ReceiptPrinter, render: Callable[[], Image.Image]) -> Pair:
    """Draw the page and print it (blocking: call on the worker); the outcome to show.

    Printer trouble (paper out, offline) is an outcome, not an error. Anything else (no CJK
    font, a bug in a layout) is logged and shown as "printing failed".
    """
    try:
        page = render()
        printer.print_image(page)
    except PrinterError as err:
        return outcome_for(err.status)
    except Exception:
        log.exception("printing failed")
        return FAILED
    return PRINTED
