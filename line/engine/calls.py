"""One step of a phone call -> what the caller hears and what happens next.

Call state travels in the URLs the line gives Twilio (`Call`: where the caller is, the language,
the pace, the counts of silences, wrong keys and failures, and how many texts the caller has asked
for), never in memory, so any worker on any host can answer the next key press. Each step is
`step(library, call, event, texting, silence_limit)`: a pure function of its inputs, whose
`CallStep` says the words (each in a language's voice, at the call's pace), whether the line then
listens (and where a key press or a silence goes), a transfer, a text to send, a hang-up, and the
usage to record.

Every prompt is said while the line listens, so a caller can interrupt it; a silence is
reprompted, then given more time, and only after `silence_limit` silences does the line read the
referral number and say goodbye. Three wrong keys in a row offer the referral office.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping

from ..content import PHONE_KEYS, SPOKEN_COMMANDS, Language, Library, fill
from ..match import normalize
from .changes import Unmatched, Usage
from .understand import understand

NUMBER = "_number"  # the place where the referral number is read out
MAX_COUNT_DIGITS = 6
TEXT_OUTCOMES = {"sent": "text_sent", "refused": "text_refused", "opted_out": "text_opted_out", "limit": "text_limit",
                 "failed": "text_failed"}
CONNECTED = ("completed", "answered")  # a transfer that ended after a conversation


@dataclass(frozen=True)
class Call:
    """Where a caller is, as carried in the URL."""

    at: str = "main"
    lang: str = ""
    slow: bool = False
    silences: int = 0
    wrong: int = 0
    errors: int = 0
    texts: int = 0  # texts asked for so far: with the CallSid, it names a text step (a replay sends nothing again)

    @classmethod
    def from_args(cls, library: Library, args: Mapping[str, str]) -> "Call":
        """The state in a step's URL (?at=treatment&lang=en&pace=slow&s=1&w=2&e=1&t=1); anything odd
        falls back to the start: an unknown place is the main menu, an unknown language the default."""
        lang = library.language(args.get("lang"))
        at = args.get("at", "main")
        if at != NUMBER and at not in lang.topics and at not in lang.menus:
            at = "main"
        return cls(at=at, lang=lang.code, slow=args.get("pace") == "slow",
                   silences=_count(args.get("s")), wrong=_count(args.get("w")), errors=_count(args.get("e")),
                   texts=_count(args.get("t")))

    def args(self) -> dict[str, str | int]:
        """The state as URL parameters (the inverse of from_args; zero counts are left out)."""
        params: dict[str, str | int] = {"at": self.at, "lang": self.lang}
        if self.slow:
            params["pace"] = "slow"
        for name, value in (("s", self.silences), ("w", self.wrong), ("e", self.errors), ("t", self.texts)):
            if value:
                params[name] = value
        return params


def _count(raw: str | None) -> int:
    """A count carried in the URL (silences, wrong keys, errors); anything odd counts as 0."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= MAX_COUNT_DIGITS else 0


@dataclass(frozen=True)
class Event:
    """What happened: the call arrived, a key or words, a silence, a transfer ended ..."""

    kind: str  # "call", "menu", "choose", "silence", "dialed", "texted", "failed", "limited"
    digits: str = ""  # for "choose": the keys pressed (the first counts)
    speech: str = ""  # for "choose": what the caller said
    status: str = ""  # for "dialed": Twilio's DialCallStatus
    outcome: str = ""  # for "texted": "sent", "refused", "opted_out", "limit" or "failed"


@dataclass(frozen=True)
class Said:
    """Words said in a language's voice (a language offers itself in its own voice)."""

    words: str
    lang: str


@dataclass(frozen=True)
class Key:
    key: str
    name: str  # a reserved key's name ("repeat", "referral" ...), or the topic or menu id it leads to


@dataclass(frozen=True)
class CallStep:
    call: Call  # the call after this step: its place, language, pace (the words are said at it)
    said: tuple[Said, ...] = ()
    listen: bool = False  # the words are said while listening for a key or words
    keys: tuple[Key, ...] = ()  # the keys offered aloud here, in the order they were said
    on_silence: Call | None = None  # listening: where a silence goes (the silence step)
    transfer: str | None = None  # the number to put the caller through to (E.164); then the "dialed" step
    send_text: str | None = None  # a text to send to the caller; then the "texted" step with its outcome
    retry: Call | None = None  # after a failure: go to this menu step without waiting
    hang_up: bool = False
    changes: tuple = ()  # changes.py: usage to record, words nobody understood

    @property
    def on_input(self) -> Call:
        """Listening: where a key press or words go (the choose step; silences start again)."""
        return replace(self.call, silences=0)

    @property
    def words(self) -> str:
        return " ".join(s.words for s in self.said)


