"""What the content is, once loaded: immutable records the engine and channels read.

Every record is built once by `load.py` and never changed after. Where staff wrote a piece of
text, the record keeps it as written with its file and line (`Written`), so checks can name the
place without reading the YAML again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Iterator, Mapping

from .. import sms_encoding
from ..match import Entry, Matcher, Target, normalize
from ..optout import PlainWords, says
from ..speech import Spoken
from .yaml_source import Problem

MAX_MENU_OPTIONS = 5
MAX_HINTS = 500  # Twilio takes up to 500 hint phrases
PLACEHOLDER = re.compile(r"\{(\w*)\}")
KEYWORD = re.compile(r"^[A-Z0-9]{2,15}$")
RESERVED_KEYS = ("referral", "repeat", "main_menu", "back", "text_me", "slower", "language")
SPOKEN_COMMANDS = ("referral", "repeat", "main_menu", "back", "text_me", "slower")
TRANSLATION_STATES = ("original", "machine-draft", "needs-review", "reviewed")
ALPHABETS = ("gsm-7", "any")
PHONE_KEYS = set("0123456789*#")

# Prompts the line needs, with the names the line fills in at run time.
SMS_PROMPTS = {
    "first_text": set(), "help": set(), "whatsapp_help": set(), "opted_in": set(), "opted_out": set(),
    "main_menu": {"options"}, "submenu": {"label", "options"},
    "topic_footer": {"citation"}, "not_understood": set(), "suggestion": {"keyword"},
    "error": set(), "from_call": {"topic", "citation"}, "language_set": set(),
}
VOICE_PROMPTS = {
    "greeting": set(), "speech_hint": set(), "option": {"label", "key"},
    **{f"key_{name}": {"key"} for name in SPOKEN_COMMANDS},
    "submenu_intro": {"label"}, "silence": set(), "more_time": set(),
    "wrong_key": {"key"}, "not_understood": set(), "offer_referral": {"key"},
    "transfer": set(), "transfer_failed": set(), "number": set(), "number_again": {"key"},
    "goodbye": set(), "slower_on": set(), "text_sent": set(), "text_refused": set(), "text_opted_out": set(),
    "text_limit": set(), "text_failed": set(), "text_no_topic": set(), "error": set(),
    "language_switch": {"key"},
}
FACTS = {"line_name", "office", "phone", "email"}

# What people mean beyond the topics (intents.yaml): every language has every one, and the
# line's behaviour for each is fixed (docs/staff.md says what each does).
INTENT_IDS = ("emergency", "crisis", "feelings", "personal", "person", "not_covered", "thanks")
# What wins when a message could be more than one thing (each intent's matcher entry says so):
# - the safety intents before everything else, whatever else the message names; on a tie, the
#   first here (the crisis reply also gives 911);
SAFETY_INTENTS = ("crisis", "emergency")
# - an intent about a subject: its own words beat another intent's frame ("should I eat sushi"
#   is a subject the articles lack, not a personal question to ask a provider).
SUBJECT_INTENTS = ("not_covered",)
# - a courtesy says little: anything else the message says is the answer ("thanks. what are the
#   side effects", "buenas noches, mi mamá está muy asustada"); it is the answer alone.
COURTESY_INTENTS = ("thanks",)
THEN = ("topic", "menu", "nothing")  # what follows an intent's text
# Fixed where safety needs it: no topic content after the crisis words; the emergency words
# always lead somewhere.
THEN_REQUIRED = {"crisis": ("nothing",), "emergency": ("topic", "menu")}
# The only numbers the line may give besides the referral office's: emergencies and the
# Suicide and Crisis Lifeline.
SAFETY_NUMBERS = ("911", "988")
MIN_INTENT_EXAMPLES = 20  # per intent and language
MIN_TOPIC_EXAMPLES = 5  # per topic and language
SUGGEST_MAX_WORDS = 3  # "Try the word SIDE." only after a message of this many words or fewer


def fill(template: str, **values: str) -> str:
    """Put values into {name} places; places without a value stay as they are."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class Written:
    """A piece of text as staff wrote it ({phone} and all), and where."""

    file: str
    line: int
    name: str  # the field or prompt name: 'speech', 'text', 'greeting' ...
    text: str
    spoken: bool  # said on the phone (True) or sent as a text (False)


@dataclass(frozen=True)
class Example:
    """A message staff expect to reach a topic or intent, and where they wrote it."""

    text: str
    file: str
    line: int


