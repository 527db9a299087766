"""POST /sms: compliance words first, then topics and menus, answered as MessagingResponse."""
from __future__ import annotations

import logging
import re

from functools import lru_cache

from flask import Blueprint, request
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from .match import normalize
from .runtime import runtime
from .twiml import FALLBACK_TEXT, twiml

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)
bp.before_request(lambda: runtime().check_signature())


_AROUND_A_WORD = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def compliance_word(body: str) -> str:
    """The message as Twilio's keyword rules see it: one word, any case, stray punctuation ignored."""
    return _AROUND_A_WORD.sub("", body).upper()


def reply(text: str | None):
    return twiml(_reply_xml(text or ""))


@lru_cache(maxsize=4096)
def _reply_xml(text: str) -> str:
    """The TwiML for a reply: the same few hundred texts again and again, so built once each."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


@bp.post("/sms")
def incoming_sms():
    rt = runtime()
    library = rt.library()
    body = request.form.get("Body", "")
    number = request.form.get("From", "").strip()
    word = compliance_word(body)
    lang = library.language(None)

    def done(step: str, outcome: str, text: str | None):
        rt.record("sms", lang.code, step, outcome)
        return reply(text)

    def chosen_language() -> str | None:
        """The language this number chose, if the store can say; compliance words never wait on it."""
        try:
            return rt.store.state_of(number)[1] if number else None
        except Exception:
            log.warning("could not read a number's language; answering in the default")
            return None

    for kind in ("opt_out", "opt_in", "help"):
        owners = [lg for lg in library.languages.values() if word in getattr(lg, f"{kind}_words")]
        if not owners:
            continue
        chosen = chosen_language()
        lang = next((lg for lg in owners if lg.code == chosen), owners[0])
        if kind == "opt_out":
            if number:
                rt.store.set_opted_out(number, True)  # written before the reply; a failure is not claimed
            confirmed_by_twilio = any(word in lg.confirmed_by_twilio for lg in library.languages.values())
            return done("stop", "opted_out", None if confirmed_by_twilio else lang.sms["opted_out"])
        if kind == "opt_in":
            if number:
                rt.store.set_opted_out(number, False)
            return done("start", "opted_in", lang.sms["opted_in"])
        return done("help", "answered", lang.sms["help"])

    opted_out, chosen = rt.store.state_of(number) if number else (False, None)
    words = normalize(body)  # once, for every language and both passes below
    named = library.language_named(words)
    if named is not None:
        if number:
            rt.store.set_language(number, named.code)
        lang = named
        return done("language", "opted_out" if opted_out else "answered", None if opted_out else named.sms["language_set"])
    if opted_out:
        # The line keeps quiet as promised (Twilio would refuse to deliver its own words anyway).
        return done("blocked", "opted_out", None)

    lang = library.language(chosen)
    # The texter's language first; words of another language get that language's answer
    # ("efectos secundarios"), and exact words in any language beat a guess at a typo.
    order = [lang, *(other for other in library.languages.values() if other is not lang)]
    found = None
    for typos in (False, True):
        for candidate in order:
            found = candidate.matcher.match(words, "sms", typos=typos)
            if found is not None:
                lang = candidate
                break
        if found is not None:
            break
    if found is None:
        rt.record_unmatched("sms", lang.code, body)
        return done("not_understood", "not_understood", lang.not_understood_text(words))
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

