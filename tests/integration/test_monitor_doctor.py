"""The `doctor` remote command end to end: a real mosquitto, the monitor with its dashboard in
headless Chromium, and a real terminal process (composed runtime and its simulated devices,
boards simulated on a pty, driven through the simulator's TCP control interface).

In order: the command form offers doctor to a technician only; the report comes back in the
ack with every check (validated against the schema, a few KB) and shows on the terminal page;
a board taken offline shows as ✗ board 2 with its fix; the terminal audited each command.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.sim_control import ControlHandler, ControlServer, SimControl
from hardware.drivers.sim_serve import open_endpoint
from locker.audit_tail import AuditReader
from terminal.cli_doctor import CHECKS_WITHOUT_CONFIG
from terminal.config import load_config
from terminal.doctor_live import MAX_REPORT_BYTES
from tests.integration.browser import chromium, click, text_of, wait
from tests.integration.monitor_site import CENTRE, MonitorSite
from tests.integration.mosquitto import Watcher

pytestmark = [pytest.mark.slow]
T = "T-doc"
PASSWORD = "doctor-test-pw"
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "mqtt" / "cmd_ack.json"
RUNNER = """
import sys, threading
from terminal.composition import open_locker
from terminal.config import load_config
from terminal.devices import open_devices
cfg = load_config(sys.argv[1])
devices = open_devices(cfg)
devices.scanner.start(lambda code: None)
runtime = open_locker(cfg)
runtime.mqtt.doctor.devices = devices  # what KioskApp does once its devices are open
print("ready", flush=True)
threading.Event().wait()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("KIOSK_HASH_KEY", "monitor-doctor-test-hash-key-0123456789")
    tmp = tmp_path_factory.mktemp("doctor")
    sim = SimBus.build((1, 2), load_profile("generic"), seed=7)
    endpoint = open_endpoint(sim, "pty", 115200)
    link = endpoint.start()
    control = ControlServer(ControlHandler(sim))
    s = MonitorSite(tmp, serve=True, monitor_health_s=60)
    s.control_address = control.start()
    s.monitor.store.add_user("wang.li", PASSWORD, "technician")
    s.monitor.store.add_user("li.na", PASSWORD, "operator")
    s.acks = Watcher(s.broker.port, "doctor-acks", topic_filter=f"kiosk/v1/{CENTRE}/{T}/cmd_ack/+")
    s.cfg_path = s.config_for(T, link)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(s.cfg_path)],
                            stdout=subprocess.PIPE, env=env)
    s.procs.append(proc)
    assert proc.stdout.readline().strip() == b"ready"
    yield s
    s.acks.close()
    s.close()
    control.stop()
    endpoint.stop()
    mp.undo()


@pytest.fixture(scope="module")
def browser(site):
    yield from chromium()





def sign_in(browser, site) -> None:
    browser.get(site.url + "/login")
    wait(browser).until(ec.presence_of_element_located((By.ID, "login")))
    browser.find_element(By.ID, "user").send_keys("wang.li")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, f"t-{T}")))


def send_doctor(browser) -> str:
    """Send `doctor` from the terminal page's form; its req_id."""
    Select(browser.find_element(By.ID, "command")).select_by_value("doctor")
    browser.find_element(By.ID, "send").click()
    wait(browser).until(lambda b: re.search(r"sent (\S+)", b.find_element(
        By.ID, "command-result").text))
    return browser.find_element(By.ID, "command-result").text.split()[-1]


def done_ack(site, req_id: str) -> dict:
    msg = site.acks.next(f"kiosk/v1/{CENTRE}/{T}/cmd_ack/{req_id}", timeout=60,
                         pred=lambda m: m.json()["result"] != "accepted")
    assert len(msg.payload) <= MAX_REPORT_BYTES + 512  # the ack stays a few KB
    ack = msg.json()
    jsonschema.validate(ack, json.loads(SCHEMA.read_text(encoding="utf-8")),
                        format_checker=jsonschema.FormatChecker())
    return ack


