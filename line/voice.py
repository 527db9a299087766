"""POST /voice and the phone menu's steps, answered as VoiceResponse.

Call state travels in the action URLs (?at=treatment&lang=en&pace=slow&s=0&w=0), never in
memory, so any worker can answer the next key press. Every prompt is inside a <Gather> so a
caller can interrupt it, and every <Gather> is followed by a <Redirect> for silence.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, replace

from flask import Blueprint, request, url_for
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from .content import PHONE_KEYS, SPOKEN_COMMANDS, Language, Library, fill
from .match import normalize
from .twiml import last_resort_call, twiml
from .runtime import runtime

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(lambda: runtime().check_signature())

NUMBER = "_number"  # the place where the referral number is read out
DIAL_TIMEOUT = 30


@dataclass(frozen=True)
class Call:
    """Where a caller is, as carried in the URL."""

    at: str = "main"
    lang: str = ""
    slow: bool = False
    silences: int = 0
    wrong: int = 0
    errors: int = 0

    @classmethod
    def from_request(cls, library: Library) -> "Call":
        args = request.args
        lang = library.language(args.get("lang"))
        at = args.get("at", "main")
        if at != NUMBER and at not in lang.topics and at not in lang.menus:
            at = "main"
        return cls(at=at, lang=lang.code, slow=args.get("pace") == "slow",
                   silences=_count(args.get("s")), wrong=_count(args.get("w")), errors=_count(args.get("e")))

    def url(self, endpoint: str, **changes) -> str:
        call = replace(self, **changes)
        params = {"at": call.at, "lang": call.lang}
        if call.slow:
            params["pace"] = "slow"
        for name, value in (("s", call.silences), ("w", call.wrong), ("e", call.errors)):
            if value:
                params[name] = value
        return url_for(endpoint, **params)


def _count(raw: str | None) -> int:
    """A count carried in the URL (silences, wrong keys, errors); anything odd counts as 0."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0


def key_line(lang: Language, keys, name: str) -> str:
    return fill(lang.voice_prompts[f"key_{name}"], key=lang.spoken.key(keys[name]))


def option_line(lang: Language, position: int, option: str) -> str:
    item = lang.item(option)
    return fill(lang.voice_prompts["option"], label=item.spoken_label, key=lang.spoken.key(str(position)))


def phrases(library: Library) -> set[tuple[str, str]]:
    """Every piece the phone menu can say, as (language code, words): what `line audio` renders."""
    found = set()
    for lang in library.languages.values():
        p = lang.voice_prompts
        pieces = [p[name] for name in ("greeting", "speech_hint", "silence", "more_time", "not_understood",
                                       "transfer", "transfer_failed", "number", "goodbye", "slower_on",
                                       "text_sent", "text_opted_out", "text_limit", "text_failed",
                                       "text_no_topic", "error")]
        pieces += [key_line(lang, library.keys, name) for name in SPOKEN_COMMANDS]
        pieces.append(fill(p["language_switch"], key=lang.spoken.key(library.keys["language"])))
        pieces.append(fill(p["number_again"], key=lang.spoken.key(library.keys["repeat"])))
        pieces.append(fill(p["offer_referral"], key=lang.spoken.key(library.keys["referral"])))
        pieces += [fill(p["wrong_key"], key=lang.spoken.key(k)) for k in "0123456789*#"]
        for menu in lang.menus.values():
            if menu.id != "main":
                pieces.append(fill(p["submenu_intro"], label=menu.spoken_label))
            pieces += [option_line(lang, i, o) for i, o in enumerate(menu.options, start=1)]
        pieces += [t.speech for t in lang.topics.values()]
        found.update((lang.code, piece) for piece in pieces)
    return found


def parent(lang: Language, place: str) -> str:
    for menu in lang.menus.values():
        if place in menu.options:
            return menu.id
    return "main"


