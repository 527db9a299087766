"""POST /voice and the phone menu's steps: Twilio's request -> the engine -> TwiML.

What the caller hears and what happens next is decided by line/engine/calls.py; this module only
reads the call's state from the URL and the key, words or outcome from the form, records the
engine's changes through the store, sends a text when the engine asks for one, and encodes the
engine's step as a VoiceResponse. Every prompt is inside a <Gather> so a caller can interrupt it,
and every <Gather> is followed by a <Redirect> for silence.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request, url_for
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from .content import Library
from .engine import calls
from .engine.calls import Call, CallStep, Event
from .runtime import runtime
from .twiml import last_resort_call, twiml

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(lambda: runtime().check_signature())

DIAL_TIMEOUT = 30


def url(endpoint: str, call: Call) -> str:
    return url_for(endpoint, **call.args())


def caller_state(library: Library) -> tuple[Call, bool]:
    """The call's state from the URL, and whether a text could be sent to this caller."""
    return Call.from_args(library, request.args), runtime().texter.can_text(request.form.get("From", ""))


def ask(event: Event):
    """Ask the engine for the answer to `event` at this request's place in the call, record its
    changes, send the text it asks for, and answer Twilio."""
    rt = runtime()
    library = rt.library()
    call, texting = caller_state(library)
    answer = calls.step(library, call, event, texting, rt.settings.silence_limit)
    rt.apply(answer.changes)
    if answer.send_text is not None:
        form = request.form
        outcome = rt.texter.send(form.get("From", ""), form.get("To", ""), form.get("CallSid", ""), answer.send_text)
        answer = calls.step(library, answer.call, Event("texted", outcome=outcome), texting, rt.settings.silence_limit)
        rt.apply(answer.changes)
    return twiml(encode(library, answer))


# -- the steps -------------------------------------------------------------------------------
@bp.post("")
def incoming_call():
    """A call comes in: the greeting, then the main menu at once."""
    return ask(Event("call"))


@bp.post("/menu")
def menu():
    """Arrive at `at` (a menu, a topic or the number) and hear it. After a failure the line sends
    the caller here; the count of failures goes on, so a second one in a row says goodbye."""
    return ask(Event("menu"))


@bp.post("/silence")
def silence():
    """The caller said and pressed nothing: the engine reprompts, offers more time, then says goodbye."""
    return ask(Event("silence"))


@bp.post("/choose")
def choose():
    """A key press or words at `at`."""
    form = request.form
    return ask(Event("choose", digits=form.get("Digits", ""), speech=form.get("SpeechResult", "")))


@bp.post("/dialed")
def dialed():
    """The transfer ended: after a conversation, goodbye; if it failed, say so and read the number."""
    return ask(Event("dialed", status=request.form.get("DialCallStatus", "")))


@bp.errorhandler(Exception)
def voice_failed(exc: Exception):
    """Whatever went wrong, the caller hears the referral number and is not cut off at once."""
    if isinstance(exc, HTTPException):
        return exc
    log.exception("a voice step failed; sent the fallback")
    try:
        return twiml(quiet_answer(Event("failed")))
    except Exception:
        log.exception("the voice fallback failed too")
        return last_resort_call()


def quiet_answer(event: Event) -> VoiceResponse:
    """The TwiML for a step that records and sends nothing: a failure, a number over its limit."""
    library = runtime().library()
    call = Call.from_args(library, request.args)
    return encode(library, calls.step(library, call, event))


# -- TwiML -------------------------------------------------------------------------------------
def encode(library: Library, answer: CallStep) -> VoiceResponse:
    """The engine's step as TwiML: its words said inside a Gather (then a Redirect for silence),
    before a Dial, a Redirect or a Hangup."""
    rt = runtime()
    call = answer.call
    lang = library.language(call.lang)
    response = VoiceResponse()
    if answer.listen:
        gather = response.gather(
            input="dtmf speech", action=url("voice.choose", answer.on_input),
            method="POST", timeout=rt.settings.gather_timeout, finish_on_key="", num_digits=1,
            speech_timeout="auto", language=lang.voice.speech_language, hints=lang.speech_hints,
            action_on_empty_result=False,
        )
        say(library, gather, answer)
        response.redirect(url("voice.silence", answer.on_silence), method="POST")
        return response
    say(library, response, answer)
    if answer.transfer:
        dial = response.dial(action=url("voice.dialed", call), method="POST", timeout=DIAL_TIMEOUT)
        dial.number(answer.transfer)
    elif answer.retry is not None:
        response.redirect(url("voice.menu", answer.retry), method="POST")
    elif answer.hang_up:
        response.hangup()
    return response


def say(library: Library, parent, answer: CallStep) -> None:
    """Say the step's words in order, each in its language's voice at the call's pace. Each plays
    its rendered clip where there is one; Twilio's voice says the rest (the call's own language's
    words in one <Say> between clips)."""
    audio = runtime().audio
    slow = answer.call.slow
    waiting: list[str] = []

    def flush():
        if waiting:
            say_text(parent, " ".join(waiting), library.language(answer.call.lang), slow)
            waiting.clear()

    for piece in answer.said:
        lang = library.language(piece.lang)
        clip = audio.clip_for(piece.words, lang.voice.espeak_voice, slow)
        if clip:
            flush()
            parent.play(url_for("audio.clip", name=clip))
        elif piece.lang == answer.call.lang:
            waiting.append(piece.words)
        else:
            flush()
            say_text(parent, piece.words, lang, slow)
    flush()


def say_text(parent, text: str, lang, slow: bool) -> None:
    voice = lang.voice
    if not slow:
        parent.say(text, voice=voice.twilio_voice, language=voice.twilio_language)
    elif voice.supports_ssml:
        parent.say(voice=voice.twilio_voice, language=voice.twilio_language).prosody(text, rate="80%")
    else:
        from .speech import split_sentences

        for i, sentence in enumerate(split_sentences(text)):
            if i:
                parent.pause(length=1)
            parent.say(sentence, voice=voice.twilio_voice, language=voice.twilio_language)