def test_a_the_form_offers_doctor_to_technicians_only(site, browser):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"user": "li.na", "password": PASSWORD}).encode()
    opener.open(site.url + "/login", data=form, timeout=10).close()
    with opener.open(f"{site.url}/terminal/{T}", timeout=10) as page:
        html = page.read().decode()
    assert 'value="snapshot"' in html
    assert 'value="doctor"' not in html
    csrf = re.search(r'const CSRF = "([^"]+)"', html).group(1)
    attempt = urllib.parse.urlencode({"command": "doctor", "csrf": csrf}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{site.url}/terminal/{T}/command", data=attempt, timeout=10)
    assert refused.value.code == 403
    refused.value.close()
    sign_in(browser, site)
    click(browser, By.LINK_TEXT, T)
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "boards"), "2 online"))
    options = [o.get_attribute("value") for o in
               Select(browser.find_element(By.ID, "command")).options]
    assert "doctor" in options
    assert "No report yet" in browser.find_element(By.ID, "doctor-meta").text


def test_b_the_ack_carries_every_check_and_the_page_shows_them(site, browser):
    req_id = send_doctor(browser)
    ack = done_ack(site, req_id)
    assert ack["result"] == "done"
    report = ack["report"]
    names = [c["name"] for c in report["checks"]]
    fixed = {"config", *CHECKS_WITHOUT_CONFIG, "board 1", "board 2", "clock"} - {"databases"}
    assert fixed <= set(names)
    databases = set(names) - fixed
    assert "database locker.db" in databases
    assert "database mqtt_commands.sqlite3" in databases
    assert all(n.startswith("database ") for n in databases)
    assert len(names) == len(set(names))
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["board 1"] == statuses["board 2"] == "ok"
    assert statuses["lock bus"] == "ok"
    assert statuses["broker"] == "ok"
    assert statuses["scanner"] == statuses["printer"] == statuses["ID-card reader"] == "ok"
    assert statuses["database locker.db"] == "ok"
    locker_db = next(c for c in report["checks"] if c["name"] == "database locker.db")
    assert "audit chain intact" in locker_db["detail"]
    wait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "doctor-meta"), req_id))
    board = browser.find_element(By.CSS_SELECTOR, "#doctor li[data-name='board 2']")
    assert board.text.startswith("✓ board 2")
    shown = browser.find_elements(By.CSS_SELECTOR, "#doctor li.check")
    assert len(shown) == len(report["checks"])
    wait(browser).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f"#cmd-{req_id} .acks"), "done"))


def test_c_a_board_taken_offline_shows_as_failed_with_its_fix(site, browser):
    with SimControl(site.control_address) as control:
        control.offline(2)
        try:
            wait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "boards"),
                                                                     "2 offline"))
            req_id = send_doctor(browser)
            ack = done_ack(site, req_id)
            board = next(c for c in ack["report"]["checks"] if c["name"] == "board 2")
            assert board["status"] == "fail"
            assert ack["reason"].endswith("check(s) failed")
            wait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "doctor-meta"),
                                                                     req_id))
            failed = "#doctor li[data-name='board 2'][data-status='fail']"
            item = wait(browser).until(lambda d: text_of(d, failed))  # live redraws: re-read
            assert item.startswith("✗ board 2")
            assert "DIP switches" in wait(browser).until(lambda d: text_of(d, failed + " .fix"))
            assert wait(browser).until(
                lambda d: text_of(d, "#doctor li[data-name='board 1']")).startswith("✓")
        finally:
            control.online(2)
    kept = site.monitor.state.detail(T)["doctor"]
    assert kept["req_id"] == req_id
    assert kept["report"]["ok"] is False


def test_d_the_terminal_audited_every_doctor_command(site):
    reader = AuditReader(load_config(site.cfg_path).db_path)
    try:
        rows = [r for r in reader.after(0, 10_000) if r.detail.get("command") == "doctor"]
    finally:
        reader.close()
    assert [r.action for r in rows] == ["remote_cmd.accepted", "remote_cmd.done"] * 2
    assert {r.actor for r in rows} == {"staff:wang.li"}
    assert rows[-1].detail["reason"].endswith("check(s) failed")