class Prompter:
    """Builds the TwiML for one answer in one language."""

    def __init__(self, library: Library, call: Call):
        self.rt = runtime()
        self.library = library
        self.lang = library.language(call.lang)
        self.call = call
        self.p = self.lang.voice_prompts
        self.keys = library.keys

    @functools.cached_property
    def response(self) -> VoiceResponse:
        """The answer being built, for the steps that build one here (gather keeps its own)."""
        return VoiceResponse()

    # -- words ---------------------------------------------------------------------------
    def key(self, name: str) -> str:
        return self.lang.spoken.key(self.keys[name])

    def key_line(self, name: str) -> str:
        return key_line(self.lang, self.keys, name)

    def can_text(self) -> bool:
        return self.rt.texter.can_text(request.form.get("From", ""))

    def options(self, place: str) -> list[str]:
        """What the caller can do here, said after the menu or the summary."""
        lines = []
        if place == NUMBER:
            lines.append(fill(self.p["number_again"], key=self.key("repeat")))
            lines += [self.key_line("referral"), self.key_line("main_menu")]
        elif place in self.lang.menus:
            menu = self.lang.menus[place]
            for i, option in enumerate(menu.options, start=1):
                lines.append(option_line(self.lang, i, option))
            lines += [self.key_line("referral"), self.key_line("repeat")]
            if place == "main":
                if not self.call.slow:
                    lines.append(self.key_line("slower"))
            else:
                lines += [self.key_line("back"), self.key_line("main_menu")]
        else:
            lines.append(self.key_line("repeat"))
            lines.append(self.key_line("back"))
            if self.can_text():
                lines.append(self.key_line("text_me"))
            lines += [self.key_line("main_menu"), self.key_line("referral")]
        return lines

    def arrival(self, place: str) -> list[str]:
        """What the caller hears on arriving at a place (or asking to repeat it)."""
        if place == NUMBER:
            return [self.p["number"], *self.options(place)]
        if place in self.lang.topics:
            return [self.lang.topics[place].speech, *self.options(place)]
        intro = [] if place == "main" else [fill(self.p["submenu_intro"], label=self.lang.menus[place].spoken_label)]
        hint = [self.p["speech_hint"]] if place == "main" else []
        return intro + self.options(place) + hint

    def language_offers(self) -> list[tuple[str, Language]]:
        """'Para español, oprima seis.': every other language offers itself, in its own voice."""
        key = self.keys["language"]
        return [(fill(other.voice_prompts["language_switch"], key=other.spoken.key(key)), other)
                for other in self.library.languages.values() if other.code != self.lang.code]

    # -- TwiML ---------------------------------------------------------------------------
    def say(self, parent, pieces: list) -> None:
        """Say pieces in order: a piece is words in the call's language, or (words, Language) for
        another language's voice. Each plays its rendered clip where there is one; Twilio's
        voice says the rest."""
        audio = self.rt.audio
        waiting: list[str] = []

        def flush():
            if waiting:
                self._say_text(parent, " ".join(waiting), self.lang)
                waiting.clear()

        for piece in (p for p in pieces if p):
            text, lang = piece if isinstance(piece, tuple) else (piece, self.lang)
            clip = audio.clip_for(text, lang.voice.espeak_voice, self.call.slow)
            if clip:
                flush()
                parent.play(url_for("audio.clip", name=clip))
            elif lang is self.lang:
                waiting.append(text)
            else:
                flush()
                self._say_text(parent, text, lang)
        flush()

    def _say_text(self, parent, text: str, lang: Language) -> None:
        voice = lang.voice
        if not self.call.slow:
            parent.say(text, voice=voice.twilio_voice, language=voice.twilio_language)
        elif voice.supports_ssml:
            parent.say(voice=voice.twilio_voice, language=voice.twilio_language).prosody(text, rate="80%")
        else:
            from .speech import split_sentences

            for i, sentence in enumerate(split_sentences(text)):
                if i:
                    parent.pause(length=1)
                parent.say(sentence, voice=voice.twilio_voice, language=voice.twilio_language)

    def built(self, what: tuple, build) -> str:
        """The answer `build()` makes, as XML, built once for everything that decides it: the
        content version, the clips, the URL root, the call's state and `what` (the step and its
        words). The same few hundred answers come again and again."""
        key = (self.library.version, self.rt.audio.state(), request.script_root, self.call, *what)
        xml = self.rt.voice_answers.get(key)
        if xml is None:
            xml = self.rt.voice_answers.put(key, str(build()))
        return xml

    def gather(self, call: Call, sentences: list) -> str:
        """A whole answer: `sentences` said inside a Gather at `call.at`, then, on silence, the
        silence step."""
        pieces = tuple((p[0], p[1].code) if isinstance(p, tuple) else p for p in sentences if p)
        return self.built(("gather", call, pieces), lambda: self._gathering(call, sentences))

    def _gathering(self, call: Call, sentences: list) -> VoiceResponse:
        response = VoiceResponse()
        gather = response.gather(
            input="dtmf speech", action=call.url("voice.choose", silences=0), method="POST",
            timeout=self.rt.settings.gather_timeout, finish_on_key="", num_digits=1, speech_timeout="auto",
            language=self.lang.voice.speech_language, hints=self.lang.speech_hints,
            action_on_empty_result=False,
        )
        self.say(gather, sentences)
        response.redirect(call.url("voice.silence", silences=call.silences + 1), method="POST")
        return response

    def goodbye(self, sentences: list[str]) -> VoiceResponse:
        self.say(self.response, [*sentences, self.p["goodbye"]])
        self.response.hangup()
        return self.response

    def go(self, place: str, before: list[str] = (), **changes) -> str:
        """Arrive at `place` (after saying `before`) and hear it, as a whole answer. Its words
        depend on the place, the call and whether texting is offered, so a built answer is
        looked up by those before the words are put together."""
        # A step that went well clears the counts: silences, wrong keys, failures.
        call = replace(self.call, **{"at": place, "silences": 0, "wrong": 0, "errors": 0, **changes})

        def build() -> VoiceResponse:
            first = self.language_offers() if place == "main" else []
            return self._gathering(call, [*first, *before, *Prompter(self.library, call).arrival(place)])

        texting = place in self.lang.topics and self.can_text()
        return self.built(("go", call, tuple(before), texting), build)


