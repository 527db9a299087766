"""The preview page in a real browser: headless Chromium (the system's) through Selenium, against
the line served on loopback by a real HTTP server."""
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import CONTENT, make_settings
from line import create_app
from line.content import load_library

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path("/tmp/preview.png")
LIB = load_library(CONTENT)
EN, ES = LIB.language("en"), LIB.language("es")
WAIT = 15


def _missing() -> str | None:
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if absent:
        return (f"{' and '.join(absent)} not installed: run scripts/setup --test "
                "(apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: run scripts/setup --test"
    return None


@pytest.fixture(scope="module")
def browser_ready():
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser_ready):
    from werkzeug.serving import make_server

    app = create_app(make_settings(tmp_path_factory.mktemp("browser")))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app
    finally:
        httpd.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def driver(tmp_path_factory, browser_ready):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Never let Selenium Manager fetch a browser or a driver: both are given, and it is told to stay offline.
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,1500",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    browser = webdriver.Chrome(service=service, options=options)
    try:
        yield browser
    finally:
        browser.quit()


def wait_for_text(driver, element_id: str, text: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, WAIT).until(EC.text_to_be_present_in_element((By.ID, element_id), text))
    except Exception:
        found = driver.find_element(By.ID, element_id).text
        error = driver.find_element(By.ID, "error").text
        raise AssertionError(f"#{element_id} never showed {text!r}; it shows {found!r} (error: {error!r})") from None
    return driver.find_element(By.ID, element_id)


def test_a_staff_member_texts_and_calls_in_the_browser(server, driver):
    from selenium.webdriver.common.by import By

    base, app = server
    driver.get(base + "/preview")
    assert "Try the line" in driver.title

    sms = driver.find_element(By.ID, "sms-input")
    sms.send_keys("side effects")
    driver.find_element(By.ID, "sms-send").click()
    log = wait_for_text(driver, "sms-log", "Side effects are different for each patient and each cancer.")
    assert "You: side effects" in log.text
    notice = "Line: " + EN.sms["first_text"]
    assert log.text.index(notice) < log.text.index("Line: Side effects")  # a new texter: the notice first
    sms.send_keys("trials")
    driver.find_element(By.ID, "sms-send").click()
    log = wait_for_text(driver, "sms-log", EN.topics["trials"].text[:60])
    assert log.text.count(notice) == 1  # the page's texter has been answered: no notice again

    driver.find_element(By.ID, "call-btn").click()
    heard = wait_for_text(driver, "heard", "Welcome to the Cancer Immunotherapy Info Line.")
    assert heard.get_attribute("aria-live") == "polite"
    assert driver.find_element(By.ID, "place").text == "Main menu"
    wait_for_text(driver, "keys", "2: Getting treatment and side effects")

    driver.find_element(By.ID, "key-2").click()
    wait_for_text(driver, "place", "Getting treatment and side effects")
    driver.find_element(By.ID, "key-3").click()
    heard = wait_for_text(driver, "heard", "What side effects can people have?")
    wait_for_text(driver, "place", "Side effects")
    assert " ".join(EN.topics["side-effects"].speech.split()) in " ".join(heard.text.split())
    wait_for_text(driver, "keys", "8: back one level")
    driver.set_window_size(1400, 1300)
    driver.save_screenshot(str(SCREENSHOT))

    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors  # no script or Content-Security-Policy errors
    assert app.extensions["line"].store.events_since(datetime(2000, 1, 1, tzinfo=timezone.utc)) == []


def test_the_page_keeps_its_texters_language_and_a_page_opened_again_starts_in_english(server, driver):
    from selenium.webdriver.common.by import By

    base, _ = server

    def text(words: str, expected: str):
        driver.find_element(By.ID, "sms-input").send_keys(words)
        driver.find_element(By.ID, "sms-send").click()
        return wait_for_text(driver, "sms-log", expected)

    driver.get(base + "/preview")
    text("ESPANOL", ES.sms["language_set"][:40])
    spanish_menu = ES.menus["main"].text.splitlines()[0]
    text("MENU", spanish_menu)
    driver.get(base + "/preview")  # a new session: a new number, in English, the notice first
    log = text("MENU", EN.menus["main"].text.splitlines()[0])
    assert spanish_menu not in log.text
    assert log.text.index("Line: " + EN.sms["first_text"]) < log.text.index("Line: " + EN.menus["main"].text.splitlines()[0])


def test_keyboard_only_silence_transfer_and_hangup(server, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, _ = server
    driver.get(base + "/preview")
    call = driver.find_element(By.ID, "call-btn")
    call.send_keys(Keys.ENTER)  # a real button: Enter works
    wait_for_text(driver, "heard", "Welcome")

    driver.find_element(By.ID, "key-5").send_keys("9")  # on the keypad, typing a key presses it
    wait_for_text(driver, "call-log", "You press 9.")

    driver.find_element(By.ID, "say-input").send_keys("clinical trials", Keys.ENTER)
    wait_for_text(driver, "place", "Clinical trials")

    driver.find_element(By.ID, "wait-btn").click()
    wait_for_text(driver, "heard", "We did not hear anything.")

    driver.find_element(By.ID, "key-0").click()
    dial = wait_for_text(driver, "dial", "Would transfer to +18668204505.")
    assert dial.is_displayed()
    driver.find_element(By.ID, "dial-busy").click()
    wait_for_text(driver, "heard", "we could not put you through")
    assert not driver.find_element(By.ID, "dial").is_displayed()

    driver.find_element(By.ID, "key-0").click()
    wait_for_text(driver, "dial", "Would transfer")
    driver.find_element(By.ID, "dial-completed").click()
    wait_for_text(driver, "call-status", "The call ended.")
    assert driver.find_element(By.ID, "call-btn").text == "Call again"
    assert driver.switch_to.active_element == driver.find_element(By.ID, "call-btn")

    driver.find_element(By.ID, "key-1").click()
    wait_for_text(driver, "error", "There is no call: press Call first.")
    driver.find_element(By.ID, "call-btn").click()
    wait_for_text(driver, "heard", "Welcome")
    assert not driver.find_element(By.ID, "error").is_displayed()
