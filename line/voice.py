"""POST /voice and the phone menu's steps: Twilio's request -> the engine -> TwiML.

What the caller hears and what happens next is decided by line/engine/calls.py; this module only
reads the call's state from the URL and the key, words or outcome from the form, records the
engine's changes through the store, sends a text when the engine asks for one, and encodes the
engine's step as a VoiceResponse. Every prompt is inside a <Gather> so a caller can interrupt it,
and every <Gather> is followed by a <Redirect> for silence.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from flask import Blueprint, current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.routing import Map

from .audio import clip_name
from .content import Library
from .engine import calls, memo
from .engine.calls import Call, CallStep, Event
from .replays import token_ids
from .runtime import answer_failures, runtime, show
from .speech import split_sentences
from .twilio_auth import text_field
from .twiml import last_resort_call, twiml

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")

DIAL_TIMEOUT = 30


def url(endpoint: str, call: Call) -> str:
    return url_for(endpoint, **call.args())


def clips_in_use(audio) -> frozenset[str] | None:
    """The rendered clips the line may play now (None: Twilio's voice says everything)."""
    return audio.names() if audio.enabled else None


def caller_state(library: Library) -> tuple[Call, bool, bool]:
    """The call's state from the URL; whether the line may text this caller (offered after each
    topic); whether texting is set up but this caller's number is refused (by region or kind)."""
    texter, caller = runtime().texter, request.form.get("From", "")
    texting = texter.can_text(caller)
    return Call.from_args(library, request.args), texting, not texting and texter.answers(caller)


def ask(event: Event):
    """Ask the engine for the answer to `event` at this request's place in the call, record its
    changes, send the text it asks for, and answer Twilio."""
    rt = runtime()
    library = rt.library()
    call, texting, refused = caller_state(library)
    form = request.form
    call_sid = form.get("CallSid", "")
    answer = memo.step(library, call, event, texting, rt.settings.silence_limit, refused)
    rt.apply(answer.changes, call=call_sid or None)
    if answer.send_text is not None:
        # The step is named by the call and the texts asked for before it (signed, in the URL), and
        # by Twilio's idempotency token: a replay of it sends nothing again and is counted once.
        step_ids = ((f"call-text:{call_sid}:{answer.call.texts}",) if call_sid else ()) + token_ids()
        sent = rt.texter.send(form.get("From", ""), form.get("To", ""), call_sid, answer.send_text, step_ids)
        answer = memo.step(library, answer.call, Event("texted", outcome=sent.outcome), texting,
                            rt.settings.silence_limit, refused)
        if not sent.replay:
            rt.apply(answer.changes, call=call_sid or None)
    return encoded(library, answer)


def encoded(library: Library, answer: CallStep):
    rt = runtime()
    rendered = render(library, answer, clips_in_use(rt.audio), rt.settings.gather_timeout,
                      current_app.url_map, request.script_root)
    show(rendered)
    return twiml(rendered.xml)


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
    return ask(Event("choose", digits=form.get("Digits", ""), speech=text_field("SpeechResult")))


@bp.post("/dialed")
def dialed():
    """The transfer ended: after a conversation, goodbye; if it failed, say so and read the number."""
    return ask(Event("dialed", status=request.form.get("DialCallStatus", "")))


# Whatever went wrong, the caller hears the referral number and is not cut off at once.
answer_failures(bp, log, "a voice step failed; sent the fallback", lambda: quiet_answer(Event("failed")),
                last_resort=last_resort_call)


def quiet_answer(event: Event):
    """The answer for a step that records and sends nothing: a failure, a number over its limit."""
    library = runtime().library()
    return encoded(library, memo.step(library, Call.from_args(library, request.args), event))


# -- TwiML -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """One thing the caller hears, in order: words said, a clip played, or a pause."""

    kind: str  # "say", "play" or "pause"
    text: str = ""  # the words (for a clip: the words it holds)
    url: str = ""  # for "play"
    seconds: float = 0.0  # for "pause"
    rate: float = 1.0  # 0.8 when a voice that takes SSML speaks more slowly
    language: str = ""  # for "say": the voice's language (en-US)
    voice: str = ""  # for "say": Twilio's voice


@dataclass(frozen=True)
class Rendered:
    """An engine step as Twilio gets it: what the caller hears, where Twilio goes next, the TwiML."""

    step: CallStep
    pieces: tuple[Piece, ...]
    gather_action: str | None
    redirect: str | None
    dial_action: str | None
    xml: str


@lru_cache(maxsize=memo.SIZE)
def render(library: Library, answer: CallStep, clips: frozenset[str] | None, gather_timeout: int,
           url_map: Map, script_root: str) -> Rendered:
    """The engine's step as TwiML: its words said inside a Gather (then a Redirect for silence),
    or before a Dial, a Redirect or a Hangup.

    A pure function of its arguments, remembered (the same few hundred steps come again and
    again): the content version, the engine's step, the clips there are to play, the Gather's
    timeout, and what url_for builds the step URLs from (the app's routes and the path it is
    served under)."""
    call = answer.call
    pieces = tuple(heard(library, answer, clips))
    gather_action = url("voice.choose", answer.on_input) if answer.listen else None
    redirect = (url("voice.silence", answer.on_silence) if answer.listen
                else url("voice.menu", answer.retry) if answer.retry is not None else None)
    dial_action = url("voice.dialed", call) if answer.transfer else None
    response = VoiceResponse()
    into = response
    if answer.listen:
        lang = library.language(call.lang)
        into = response.gather(
            input="dtmf speech", action=gather_action, method="POST", timeout=gather_timeout,
            finish_on_key="", num_digits=1, speech_timeout="auto", language=lang.voice.speech_language,
            hints=lang.speech_hints, action_on_empty_result=False,
        )
    for piece in pieces:
        if piece.kind == "play":
            into.play(piece.url)
        elif piece.kind == "pause":
            into.pause(length=int(piece.seconds))
        elif piece.rate != 1.0:
            into.say(voice=piece.voice, language=piece.language).prosody(piece.text, rate=f"{piece.rate:.0%}")
        else:
            into.say(piece.text, voice=piece.voice, language=piece.language)
    if answer.transfer:
        response.dial(action=dial_action, method="POST", timeout=DIAL_TIMEOUT).number(answer.transfer)
    elif redirect:
        response.redirect(redirect, method="POST")
    elif answer.hang_up:
        response.hangup()
    return Rendered(answer, pieces, gather_action, redirect, dial_action, str(response))


def heard(library: Library, answer: CallStep, clips: frozenset[str] | None):
    """The step's words in order, each in its language's voice at the call's pace. Each plays its
    rendered clip where there is one (in `clips`); Twilio's voice says the rest (the call's own
    language's words in one <Say> between clips)."""
    slow = answer.call.slow
    waiting: list[str] = []

    def said(text: str, lang):
        voice = lang.voice
        if not slow or voice.supports_ssml:
            yield Piece("say", text, rate=0.8 if slow else 1.0, language=voice.twilio_language, voice=voice.twilio_voice)
            return
        for i, sentence in enumerate(split_sentences(text)):  # a slower pace without SSML: pauses
            if i:
                yield Piece("pause", seconds=1.0)
            yield Piece("say", sentence, language=voice.twilio_language, voice=voice.twilio_voice)

    def flush():
        if waiting:
            yield from said(" ".join(waiting), library.language(answer.call.lang))
            waiting.clear()

    for piece in answer.said:
        lang = library.language(piece.lang)
        clip = clip_name(piece.words, lang.voice.espeak_voice, slow)
        if clips and clip in clips:
            yield from flush()
            yield Piece("play", piece.words, url=url_for("audio.clip", name=clip))
        elif piece.lang == answer.call.lang:
            waiting.append(piece.words)
        else:
            yield from flush()
            yield from said(piece.words, lang)
    yield from flush()
