"""The fleet page with 120 terminals in headless Chromium: paging, filters, search, counts.

A real mosquitto and the monitor with its dashboard (tests/integration/monitor_site.py), one
real terminal in a subprocess (composed runtime, simulated boards on a pty) and 119 synthetic
terminals whose retained status and birth a small paho publisher sends through the broker;
one of them has its own connection and Will. In order: page 1 of 3 with the fleet's counts;
page 2 in the URL and back; SIGKILL of the real terminal and a synthetic Will update the counts
live and mark the offline page stale until refreshed; search narrows, the URL keeps it all.
"""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from hardware.board_profile import load_profile
from hardware.drivers.board_sim import SimBus
from hardware.drivers.sim_serve import open_endpoint
from tests.integration.browser import chromium, click, shot, wait
from tests.integration.monitor_site import CENTRE, MonitorSite

pytestmark = [pytest.mark.slow]
assert shutil.which("/usr/bin/chromedriver"), \
    "the dashboard tests need Debian's chromium and chromium-driver: run scripts/setup.sh"
REAL = "T120"
WILLED = "T119"
PASSWORD = "fleet-page-test-pw"


def birth(tid: str) -> bytes:
    return json.dumps({"session": 1, "seq": 1, "ts": "2026-11-23T00:00:00.000Z",
                       "app_version": "synthetic", "boards": [{"unit": 1}],
                       "compartments": [], "terminal": tid}).encode()


def client(port: int, cid: str, will: str | None = None) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid)
    if will:
        c.will_set(will, b"offline", qos=1, retain=True)
    c.connect("127.0.0.1", port, keepalive=60)
    c.loop_start()
    return c


def announce(c: mqtt.Client, tid: str) -> None:
    root = f"kiosk/v1/{CENTRE}/{tid}"
    c.publish(f"{root}/status", b"online", qos=1, retain=True).wait_for_publish(10)
    c.publish(f"{root}/birth", birth(tid), qos=1, retain=True).wait_for_publish(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("KIOSK_HASH_KEY", "monitor-fleet-page-test-hash-key-0123456789")
    tmp = tmp_path_factory.mktemp("fleet_page")
    sim = SimBus.build((1, 2), load_profile("generic"), seed=9)
    endpoint = open_endpoint(sim, "pty", 115200)
    link = endpoint.start()
    s = MonitorSite(tmp, serve=True, monitor_health_s=600)  # offline only by a Will
    s.monitor.store.add_user("li.na", PASSWORD, "viewer")
    publisher = client(s.broker.port, "synthetic-publisher")
    for n in range(1, 119):
        announce(publisher, f"T{n:03d}")
    s.willed = client(s.broker.port, WILLED, will=f"kiosk/v1/{CENTRE}/{WILLED}/status")
    announce(s.willed, WILLED)
    s.proc = s.terminal_process(REAL, link)
    yield s
    publisher.disconnect()
    publisher.loop_stop()
    s.willed.loop_stop()
    s.close()
    endpoint.stop()
    mp.undo()


@pytest.fixture(scope="module")
def browser(site):
    yield from chromium()



def text_is(by: str, what: str, text: str):
    """The element's whole text is `text` (not just contains it)."""
    def check(driver) -> bool:
        found = driver.find_elements(by, what)
        return bool(found) and found[0].text.strip() == text
    return check


def row_ids(browser) -> list[str]:
    """The table's terminals, read in one go (a live update may redraw rows meanwhile)."""
    return browser.execute_script(
        "return [...document.querySelectorAll('#fleet tbody tr[id^=\"t-\"]')]"
        ".map(r => r.id.slice(2));")


def counts(browser) -> tuple[str, ...]:
    return tuple(browser.find_element(By.ID, f"count-{k}").text
                 for k in ("online", "offline", "alarms", "total"))


def test_a_page_1_of_3_with_the_counts_of_the_whole_fleet(site, browser):
    browser.get(site.url + "/")
    wait(browser).until(ec.presence_of_element_located((By.ID, "login")))
    browser.find_element(By.ID, "user").send_keys("li.na")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    wait(browser, 30).until(text_is(By.ID, "count-online", "120"))
    assert counts(browser) == ("120", "0", "0", "120")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "page-info"), "page 1 of 3"))
    assert "120 terminals" in browser.find_element(By.ID, "page-info").text
    ids = row_ids(browser)
    assert ids == [f"T{n:03d}" for n in range(1, 51)]
    assert browser.find_elements(By.ID, "page-3")
    assert not browser.find_elements(By.ID, "page-4")
    assert browser.find_element(By.CSS_SELECTOR, "#filter-all span").text == "120"


