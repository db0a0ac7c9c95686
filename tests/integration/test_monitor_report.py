"""The operating report over a real mosquitto and a real terminal process: business done on
its simulated boards, then SIGKILL for a measured span and a restart. The report's
availability is within a tolerance of the measured online share, its counts are the events
the terminal sent; the same in `kiosk monitor report --json` and on the dashboard's report
page (headless Chromium: the table and the availability chart)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from centre.monitor_report import Period, build_report
from tests.integration.browser import chromium, shot, wait
from tests.integration.monitor_site import MonitorSite
from tests.waiting import wait_for

pytestmark = [pytest.mark.slow]
assert shutil.which("/usr/bin/chromedriver"), "needs chromium-driver: run scripts/setup.sh"
T = "T-rep"
PASSWORD = "report-test-password"
ROOT = Path(__file__).resolve().parents[2]
# A terminal with its own simulated boards; `work` does business on them and says what it did.
RUNNER = """
import json, sys
from datetime import UTC, datetime, timedelta
from terminal.composition import open_locker
from terminal.config import load_config
from locker.staff_identity import Technician
from tests.unit.locker_fakes import fake_id, fake_phone
from tests.waiting import wait_for

rt = open_locker(load_config(sys.argv[1]))
c, link = rt.controller, rt.mqtt.link

def settle(result, item):
    row = next(x for x in c.status().compartments if x.id == result.compartment_id)
    board = rt.sim.board(row.unit)
    wait_for(lambda: board.channels[row.channel].door_open, 10)  # the simulated door has no event
    getattr(board, item)(row.channel)
    board.close(row.channel)
    assert c.wait_closed(result.intent_id, 10)

# the event pump starts at the audit log's end: let it start first
wait_for(lambda: link.event_cursor("audit") is not None, 10)
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() != "work":
        continue
    done = [c.deposit(f"SH-REP-{i}", fake_id(i), "测试", fake_phone(i), "S",
                      Technician("courier-1"))
            for i in range(3)]
    for r in done:
        settle(r, "put")
    settle(c.pickup_with_code(done[0].pickup_code, fake_id(0)), "take")
    expired = c.expire_due(datetime.now(UTC) + timedelta(days=400))
    settle(c.retrieve(done[1].compartment_id, Technician("S001")), "take")
    assert link.flush(15)
    print(json.dumps({"deposited": 3, "collected": 1, "expired": len(expired),
                      "retrieved": 1}), flush=True)
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HASH_KEY", "monitor-report-test-hash-key-0123456789")
    s = MonitorSite(tmp_path, serve=True, monitor_health_s=60)  # offline only by the Will
    s.monitor.store.add_user("wang.li", PASSWORD, "viewer")
    yield s
    for proc in s.procs:
        if proc.stdin is not None:
            proc.stdin.close()  # the site closes the rest
    s.close()


def start(site: MonitorSite) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(site.config_for(T, "sim"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    site.procs.append(proc)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def status(site: MonitorSite) -> str:
    detail = site.monitor.state.detail(T)
    return detail["status"] if detail else "unknown"


def test_availability_and_counts_match_what_the_terminal_did(site):
    proc = start(site)
    assert wait_for(lambda: status(site) == "online", 15)
    t_start = time.time()
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write("work\n")
    proc.stdin.flush()
    sent = json.loads(proc.stdout.readline())
    assert sent["expired"] == 2

    t_kill = time.time()
    site.kill(proc)
    assert wait_for(lambda: status(site) == "offline", 10)
    time.sleep(2.0)  # the outage itself: its length is measured, not waited on
    start(site)
    assert wait_for(lambda: status(site) == "online", 20)
    t_back = time.time()
    time.sleep(2.0)  # online again for a while
    t_end = time.time()
    site.monitor.store.flush()

    measured = ((t_kill - t_start) + (t_end - t_back)) / (t_end - t_start)
    report = build_report(site.monitor.store, Period(t_start, t_end), now=t_end)
    row = report.terminals[0]
    assert row.terminal == T
    assert row.availability == pytest.approx(measured, abs=0.03), (measured, t_end - t_start)
    assert row.offline_spells == 1
    # expire_due ran with a clock 400 days ahead: the terminal stamped its expiries then
    assert row.events == {**sent, "expired": 0}
    ahead = build_report(site.monitor.store, Period(t_start, t_start + 401 * 86400), now=t_end)
    assert ahead.terminals[0].events == sent
    assert ahead.terminals[0].availability == pytest.approx(row.availability)

    cli = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "monitor", "report", "--data-dir",
         site.cfg.data_dir, "--from", _iso(t_start), "--to", _iso(t_start + 401 * 86400),
         "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert cli.returncode == 0, cli.stderr
    printed = json.loads(cli.stdout)["terminals"][0]
    assert printed["events"] == sent
    assert printed["availability"] >= measured - 0.03  # counted up to now: online since

    for browser in chromium():
        browser.get(site.url + "/login")
        browser.find_element(By.ID, "user").send_keys("wang.li")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "signin").click()
        wait(browser).until(ec.presence_of_element_located((By.ID, "nav-report")))
        browser.find_element(By.ID, "nav-report").click()
        wait(browser).until(ec.presence_of_element_located((By.ID, "report")))
        cells = {c.get_attribute("class"): c.text for c in browser.find_elements(
            By.CSS_SELECTOR, f"#report tbody tr[data-terminal='{T}'] td")}
        assert cells["col-deposited"] == "3"
        assert cells["col-retrieved"] == "1"
        shown = float(cells["col-availability"].rstrip(" %")) / 100
        assert 0.05 < shown < 0.95  # the whole week: observed since first seen, with the outage
        assert browser.find_element(By.CSS_SELECTOR, "#report-total .col-collected").text == "1"
        shot(browser, "monitor_report")
        bar = browser.find_element(By.CSS_SELECTOR,
                                   f"#availability-chart g.bar[data-terminal='{T}'] rect")
        assert float(bar.get_attribute("width")) == pytest.approx(400 * shown, abs=1)
        assert bar.size["width"] > 0
        browser.find_element(By.ID, "last-1").click()
        wait(browser).until(ec.url_contains("days=1"))
        assert browser.find_element(By.ID, "from").get_attribute("value")


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat()
