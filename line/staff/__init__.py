"""The staff console at /staff: edit, check, hear, try, review and publish the line's words.

Off unless LINE_STAFF_SECRET is set (it signs the console's sessions); LINE_ALLOW_UNSIGNED never
turns it on. Staff accounts are made with `line staff add NAME --role editor|reviewer|admin`.
docs/staff.md says how staff use it; docs/operations.md lists its settings.

    accounts.py  names, roles, argon2id hashes, one-time passwords, who may do what
    auth.py      signing in and out, attempts limited, sessions ending after idle time
    drafts.py    change-sets of field edits: submit, review by another person, publish
    releases.py  numbered whole-tree releases of content/: checked, written atomically, diffed
    audit.py     the append-only, hash-chained log of every step
    yaml_edit.py the fields of a YAML file, and writing one back with only those words changed
    feedback.py  the checks of `line check` for one field as it is typed; its words as heard
    console.py   what the pages share: the database, the folder, the items, a draft's content
    views.py     the pages
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask

from .auth import Attempts, login_manager
from .console import Console, csrf


def init_app(app: Flask, settings, store) -> bool:
    """Serve the console on `app` if LINE_STAFF_SECRET is set; whether it is served."""
    if not settings.staff_secret:
        return False
    from .views import bp

    app.secret_key = settings.staff_secret
    https = (settings.public_base_url or "").startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="line_staff", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=https, REMEMBER_COOKIE_SECURE=https, SESSION_COOKIE_PATH="/staff",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.staff_idle_minutes),
        WTF_CSRF_CHECK_DEFAULT=False,  # only the console's forms: Twilio's webhooks carry no token
        WTF_CSRF_TIME_LIMIT=None,  # the session's own idle limit bounds a token's life
        WTF_CSRF_SSL_STRICT=https,
    )
    console = Console(settings, store)
    console.attempts = Attempts(settings.rate_limit_storage)
    app.extensions["line_staff"] = console
    csrf.init_app(app)
    login_manager.init_app(app)

    app.register_blueprint(bp)
    return True
