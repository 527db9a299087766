"""POST /sms: compliance words first, then topics and menus, answered as MessagingResponse."""
from __future__ import annotations

import logging
import re

from flask import Blueprint, request
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from .responses import twiml
from .runtime import runtime

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)
bp.before_request(lambda: runtime().check_signature())


def compliance_word(body: str) -> str:
    """The message as Twilio's keyword rules see it: one word, any case, stray punctuation ignored."""
    return re.sub(r"^[\s\W_]+|[\s\W_]+$", "", body).upper()


def reply(text: str | None):
    response = MessagingResponse()
    if text:
        response.message(text)
    return twiml(response)


@bp.post("/sms")
def incoming_sms():
    rt = runtime()
    library = rt.library()
    lang = library.language(None)
    body = request.form.get("Body", "")
    number = request.form.get("From", "").strip()
    word = compliance_word(body)

    def done(step: str, outcome: str, text: str | None):
        rt.record("sms", lang.code, step, outcome)
        return reply(text)

    all_langs = library.languages.values()
    if any(word in lang_.opt_out_words for lang_ in all_langs):
        if number:
            rt.store.set_opted_out(number, True)
        confirm = not any(word in lang_.confirmed_by_twilio for lang_ in all_langs)
        return done("stop", "opted_out", lang.sms["opted_out"] if confirm else None)
    if any(word in lang_.opt_in_words for lang_ in all_langs):
        if number:
            rt.store.set_opted_out(number, False)
        return done("start", "opted_in", lang.sms["opted_in"])
    if any(word in lang_.help_words for lang_ in all_langs):
        return done("help", "answered", lang.sms["help"])
    if number and rt.store.is_opted_out(number):
        # Twilio would refuse to deliver; the line keeps quiet as promised.
        return done("blocked", "opted_out", None)

    found = lang.matcher.match(body, "sms")
    if found is None:
        rt.record_unmatched("sms", lang.code, body)
        return done("not_understood", "not_understood", lang.not_understood_text(body))
    target = found.target
    if target.kind == "topic":
        return done(target.id, "answered", lang.topics[target.id].text)
    if target.kind == "menu":
        return done(target.id, "answered", lang.menus[target.id].text)
    return done("main", "answered", lang.menus["main"].text)


@bp.errorhandler(Exception)
def sms_failed(exc: Exception):
    """Whatever went wrong, Twilio gets valid TwiML with the referral number."""
    if isinstance(exc, HTTPException):
        return exc
    log.exception("the text reply failed; sent the fallback")
    try:
        text = runtime().library().language(None).sms["error"]
    except Exception:  # the library itself is unreachable: say the least that helps
        text = FALLBACK_TEXT
    return reply(text)


FALLBACK_TEXT = "Sorry, something went wrong. Please call the NCI referral office at 1-866-820-4505."
