"""`kiosk doctor` on the peripherals: QR scanner, ID-card reader, receipt printer, voice.

Each is opened through its real driver (the ones terminal/devices.py chooses): the scanner's
port is opened and closed, the GA/T 467 reader is asked for its SAM status, the ESC/POS
printer for its paper and online state. "sim" checks the simulator the same way where it
speaks the protocol; "none" is SKIPPED. A device another program holds is not touched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from terminal.config import Config
from terminal.doctor import Check, fail, ok, skipped, warn

SIM, NONE = "sim", "none"


def in_use_by(link: str) -> str:
    """Which other processes hold the serial device `link` open ("" if none, or not a device).

    Simulators (pseudo-terminals) keep their own end open and TCP links have no file, so only
    real device paths are looked at, through /proc.
    """
    if link.startswith("/dev/pts/") or not link.startswith("/dev/"):
        return ""
    try:
        target = os.path.realpath(link)
    except OSError:
        return ""
    users = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in fds):
                users.append(f"pid {pid} ({_command(pid)})")
        except OSError:
            continue  # gone, or another user's process
    return ", ".join(users)


def _command(pid: str) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(raw.decode("utf-8", "replace").split("\0")).strip()[:60] or "?"


def port_fix(link: str, key: str, device: str) -> str:
    """What to check when a serial link does not open."""
    if link.startswith("tcp://"):
        return (f"check that the serial server at {link} is on and reachable (ping it), and "
                f"{key}")
    return (f"check {device}'s cable and that it shows up (ls -l /dev/serial/by-id/); set "
            f"{key} to its path (by-id paths survive a reboot); the user running the terminal "
            "needs the dialout group (usermod -aG dialout USER)")


def scanner_check(cfg: Config) -> Check:
    """Open and close the QR scanner's port."""
    from hardware.drivers.serial_scanner import SerialScanner, SerialScannerSettings
    from hardware.scanner import ScannerUnavailable

    link, name = cfg.devices.scanner, "scanner"
    if link == NONE:
        return skipped(name, 'devices.scanner = "none"')
    if link == SIM:
        return ok(name, "simulated (devices.scanner = \"sim\")")
    users = in_use_by(link)
    if users:
        return ok(name, f"{link} is open in {users} (the terminal, presumably)")
    scanner = SerialScanner(SerialScannerSettings(link=link, baud=cfg.devices.scanner_baud))
    try:
        scanner.probe()  # the driver's own open: same URL, line settings and errors
    except ScannerUnavailable as err:
        return fail(name, str(err), port_fix(link, "devices.scanner", "the scanner"))
    return ok(name, f"{link} opens ({cfg.devices.scanner_baud} baud); scan a code in "
              "maintenance mode to see it arrive")


def id_reader_check(cfg: Config) -> Check:
    """Ask the GA/T 467 reader (or its simulator) for its SAM status."""
    from hardware.drivers.gat467_reader import Gat467Reader, ReaderSettings
    from hardware.drivers.id_reader_sim import SimIdReader
    from hardware.id_reader import CardReaderError

    link, name = cfg.devices.id_reader, "ID-card reader"
    if link == NONE:
        return skipped(name, 'devices.id_reader = "none"')
    sim = SimIdReader() if link == SIM else None
    users = "" if sim else in_use_by(link)
    if users:
        return ok(name, f"{link} is open in {users} (the terminal, presumably): not asked")
    reader = Gat467Reader(ReaderSettings(link=sim.start() if sim else link,
                                         baud=cfg.devices.id_reader_baud))
    try:
        reader.check()
    except CardReaderError as err:
        text = str(err)
        if "lock" in text:
            return fail(name, text, "another program holds the reader: stop it (or the "
                        "terminal: systemctl stop kiosk) and run the doctor again")
        return fail(name, text, f"check the reader's power and cable; devices.id_reader_baud "
                    f"is {cfg.devices.id_reader_baud} (GA/T 467 readers ship at 115200 8N1)"
                    f"\n{port_fix(link, 'devices.id_reader', 'the reader')}")
    finally:
        reader.close()
        if sim is not None:
            sim.stop()
    where = "simulated reader" if sim else link
    return ok(name, f"{where}: the SAM answers \"ready\" (GA/T 467)")


def printer_check(cfg: Config) -> Check:
    """The ESC/POS printer's state: ok, paper out, offline."""
    from hardware.drivers.printer_escpos import EscPosPrinter, EscPosSettings
    from hardware.printer import PrinterStatus

    dv, name = cfg.devices, "printer"
    if dv.printer == NONE:
        return skipped(name, 'devices.printer = "none"')
    if dv.printer == SIM:
        return ok(name, f"simulated: pages are kept as PNG in {cfg.data_dir / 'printed'}")
    link = dv.printer
    if not link.startswith("tcp://") and not Path(link).exists():
        return fail(name, f"{link} does not exist",
                    "is the printer on and plugged in? (ls /dev/usb/ /dev/serial/by-id/); "
                    "set devices.printer to its path")
    users = in_use_by(link)
    if users:
        return ok(name, f"{link} is open in {users} (the terminal, presumably): not asked")
    printer = EscPosPrinter(EscPosSettings(link, baud=dv.printer_baud), dots=dv.printer_dots)
    try:
        status = printer.status()
    finally:
        printer.close()
    if status is PrinterStatus.PAPER_OUT:
        return fail(name, f"{link}: paper out", "load a new roll (thermal paper, "
                    f"{'80' if dv.printer_dots >= 576 else '58'} mm) and close the cover")
    if status is PrinterStatus.OFFLINE:
        return fail(name, f"{link}: offline (no status answer, or the device cannot be "
                    "written)", f"check the printer's power, that its cover is closed, the "
                    f"cable, and devices.printer_baud ({dv.printer_baud}) for a serial printer")
    return ok(name, f"{link}: ready ({dv.printer_dots} dots)")


def voice_check(cfg: Config) -> Check:
    """Voice prompts (elderly mode) need espeak-ng when configured so."""
    voice = cfg.devices.voice
    if voice == NONE:
        return skipped("voice", 'devices.voice = "none"')
    if voice == SIM:
        return ok("voice", "simulated (devices.voice = \"sim\")")
    if shutil.which("espeak-ng") is None:
        return fail("voice", "espeak-ng is not installed", "apt-get install espeak-ng")
    player = shutil.which("aplay") or shutil.which("paplay")
    if player is None:
        return warn("voice", "espeak-ng found; no aplay or paplay (espeak-ng plays itself)",
                    "apt-get install alsa-utils")
    return ok("voice", f"espeak-ng, played through {player}")