# -- the steps ---------------------------------------------------------------------------
def _start() -> tuple[Library, Call, Prompter]:
    library = runtime().library()
    call = Call.from_request(library)
    return library, call, Prompter(library, call)


@bp.post("")
def incoming_call():
    """A call comes in: the greeting, then the main menu at once."""
    _, call, p = _start()
    runtime().record("voice", call.lang, "call", "answered")
    return twiml(p.go("main", before=[p.p["greeting"]]))


@bp.post("/menu")
def menu():
    """Arrive at `at` (a menu, a topic or the number) and hear it. After a failure the line sends
    the caller here; the count of failures goes on, so a second one in a row says goodbye."""
    _, call, p = _start()
    return twiml(p.go(call.at, errors=call.errors))


@bp.post("/silence")
def silence():
    """The caller said and pressed nothing. Reprompt, offer more time, and only then say goodbye."""
    _, call, p = _start()
    limit = p.rt.settings.silence_limit
    if call.silences >= limit:
        runtime().record("voice", call.lang, call.at, "silent")
        return twiml(p.goodbye([p.p["number"]]))
    if call.silences == 1:
        return twiml(p.gather(call, [p.p["silence"], *p.options(call.at)]))
    if call.silences % 4 == 0:
        return twiml(p.gather(call, [p.p["more_time"], *p.options(call.at)]))
    return twiml(p.gather(call, [p.p["more_time"]]))


def spoken_key(lang: Language, speech: str) -> str | None:
    """'one', '1' or 'star' said aloud -> the key it names."""
    norm = normalize(speech)
    words = {w: str(i) for i, w in enumerate(lang.spoken.digits)}
    words.update({str(i): str(i) for i in range(10)})
    words[normalize(lang.spoken.star)] = "*"
    words[normalize(lang.spoken.pound)] = "#"
    return words.get(norm)


@bp.post("/choose")
def choose():
    """A key press or words at `at`."""
    library, call, p = _start()
    lang = p.lang
    digits = request.form.get("Digits", "").strip()
    speech = request.form.get("SpeechResult", "").strip()
    key = digits[:1] if digits else (spoken_key(lang, speech) if speech else None)
    if key and key not in PHONE_KEYS:
        key = None  # not a key a phone has: answered as words nobody understood
    action = None
    if key:
        action = {v: k for k, v in library.keys.items()}.get(key)
        if action is None and key.isdigit() and call.at in lang.menus:
            options = lang.menus[call.at].options
            if 1 <= int(key) <= len(options):
                return _arrive(p, call, options[int(key) - 1])
    elif speech:
        named = library.language_named(speech)
        if named is not None:
            return _switch_language(library, call, named)
        found = lang.matcher.match(speech, "voice")
        if found and found.target.kind in ("topic", "menu"):
            return _arrive(p, call, found.target.id)
        if found and found.target.kind == "command":
            action = "main_menu" if found.target.id == "menu" else found.target.id
        if not found:
            runtime().record_unmatched("voice", call.lang, speech)
    if action == "referral":
        return referral_transfer(p, call)
    if action == "repeat":
        return twiml(p.go(call.at))
    if action == "main_menu":
        return _arrive(p, call, "main")
    if action == "back" and call.at != "main":
        return _arrive(p, call, "main" if call.at == NUMBER else parent(lang, call.at))
    if action == "language":
        return _switch_language(library, call, library.next_language(call.lang))
    if action == "slower":
        runtime().record("voice", call.lang, "slower", "answered")
        return twiml(Prompter(library, replace(call, slow=True)).go(call.at, before=[p.p["slower_on"]]))
    if action == "text_me" and p.can_text():
        if call.at in lang.topics:
            return text_me(p, call)
        return twiml(p.gather(replace(call, silences=0), [p.p["text_no_topic"], *p.options(call.at)]))
    return _wrong(p, call, key)


