"""Signing in and out of the console: Flask-Login sessions, attempts limited, sessions that end
after a while without activity (with a warning and an offer to stay: WCAG 2.2.1)."""
from __future__ import annotations

import time
from functools import wraps

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from limits import parse_many

from ..limits import Counter
from . import accounts, audit
from .console import Console

login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.login_message = "Sign in to use the staff console."
login_manager.session_protection = "strong"
# A name may be tried 5 times in 15 minutes, and an address 20 times: enough for typos, too few to guess.
PER_NAME = parse_many("5 per 15 minutes")
PER_ADDRESS = parse_many("20 per 15 minutes")


@login_manager.user_loader
def load_person(staff_id: str):
    try:
        with Console.here().read() as conn:
            person = accounts.by_id(conn, int(staff_id))
    except ValueError:
        return None
    return person if person is not None and person.active else None


DOING = {"edit": "edit drafts", "submit": "submit drafts", "review": "review drafts", "publish": "publish",
         "rollback": "roll back releases", "adopt": "adopt edits made outside the console", "audit": "read the audit log",
         "people": "manage staff accounts"}


def needs(what: str):
    """The view's permission: a signed-in person whose role has it, else 403 (never the page)."""
    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.one_time:
                return redirect(url_for("staff.password"))
            if not current_user.can(what):
                abort(403, f"Your role ({current_user.role}) cannot {DOING.get(what, what)}. Ask an admin if you need to.")
            return view(*args, **kwargs)
        return checked
    return decorate


class Attempts:
    """Login attempts counted in the line's rate-limit storage (memory, or Redis for many hosts)."""

    def __init__(self, storage_uri: str):
        self.counter = Counter(storage_uri)

    def allowed(self, name: str) -> bool:
        address = request.remote_addr or "unknown"
        return (self.counter.test(PER_NAME, "staff-login-name", name.lower())
                and self.counter.test(PER_ADDRESS, "staff-login-address", address))

    def failed(self, name: str) -> None:
        self.counter.hit(PER_NAME, "staff-login-name", name.lower())
        self.counter.hit(PER_ADDRESS, "staff-login-address", request.remote_addr or "unknown")


def idle_seconds() -> int:
    return Console.here().settings.staff_idle_minutes * 60


def touch() -> None:
    session["seen"] = int(time.time())


def expired() -> bool:
    seen = session.get("seen")
    return current_user.is_authenticated and (not isinstance(seen, int) or time.time() - seen > idle_seconds())


def login():
    console = Console.here()
    if request.method == "GET":
        return render_template("staff/login.html", expired=request.args.get("expired") == "1")
    name = (request.form.get("name") or "").strip()[:80]
    password = request.form.get("password") or ""
    attempts = console.attempts
    if not attempts.allowed(name):
        with console.write() as conn:
            audit.append(conn, name or "?", "login refused", "too many attempts")
        return render_template("staff/login.html", error="Too many tries. Wait 15 minutes, or ask an admin to "
                               "reset your password.", name=name), 429
    with console.write() as conn:
        person = accounts.verify(conn, name, password)
        audit.append(conn, name or "?", "signed in" if person else "sign-in failed")
    if person is None:
        attempts.failed(name)
        return render_template("staff/login.html", error="That name and password do not match an active account. "
                               "Check them and try again.", name=name), 401
    session.clear()
    login_user(person)
    session.permanent = True
    touch()
    return redirect(url_for("staff.password") if person.one_time else _next_or_home())


def _next_or_home():
    target = request.args.get("next") or ""
    # Only a path on this console: never another site (an open redirect).
    if target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.home")


def logout():
    if current_user.is_authenticated:
        with Console.here().write() as conn:
            audit.append(conn, current_user.name, "signed out")
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


def password():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if request.method == "GET":
        return render_template("staff/password.html")
    new, again = request.form.get("password") or "", request.form.get("again") or ""
    if new != again:
        return render_template("staff/password.html", error="The two passwords are not the same. Type them again."), 400
    try:
        with Console.here().write() as conn:
            accounts.set_password(conn, current_user, new)
    except accounts.AccountError as exc:
        return render_template("staff/password.html", error=str(exc)), 400
    flash("Your password is set.")
    # Flask-Login keeps the person loaded for this request: the next one reads it again.
    return redirect(url_for("staff.home"))


def extend():
    """'Stay signed in': the session's idle time starts again."""
    touch()
    return {"ok": True, "idle_seconds": idle_seconds()}
