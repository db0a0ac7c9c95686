"""The fleet dashboard in headless Chromium (selenium), served by uvicorn on loopback, over a
real mosquitto and a real terminal in a subprocess (composed runtime, simulated boards on a pty).

One site for the module, in order: sign in and see the terminal online; a forced door appears
as an alarm without reload; a command sent from the page opens a door and its ack appears;
SIGKILL of the terminal (its Will) shows it offline.
"""

from __future__ import annotations

import http.cookiejar
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.sim_control import SimControl
from hardware.drivers.sim_serve import open_endpoint
from tests.integration.browser import chromium, click, wait
from tests.integration.monitor_site import MonitorSite

pytestmark = [pytest.mark.slow]
assert shutil.which("/usr/bin/chromedriver"), \
    "the dashboard tests need Debian's chromium and chromium-driver: run scripts/setup.sh"
T = "T-web"
PASSWORD = "dashboard-test-pw"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("KIOSK_HASH_KEY", "monitor-dashboard-test-hash-key-0123456789")
    tmp = tmp_path_factory.mktemp("dashboard")
    sim = SimBus.build((1, 2), load_profile("generic"), seed=5)
    endpoint = open_endpoint(sim, "pty", 115200)
    link = endpoint.start()
    s = MonitorSite(tmp, serve=True, monitor_health_s=60)  # offline only by the Will
    s.monitor.store.add_user("wang.li", PASSWORD, "technician")
    s.sim = sim
    s.proc = s.terminal_process(T, link)
    yield s
    s.close()
    endpoint.stop()
    mp.undo()


@pytest.fixture(scope="module")
def browser(site):
    yield from chromium()




def test_a_sign_in_and_the_terminal_is_online(site, browser):
    browser.get(site.url + "/")
    wait(browser).until(ec.presence_of_element_located((By.ID, "login")))
    browser.find_element(By.ID, "user").send_keys("wang.li")
    browser.find_element(By.ID, "password").send_keys("wrong password")
    browser.find_element(By.ID, "signin").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "error")))
    browser.find_element(By.ID, "user").send_keys("wang.li")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait(browser).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f"#t-{T} .status"), "online"))
    row = browser.find_element(By.ID, f"t-{T}")
    assert "empty 48" in row.text


def test_b_a_forced_door_shows_as_an_alarm_without_reload(site, browser):
    marker = browser.execute_script("window.__noReload = 1; return window.__noReload;")
    with SimControl(site.sim) as control:
        control.force(1, 4)  # A05
        wait(browser).until(ec.presence_of_element_located(
            (By.CSS_SELECTOR, f"#t-{T} li.alert[data-type='door_forced']")))
        wait(browser).until(ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, f"#t-{T} .open-doors"), "A05"))
        assert browser.execute_script("return window.__noReload;") == marker  # same page
        click(browser, By.CSS_SELECTOR, f"#t-{T} li.alert[data-type='door_forced'] button.ack")
        wait(browser).until(ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, f"#t-{T} li.alert[data-type='door_forced']"), "wang.li"))
        control.close(1, 4)
    wait(browser).until_not(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f"#t-{T} li.alert[data-type='door_forced']")))


def test_d_a_command_from_the_page_opens_a_door_and_its_ack_appears(site, browser):
    board = site.sim.board(1)
    before = board.channel(5).unlock_count
    click(browser, By.LINK_TEXT, T)
    wait(browser).until(ec.presence_of_element_located((By.ID, "c-A06")))
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "boards"), "2 online"))
    assert "%" in browser.find_element(By.ID, "disk").text
    Select(browser.find_element(By.ID, "command")).select_by_value("open")
    browser.find_element(By.ID, "compartment").send_keys("A06")
    browser.find_element(By.ID, "send").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "command-result"), "sent"))
    req_id = browser.find_element(By.ID, "command-result").text.split()[-1]
    wait(browser).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f"#cmd-{req_id} .acks"), "done (opened)"))
    assert "accepted" in browser.find_element(By.CSS_SELECTOR, f"#cmd-{req_id} .acks").text
    assert board.channel(5).unlock_count == before + 1
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#c-A06.door-open")))
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "events"), "maintenance"))
    board.close(5)
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#c-A06.door-closed")))


def test_c_sigkill_of_the_terminal_shows_it_offline(site, browser):
    browser.get(site.url + "/")
    wait(browser).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f"#t-{T} .status"), "online"))
    site.kill(site.proc)
    wait(browser).until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f"#t-{T} .status"), "offline"))
    wait(browser).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f"#t-{T} li.alert[data-type='terminal_offline']")))
    summary = next(t for t in site.monitor.state.fleet() if t["id"] == T)
    assert summary["offline_reason"] == "will"


def test_e_a_viewer_sees_no_command_form_and_cannot_post_one(site):
    site.monitor.store.add_user("zhao.min", PASSWORD, "viewer")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"user": "zhao.min", "password": PASSWORD}).encode()
    with opener.open(site.url + "/login", data=form, timeout=10) as page:  # follows the 303
        assert "zhao.min (viewer)" in page.read().decode()
    with opener.open(f"{site.url}/terminal/{T}", timeout=10) as page:
        html = page.read().decode()
    assert 'id="command-form"' not in html
    csrf = re.search(r'const CSRF = "([^"]+)"', html).group(1)
    attempt = urllib.parse.urlencode({"command": "open", "compartment": "A01",
                                      "csrf": csrf}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{site.url}/terminal/{T}/command", data=attempt, timeout=10)
    assert refused.value.code == 403
    refused.value.close()
    no_csrf = urllib.parse.urlencode({"terminal": T, "key": "terminal_offline"}).encode()
    with pytest.raises(urllib.error.HTTPError) as forged:
        opener.open(f"{site.url}/alerts/ack", data=no_csrf, timeout=10)
    assert forged.value.code == 403
    forged.value.close()