def _switch_language(library: Library, call: Call, lang: Language):
    """The rest of the call in another language: its greeting, then its main menu."""
    runtime().record("voice", lang.code, "language", "answered")
    p = Prompter(library, replace(call, lang=lang.code))
    return twiml(p.go("main", before=[p.p["greeting"]]))


def _arrive(p: Prompter, call: Call, place: str):
    kind = "topic" if place in p.lang.topics else "menu"
    runtime().record("voice", call.lang, place, "answered" if kind == "topic" else "menu")
    return twiml(p.go(place))


def _wrong(p: Prompter, call: Call, key: str | None):
    wrong = call.wrong + 1
    runtime().record("voice", call.lang, call.at, "not_understood")
    said = [fill(p.p["wrong_key"], key=p.lang.spoken.key(key)) if key else p.p["not_understood"]]
    if wrong >= 3:
        said.append(fill(p.p["offer_referral"], key=p.key("referral")))
    return twiml(p.gather(replace(call, wrong=wrong, silences=0), [*said, *p.options(call.at)]))


def referral_transfer(p: Prompter, call: Call):
    runtime().record("voice", call.lang, "referral", "transferred")

    def build() -> VoiceResponse:
        p.say(p.response, [p.p["transfer"]])
        dial = p.response.dial(action=call.url("voice.dialed"), method="POST", timeout=DIAL_TIMEOUT)
        dial.number(e164(p.library.referral_phone))
        return p.response

    return twiml(p.built(("transfer", call), build))


def e164(written: str) -> str:
    digits = re.sub(r"\D", "", written)
    return "+" + (digits if len(digits) == 11 else "1" + digits)


@bp.post("/dialed")
def dialed():
    """The transfer ended: after a conversation, goodbye; if it failed, say so and read the number."""
    _, call, p = _start()
    status = request.form.get("DialCallStatus", "")
    if status in ("completed", "answered"):
        return twiml(p.goodbye([]))
    runtime().record("voice", call.lang, "referral", "transfer_failed")
    return twiml(p.go(NUMBER, before=[p.p["transfer_failed"]]))


def text_me(p: Prompter, call: Call):
    topic = p.lang.topics[call.at]
    body = fill(p.lang.sms["from_call"], topic=topic.body, citation=topic.citation)
    outcome = p.rt.texter.send(request.form.get("From", ""), request.form.get("To", ""),
                               request.form.get("CallSid", ""), body)
    runtime().record("voice", call.lang, call.at, "texted" if outcome == "sent" else f"text_{outcome}")
    said = {"sent": "text_sent", "opted_out": "text_opted_out", "limit": "text_limit", "failed": "text_failed"}[outcome]
    return twiml(p.gather(replace(call, silences=0, wrong=0), [p.p[said], *p.options(call.at)]))


@bp.errorhandler(Exception)
def voice_failed(exc: Exception):
    """Whatever went wrong, the caller hears the referral number and is not cut off at once."""
    if isinstance(exc, HTTPException):
        return exc
    log.exception("a voice step failed; sent the fallback")
    try:
        library = runtime().library()
        call = Call.from_request(library)
        p = Prompter(library, call)
        if call.errors >= 1:
            return twiml(p.goodbye([p.p["error"], p.p["number"]]))
        p.say(p.response, [p.p["error"], p.p["number"]])
        p.response.redirect(url_for("voice.menu", at="main", lang=call.lang, e=call.errors + 1), method="POST")
        return twiml(p.response)
    except Exception:
        log.exception("the voice fallback failed too")
        return last_resort_call()
