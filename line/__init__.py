"""The Cancer Immunotherapy Info Line: a Flask webhook behind a Twilio number."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings
from .limits import Limits, RateLimitedTexter
from .reload import LiveLibrary
from .replays import Replays
from .runtime import Runtime, runtime
from .store import Store, load_secret
from .audio import AudioFiles
from .outbound import Texter
from .private import keep_private
from .twilio_auth import SignatureCheck

__all__ = ["LOG_FORMAT", "create_app"]
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # each line of the server's log


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: the only place that wires the line together."""
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    app = Flask(__name__)
    # Bodies are bounded as they are read (line/twilio_auth.read_body): werkzeug stops one byte
    # past LINE_MAX_BODY_BYTES, so a body without a Content-Length that reaches it is refused.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,
                                x_host=settings.proxy_count, x_port=settings.proxy_count)

    keep_private(settings)  # the data folder and its files: 0700 / 0600, and so whatever is made later
    content = LiveLibrary(settings.content_dir, settings.reload_seconds, snapshots=settings.data_dir / "published")
    store = Store(settings.database_url, load_secret(settings), retention_days=settings.retention_days)
    store.create()
    check = SignatureCheck(settings.twilio_auth_token, settings.allow_unsigned, settings.public_base_url,
                           shared_keys=settings.webhook_shared_keys, max_body=settings.max_body_bytes,
                           body_seconds=settings.body_timeout)
    limits = Limits(settings, store)  # per number, on /sms and /voice and on "get this by text"
    app.extensions["line_limits"] = limits
    app.extensions["line"] = Runtime(settings=settings, store=store, check_signature=check,
                                     texter=RateLimitedTexter(Texter(settings, store), limits), content=content,
                                     audio=AudioFiles(settings.audio_dir, settings.audio_mode == "files"),
                                     replays=Replays.for_settings(settings, store), limits=limits)

    from . import audio, preview, sms, voice
    from .engine.calls import Event

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(audio.bp)
    app.register_blueprint(preview.bp)  # GET /preview: staff try the line (local, or LINE_STAFF_PASSWORD)
    from . import staff

    staff.init_app(app, settings, store)  # /staff: the staff console, only when LINE_STAFF_SECRET is set

    # What a number over its limit gets: valid TwiML, never a 429 (Twilio would call the fallback
    # URL). A text: no reply, so a flood costs no outbound texts; a call: the referral number,
    # goodbye and a hang-up, in the call's language.
    limited_answers = {"sms": sms.reply, "voice": lambda: voice.quiet_answer(Event("limited"))}

    @app.before_request
    def webhooks_are_signed_then_limited():
        """The signature first, so an unsigned request is refused (403) and never counts against
        anybody's number; then the number's limit. Other routes are neither checked nor limited."""
        limited_answer = limited_answers.get(request.blueprint)
        if limited_answer is None:
            return None
        store.outage.request_began()
        refused = runtime().check_signature()
        if refused is not None:
            return refused
        return limited_answer() if runtime().limits.check(request.blueprint) else None

    answered = {"sms": "texts", "voice": "call steps"}  # counted by the outage log if answered without the database

    @app.after_request
    def write_usage_after_the_answer(response):
        """Queued usage events are written once the answer has gone out (see Store.flush_due)."""
        if request.blueprint in answered:
            store.outage.request_answered(answered[request.blueprint])
        if store.flush_due():
            response.call_on_close(store.flush)
        return response

    @app.get("/healthz")
    def healthz():
        rt = runtime()
        problems = rt.store.problems(log_outage=True)  # what is wrong, by kind only: no host, port, name or user
        version = rt.library().version
        # A broken edit waiting: the line still serves the last good version (200), and says so.
        pending = [str(problem) for problem in rt.content.last_problems if getattr(problem, "severity", "error") == "error"]
        body = {"ok": not problems, "content": version, "problems": problems, "content_not_published": pending}
        return jsonify(body), (200 if not problems else 503)

    return app
