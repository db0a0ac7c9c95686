"""The composition root's half for peripherals: QR scanner and ID-card reader from `[devices]`.

"sim" starts the simulator on its own pseudo-terminal and connects the real driver to it, so
the whole path (serial framing, GA/T 467) runs in demos and tests; the simulators stay
reachable on `Devices` for a demo or a test to present a receipt or a card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hardware.document_camera import DocumentCamera
from hardware.drivers.document_camera_sim import SimDocumentCamera
from hardware.drivers.gat467_reader import Gat467Reader, ReaderSettings
from hardware.drivers.id_reader_sim import SimIdReader
from hardware.drivers.scanner_sim import SerialScannerSim
from hardware.drivers.serial_scanner import SerialScanner, SerialScannerSettings
from hardware.id_reader import IdCardReader
from hardware.scanner import QrScanner
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
        if self.scanner_sim is not None:
            self.scanner_sim.close()
        if self.id_reader_sim is not None:
            self.id_reader_sim.stop()


def open_devices(cfg: Config) -> Devices:
    """The scanner (not yet started: the app starts it with its handler) and the card reader."""
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
    return devices
