"""One owner per data dir and per lock bus (DESIGN §3): an OS lock that dies with its process.

`flock` on a small file holding the owner's pid and role: a second `kiosk run`, or a one-shot
`kiosk locker ...` while the terminal runs, cannot open the same store or drive the same bus.
The kernel drops the lock when the owner exits, even on SIGKILL, so no stale lock needs
clearing by hand. A bus (a device or a `tcp://` gateway) is locked by a file keyed by the link
in /run/lock, since two data dirs could point at one bus; a serial port is also opened
exclusively (hardware.drivers.rtu_link).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

LOCK_NAME = "owner.lock"
ROLE_TERMINAL = "kiosk run"
RUN_LOCK = "/run/lock"


@dataclass(frozen=True)
class Owner:
    """Who holds a lock: pid, role (`kiosk run`, `kiosk locker open`, ...) and uid."""

    pid: int | None
    role: str
    uid: int | None = None

    def describe(self) -> str:
        """`pid 123 (kiosk run)` for one-line messages."""
        return f"pid {self.pid if self.pid is not None else '?'} ({self.role})"


class OwnedElsewhere(Exception):
    """Another live process holds the lock; the message is the one line to print."""

    def __init__(self, what: str, owner: Owner) -> None:
        super().__init__(f"{what} is in use by {owner.describe()}")
        self.what = what
        self.owner = owner


class OwnerLock:
    """An exclusive `flock` on `path`, with the owner written into the file; `release()` ends it."""

    def __init__(self, path: Path, what: str, role: str, mode: int = 0o644) -> None:
        self.path, self.what, self.role, self.mode = path, what, role, mode
        self._fd: int | None = None

    def acquire(self) -> OwnerLock:
        """Take the lock at once or raise OwnedElsewhere naming the holder."""
        fd = _open_lock_file(self.path, self.mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OwnedElsewhere(self.what, read_owner(self.path)) from None
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        body = json.dumps({"pid": os.getpid(), "role": self.role, "uid": os.geteuid()})
        if _writable(fd):
            os.ftruncate(fd, 0)
            os.pwrite(fd, body.encode() + b"\n", 0)
        return self

    def release(self) -> None:
        """Let go (closing the descriptor drops the flock); the file stays for the next owner."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None


def _open_lock_file(path: Path, mode: int) -> int:
    """Read-write where possible; read-only is enough for flock (another user's locked file).

    An existing file is opened without O_CREAT, which Linux refuses on another user's file in
    a sticky shared dir (fs.protected_regular) even when its mode allows writing.
    """
    for _ in range(3):
        try:
            return os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
        except PermissionError:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        except FileExistsError:
            continue  # created by another process in between: open it as it is
        os.fchmod(fd, mode)  # whatever the umask: the next owner may be another user
        return fd
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def _writable(fd: int) -> bool:
    return fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY


def read_owner(path: Path) -> Owner:
    """The holder as written in the lock file (`?` when it is being written or unreadable)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return Owner(int(body["pid"]), str(body["role"]), body.get("uid"))
    except (OSError, ValueError, KeyError, TypeError):
        return Owner(None, "unknown")


def data_dir_lock(data_dir: Path, role: str) -> OwnerLock:
    """The lock on a data dir (not yet taken)."""
    return OwnerLock(data_dir / LOCK_NAME, f"the data dir {data_dir}", role)


def lock_dir() -> Path:
    """/run/lock, seen by the terminal's unit (PrivateTmp hides /tmp) and by a technician's shell.

    The system's temp dir where /run/lock is absent or not writable (development machines).
    """
    run_lock = Path(RUN_LOCK)
    if run_lock.is_dir() and os.access(run_lock, os.W_OK | os.X_OK):
        return run_lock
    return Path(tempfile.gettempdir())


def bus_lock_path(link: str) -> Path:
    """Where a link's lock lives: shared by every data dir on this machine."""
    key = os.path.realpath(link) if link.startswith("/") else link.strip().lower()
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return lock_dir() / f"kiosk-bus-{digest}.lock"


def bus_lock(link: str, role: str) -> OwnerLock:
    """The lock on a lock bus (a device path or `tcp://HOST:PORT`), not yet taken."""
    # 0666: the terminal's user and a technician (root) take turns on one file in /run/lock.
    return OwnerLock(bus_lock_path(link), f"the lock bus {link}", role, mode=0o666)
