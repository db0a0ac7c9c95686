"""The composition root's half for peripherals: scanner, ID reader, camera, printer, voice.

"sim" starts the simulator on its own pseudo-terminal and connects the real driver to it, so
the whole path (serial framing, GA/T 467) runs in demos and tests; the simulators stay
reachable on `Devices` for a demo or a test to present a receipt or a card. The printer and
voice simulators are the devices themselves (SimPrinter keeps its pages, SimVoice what it said).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hardware.document_camera import DocumentCamera
from hardware.drivers.document_camera_sim import SimDocumentCamera
from hardware.drivers.gat467_reader import Gat467Reader, ReaderSettings
from hardware.drivers.id_reader_sim import SimIdReader
from hardware.drivers.printer_escpos import EscPosPrinter, EscPosSettings
from hardware.drivers.printer_sim import SimPrinter
from hardware.drivers.scanner_sim import SerialScannerSim
from hardware.drivers.serial_scanner import SerialScanner, SerialScannerSettings
from hardware.drivers.voice_espeak import EspeakVoice
from hardware.drivers.voice_sim import SimVoice
from hardware.id_reader import IdCardReader
from hardware.printer import ReceiptPrinter
from hardware.scanner import QrScanner
from hardware.voice import VoicePrompter
from terminal.config import Config

log = logging.getLogger(__name__)

SIM = "sim"
NONE = "none"


@dataclass
class Devices:
    """The peripherals in use (None where there is none) and their simulators, if simulated."""

    scanner: QrScanner | None = None
    id_reader: IdCardReader | None = None
    scanner_sim: SerialScannerSim | None = None
    id_reader_sim: SimIdReader | None = None
    camera: DocumentCamera | None = None
    printer: ReceiptPrinter | None = None  # a SimPrinter (with its pages) when "sim"
    voice: VoicePrompter | None = None  # a SimVoice (with what it said) when "sim"
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Stop the drivers, then the simulators."""
        if self._closed:
            return
        self._closed = True
        if self.scanner is not None:
            self.scanner.stop()
        if self.id_reader is not None:
            self.id_reader.cancel()
            self.id_reader.close()
        if self.camera is not None:
            self.camera.close()
        if self.printer is not None:
            self.printer.close()
        if self.voice is not None:
            self.voice.close()
        if self.scanner_sim is not None:
            self.scanner_sim.close()
        if self.id_reader_sim is not None:
            self.id_reader_sim.stop()


def open_devices(cfg: Config) -> Devices:
    """Every configured peripheral; the scanner is not yet started (the app gives it a handler)."""
    dv = cfg.devices
    devices = Devices()
    link = dv.scanner
    if link == SIM:
        devices.scanner_sim = SerialScannerSim()
        link = devices.scanner_sim.link
        log.info("simulated QR scanner on %s", link)
    if link != NONE:
        devices.scanner = SerialScanner(SerialScannerSettings(link=link, baud=dv.scanner_baud))
    link = dv.id_reader
    if link == SIM:
        devices.id_reader_sim = SimIdReader()
        link = devices.id_reader_sim.start()
        log.info("simulated ID-card reader on %s", link)
    if link != NONE:
        devices.id_reader = Gat467Reader(ReaderSettings(link=link, baud=dv.id_reader_baud))
    if dv.camera == SIM:
        devices.camera = SimDocumentCamera()
    if dv.printer == SIM:
        devices.printer = SimPrinter(cfg.data_dir / "printed", dots=dv.printer_dots)
    elif dv.printer != NONE:
        devices.printer = EscPosPrinter(EscPosSettings(dv.printer, baud=dv.printer_baud),
                                        dots=dv.printer_dots)
    if dv.voice == SIM:
        devices.voice = SimVoice()
    elif dv.voice == "espeak":
        devices.voice = EspeakVoice()
    return devices
