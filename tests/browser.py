"""Shared helpers for the browser tests: the system's headless Chromium through Selenium, a Flask app
served on loopback by a real HTTP server, accessibility checks by axe-core (vendored in tests/vendor/,
never downloaded), screenshots, and keyboard-only navigation.

Imported by test files as `from browser import ...`. Selenium is imported inside the functions, so
that a machine without it skips (or, in CI, fails) in `require_browser` instead of failing to collect."""
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# WCAG 2.2 AA, as axe-core tags its rules: each level includes the ones below it.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
WAIT = 15
CHROME_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if absent:
        return (f"{' and '.join(absent)} not installed: run scripts/setup --test "
                "(apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: run scripts/setup --test"
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_browser() -> None:
    """Skip the calling test (or fixture) when there is no browser here; in CI, fail it instead."""
    reason = missing()
    if reason:
        if in_ci():
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)


def start_chrome(profile_dir: Path, window_size: tuple[int, int] = (1280, 1500)):
    """A new headless Chromium with its own profile in `profile_dir`. The caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Never let Selenium Manager fetch a browser or a driver: both are given, and it is told to stay offline.
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROME_ARGS, f"--window-size={window_size[0]},{window_size[1]}", f"--user-data-dir={profile_dir}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@contextmanager
def chrome(profile_dir: Path, window_size: tuple[int, int] = (1280, 1500)):
    """start_chrome as a context manager: the browser is quit at the end."""
    driver = start_chrome(profile_dir, window_size)
    try:
        yield driver
    finally:
        driver.quit()


@contextmanager
def serve(app):
    """Serve the WSGI `app` on 127.0.0.1 (a free port) from a thread; yield its base URL, no slash at the end."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def browser_errors(driver) -> list[dict]:
    """The SEVERE entries of the browser's console log since the last call (script errors, CSP refusals)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


_RUN_AXE = """
var context = arguments[0], tags = arguments[1], done = arguments[arguments.length - 1];
axe.run(context || document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(function (results) { done({violations: results.violations}); },
        function (error) { done({error: String((error && error.stack) || error)}); });
"""


def axe_violations(driver, context=None, tags=WCAG_TAGS) -> list[dict]:
    """axe-core's violations of `tags` (WCAG 2.2 AA by default) on the page open in `driver`, as of now.

    `context` is axe's: None for the whole document, a CSS selector, or {"include": [...], "exclude": [...]}.
    The script is given to the page through WebDriver, which a page's Content-Security-Policy does not
    govern, so it runs on pages whose script-src allows only their own nonce."""
    if not driver.execute_script("return typeof window.axe === 'object' && typeof window.axe.run === 'function';"):
        if not AXE.is_file():
            raise AssertionError(f"{AXE} is missing: it is vendored, see tests/vendor/README.md")
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script(_RUN_AXE, context, list(tags))
    if not isinstance(result, dict) or "violations" not in result:
        raise AssertionError(f"axe-core did not run on {driver.current_url}: {result!r}")
    return result["violations"]


def _target(node: dict) -> str:
    # A target is a list of selectors, one per frame or shadow root on the way to the element.
    parts = node.get("target") or []
    return " >>> ".join(p if isinstance(p, str) else " >> ".join(p) for p in parts) or node.get("html", "?")


def describe_violations(violations: list[dict], targets: int = 3) -> str:
    lines = []
    for v in violations:
        nodes = v.get("nodes", [])
        shown = ", ".join(_target(n) for n in nodes[:targets])
        more = f" and {len(nodes) - targets} more" if len(nodes) > targets else ""
        lines.append(f"- {v['id']} ({v.get('impact') or 'no impact given'}): {v['help']}\n"
                     f"    at {shown}{more}\n    see {v.get('helpUrl', '')}")
        summary = (nodes[0].get("failureSummary") or "").strip() if nodes else ""
        if summary:
            lines.append("    " + summary.replace("\n", "\n    "))
    return "\n".join(lines)


def assert_accessible(driver, page_name: str, context=None, tags=WCAG_TAGS) -> None:
    """Fail, listing each violation, when axe-core finds the open page short of WCAG 2.2 AA."""
    violations = axe_violations(driver, context, tags)
    if violations:
        raise AssertionError(f"{page_name} ({driver.current_url}) has {len(violations)} accessibility "
                             f"violation(s) by axe-core:\n{describe_violations(violations)}")


def screenshot_dir() -> Path:
    """$LINE_SCREENSHOTS when set (to refresh docs/images), else a folder in the system's temp folder."""
    folder = Path(os.environ.get("LINE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "line-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(driver, name: str) -> Path:
    """Save the browser's viewport as `name`.png in screenshot_dir(); return its path."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name.removesuffix(".png")).strip("-.") or "page"
    path = screenshot_dir() / f"{stem}.png"
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"the browser did not save a screenshot to {path}")
    return path


def _describe(element) -> str:
    try:
        tag = element.tag_name
        ident = element.get_attribute("id")
        text = (element.get_attribute("aria-label") or element.text or element.get_attribute("name") or "").strip()
    except Exception:
        return "?"
    return tag + (f"#{ident}" if ident else "") + (f" {text[:30]!r}" if text else "")


def keyboard_tab_to(driver, predicate, limit: int = 80, backwards: bool = False):
    """Press Tab (Shift+Tab when `backwards`) as a keyboard user would, until the focused element
    satisfies `predicate(element)`; return that element. Fails after `limit` presses, naming the
    elements that focus went through."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    visited = []
    for _ in range(limit):
        actions = ActionChains(driver)
        if backwards:
            actions.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT)
        else:
            actions.send_keys(Keys.TAB)
        actions.perform()
        element = driver.switch_to.active_element
        try:
            if predicate(element):
                return element
        except WebDriverException:
            pass  # the element went away while the predicate looked at it: not it
        visited.append(_describe(element))
    raise AssertionError(f"{limit} presses of {'Shift+' if backwards else ''}Tab never reached the element; "
                         f"focus went through: {', '.join(visited)}")
