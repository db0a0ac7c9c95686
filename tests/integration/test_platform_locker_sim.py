"""A real deposit and pickup over the simulated bus reach a real platform server, in order.

The composition root with `[platform] adapter = "http"`: the controller writes DEPOSIT and
PICKUP (with the delivery receipt) in the transactions that store and release the item, and the
sender thread delivers them through HttpPlatform to the loopback server.
"""

from __future__ import annotations

import pytest

from locker.models import Outcome, Size
from locker.staff_identity import Technician
from remote.platform_cache import CachingPlatform
from remote.platform_http import HttpPlatform
from remote.platform_local import LocalPlatform
from remote.platform_models import CaseState, DeliveryMethod, DeliveryReceipt
from remote.wire import from_json
from terminal.composition import open_locker
from terminal.config import load_config
from tests.integration.platform_server import PlatformServer
from tests.unit.locker_fakes import fake_id, fake_phone


@pytest.fixture
def server():
    with PlatformServer() as srv:
        yield srv


def start(pty_bus, tmp_path, monkeypatch, platform: str):
    monkeypatch.setenv("KIOSK_HASH_KEY", "integration-test-hash-key-0123456789")
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\nid = "T-SIM-1"\ndata_dir = "{tmp_path}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\npoll_interval_s = 0.05\n'
                   f'[locker]\ndoor_open_confirm_s = 0.5\n[platform]\n{platform}',
                   encoding="utf-8")
    return open_locker(load_config(cfg)), sim


@pytest.fixture
def runtime(pty_bus, tmp_path, monkeypatch, server):
    monkeypatch.setenv("KIOSK_PLATFORM_TOKEN", server.token)
    rt, sim = start(pty_bus, tmp_path, monkeypatch,
                    f'adapter = "http"\nbase_url = "{server.url}"\nretries = 0\n')
    yield rt, sim
    rt.close()


def deliver_one(rt, sim, case_no: str, id_number: str, name: str):
    """Deposit a result for the case and have the applicant collect it."""
    c = rt.controller
    dep = c.deposit(case_no, id_number, name, fake_phone(13), Size.S, Technician("courier-1"))
    unit, ch = wire(rt, dep.compartment_id)
    sim.board(unit).put(ch)
    sim.board(unit).close(ch)
    assert c.wait_closed(dep.intent_id, 10)
    picked = c.pickup_with_code(dep.pickup_code, id_number)
    assert picked.outcome is Outcome.OPENED
    sim.board(unit).take(ch)
    sim.board(unit).close(ch)
    assert c.wait_closed(picked.intent_id, 10)
    return dep


def wire(rt, compartment_id: str) -> tuple[int, int]:
    row = next(c for c in rt.controller.status().compartments if c.id == compartment_id)
    return row.unit, row.channel


def test_deposit_and_pickup_reach_the_platform_in_order_with_the_receipt(runtime, server):
    rt, sim = runtime
    assert isinstance(rt.platform, CachingPlatform)  # http comes with the offline cache
    assert isinstance(rt.platform.inner, HttpPlatform)
    c = rt.controller
    dep = c.deposit("SH-PLAT-1", fake_id(11), "测试甲", fake_phone(11), Size.S,
                    Technician("courier-1"))
    assert dep.outcome is Outcome.OPENED
    unit, ch = wire(rt, dep.compartment_id)
    sim.board(unit).put(ch)
    sim.board(unit).close(ch)
    assert c.wait_closed(dep.intent_id, 10)
    deposit_key = f"T-SIM-1:deposit:{dep.item_id}"
    assert server.wait_for(lambda: deposit_key in server.accepted)

    picked = c.pickup_with_code(dep.pickup_code, fake_id(11))
    assert picked.outcome is Outcome.OPENED
    sim.board(unit).take(ch)
    sim.board(unit).close(ch)
    assert c.wait_closed(picked.intent_id, 10)
    pickup_key = f"T-SIM-1:pickup:{dep.item_id}"
    assert server.wait_for(lambda: pickup_key in server.accepted)

    assert server.order == [deposit_key, pickup_key]
    body = server.messages[pickup_key]
    assert (body["kind"], body["case_no"]) == ("pickup", "SH-PLAT-1")
    receipt = from_json(DeliveryReceipt, body["body"]["delivery_receipt"])
    assert receipt.method is DeliveryMethod.LOCKER
    assert (receipt.recipient_masked_name, receipt.proxy_masked_name) == ("测*甲", "")
    assert (receipt.terminal_id, receipt.compartment_id) == ("T-SIM-1", dep.compartment_id)
    assert c.delivery_receipt("SH-PLAT-1").as_body() == body["body"]["delivery_receipt"]
    assert fake_id(11) not in str(server.messages)
    assert fake_phone(11) not in str(server.messages)
    assert rt.sender.wait_drained(10)
    assert c.outbox_depth() == 0


def test_the_platform_down_keeps_the_messages_and_the_locker_serving(runtime, server):
    rt, sim = runtime
    server.refuse_all = True
    c = rt.controller
    dep = c.deposit("SH-PLAT-2", fake_id(12), "测试乙", fake_phone(12), Size.S,
                    Technician("courier-1"))
    unit, ch = wire(rt, dep.compartment_id)
    sim.board(unit).put(ch)
    sim.board(unit).close(ch)
    assert c.wait_closed(dep.intent_id, 10)
    assert server.wait_for(lambda: ("PUT", f"/v1/messages/T-SIM-1%3Adeposit%3A{dep.item_id}")
                           in server.requests)
    assert c.outbox_depth() == 1
    assert server.accepted == {}


def test_the_local_adapter_hears_the_locker_too(pty_bus, tmp_path, monkeypatch):
    rt, sim = start(pty_bus, tmp_path, monkeypatch, 'adapter = "local"\n')
    try:
        assert isinstance(rt.platform, LocalPlatform)
        case_no, applicant = "SJ20261118000032", "000000196803020310"  # a demo case
        dep = deliver_one(rt, sim, case_no, applicant, "王建国")
        assert rt.sender.wait_drained(10)
        assert rt.controller.outbox.records("rejected") == []
        receipt = rt.platform.delivery_receipt(case_no)
        assert receipt == from_json(DeliveryReceipt,
                                    rt.controller.delivery_receipt(case_no).as_body())
        assert (receipt.recipient_masked_name, receipt.compartment_id) == ("王*国",
                                                                           dep.compartment_id)
        progress = rt.platform.case_progress(case_no, id_number=applicant)
        assert progress.state is CaseState.DELIVERED
    finally:
        rt.close()
