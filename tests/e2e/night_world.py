"""Everything around the terminal for a night, all real but the hardware, in the test process.

A mosquitto broker (with persistence, as production brokers run), the centre's reference
platform server (restartable on its port, so the network can go down and come back), the
fleet monitor fed through the broker, the lock-board simulator with two generic boards behind
RTU over TCP, and the QR-scanner and ID-card-reader simulators on pseudo-terminals.
`NightWorld.terminal_config` writes the config a terminal life uses to reach all of them.
Twenty cases are made ready for the locker at the centre through its own case flow (decide,
complete, hand to the locker), one of them naming a proxy.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from centre import case_flow
from centre.monitor_main import Monitor, MonitorConfig
from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.id_reader_sim import SimIdReader, fake_card
from hardware.drivers.scanner_sim import SerialScannerSim
from hardware.drivers.sim_control import SimControl
from hardware.drivers.sim_serve import open_endpoint
from hardware.id_reader import IdCard
from remote.platform_local import DEFAULT_CATALOGUE
from tests.integration.centre_server import CentreServer
from tests.integration.mosquitto import Broker, free_port

CENTRE_ID = "c-night"
TERMINAL_ID = "T1"  # the centre server knows its token
CASES = 20
PROXY_CASE = 3  # the case (index) whose result a named proxy collects
ITEM_CODES = ("GA-1001", "BDC-7002", "SJ-0104", "LN-6001", "SJ-0103")
SIZES = ("S", "M", "S", "L", "M")


@dataclass(frozen=True)
class NightCase:
    """A case of the night: its number, the applicant's card and the named proxy's, if any."""

    case_no: str
    applicant: IdCard
    proxy: IdCard | None
    size: str


def night_cases() -> list[NightCase]:
    """The twenty cases, applicants 测试1..20 (fictional ID numbers, region 000000)."""
    out = []
    for i in range(CASES):
        proxy = fake_card(60 + i, name="代领人王五") if i == PROXY_CASE else None
        out.append(NightCase(f"YJ2026112300{i + 1:04d}", fake_card(i + 1), proxy,
                             SIZES[i % len(SIZES)]))
    return out


def write_catalogue(directory: Path, cases: list[NightCase]) -> Path:
    """The sample guides plus the night's cases, accepted and waiting for a decision."""
    directory.mkdir(parents=True, exist_ok=True)
    for guides in DEFAULT_CATALOGUE.glob("guides_*.json"):
        shutil.copy(guides, directory / guides.name)
    entries = []
    for i, case in enumerate(cases):
        entry = {
            "case_no": case.case_no, "item_code": ITEM_CODES[i % len(ITEM_CODES)],
            "item_name": "夜间测试办件", "state": "accepted",
            "timeline": [{"state": "received", "at": "2026-11-20T01:00:00Z", "note": "收件",
                          "deadline": None},
                         {"state": "accepted", "at": "2026-11-20T02:00:00Z", "note": "受理",
                          "deadline": "2026-12-04T09:00:00Z"}],
            "missing_materials": [], "missing_deadline": None,
            "promised_by": "2026-12-04T09:00:00Z",
            "applicant": {"name": case.applicant.name, "id_number": case.applicant.id_number,
                          "phone": f"100202611{i:02d}"}}
        if case.proxy is not None:
            entry["proxy"] = {"name": case.proxy.name, "id_number": case.proxy.id_number,
                              "phone": "10020261199"}
        entries.append(entry)
    (directory / "cases.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    return directory


class NightCentre(CentreServer):
    """The reference server over the night's catalogue; `pause`/`resume` take it off the net."""

    def __init__(self, directory: Path, catalogue: Path) -> None:
        super().__init__(directory, seed=False)
        self.store.seed(catalogue)

    def pause(self) -> None:
        """Stop listening (connections are refused, as when the extranet is down)."""
        self._server.should_exit = True
        self._thread.join(10)

    def resume(self) -> None:
        """Listen again on the same port."""
        self._server = uvicorn.Server(self._server.config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.start()


class NightWorld:
    """Broker, centre, monitor, board/scanner/reader simulators; `close()` stops them all."""

    def __init__(self, root: Path, crc_rate: float = 0.0, seed: int = 20261123) -> None:
        self.root = root
        self.cases = night_cases()
        self.broker = Broker(_dir(root / "broker"), persistence=True)  # as brokers run
        self.broker.start()
        self.centre = NightCentre(_dir(root / "centre"),
                                  write_catalogue(root / "catalogue", self.cases)).start()
        for case in self.cases:  # the centre's own staff steps: decided, completed, ready
            self.centre.platform.step(case.case_no, case_flow.decide)
            self.centre.platform.step(case.case_no, case_flow.complete)
            self.centre.platform.hand_to_locker(case.case_no, case.size)
        self.monitor = Monitor(MonitorConfig(
            centre=CENTRE_ID, broker=f"127.0.0.1:{self.broker.port}",
            listen=f"127.0.0.1:{free_port()}", data_dir=str(_dir(root / "monitor")),
            health_interval_s=1.0, check_interval_s=0.2))
        self.monitor.start(serve=False)
        assert self.monitor.ingest.connected.wait(10)
        self.sim = SimBus.build([1, 2], load_profile("generic"), seed=seed)
        for board in self.sim.boards.values():
            board.faults.crc_rate = crc_rate
        self.endpoint = open_endpoint(self.sim, "tcp://127.0.0.1:0", 115200)
        self.bus_link = self.endpoint.start()
        self.control = SimControl(self.sim)
        self.scanner = SerialScannerSim()
        self.reader = SimIdReader()
        self.reader_link = self.reader.start()

    def terminal_config(self, data_dir: Path) -> Path:
        """The config of every terminal life: real broker, centre, simulators; short timers.

        `bus.retries = 4` (default 2): with 10% of answers corrupt a request fails when every
        try is garbled: 1 in 1,000 with 3 tries, which could fail an unlock (a pickup the
        scripted citizen would have to repeat) in a night of ~4,000; 1 in 100,000 with 5.
        (A garbled-only failure no longer takes a board offline unless it repeats 3 times in
        a row: hardware/drivers/bus_transactions.py.)
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        keys = self.monitor.public_keys_file
        boards = "".join(f'[[bus.boards]]\nunit = {u}\nprofile = "generic"\n' for u in (1, 2))
        text = (
            f'[terminal]\nid = "{TERMINAL_ID}"\ncentre_id = "{CENTRE_ID}"\n'
            f'data_dir = "{data_dir}"\nwindow = "1280x800"\nidle_s = 900\nidle_warn_s = 10\n'
            f'[bus]\nlink = "{self.bus_link}"\nbaud = 115200\nretries = 4\n'
            'poll_interval_s = 0.1\noffline_probe_s = 0.5\n' + boards +
            '[locker]\ndoor_open_confirm_s = 1.0\ndoor_left_open_s = 3\n'
            f'[mqtt]\nenabled = true\nport = {self.broker.port}\nkeepalive_s = 5\n'
            f'health_interval_s = 1\nevent_interval_s = 0.2\ncommand_keys_file = "{keys}"\n'
            f'[platform]\nadapter = "http"\nbase_url = "{self.centre.url}"\nretries = 0\n'
            'connect_timeout_s = 1\nread_timeout_s = 5\n'
            f'[devices]\nscanner = "{self.scanner.link}"\nid_reader = "{self.reader_link}"\n'
            'camera = "none"\nprinter = "none"\nvoice = "none"\ncard_timeout_s = 20\n'
            'door_close_timeout_s = 30\n')
        path = data_dir / "night.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def network_down(self) -> None:
        """The extranet goes: broker and platform both unreachable."""
        self.broker.stop()
        self.centre.pause()

    def network_up(self) -> None:
        """Both back on their ports."""
        self.broker.start()
        self.centre.resume()

    def close(self) -> None:
        """Stop everything this world started."""
        self.reader.stop()
        self.scanner.close()
        self.endpoint.stop()
        self.monitor.stop()
        self.centre.stop()
        self.broker.stop()


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
