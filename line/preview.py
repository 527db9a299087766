"""GET /preview: staff try the line in a browser, as a texter and as a caller.

The page sends each text or key press here as JSON; these handlers pass it to the real
webhooks through line/simulator.py and answer what the engine decided, as the channel renders
it. Nothing a preview does is counted as usage or recorded, and no text is ever sent (the preview's number is not a
phone number): the page keeps its texter's state (answered, language, opted out) and sends it with each text.

Staff only. Without a password, only from this machine: the request comes from a loopback
address, names a loopback host, and carries no proxy headers (behind a proxy, remote_addr is the
proxy's). From anywhere else, HTTP Basic auth with LINE_STAFF_PASSWORD (any user name); without
that setting, such requests get 403 and are told how to allow them.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from .runtime import runtime
from .simulator import DIAL_OUTCOMES, PRESSABLE, PreviewError, Simulator, check_voice_url, new_call_sid
from .store import NumberState

bp = Blueprint("preview", __name__, url_prefix="/preview")

LOOPBACK = frozenset({"127.0.0.1", "::1"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
PROXY_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")
REALM = 'Basic realm="Info line preview", charset="UTF-8"'
MAX_TEXT = 1600  # Twilio's longest message
MAX_SPEECH = 300

NOT_ENABLED = (
    "The preview is for staff. Open it on the machine that runs the line, at http://127.0.0.1:PORT/preview, "
    "or set LINE_STAFF_PASSWORD on the line to let staff open it from elsewhere with that password "
    "(the browser asks for it; any user name).\n"
)


def is_local() -> bool:
    """From this machine, not through a proxy, and not by a name that could point anywhere. A
    line set up behind a proxy (LINE_PUBLIC_URL or LINE_PROXY_COUNT) is never local: a plain
    `proxy_pass` forwards the world's requests from 127.0.0.1 without any X-Forwarded header."""
    settings = runtime().settings
    if settings.public_base_url or settings.proxy_count:
        return False
    if request.remote_addr not in LOOPBACK:
        return False
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    return urlsplit("//" + request.host).hostname in LOOPBACK_HOSTS


@bp.before_request
def staff_only():
    if is_local():
        return None
    password = runtime().settings.staff_password
    if not password:
        return Response(NOT_ENABLED, 403, mimetype="text/plain")
    auth = request.authorization
    given = (auth.password or "") if auth is not None and auth.type == "basic" else ""
    if not (given and hmac.compare_digest(given.encode(), password.encode())):
        return Response("The preview is for staff: enter the staff password.\n", 401,
                        {"WWW-Authenticate": REALM}, mimetype="text/plain")
    return None


@bp.after_request
def page_headers(response: Response) -> Response:
    nonce = g.get("preview_nonce", "none")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
        "media-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return response


@bp.get("")
def page():
    g.preview_nonce = secrets.token_urlsafe(16)
    library = runtime().library()
    lang = library.language(None)
    return render_template("preview.html", nonce=g.preview_nonce, line_name=lang.line_name,
                           office_phone=library.referral_phone, dial_outcomes=DIAL_OUTCOMES)


def _json_body() -> dict:
    """JSON only: a page on another site cannot send it without the browser asking us first."""
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise _Refused("The preview only answers its own page.", 403)
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        raise _Refused("Send JSON.", 415 if not request.is_json else 400)
    return data


def _text_field(data: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _Refused(f"'{name}' is missing.", 400)
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _Refused(f"'{name}' must be text of at most {limit} characters.", 400)
    return value


class _Refused(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@bp.errorhandler(_Refused)
def refused(exc: _Refused):
    return jsonify(error=str(exc)), exc.status


@bp.errorhandler(PreviewError)
def line_refused(exc: PreviewError):
    return jsonify(error=str(exc)), 502


@bp.post("/sms")
def sms():
    data = _json_body()
    body = _text_field(data, "body", MAX_TEXT)
    simulator = Simulator(_app(), _texter(data))
    replies = simulator.text(body or "")
    return jsonify(replies=replies, **simulator.state._asdict())


def _texter(data: dict) -> NumberState:
    """The page's texter so far, which the page keeps for its session and sends with each text (the
    line keeps nothing of a preview): answered before, opted out, the language it chose. Absent: a
    new number's (not answered, not opted out, no language)."""
    answered, opted_out = data.get("answered", False), data.get("opted_out", False)
    for name, value in (("answered", answered), ("opted_out", opted_out)):
        if not isinstance(value, bool):
            raise _Refused(f"'{name}' must be true or false.", 400)
    language = data.get("language")
    if language is not None and language not in runtime().library().languages:
        raise _Refused("'language' must be one of the line's languages, or null.", 400)
    return NumberState(opted_out=opted_out, language=language, answered=answered)


@bp.post("/voice")
def voice():
    data = _json_body()
    url = _text_field(data, "url", 2000) or "/voice"
    try:
        url = check_voice_url(url)
    except PreviewError as exc:
        raise _Refused(str(exc), 400) from None
    digits = _text_field(data, "digits", 1)
    if digits is not None and digits not in PRESSABLE:
        raise _Refused("A key is one of 0-9, * and #.", 400)
    speech = _text_field(data, "speech", MAX_SPEECH)
    dial_status = _text_field(data, "dial_status", 20)
    if dial_status is not None and dial_status not in DIAL_OUTCOMES:
        raise _Refused(f"A transfer ends as one of: {', '.join(DIAL_OUTCOMES)}.", 400)
    call = _text_field(data, "call", 64) or new_call_sid()
    if not call.startswith("CApreview"):
        raise _Refused("Not a preview call.", 400)
    step = Simulator(_app()).voice(url, digits=digits, speech=speech, dial_status=dial_status, call_sid=call)
    return jsonify(call=call, **step.to_json())


def _app():
    # LocalProxy documents _get_current_object() as the way to hand the object behind a proxy
    # to code that keeps it: the simulator posts to the app itself.
    return current_app._get_current_object()