@dataclass(frozen=True)
class Intent:
    id: str
    label: str
    text: str  # the text reply, facts filled in (before what follows it: see Intents.reply_text)
    speech: str  # what a caller hears, safe for any voice ("" for person: the caller is put through)
    then: str  # "topic", "menu" or "nothing"
    cues: tuple[str, ...]  # words or phrases that mean it anywhere in a message
    pairs: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # a word from each list means it
    examples: tuple[Example, ...]
    file: str
    written: Mapping[str, Written]  # 'text' and 'speech' (if any) as written
    alone: tuple[str, ...] = ()  # words that mean it only as the whole message ("ok")

    @property
    def entry(self) -> Entry:
        safety = len(SAFETY_INTENTS) - SAFETY_INTENTS.index(self.id) if self.id in SAFETY_INTENTS else 0
        return Entry(Target("intent", self.id), self.cues, self.pairs, tuple(e.text for e in self.examples), self.alone,
                     safety=safety, subject=self.id in SUBJECT_INTENTS, courtesy=self.id in COURTESY_INTENTS)


@dataclass(frozen=True)
class Intents:
    """One language's intents, and the lines that may follow a reply."""

    items: Mapping[str, Intent]
    then_topic: str  # "For {label}, reply {keyword}."
    then_menu: str  # "Reply MENU for topics."
    small_words: tuple[str, ...] = ()  # words that tell little on their own
    file: str = ""
    translation: str = ""  # as for a topic: "" when the file does not say
    subject_words: tuple[str, ...] = ()  # words naming the line's subject: a cue's "it" may stand for them
    then_never: frozenset[str] = frozenset()  # topics too general to follow a reply: the menu line instead

    def __getitem__(self, intent_id: str) -> Intent:
        return self.items[intent_id]

    def reply_text(self, intent_id: str, named: "Topic | Menu | None" = None) -> str:
        """The text for an intent; `named` is the topic or menu the message also names, if any."""
        intent = self.items[intent_id]
        if intent.then == "nothing":
            return intent.text
        if intent.then == "topic" and named is not None and named.keyword and named.id not in self.then_never:
            return f"{intent.text} {fill(self.then_topic, label=named.label, keyword=named.keyword)}"
        return f"{intent.text} {self.then_menu}"


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    date: date


@dataclass(frozen=True)
class Topic:
    id: str
    keyword: str
    label: str  # as written, for texts
    spoken_label: str
    synonyms: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed: date
    body: str  # the text as written, facts filled in
    citation: str  # its sources, as a text names them
    text: str  # the whole SMS reply, footer included
    speech: str  # the spoken summary, safe for any voice
    file: str
    written: Mapping[str, Written]  # 'label', 'text' and 'speech' as written, with their lines
    lines: Mapping[str, int]  # field name -> its line in the file
    # original, machine-draft, needs-review or reviewed; "" when the file does not say (the default
    # language's files are the original; a file of another language that does not say awaits review)
    translation: str = ""
    examples: tuple[Example, ...] = ()  # messages staff expect to reach it


@dataclass(frozen=True)
class Menu:
    id: str
    keyword: str | None  # None for the main menu
    label: str
    spoken_label: str
    synonyms: tuple[str, ...]
    options: tuple[str, ...]  # topic or menu ids; the phone key is the position (1-based)
    text: str  # the SMS reply listing the options
    file: str
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class Voice:
    twilio_voice: str
    twilio_language: str
    speech_language: str
    espeak_voice: str

    @property
    def supports_ssml(self) -> bool:
        return self.twilio_voice.startswith(("Polly.", "Google."))


@dataclass(frozen=True)
class Avoid:
    """A word the language's glossary.yaml asks writers to avoid, and what to write instead."""

    words: tuple[str, ...]  # the forms to look for, as written
    use: str
    why: str

    def found_in(self, text: str) -> str | None:
        """The first of these words in `text` (whole words, any case), or None."""
        for word in self.words:
            m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, flags=re.IGNORECASE)
            if m:
                return m.group(0)
        return None


@dataclass(frozen=True)
class TextBudget:
    """What one text may cost in a language (language.yaml's sms_alphabet and sms_segments)."""

    alphabet: str = "gsm-7"  # "gsm-7": plain GSM-7 only; "any": UCS-2 too (accents, as Spanish needs)
    segments: int = sms_encoding.MAX_SEGMENTS  # the most segments one text may cost

    def limit(self, encoding: str) -> int:
        """Characters a text in this encoding may have."""
        return sms_encoding.SmsCount(encoding, 0, 0, ()).limit_in(self.segments)


