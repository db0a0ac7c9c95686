"""How `kiosk` turns an exception into its one line on stderr (DESIGN §10).

Expected failures (a refused config, a locker refusal, a lock board that does not answer)
are the user's answer and print as they are. Anything else is a bug: one line that says so,
the traceback (redacted) only in a log file, never on the screen.
"""

from __future__ import annotations

import logging
import tempfile
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from locker.pii_scrub import scrub
from terminal.log_setup import JsonFormatter, RedactFilter

CRASH_LOG = "cli-errors.log"
MAX_LINE = 300


def one_line(text: str) -> str:
    """`text` on one line, redacted, cut to a length a terminal shows whole."""
    line = scrub(" ".join(text.split()))
    return line if len(line) <= MAX_LINE else line[:MAX_LINE - 1] + "…"


def expected_line(err: BaseException) -> str | None:
    """The line for an expected failure, or None if `err` is not one."""
    if isinstance(err, _expected()):
        return one_line(str(err) or err.__class__.__name__)
    return None


def _expected() -> tuple[type[BaseException], ...]:
    """The domain's and the hardware's own refusals (imported late: `kiosk --help` stays fast)."""
    from hardware.lock_board import LockBoardError
    from locker.errors import LockerError
    from locker.receipt_keys import KeyFileError

    return (LockerError, LockBoardError, KeyFileError)


def internal_error_line(err: BaseException, config_path: str | None) -> str:
    """Record the traceback in the log folder; the line that says where it went."""
    where = _record(err, config_path)
    kind = err.__class__.__name__
    detail = one_line(str(err))
    head = f"internal error: {kind}: {detail}" if detail else f"internal error: {kind}"
    return one_line(f"{head} (details in {where})" if where else head)


def _record(err: BaseException, config_path: str | None) -> Path | None:
    """Append the traceback as a JSON line to the config's log folder (else the temp folder)."""
    for folder in (_log_dir(config_path), Path(tempfile.gettempdir())):
        if folder is None:
            continue
        path = folder / CRASH_LOG
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o750)
            handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=1,
                                          encoding="utf-8")
        except OSError:
            continue
        handler.setFormatter(JsonFormatter("-", "kiosk"))
        handler.addFilter(RedactFilter())
        record = logging.LogRecord("terminal.cli", logging.ERROR, __file__, 0,
                                   "internal error in a kiosk command", None,
                                   (type(err), err, err.__traceback__))
        record.exc_text = "".join(traceback.format_exception(err))
        try:
            handler.handle(record)
        finally:
            handler.close()
        return path
    return None


def _log_dir(config_path: str | None) -> Path | None:
    """The log folder of the configuration, if it can be loaded at all."""
    from terminal.config import load_config

    try:
        return load_config(config_path).log_dir
    except Exception:  # the config may be what is broken; the temp folder still works
        return None
