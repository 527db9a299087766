"""The preview page in a real browser: headless Chromium (the system's) through Selenium, against
the line served on loopback by a real HTTP server."""
from datetime import datetime, timezone

import pytest

from browser import (WAIT, assert_accessible, axe_violations, browser_errors, keyboard_tab_to, require_browser,
                     screenshot, serve, start_chrome)
from conftest import CONTENT, make_settings
from line import create_app
from line.content import load_library

LIB = load_library(CONTENT)
EN, ES = LIB.language("en"), LIB.language("es")


@pytest.fixture(scope="module")
def browser_ready():
    require_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser_ready):
    app = create_app(make_settings(tmp_path_factory.mktemp("browser")))
    with serve(app) as base:
        yield base, app


@pytest.fixture(scope="module")
def driver(tmp_path_factory, browser_ready):
    browser = start_chrome(tmp_path_factory.mktemp("chromium-profile"))
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
    screenshot(driver, "preview")

    errors = browser_errors(driver)
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
    call = keyboard_tab_to(driver, lambda e: e.get_attribute("id") == "call-btn")  # reached by Tab alone
    assert call == driver.find_element(By.ID, "call-btn")
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


# What axe-core finds on the page today, to be fixed in line/templates/preview.html: keys 2 to 9 show
# "2 ABC" but are named "Press 2" (WCAG 2.5.3, label in name). When it is fixed, the check of the
# keypad below fails: then drop KNOWN and the exclusion, and check the whole page at once.
KNOWN = {"#keypad": ["label-content-name-mismatch"]}


def assert_accessible_but_known(driver, page_name: str):
    assert_accessible(driver, page_name, context={"exclude": [[where] for where in KNOWN]})
    for where, rules in KNOWN.items():
        found = sorted(v["id"] for v in axe_violations(driver, where))
        assert found == rules, f"{page_name}: {where} now has {found}, not the known {rules}: update KNOWN"


def test_the_page_meets_wcag_2_2_aa_by_axe_under_its_own_csp(server, driver):
    """axe-core runs in the page through WebDriver, which the page's nonce-only script-src does not
    govern: it runs, and the page shows no Content-Security-Policy refusal for it. In light and dark
    colours, and in a call at a transfer (the hang-up button, the heard prompt, the transfer's choices)."""
    import requests
    from selenium.webdriver.common.by import By

    base, _ = server
    assert "script-src 'nonce-" in requests.get(base + "/preview", timeout=WAIT).headers["Content-Security-Policy"]
    try:
        for scheme in ("light", "dark"):
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                   {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
            driver.get(base + "/preview")
            browser_errors(driver)  # drain what came before
            assert_accessible_but_known(driver, f"the preview page ({scheme})")
            assert driver.execute_script("return typeof window.axe.run") == "function"
            assert browser_errors(driver) == []  # neither axe nor its checks were refused by the policy

            driver.find_element(By.ID, "call-btn").click()
            wait_for_text(driver, "heard", "Welcome")
            driver.find_element(By.ID, "key-0").click()
            wait_for_text(driver, "dial", "Would transfer")
            assert_accessible_but_known(driver, f"the preview page in a call, at a transfer ({scheme})")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