# -- the words ---------------------------------------------------------------------------------
def key_line(lang: Language, keys: Mapping[str, str], name: str) -> str:
    return fill(lang.voice_prompts[f"key_{name}"], key=lang.spoken.key(keys[name]))


def option_line(lang: Language, position: int, option: str) -> str:
    item = lang.item(option)
    return fill(lang.voice_prompts["option"], label=item.spoken_label, key=lang.spoken.key(str(position)))


def parent(lang: Language, place: str) -> str:
    for menu in lang.menus.values():
        if place in menu.options:
            return menu.id
    return "main"


def e164(written: str) -> str:
    digits = re.sub(r"\D", "", written)
    return "+" + (digits if len(digits) == 11 else "1" + digits)


def phrases(library: Library) -> set[tuple[str, str]]:
    """Every piece the phone menu can say, as (language code, words): what `line audio` renders."""
    found = set()
    for lang in library.languages.values():
        p = lang.voice_prompts
        pieces = [p[name] for name in ("greeting", "speech_hint", "silence", "more_time", "not_understood",
                                       "transfer", "transfer_failed", "number", "goodbye", "slower_on",
                                       "text_sent", "text_refused", "text_opted_out", "text_limit",
                                       "text_failed", "text_no_topic", "error")]
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
        pieces += [i.speech for i in lang.intents.items.values() if i.speech] if lang.intents else []
        found.update((lang.code, piece) for piece in pieces)
    return found


def spoken_key(lang: Language, speech: str) -> str | None:
    """'one', '1' or 'star' said aloud -> the key it names."""
    norm = normalize(speech)
    words = {w: str(i) for i, w in enumerate(lang.spoken.digits)}
    words.update({str(i): str(i) for i in range(10)})
    words[normalize(lang.spoken.star)] = "*"
    words[normalize(lang.spoken.pound)] = "#"
    return words.get(norm)


class _Words:
    """The words of one answer, in the call's language, at its pace."""

    def __init__(self, library: Library, call: Call, texting: bool, text_refused: bool = False):
        self.library = library
        self.text_refused = text_refused
        self.call = call
        self.lang = library.language(call.lang)
        self.p = self.lang.voice_prompts
        self.keys = library.keys
        self.texting = texting

    def key(self, name: str) -> str:
        return self.lang.spoken.key(self.keys[name])

    def options(self, place: str) -> list[tuple[str, Key]]:
        """What the caller can do here, said after the menu or the summary: (line, key)."""
        lines = []

        def reserved(name: str) -> None:
            lines.append((key_line(self.lang, self.keys, name), Key(self.keys[name], name)))

        if place == NUMBER:
            lines.append((fill(self.p["number_again"], key=self.key("repeat")), Key(self.keys["repeat"], "number_again")))
            reserved("referral")
            reserved("main_menu")
        elif place in self.lang.menus:
            menu = self.lang.menus[place]
            for i, option in enumerate(menu.options, start=1):
                lines.append((option_line(self.lang, i, option), Key(str(i), option)))
            reserved("referral")
            reserved("repeat")
            if place == "main":
                if not self.call.slow:
                    reserved("slower")
            else:
                reserved("back")
                reserved("main_menu")
        else:
            reserved("repeat")
            reserved("back")
            if self.texting:
                reserved("text_me")
            reserved("main_menu")
            reserved("referral")
        return lines

    def arrival(self, place: str) -> list[str | tuple[str, Key]]:
        """What the caller hears on arriving at a place (or asking to repeat it)."""
        if place == NUMBER:
            return [self.p["number"], *self.options(place)]
        if place in self.lang.topics:
            return [self.lang.topics[place].speech, *self.options(place)]
        intro = [] if place == "main" else [fill(self.p["submenu_intro"], label=self.lang.menus[place].spoken_label)]
        hint = [self.p["speech_hint"]] if place == "main" else []
        return intro + self.options(place) + hint

    def again(self, place: str) -> list[Said | tuple[str, Key]]:
        """The options once more, after words or a silence: on the main menu with the other
        languages' offers first (a caller who did not follow may not speak this language)."""
        return [*(self.language_offers() if place == "main" else []), *self.options(place)]

    def language_offers(self) -> list[Said]:
        """'Para español, oprima seis.': every other language offers itself, in its own voice."""
        key = self.keys["language"]
        return [Said(fill(other.voice_prompts["language_switch"], key=other.spoken.key(key)), other.code)
                for other in self.library.languages.values() if other.code != self.lang.code]

    # -- whole answers ------------------------------------------------------------------------
    def said(self, pieces) -> tuple[tuple[Said, ...], tuple[Key, ...]]:
        said, keys = [], []
        for piece in pieces:
            if isinstance(piece, Said):
                said.append(piece)
                continue
            if isinstance(piece, tuple):
                piece, key = piece
                if key.key not in {k.key for k in keys}:
                    keys.append(key)
            if piece:
                said.append(Said(piece, self.lang.code))
        return tuple(said), tuple(keys)

    def listen(self, call: Call, pieces, changes=()) -> CallStep:
        """Say `pieces` while listening at `call`; a silence goes to the silence step."""
        said, keys = self.said(pieces)
        return CallStep(call=call, said=said, listen=True, keys=keys,
                        on_silence=replace(call, silences=call.silences + 1), changes=tuple(changes))

    def go(self, place: str, before=(), changes=(), first=(), **state) -> CallStep:
        """Arrive at `place` (after saying `before`) and hear it; `first` is said before anything,
        even the other languages' offers (the safety words). A step that went well clears the
        counts: silences, wrong keys, failures."""
        call = replace(self.call, **{"at": place, "silences": 0, "wrong": 0, "errors": 0, **state})
        offers = self.language_offers() if place == "main" else []
        return self.listen(call, [*first, *offers, *before, *_Words(self.library, call, self.texting).arrival(place)], changes)

    def goodbye(self, pieces, changes=()) -> CallStep:
        said, _ = self.said([*pieces, self.p["goodbye"]])
        return CallStep(call=self.call, said=said, hang_up=True, changes=tuple(changes))

    def usage(self, step: str, outcome: str, lang: str | None = None) -> Usage:
        return Usage("voice", lang or self.call.lang, step, outcome)


