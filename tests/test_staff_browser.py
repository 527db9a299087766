"""The staff console in real Chromium (Selenium), the whole change the way staff make it: an
editor signs in with the keyboard, changes a Spanish text and sees its segment count move, hears
it, tries it, submits it; a reviewer approves it; the line answers with the new words within 2 s;
a rollback brings the old words back. axe-core checks every page against WCAG 2.2 AA. With
LINE_SCREENSHOTS=docs/images the screenshots docs/staff.md shows are taken again."""
from __future__ import annotations

import re
import time

import pytest

from browser import WAIT, assert_accessible, browser_errors, keyboard_tab_to, require_browser, screenshot, serve, start_chrome
from line.simulator import Session, Simulator
from line.staff import yaml_edit
from staff_helpers import PASSWORD, add_staff, console_app

RESULTS = "es/topics/results.yaml"
TEXT = yaml_edit.key(("text",))
SPEECH = yaml_edit.key(("speech",))
ADDED = " Pregunte a su equipo de salud si un ensayo clínico es para usted."


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    require_browser()
    app = console_app(tmp_path_factory.mktemp("console"), reload_seconds=1.0)
    add_staff(app, "ana", "editor")
    add_staff(app, "rosa", "reviewer")
    add_staff(app, "sam", "admin")
    with serve(app) as base:
        yield app, base


