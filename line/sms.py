"""POST /sms, Twilio's Messaging webhook: Twilio's request -> the engine (line/engine/texts.py)
-> MessagingResponse.

Texts and WhatsApp messages both come here: a WhatsApp sender's address is whatsapp:+1...
(`From`), and the engine answers it as WhatsApp. This module only reads the address and the
words, reads what the store knows of the address (opted out? its language? answered before?),
asks the engine, records its changes through the store (an opt-out is the address's:
whatsapp:+1... and +1... are kept apart) and encodes its replies as TwiML, which Twilio sends
back on the channel the message came by (a number's first answer may be two <Message>s).
"""
from __future__ import annotations

import logging
from functools import lru_cache

from flask import Blueprint, request
from twilio.twiml.messaging_response import MessagingResponse

from .engine import memo, texts
from .replays import seen_message
from .runtime import answer_failures, runtime, show
from .twilio_auth import text_field
from .twiml import FALLBACK_TEXT, twiml

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)


def reply(*texts: str):
    return twiml(_reply_xml(texts))


@lru_cache(maxsize=4096)
def _reply_xml(texts: tuple[str, ...]) -> str:
    """The TwiML for replies: the same few hundred texts again and again, so built once each."""
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)


def texter_state(number: str) -> texts.Texter:
    """What the store knows of `number`; unknown when it cannot say (compliance words never wait on it)."""
    if not number:
        return texts.Texter()
    try:
        opted_out, language, answered = runtime().state_of(number)
    except Exception as exc:
        runtime().failed(log, "could not read a number's state; compliance words still work", exc)
        return texts.Texter.unknown()
    return texts.Texter(opted_out, language, first=not answered)


@bp.post("/sms")
def incoming_sms():
    if seen_message():  # a replay (or Twilio's retry): changes nothing again, costs no text
        return reply()
    rt = runtime()
    number = request.form.get("From", "").strip()
    answer = memo.answer(rt.library(), texter_state(number), text_field("Body"), texts.channel_of(number))
    rt.apply(answer.changes, number)
    show(answer)
    return reply(*answer.texts)


def failed_answer():
    """The engine's answer to a text the line failed to answer: the referral number."""
    answer = texts.failed(runtime().library())
    show(answer)
    return reply(*answer.texts)


answer_failures(bp, log, "the text reply failed; sent the fallback", failed_answer,
                last_resort=lambda: reply(FALLBACK_TEXT))
