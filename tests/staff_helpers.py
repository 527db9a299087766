"""What the staff console's tests share: an app with the console on, over its own copy of the
content (publishing writes into it), and staff signing in through the real forms."""
from __future__ import annotations

import re
import shutil

from conftest import CONTENT, make_settings
from line import create_app
from line.staff import accounts

SECRET = "staff-test-secret-" + "x" * 32
PASSWORD = "a long staff password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_app(tmp_path, reload_seconds: float = 0.0, **overrides):
    folder = tmp_path / "content"
    if not folder.exists():
        shutil.copytree(CONTENT, folder)
    settings = make_settings(tmp_path, content_dir=folder, staff_secret=SECRET, reload_seconds=reload_seconds, **overrides)
    return create_app(settings)


def add_staff(app, name: str, role: str, password: str | None = PASSWORD) -> str:
    """An account; with `password`, already past its one-time password. The one-time password."""
    store = app.extensions["line"].store
    store.db.ensure()
    with store.db.write() as conn:
        once = accounts.add(conn, name, role, "test")
        if password is not None:
            accounts.set_password(conn, accounts.by_name(conn, name), password)
    return once


def token(client, url: str = "/staff/login") -> str:
    page = client.get(url)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url}: {page.status_code}"
    return found.group(1)


def sign_in(app, name: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/staff/login", data={"name": name, "password": password, "csrf_token": token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post(client, url: str, data: dict | None = None, page: str | None = None):
    """POST a console form the way the browser would: with the page's CSRF token."""
    form = dict(data or {})
    form["csrf_token"] = token(client, page or "/staff/")
    return client.post(url, data=form)


def revision(client, draft_id: int) -> str:
    page = client.get(f"/staff/drafts/{draft_id}").get_data(as_text=True)
    found = re.search(r'name="revision" value="(\d+)"', page)
    assert found, page
    return found.group(1)