@pytest.fixture(scope="module")
def driver(tmp_path_factory, line):
    browser = start_chrome(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield browser
    finally:
        browser.quit()


def wait_for(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(lambda d: condition(d), message=what)


def by_css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def sign_in_with_the_keyboard(driver, base: str, name: str) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "/staff/login")
    assert_accessible(driver, "sign-in page")
    field = keyboard_tab_to(driver, lambda el: el.get_attribute("id") == "name")
    field.send_keys(name)
    field.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(PASSWORD + Keys.ENTER)
    wait_for(driver, lambda d: "/staff/login" not in d.current_url, f"{name} signed in")


def sign_out(driver) -> None:
    by_css(driver, "form.signout button").click()
    wait_for(driver, lambda d: "/staff/login" in d.current_url, "signed out")


def segments(driver, textarea) -> str:
    region = by_css(driver, "#" + textarea.get_attribute("data-feedback"))
    found = re.search(r"(\d+) of (\d+) segments?", region.text)
    return found.group(0) if found else region.text


def spanish_results(app) -> str:
    session = Session(Simulator(app))
    session.text("ESPANOL")
    return " ".join(session.text("RESULTADOS"))


def test_a_whole_change_in_the_browser(line, driver):
    app, base = line
    before = spanish_results(app)
    assert "Pregunte a su equipo de salud si un ensayo" not in before

    # The editor: sign in by keyboard, find the topic, start a draft.
    sign_in_with_the_keyboard(driver, base, "ana")
    assert_accessible(driver, "home")
    driver.get(base + "/staff/content")
    assert_accessible(driver, "content")
    screenshot(driver, "staff-content")
    by_css(driver, 'a[href="/staff/content/topics/results.yaml"]').click()
    assert_accessible(driver, "an item, read only")
    by_css(driver, "#title").send_keys("Spanish results: who to ask about a trial")
    by_css(driver, ".start button").click()
    wait_for(driver, lambda d: "/staff/drafts/" in d.current_url, "the draft's edit page")
    draft_url = driver.current_url.split("/content/")[0]

    # Change the Spanish text: the segment count moves as it is typed.
    area = by_css(driver, f'textarea[name="f|{RESULTS}|{TEXT}"]')
    shown = segments(driver, area)
    assert re.fullmatch(r"\d+ of \d+ segments?", shown), shown
    area.send_keys(ADDED)
    wait_for(driver, lambda d: segments(d, area) != shown, "the segment count to move")
    moved = segments(driver, area)
    assert int(moved.split()[0]) > int(shown.split()[0]), (shown, moved)
    feedback = by_css(driver, "#" + area.get_attribute("data-feedback"))
    assert "UCS-2" in feedback.text and "Error" in feedback.text  # the accents named; too long for its budget
    # The words that fit: the last sentence rewritten.
    final = area.get_attribute("value").replace(ADDED, "").replace(
        "El 15% del ensayo tuvo resultados así, con cáncer de hígado o colon.", ADDED.strip())
    area.clear()
    area.send_keys(final)
    wait_for(driver, lambda d: "Error" not in feedback.text and segments(d, area) != moved, "the checks to pass")
    assert_accessible(driver, "the editor, with live checks")
    screenshot(driver, "staff-edit")
    by_css(driver, "#edit-form .actions button").click()
    wait_for(driver, lambda d: "Saved 1 field" in d.page_source, "saved")

    # Hear it: the speech of this draft in the line's own voice.
    audio = by_css(driver, f'audio[src*="key={SPEECH}"][src*="draft="]')
    heard = driver.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done([r.status, "
        "r.headers.get('Content-Type'), b.byteLength]))).catch(e => done(String(e)));", audio.get_attribute("src"))
    assert heard[0] == 200 and heard[1] == "audio/wav" and heard[2] > 10000, heard
    assert audio.get_attribute("autoplay") is None

    # Try it: text the draft as a new number would, in Spanish.
    driver.get(draft_url + "/try")
    assert_accessible(driver, "try")
    for message in ("ESPANOL", "RESULTADOS"):
        by_css(driver, "#body").send_keys(message)
        by_css(driver, "#body").submit()
        wait_for(driver, lambda d: message in d.page_source, f"the reply to {message}")
    assert "Pregunte a su equipo de salud si un ensayo" in by_css(driver, ".phone").text
    screenshot(driver, "staff-try")
    by_css(driver, 'form input[value="call"] ~ button').click()
    wait_for(driver, lambda d: "Press a key" in d.page_source, "the phone menu")
    assert_accessible(driver, "try, in a call")
    assert "Pregunte a su equipo de salud si un ensayo" not in spanish_results(app)  # not yet published

    # Submit.
    driver.get(draft_url)
    assert_accessible(driver, "the draft")
    by_css(driver, 'form[action$="/submit"] button').click()
    wait_for(driver, lambda d: "Submitted for review" in d.page_source, "submitted")
    screenshot(driver, "staff-draft")
    sign_out(driver)

    # The reviewer approves: the line answers with the new words within 2 s.
    sign_in_with_the_keyboard(driver, base, "rosa")
    assert "Spanish results: who to ask about a trial" in by_css(driver, "main").text  # waiting for review
    driver.get(draft_url)
    by_css(driver, 'button[value="approved"]').click()
    approved_at = time.monotonic()
    wait_for(driver, lambda d: "Published as release 2" in d.page_source, "published")
    while "Pregunte a su equipo de salud si un ensayo" not in spanish_results(app):
        assert time.monotonic() - approved_at < 2.0, "the line did not answer with the new words within 2 s"
        time.sleep(0.05)
    assert_accessible(driver, "a release and its diff")
    screenshot(driver, "staff-release")
    diff = by_css(driver, "main").text
    assert "[+" in diff and "usted.+]" in diff and "[-" in diff  # told in words and signs, not by colour alone

    # Roll back: the old words return.
    driver.get(base + "/staff/releases/1")
    by_css(driver, "#why").send_keys("Back to the text the second reader checked")
    by_css(driver, 'form[action$="/rollback"] button').click()
    wait_for(driver, lambda d: "Rolled back: release 3" in d.page_source, "rolled back")
    rolled_at = time.monotonic()
    while "Pregunte a su equipo de salud si un ensayo" in spanish_results(app):
        assert time.monotonic() - rolled_at < 2.0, "the old words did not return within 2 s"
        time.sleep(0.05)
    assert spanish_results(app) == before
    driver.get(base + "/staff/releases")
    assert_accessible(driver, "releases")
    screenshot(driver, "staff-releases")
    driver.get(base + "/staff/audit")
    assert_accessible(driver, "audit log")
    driver.get(base + "/staff/help")
    assert_accessible(driver, "help")
    driver.get(base + "/staff/people")
    assert "Your role (reviewer) cannot manage staff accounts" in driver.page_source
    assert_accessible(driver, "a page the role may not open (403)")
    sign_out(driver)

    sign_in_with_the_keyboard(driver, base, "sam")
    driver.get(base + "/staff/people")
    assert_accessible(driver, "staff accounts")
    # No script error and nothing the page's CSP refused (a 404 favicon and the 403 page are the network's).
    assert [e for e in browser_errors(driver) if e.get("source") != "network"] == []
    sign_out(driver)