# -- the steps ---------------------------------------------------------------------------------
def step(library: Library, call: Call, event: Event, texting: bool = False, silence_limit: int = 12,
         text_refused: bool = False) -> CallStep:
    """The answer to `event` for a caller at `call`. `texting`: whether a text can be sent to this
    caller (credentials, and a number the line may text: offered after each topic); `text_refused`:
    texting is set up but this caller's number is not one the line texts (asking for a text gets
    a kind refusal and the referral number); `silence_limit`: silences before goodbye."""
    w = _Words(library, call, texting, text_refused)
    kind = event.kind
    if kind == "call":
        return w.go("main", before=[w.p["greeting"]], changes=[w.usage("call", "answered")])
    if kind == "menu":
        return w.go(call.at, errors=call.errors)
    if kind == "silence":
        return _silence(w, silence_limit)
    if kind == "choose":
        return _choose(w, event.digits.strip(), event.speech.strip())
    if kind == "dialed":
        if event.status in CONNECTED:
            return w.goodbye([])
        return w.go(NUMBER, before=[w.p["transfer_failed"]], changes=[w.usage("referral", "transfer_failed")])
    if kind == "texted":
        outcome = event.outcome if event.outcome in TEXT_OUTCOMES else "failed"
        return _texted(w, outcome, replace(call, silences=0, wrong=0, texts=call.texts + 1))
    if kind == "failed":
        if call.errors >= 1:
            return w.goodbye([w.p["error"], w.p["number"]])
        said, _ = w.said([w.p["error"], w.p["number"]])
        return CallStep(call=call, said=said, retry=Call(at="main", lang=call.lang, errors=call.errors + 1))
    if kind == "limited":
        return w.goodbye([w.p["number"]])
    raise ValueError(f"unknown call event {kind!r}")


def _silence(w: _Words, limit: int) -> CallStep:
    """The caller said and pressed nothing. Reprompt, offer more time, and only then say goodbye."""
    call = w.call
    if call.silences >= limit:
        return w.goodbye([w.p["number"]], changes=[w.usage(call.at, "silent")])
    if call.silences == 1:
        return w.listen(call, [w.p["silence"], *w.again(call.at)])
    if call.silences % 4 == 0:
        return w.listen(call, [w.p["more_time"], *w.again(call.at)])
    return w.listen(call, [w.p["more_time"]])