def test_b_page_2_is_in_the_url_and_back_returns_to_page_1(site, browser):
    click(browser, By.ID, "page-2")
    wait(browser).until(ec.url_contains("page=2"))
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "page-info"), "page 2 of 3"))
    wait(browser).until(lambda b: row_ids(b)[:1] == ["T051"])
    assert row_ids(browser) == [f"T{n:03d}" for n in range(51, 101)]
    browser.back()
    wait(browser).until(lambda b: "page=" not in b.current_url)
    wait(browser).until(lambda b: row_ids(b)[:1] == ["T001"])
    assert len(row_ids(browser)) == 50


def test_c_a_killed_terminal_updates_the_counts_live_and_the_offline_filter(site, browser):
    marker = browser.execute_script("window.__noReload = 7; return window.__noReload;")
    site.kill(site.proc)  # SIGKILL: its Will says it is offline
    wait(browser).until(text_is(By.ID, "count-offline", "1"))
    assert counts(browser) == ("119", "1", "0", "120")
    # it would come first on this page: the page says so instead of moving rows under the reader
    wait(browser).until(ec.visibility_of_element_located((By.ID, "stale")))
    assert browser.find_element(By.ID, "stale").text.startswith("1 处变化 — 刷新 / 1 changes")
    assert row_ids(browser)[0] == "T001"
    assert browser.execute_script("return window.__noReload;") == marker  # no reload
    shot(browser, "monitor_fleet_paged")
    click(browser, By.ID, "filter-offline")
    wait(browser).until(ec.url_contains("filter=offline"))
    wait(browser).until(lambda b: row_ids(b) == [REAL])
    wait(browser).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"#t-{REAL} .status"),
                                                         "offline (will)"))
    assert browser.find_element(By.ID, "page-info").text.endswith("page 1 of 1 · 1 terminals")
    assert not browser.find_element(By.ID, "stale").is_displayed()
    site.willed.socket().close()  # a synthetic terminal's TCP dies: the broker sends its Will
    wait(browser).until(text_is(By.ID, "count-offline", "2"))
    wait(browser).until(ec.visibility_of_element_located((By.ID, "stale")))
    assert row_ids(browser) == [REAL]
    click(browser, By.ID, "stale")  # refresh: the page again, over the live stream
    wait(browser).until(lambda b: row_ids(b) == [WILLED, REAL])
    assert not browser.find_element(By.ID, "stale").is_displayed()
    assert counts(browser) == ("118", "2", "0", "120")


def test_d_search_narrows_and_the_url_carries_filter_search_and_page(site, browser):
    box = browser.find_element(By.ID, "q")
    box.send_keys("t11")
    browser.find_element(By.ID, "search-go").click()
    wait(browser).until(ec.url_contains("q=t11"))
    assert "filter=offline" in browser.current_url
    wait(browser).until(lambda b: row_ids(b) == [WILLED])
    click(browser, By.ID, "filter-all")  # the search stays, the filter goes
    wait(browser).until(lambda b: "filter=" not in b.current_url and "q=t11" in b.current_url)
    wait(browser).until(lambda b: len(row_ids(b)) == 10)
    assert row_ids(browser) == [WILLED] + [f"T{n}" for n in range(110, 119)]  # offline first
    assert counts(browser) == ("118", "2", "0", "120")  # the whole fleet, not the search
    browser.get(site.url + "/?filter=offline&q=T1&page=2")  # a shared link, past the end
    wait(browser).until(lambda b: row_ids(b) == [WILLED, REAL])
    wait(browser).until(lambda b: "page=" not in b.current_url)  # clamped to page 1
    assert browser.find_element(By.ID, "q").get_attribute("value") == "T1"
    assert browser.find_element(By.ID, "filter-offline").get_attribute("aria-current") == "page"


def test_e_the_api_gives_the_same_page_and_the_old_whole_fleet(site):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"user": "li.na", "password": PASSWORD}).encode()
    opener.open(site.url + "/login", data=form, timeout=10).close()
    with opener.open(site.url + "/api/fleet?filter=offline&q=T1", timeout=10) as r:
        page = json.loads(r.read())
    assert [t["id"] for t in page["terminals"]] == [WILLED, REAL]
    assert (page["page"], page["pages"], page["matched"]) == (1, 1, 2)
    assert page["counts"]["total"] == 120
    assert page["counts"]["offline"] == 2
    with opener.open(site.url + "/api/fleet?page=3", timeout=10) as r:
        last = json.loads(r.read())
    assert len(last["terminals"]) == 20
    assert last["terminals"][-1]["id"] == "T118"
    with opener.open(site.url + "/api/fleet?all=1", timeout=10) as r:
        whole = json.loads(r.read())
    assert (len(whole["terminals"]), whole["online"], whole["total"]) == (120, 118, 120)
