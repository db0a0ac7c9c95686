"""The running terminal's expiry sweep: once at start, then on its interval, until closed."""

from __future__ import annotations

import threading

from terminal.expiry_sweep import ExpirySweep


class CountingController:
    """Counts expire_due calls; the second one flags an item; the third raises."""

    def __init__(self) -> None:
        self.calls = 0
        self.third = threading.Event()

    def expire_due(self) -> list[str]:
        self.calls += 1
        if self.calls == 3:
            self.third.set()
            raise RuntimeError("database is locked")
        return ["item-1"] if self.calls == 2 else []


def test_sweeps_at_start_then_on_interval_and_survives_an_error():
    controller = CountingController()
    sweep = ExpirySweep(controller, interval_s=0.01).start()
    try:
        assert controller.third.wait(5)  # start, one interval, another: the error raised
        assert sweep.alive  # ... and the thread kept going
    finally:
        sweep.close()
    calls = controller.calls
    assert calls >= 3
    assert not sweep.alive
    assert controller.calls == calls  # closed: no more sweeps


def test_sweep_once_returns_what_was_flagged():
    controller = CountingController()
    sweep = ExpirySweep(controller, interval_s=3600)
    assert sweep.sweep_once() == []
    assert sweep.sweep_once() == ["item-1"]


def test_a_terminal_locker_sweeps_and_stops_with_the_runtime(tmp_path):
    from terminal.composition import open_terminal_locker
    from terminal.config import load_config

    cfg_file = tmp_path / "k.toml"
    cfg_file.write_text(f'[terminal]\ndata_dir = "{tmp_path}"\n[bus]\nbaud = 115200\n',
                        encoding="utf-8")
    runtime = open_terminal_locker(load_config(cfg_file))
    try:
        assert runtime.expiry is not None
        assert runtime.expiry.alive
    finally:
        runtime.close()
    assert not runtime.expiry.alive