def _choose(w: _Words, digits: str, speech: str) -> CallStep:
    """A key press or words at `call.at`."""
    library, call, lang = w.library, w.call, w.lang
    key = digits[:1] if digits else (spoken_key(lang, speech) if speech else None)
    if key and key not in PHONE_KEYS:
        key = None  # not a key a phone has: answered as words nobody understood
    action = None
    unmatched = []
    if key:
        action = {v: k for k, v in library.keys.items()}.get(key)
        if action is None and key.isdigit() and call.at in lang.menus:
            options = lang.menus[call.at].options
            if 1 <= int(key) <= len(options):
                return _arrive(w, options[int(key) - 1])
    elif speech:
        meaning = understand(library, lang, speech, "voice")
        if meaning.kind == "language":
            return _switch_language(w, library.languages[meaning.id])
        if meaning.kind == "intent" and meaning.lang != call.lang:  # danger said in another language
            return _intent(_Words(library, replace(call, lang=meaning.lang), w.texting, w.text_refused), meaning)
        if meaning.kind == "intent":
            return _intent(w, meaning)
        if meaning.kind in ("topic", "menu"):
            return _arrive(w, meaning.id)
        if meaning.kind == "command" and meaning.id == "help":  # "who is this?": the greeting again
            return w.go(call.at, before=[w.p["greeting"]])
        if meaning.kind == "command":
            action = "main_menu" if meaning.id == "menu" else meaning.id
        if meaning.kind == "nothing":
            unmatched.append(Unmatched("voice", call.lang, speech))
    if action == "referral":
        return _transfer(w, w.p["transfer"])
    if action == "repeat":
        return w.go(call.at)
    if action == "main_menu":
        return _arrive(w, "main")
    if action == "back" and call.at != "main":
        return _arrive(w, "main" if call.at == NUMBER else parent(lang, call.at))
    if action == "language":
        return _switch_language(w, library.next_language(call.lang))
    if action == "slower":
        slower = _Words(library, replace(call, slow=True), w.texting)
        return slower.go(call.at, before=[w.p["slower_on"]], changes=[w.usage("slower", "answered")])
    if action == "text_me" and w.text_refused:  # wherever the caller is: no topic to choose first
        return _texted(w, "refused", replace(call, silences=0, wrong=0))
    if action == "text_me" and w.texting:
        if call.at in lang.topics:
            topic = lang.topics[call.at]
            return CallStep(call=call, send_text=fill(lang.sms["from_call"], topic=topic.body, citation=topic.citation))
        return w.listen(replace(call, silences=0), [w.p["text_no_topic"], *w.options(call.at)])
    return _wrong(w, key, unmatched)


def _texted(w: _Words, outcome: str, call: Call) -> CallStep:
    """What came of a text: said, with the options again. Refused (a number the line does not
    text, or the line's daily cap): the referral number as the way forward, never why."""
    said = [w.p[TEXT_OUTCOMES[outcome]]] + ([w.p["number"]] if outcome == "refused" else [])
    usage = w.usage(call.at, "texted" if outcome == "sent" else f"text_{outcome}")
    return w.listen(call, [*said, *w.options(call.at)], [usage])


def _transfer(w: _Words, words: str) -> CallStep:
    said, _ = w.said([words])
    return CallStep(call=w.call, said=said, transfer=e164(w.library.referral_phone),
                    changes=(w.usage("referral", "transferred"),))


def _intent(w: _Words, meaning) -> CallStep:
    """What people mean beyond the topics, said first, then a way on (content/<lang>/intents.yaml):
    an emergency -> the 911 words, then the main menu; a crisis -> the 988 words, then only the
    main menu and the referral keys (no topic content); a person -> the transfer; a personal
    question -> no medical advice, then the topic it names (if any); feelings, something not
    covered -> the kind words, then the main menu; thanks -> a kind word, then where they were."""
    intent = w.lang.intents[meaning.id]
    if intent.id == "person":  # the same as the referral key
        return _transfer(w, w.p["transfer"])
    usage = [w.usage(intent.id, "answered")]
    if intent.id == "crisis":
        call = replace(w.call, at="main", silences=0, wrong=0, errors=0)
        keys = [(key_line(w.lang, w.keys, name), Key(w.keys[name], name)) for name in ("main_menu", "referral")]
        return w.listen(call, [intent.speech, *keys], usage)
    if intent.id == "thanks":
        return w.listen(replace(w.call, silences=0, wrong=0), [intent.speech, *w.options(w.call.at)], usage)
    if intent.id == "personal" and meaning.also and meaning.also not in w.lang.intents.then_never:
        return w.go(meaning.also, first=[intent.speech], changes=usage)
    return w.go("main", first=[intent.speech], changes=usage)


def _switch_language(w: _Words, lang: Language) -> CallStep:
    """The rest of the call in another language: its greeting, then its main menu."""
    other = _Words(w.library, replace(w.call, lang=lang.code), w.texting)
    return other.go("main", before=[other.p["greeting"]], changes=[w.usage("language", "answered", lang.code)])


def _arrive(w: _Words, place: str) -> CallStep:
    outcome = "answered" if place in w.lang.topics else "menu"
    return w.go(place, changes=[w.usage(place, outcome)])


def _wrong(w: _Words, key: str | None, unmatched: list) -> CallStep:
    call = w.call
    wrong = call.wrong + 1
    said = [fill(w.p["wrong_key"], key=w.lang.spoken.key(key)) if key else w.p["not_understood"]]
    if wrong >= 3:
        said.append(fill(w.p["offer_referral"], key=w.key("referral")))
    return w.listen(replace(call, wrong=wrong, silences=0), [*said, *w.again(call.at)],
                    [*unmatched, w.usage(call.at, "not_understood")])
