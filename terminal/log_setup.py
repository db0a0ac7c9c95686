"""Logging for `kiosk`: human lines on stderr, rotating JSON-lines files for long runs.

The long-running verbs (`run`, `monitor`, `centre serve`, `sim board`) also write a file.

Code never logs an ID number, phone, name or pickup code; as defence in depth every handler
also redacts anything shaped like a mainland ID number or mobile number (DESIGN §9).
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from locker.pii_scrub import scrub
from terminal.config import Config, load_config
from terminal.config_sections import LogSection

HUMAN_FORMAT = "%(levelname)s %(name)s: %(message)s"
# (verb, sub-verb) of the long-running commands → the stem of their log file
LONG_RUNNING = {("run", None): "terminal", ("monitor", None): "monitor",
                ("centre", "serve"): "centre", ("sim", "board"): "sim"}
_OURS = "_kiosk_handler"


class RedactFilter(logging.Filter):
    """Merges a record's args into its message and redacts it, the traceback and the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always passes the record on, redacted (every later handler sees the redacted text)."""
        try:
            message = record.getMessage()
        except Exception:  # bad args: keep both, redacted, rather than lose the line
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line.

    Fields: ts (ISO, with its UTC offset), level, logger, msg, terminal, process, thread, and
    exc (the traceback) when there is one.
    """

    def __init__(self, terminal_id: str, process: str) -> None:
        super().__init__()
        self.terminal_id = terminal_id
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (redacted again: this formatter may be reused)."""
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry = {"ts": ts, "level": record.levelname, "logger": record.name,
                 "msg": scrub(record.getMessage()), "terminal": self.terminal_id,
                 "process": self.process, "thread": record.threadName}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = scrub(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _KivyForward(logging.Handler):
    """On Kivy's logger: hands its records to our file while Kivy keeps them from the root.

    KIVY_LOG_MODE=MIXED turns propagation off; otherwise the root's handler has them.
    """

    def __init__(self, target: logging.Handler) -> None:
        super().__init__(target.level)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        """Pass the record on unless it also reaches the root logger."""
        if not logging.getLogger("kivy").propagate:
            self.target.handle(record)


def _mark(handler: logging.Handler) -> logging.Handler:
    handler.addFilter(RedactFilter())
    setattr(handler, _OURS, True)
    return handler


def remove_handlers() -> None:
    """Take off (and close) every handler this module installed, e.g. between in-process runs."""
    for logger in (logging.getLogger(), logging.getLogger("kivy")):
        for handler in list(logger.handlers):
            if getattr(handler, _OURS, False):
                logger.removeHandler(handler)
                handler.close()


def install_stderr(verbose: bool) -> None:
    """Human-readable lines on stderr: WARNING and up, INFO with -v.

    Like `logging.basicConfig`, nothing is added when someone else (a test runner) already
    handles the root logger.
    """
    root = logging.getLogger()
    if any(not getattr(h, _OURS, False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(HUMAN_FORMAT))
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    root.addHandler(_mark(handler))
    root.setLevel(handler.level)


def install_file(path: Path, section: LogSection, terminal_id: str) -> RotatingFileHandler:
    """A rotating JSON-lines file at `path`, size and count from `[log]`.

    Installed on the root logger and on Kivy's own (which writes no file: KIVY_NO_FILELOG).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    handler = RotatingFileHandler(path, maxBytes=section.max_bytes, backupCount=section.backups,
                                  encoding="utf-8")
    handler.setFormatter(JsonFormatter(terminal_id, path.stem))
    handler.setLevel(section.level.upper())
    root = logging.getLogger()
    root.addHandler(_mark(handler))
    root.setLevel(min(handler.level, root.level or logging.WARNING))
    logging.getLogger("kivy").addHandler(_mark(_KivyForward(handler)))
    return handler


def log_dir(cfg: Config, stem: str, monitor_data_dir: str | None = None) -> Path:
    """`[log] dir`, else `<data_dir>/logs` (the monitor: `<monitor data dir>/logs`)."""
    if stem == "monitor" and not cfg.log.dir:
        return Path(monitor_data_dir or cfg.monitor.data_dir).expanduser() / "logs"
    return cfg.log_dir


def configure_logging(args: argparse.Namespace) -> Path | None:
    """Logging for one `kiosk` command; the log file's path for the long-running verbs.

    Loads (and so checks) the configuration first for those: a bad file is refused before
    any directory is made. Raises ConfigError.
    """
    remove_handlers()
    install_stderr(bool(getattr(args, "verbose", False)))
    stem = LONG_RUNNING.get((getattr(args, "verb", None), getattr(args, "what", None)))
    if stem is None:
        return None
    cfg = load_config(getattr(args, "config", None))
    path = log_dir(cfg, stem, getattr(args, "data_dir", None)) / f"{stem}.log"
    install_file(path, cfg.log, cfg.terminal.id)
    return path
