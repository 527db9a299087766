"""The Cancer Immunotherapy Info Line: a Flask webhook behind a Twilio number."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings
from .content import load_library
from .runtime import Runtime, runtime
from .store import Store, load_secret
from .outbound import Texter
from .twilio_auth import SignatureCheck

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: the only place that wires the line together."""
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__)
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,
                                x_host=settings.proxy_count, x_port=settings.proxy_count)

    library = load_library(settings.content_dir)
    store = Store(settings.database_url, load_secret(settings))
    store.create()
    check = SignatureCheck(settings.twilio_auth_token, settings.allow_unsigned, settings.public_base_url)
    app.extensions["line"] = Runtime(settings=settings, store=store, check_signature=check,
                                     texter=Texter(settings, store), _library=library)

    from . import sms, voice

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)

    @app.get("/healthz")
    def healthz():
        rt = runtime()
        problems = []
        try:
            rt.store.ping()
        except Exception as exc:  # say what is wrong, without secrets
            problems.append(f"store unreachable: {type(exc).__name__}")
        body = {"ok": not problems, "content": rt.library().version, "problems": problems}
        return jsonify(body), (200 if not problems else 503)

    return app
