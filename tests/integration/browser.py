"""Headless Chromium for the dashboard tests, and waits that survive live redraws.

The dashboard redraws parts of its page from server-sent events: an element found a moment
ago may be replaced before it is read or clicked, so waits ignore stale elements and clicks
find their element again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def chromium() -> Iterator[webdriver.Chrome]:
    """Debian's chromium and chromedriver (installed by scripts/setup.sh), headless."""
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        yield driver
    finally:
        driver.quit()


def wait(browser: webdriver.Chrome, timeout: float = 20) -> WebDriverWait:
    """A wait that tries again when the element it looked at was redrawn."""
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,))


def click(browser: webdriver.Chrome, by: str, what: str) -> None:
    """Click an element of a live-updated part of the page, found again if it was redrawn."""
    def clicked(driver: webdriver.Chrome) -> bool:
        driver.find_element(by, what).click()
        return True
    wait(browser).until(clicked)


def text_of(browser: webdriver.Chrome, css: str) -> str:
    """The element's text, read in one go."""
    return browser.find_element(By.CSS_SELECTOR, css).text


def shot(browser: webdriver.Chrome, name: str) -> None:
    """With KIOSK_SCREENSHOTS=DIR, keep the page as DIR/name.png (for docs/screenshots)."""
    folder = os.environ.get("KIOSK_SCREENSHOTS")
    if folder:
        browser.set_window_size(1280, 1000)
        browser.execute_script("window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(Path(folder) / f"{name}.png"))