@dataclass(frozen=True)
class PlainLanguage:
    """How a language's spoken summaries are measured (language.yaml's plain_language)."""

    formula: str = "flesch-kincaid-grade"
    target: float = 7.0
    terms: tuple[str, ...] = ()  # lower case; words a formula should not count (names of treatments)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    line_name: str
    voice: Voice
    spoken: Spoken
    topics: Mapping[str, Topic]
    menus: Mapping[str, Menu]
    sms: Mapping[str, str]  # prompts with the facts filled in
    voice_prompts: Mapping[str, str]  # spoken prompts with the facts filled in, safe for any voice
    opt_out_words: frozenset[str]
    opt_in_words: frozenset[str]
    help_words: frozenset[str]
    confirmed_by_twilio: frozenset[str]
    speech_hints: str
    matcher: Matcher
    language_words: frozenset[str] = frozenset()  # normalized words that switch to this language
    text_budget: TextBudget = TextBudget()
    avoid: tuple[Avoid, ...] = ()  # glossary.yaml's words to avoid, if the language has one
    text_facts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # {phone}, {office} ... as a text writes them

    def as_written(self, template: str) -> str:
        """A text as staff wrote it, with the facts written out as a text writes them."""
        return fill(template, **self.text_facts)
    plain: PlainLanguage = PlainLanguage()
    prompts_written: tuple[Written, ...] = ()  # prompts.yaml as written: sms, then voice
    opt_out_phrases: PlainWords = PlainWords()  # plain words for "stop texting me" (opt-out.yaml)
    opt_in_phrases: PlainWords = PlainWords()  # ... and for "start texting me again" (opt-in.yaml)
    intents: Intents | None = None  # what people mean beyond the topics (intents.yaml)
    # What the matcher is made of (its entries, spoken commands, keywords, small and subject words), until
    # load.py makes it with every language's request for itself.
    matcher_recipe: tuple = field(default=(), repr=False, compare=False)
    language_phrases: tuple[str, ...] = ()  # phrases, in any language, asking for this one

    def item(self, item_id: str) -> Topic | Menu:
        return self.topics.get(item_id) or self.menus[item_id]

    def not_understood_text(self, text: str) -> str:
        """The reply to a text that is not understood: the words (who to call if it was about how
        someone feels), the closest keyword if any, and where the topics are. A keyword is
        suggested for a few words only (a mistyped keyword: "sdie"): to a whole sentence the line
        could not read ("my son drank some of my morphine") a keyword would be a guess, and MENU is
        said by the line that follows."""
        keyword = self.matcher.suggest(text) if len(text.split()) <= SUGGEST_MAX_WORDS else None
        parts = [self.sms["not_understood"]]
        if keyword and keyword != "MENU":
            parts.append(fill(self.sms["suggestion"], keyword=keyword))
        parts.append(self.intents.then_menu)
        return " ".join(parts)

    def written(self) -> Iterator[Written]:
        """Every prompt, topic text and spoken summary as staff wrote it: prompts first, then
        topics by file."""
        yield from self.prompts_written
        for topic in sorted(self.topics.values(), key=lambda t: t.file):
            yield topic.written["text"]
            yield topic.written["speech"]
        for intent in self.intents.items.values() if self.intents else ():
            yield from intent.written.values()


@dataclass(frozen=True, eq=False)
class Library:
    """One version of the content, all languages. Compared and hashed as itself (one load, one
    library), so the engine's memo (line/engine/memo.py) can be keyed by it."""

    languages: Mapping[str, Language]
    default_language: str
    keys: Mapping[str, str]  # reserved name -> phone key
    referral_phone: str
    referral_email: str
    sources: Mapping[str, Source]
    version: str  # a hash of every file, to tell libraries apart
    warnings: tuple[Problem, ...] = ()  # what the checks found worth a look (checks.py)

    def language(self, code: str | None) -> Language:
        return self.languages.get(code or "", self.languages[self.default_language])

    def language_named(self, text: str) -> Language | None:
        """The language a message or a caller's words ask for ("ESPANOL", "english"), if any."""
        norm = normalize(text)
        for lang in self.languages.values():
            if norm in lang.language_words:
                return lang
        return None

    def asks_to_stop(self, text: str) -> tuple[str, ...]:
        """The languages whose plain words (opt-out.yaml) take `text` as a request to stop texting."""
        return tuple(code for code, lang in self.languages.items() if says(lang.opt_out_phrases, text))

    def asks_to_start(self, text: str) -> tuple[str, ...]:
        """The languages whose plain words (opt-in.yaml) take `text` as a request to text again."""
        return tuple(code for code, lang in self.languages.items() if says(lang.opt_in_phrases, text))

    def next_language(self, code: str) -> Language:
        """The language the language key switches to: the next one, round the list."""
        codes = list(self.languages)
        return self.languages[codes[(codes.index(code) + 1) % len(codes)]] if code in codes else self.language(None)
