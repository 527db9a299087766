"""Load content/ into an immutable, validated Library, one Language per folder.

Staff edit YAML files; this module is the only reader. Any problem raises ContentError
naming the file and line, so a broken edit never reaches callers or texters.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from . import sms_encoding
from .match import Matcher, Target, normalize
from .readability import FORMULAS
from .speech import MAX_SPOKEN_SECONDS, WORDS_PER_MINUTE, Spoken, misread, spoken_seconds
from .yaml_source import ContentError, Lines, Problem, load

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
    "help": set(), "opted_in": set(), "opted_out": set(),
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
    "goodbye": set(), "slower_on": set(), "text_sent": set(), "text_opted_out": set(),
    "text_limit": set(), "text_failed": set(), "text_no_topic": set(), "error": set(),
    "language_switch": {"key"},
}
FACTS = {"line_name", "office", "phone", "email"}


def fill(template: str, **values: str) -> str:
    """Put values into {name} places; places without a value stay as they are."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


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
    translation: str = "original"  # or machine-draft, needs-review, reviewed


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
    sms_alphabet: str = "gsm-7"

    def item(self, item_id: str) -> Topic | Menu:
        return self.topics.get(item_id) or self.menus[item_id]

    def not_understood_text(self, text: str) -> str:
        keyword = self.matcher.suggest(text)
        parts = [self.sms["not_understood"]]
        if keyword:
            parts.append(fill(self.sms["suggestion"], keyword=keyword))
        parts.append(self.menus["main"].text)
        return " ".join(parts[:-1]) + "\n" + parts[-1]


@dataclass(frozen=True)
class Library:
    languages: Mapping[str, Language]
    default_language: str
    keys: Mapping[str, str]  # reserved name -> phone key
    referral_phone: str
    referral_email: str
    sources: Mapping[str, Source]
    version: str  # a hash of every file, to tell libraries apart
    warnings: tuple[Problem, ...] = ()

    def language(self, code: str | None) -> Language:
        return self.languages.get(code or "", self.languages[self.default_language])

    def language_named(self, text: str) -> Language | None:
        """The language a message or a caller's words ask for ("ESPANOL", "english"), if any."""
        norm = normalize(text)
        for lang in self.languages.values():
            if norm in lang.language_words:
                return lang
        return None

    def next_language(self, code: str) -> Language:
        """The language the language key switches to: the next one, round the list."""
        codes = list(self.languages)
        return self.languages[codes[(codes.index(code) + 1) % len(codes)]] if code in codes else self.language(None)


def load_library(folder: Path | str) -> Library:
    return _Loader(Path(folder)).load()


class _Loader:
    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []
        self.phrase_lines: dict[tuple[str, str], int] = {}  # (file, normalized phrase) -> line
        self.unreadable: set[str] = set()  # files already reported missing or unparsable
        self.warnings: list[Problem] = []
        self.digest = hashlib.sha256()

    # -- helpers -------------------------------------------------------------------------
    def error(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def warn(self, file: str, line: int, message: str) -> None:
        self.warnings.append(Problem(file, line, message, "warning"))

    def read(self, path: Path) -> tuple[dict, Lines, str]:
        label = str(path.relative_to(self.folder.parent)) if path.is_relative_to(self.folder.parent) else str(path)
        if not path.is_file():
            self.error(label, 0, "is missing")
            self.unreadable.add(label)
            return {}, Lines(), label
        self.digest.update(str(path.relative_to(self.folder)).encode() + b"\0" + path.read_bytes())
        try:
            data, lines = load(path, label)
        except ContentError as exc:
            self.problems.extend(exc.problems)
            self.unreadable.add(label)
            return {}, Lines(), label
        if not isinstance(data, dict):
            self.error(label, 1, "must be a set of 'name: value' lines")
            self.unreadable.add(label)
            return {}, lines, label
        return data, lines, label

    def fields(self, data: dict, lines: Lines, label: str, path: tuple, required: dict, optional: dict | None = None) -> dict:
        """Check a mapping's fields: required and optional name -> kind ('text', 'list', 'map', or
        'words': a map whose every value is a piece of text)."""
        optional = optional or {}
        out = {}
        if label in self.unreadable:  # its one real problem is reported; its fields would only be noise
            return out
        for name in data:
            if name not in required and name not in optional:
                known = ", ".join(sorted({**required, **optional}))
                self.error(label, lines.at(*path, name), f"unknown field '{name}' (known fields: {known})")
        for name, kind in {**required, **optional}.items():
            if name not in data:
                if name in required:
                    self.error(label, lines.at(*path), f"missing field '{name}'")
                continue
            value = data[name]
            ok = {"text": isinstance(value, str), "list": isinstance(value, list), "map": isinstance(value, dict),
                  "words": isinstance(value, dict)}[kind]
            if kind == "list" and ok:
                ok = all(isinstance(v, str) for v in value)
            if kind == "words" and ok:
                ok = all(isinstance(v, str) and v.strip() for v in value.values())
            if kind == "text" and ok and not value.strip():
                self.error(label, lines.at(*path, name), f"'{name}' is empty")
                continue
            if not ok:
                what = {"text": "a piece of text", "list": "a list of words, like [a, b]", "map": "a set of 'name: value' lines",
                        "words": "a set of 'name: words' lines, each with some words"}[kind]
                self.error(label, lines.at(*path, name), f"'{name}' must be {what}")
                continue
            out[name] = value
        return out

    def places(self, template: str, allowed: set[str], label: str, line: int, name: str) -> None:
        for place in PLACEHOLDER.findall(template):
            if place not in allowed:
                choices = ", ".join("{" + a + "}" for a in sorted(allowed))
                self.error(label, line, f"'{name}' uses {{{place}}}, which is not known here (known: {choices})")

    def check_sms(self, text: str, label: str, line: int, what: str, alphabet: str = "gsm-7") -> None:
        c = sms_encoding.count(text)
        if c.encoding != "GSM-7" and alphabet == "gsm-7":
            chars = ", ".join(sms_encoding.describe(ch) for ch in c.offending)
            self.error(label, line, f"{what} is not plain GSM-7 text because of {chars}; it would be sent as UCS-2 ({c.segments} segments)")
        elif c.segments > sms_encoding.MAX_SEGMENTS:
            why = "" if c.encoding == "GSM-7" else (" in UCS-2, because of " + ", ".join(sms_encoding.describe(ch) for ch in c.offending))
            self.error(label, line, f"{what} is {c.units} characters, {c.segments} text segments{why}; the most is {c.limit} characters ({sms_encoding.MAX_SEGMENTS} segments)")

    # -- the whole library ---------------------------------------------------------------
    def load(self) -> Library:
        if not self.folder.is_dir():
            raise ContentError([Problem(str(self.folder), 0, "is not a folder")])
        shared, lines, label = self.read(self.folder / "shared.yaml")
        if label in self.unreadable:  # every other file leans on its facts
            raise ContentError(self.problems)
        shared = self.fields(shared, lines, label, (), {
            "referral_office": "map", "sources": "map", "phone_keys": "map", "default_language": "text"})
        office = self.fields(shared.get("referral_office", {}), lines, label, ("referral_office",),
                             {"name": "text", "phone": "text", "email": "text"})
        if "phone" in office and len(re.sub(r"\D", "", office["phone"])) not in (10, 11):
            self.error(label, lines.at("referral_office", "phone"), "the phone number must have 10 or 11 digits")
        if "email" in office and not re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", office["email"]):
            self.error(label, lines.at("referral_office", "email"), "the email address does not look right")
        sources = {}
        for sid, raw in shared.get("sources", {}).items():
            path = ("sources", sid)
            if not isinstance(raw, dict):
                self.error(label, lines.at(*path), f"source '{sid}' must be a set of 'name: value' lines")
                continue
            f = self.fields(raw, lines, label, path, {"title": "text", "publisher": "text", "date": "text"})
            when = self.date(f.get("date"), label, lines.at(*path, "date"))
            if len(f) == 3 and when:
                sources[sid] = Source(sid, f["title"], f["publisher"], when)
        keys = self.phone_keys(shared.get("phone_keys", {}), lines, label)
        default = shared.get("default_language", "en")

        languages = {}
        folders = sorted(p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        for sub in folders:
            if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,4})?", sub.name):
                self.error(str(sub.relative_to(self.folder.parent)), 0,
                           "a language folder is named by its language code, like en or es (at most 8 characters)")
        if not folders:
            self.error(label, 0, "there is no language folder (such as en/) beside shared.yaml")
        facts = {"phone": office.get("phone", ""), "email": office.get("email", ""), "office": office.get("name", "")}
        for sub in folders:
            lang = _LanguageLoader(self, sub, facts, sources, keys).load()
            if lang:
                languages[lang.code] = lang
        if folders and default not in {p.name for p in folders}:
            self.error(label, lines.at("default_language"), f"default_language '{default}' has no folder")
        self.check_shadowing(languages)
        if self.problems:
            raise ContentError(sorted(self.problems, key=lambda p: (p.file, p.line)))
        return Library(
            languages=MappingProxyType(languages), default_language=default,
            keys=MappingProxyType(keys), referral_phone=facts["phone"], referral_email=facts["email"],
            sources=MappingProxyType(sources), version=self.digest.hexdigest()[:12],
            warnings=tuple(self.warnings),
        )

    def date(self, raw: str | None, label: str, line: int) -> date | None:
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.error(label, line, f"'{raw}' is not a date written as YYYY-MM-DD")
            return None

    def phone_keys(self, raw: dict, lines: Lines, label: str) -> dict[str, str]:
        f = self.fields(raw, lines, label, ("phone_keys",), {name: "text" for name in RESERVED_KEYS})
        seen: dict[str, str] = {}
        for name, key in f.items():
            line = lines.at("phone_keys", name)
            if key not in PHONE_KEYS:
                self.error(label, line, f"phone key for {name} must be one key: 0-9, * or #")
            elif key in seen:
                self.error(label, line, f"phone key {key} is used for both {seen[key]} and {name}")
            elif key.isdigit() and 1 <= int(key) <= MAX_MENU_OPTIONS:
                self.error(label, line, f"phone key {key} for {name} is needed for menu options 1 to {MAX_MENU_OPTIONS}")
            seen[key] = name
        return f

    def check_shadowing(self, languages: dict[str, "Language"]) -> None:
        """No keyword may hide a compliance word: Twilio acts on those in every language."""
        words = {}
        for lang in languages.values():
            for w in lang.opt_out_words | lang.opt_in_words | lang.help_words | lang.language_words:
                words[normalize(w)] = w.upper()
        for lang in languages.values():
            for item in [*lang.topics.values(), *lang.menus.values()]:
                for phrase in ([item.keyword] if item.keyword else []) + list(item.synonyms):
                    if normalize(phrase) in words:
                        line = self.phrase_lines.get((item.file, normalize(phrase)), 0)
                        self.error(item.file, line, f"'{phrase}' is the text word {words[normalize(phrase)]} (an opt-out, opt-in, help or language word); choose another")


class _LanguageLoader:
    def __init__(self, parent: _Loader, folder: Path, facts: dict, sources: dict, keys: dict):
        self.p = parent
        self.folder = folder
        self.code = folder.name
        self.facts = facts
        self.sources = sources
        self.keys = keys
        self.phrases: dict[str, Target] = {}
        self.broken_topics: set[str] = set()  # topic files with problems, reported there
        self.phrase_where: dict[str, str] = {}

    def load(self) -> Language | None:
        p = self.p
        before = len(p.problems)
        data, lines, label = p.read(self.folder / "language.yaml")
        if label in p.unreadable:
            return None
        lang = p.fields(data, lines, label, (), {
            "name": "text", "line_name": "text", "voice": "map", "spoken": "map", "citations": "words",
            "sms_words": "map", "menu_words": "list", "voice_words": "map",
        }, {"citation_joiner": "text", "plain_language": "map", "office_name": "text", "sms_alphabet": "text",
            "language_words": "list"})
        self.alphabet = lang.get("sms_alphabet", "gsm-7")
        if self.alphabet not in ALPHABETS:
            p.error(label, lines.at("sms_alphabet"), f"sms_alphabet must be one of {', '.join(ALPHABETS)}")
        voice = p.fields(lang.get("voice", {}), lines, label, ("voice",), {
            "twilio_voice": "text", "twilio_language": "text", "speech_language": "text", "espeak_voice": "text"})
        spoken_raw = p.fields(lang.get("spoken", {}), lines, label, ("spoken",), {
            "digits": "list", "star": "text", "pound": "text", "at": "text", "dot": "text", "dash": "text"},
            {"spell": "list", "say_instead": "words"})
        plain = p.fields(lang.get("plain_language", {}), lines, label, ("plain_language",), {},
                         {"formula": "text", "target": "text", "terms": "list"})
        if plain.get("formula", "flesch-kincaid-grade") not in FORMULAS:
            p.error(label, lines.at("plain_language", "formula"), f"plain_language formula must be one of {', '.join(FORMULAS)}")
        try:
            float(plain.get("target", "7"))
        except ValueError:
            p.error(label, lines.at("plain_language", "target"), "plain_language target must be a number, like \"7\"")
        if len(spoken_raw.get("digits", [])) != 10:
            p.error(label, lines.at("spoken", "digits"), "'digits' must list the ten words for 0 to 9")
        citations = lang.get("citations", {})
        for sid in self.sources:
            if sid not in citations:
                p.error(label, lines.at("citations"), f"no citation for source '{sid}'")
        for sid in citations:
            if sid not in self.sources:
                p.error(label, lines.at("citations", sid), f"citation for unknown source '{sid}'")
        words = p.fields(lang.get("sms_words", {}), lines, label, ("sms_words",), {
            "opt_out": "list", "opt_in": "list", "help": "list", "confirmed_by_twilio": "list"})
        voice_words = p.fields(lang.get("voice_words", {}), lines, label, ("voice_words",),
                               {name: "list" for name in SPOKEN_COMMANDS})
        if len(p.problems) > before:
            return None

        spoken = Spoken(
            digits=tuple(spoken_raw["digits"]), star=spoken_raw["star"], pound=spoken_raw["pound"],
            at=spoken_raw["at"], dot=spoken_raw["dot"], dash=spoken_raw["dash"],
            spell=tuple(spoken_raw.get("spell", ())),
            say_instead=tuple(spoken_raw.get("say_instead", {}).items()),
        )
        self.spoken = spoken
        self.line_name = lang["line_name"]
        office = lang.get("office_name", self.facts["office"])
        self.text_facts = {**self.facts, "line_name": self.line_name, "office": office}
        self.voice_facts = {
            "line_name": spoken.say(self.line_name), "office": spoken.say(office),
            "phone": spoken.phone(self.facts["phone"]), "email": spoken.email(self.facts["email"]),
        }
        self.citations = citations
        self.joiner = lang.get("citation_joiner", " and ")

        sms, voice_prompts = self.prompts()
        if sms.keys() != SMS_PROMPTS.keys():  # reported in prompts.yaml; topics and menus need them all
            return None
        topics = self.topics(sms)
        menus = self.menus(sms, topics)

        for i, w in enumerate(lang["menu_words"]):
            self.add_phrase(w, Target("command", "menu"), label, lines.at("menu_words", i))
        voice_phrases: dict[str, Target] = {}
        for name, ws in voice_words.items():
            for w in ws:
                norm = normalize(w)
                if norm in voice_phrases and voice_phrases[norm].id != name:
                    p.error(label, lines.at("voice_words", name), f"'{w}' is also a word for {voice_phrases[norm].id}")
                voice_phrases[norm] = Target("command", name)
        keywords = {Target("topic", t.id): t.keyword for t in topics.values()}
        keywords.update({Target("menu", m.id): m.keyword for m in menus.values() if m.keyword})
        keywords[Target("command", "menu")] = "MENU"
        matcher = Matcher(self.phrases, voice_phrases, keywords)

        if len(p.problems) > before:
            return None
        language = Language(
            code=self.code, name=lang["name"], line_name=self.line_name, voice=Voice(**voice), spoken=spoken,
            topics=MappingProxyType(topics), menus=MappingProxyType(menus),
            sms=MappingProxyType(sms), voice_prompts=MappingProxyType(voice_prompts),
            opt_out_words=frozenset(w.upper() for w in words["opt_out"]),
            opt_in_words=frozenset(w.upper() for w in words["opt_in"]),
            help_words=frozenset(w.upper() for w in words["help"]),
            confirmed_by_twilio=frozenset(w.upper() for w in words["confirmed_by_twilio"]),
            speech_hints=", ".join(sorted({
                *(t.label for t in topics.values()), *(m.label for m in menus.values() if m.keyword),
                *(s for t in topics.values() for s in t.synonyms), *(w for ws in voice_words.values() for w in ws),
            })[:MAX_HINTS]),
            matcher=matcher,
            language_words=frozenset(normalize(w) for w in lang.get("language_words", [])),
            sms_alphabet=self.alphabet,
        )
        # The longest "not understood" reply must still fit.
        longest = max(keywords.values(), key=len)
        worst = " ".join([sms["not_understood"], fill(sms["suggestion"], keyword=longest)]) + "\n" + menus["main"].text
        self.check_sms(worst, self.label("prompts.yaml"), 0, "the reply to a text that is not understood (with the longest suggestion)")
        for word in words["confirmed_by_twilio"]:
            if word.upper() not in language.opt_out_words:
                p.error(label, lines.at("sms_words", "confirmed_by_twilio"), f"'{word}' is not an opt-out word")
        return language if len(p.problems) == before else None

    def label(self, name: str) -> str:
        """How problems name a file of this language: as `read` does ('content/en/topics/x.yaml')."""
        return str((self.folder / name).relative_to(self.p.folder.parent))

    def check_sms(self, text: str, label: str, line: int, what: str) -> None:
        self.p.check_sms(text, label, line, what, self.alphabet)

    def check_written(self, label: str, line: int, name: str, text: str, spoken: bool) -> None:
        """What staff wrote: the referral office's number and email only through {phone} and
        {email} (said once, the same everywhere), and nothing a voice would misread."""
        bare = PLACEHOLDER.sub(" ", text)
        digits = re.sub(r"\D", "", self.facts["phone"])[-10:]
        if digits and digits in re.sub(r"\D", "", bare):
            self.p.error(label, line, f"'{name}' writes the referral number out; write {{phone}} so it is said once, the same everywhere")
        if self.facts["email"] and self.facts["email"].lower() in bare.lower():
            self.p.error(label, line, f"'{name}' writes the referral email out; write {{email}}")
        if spoken and text.count("{phone}") == 1:
            self.p.error(label, line, f"'{name}' says {{phone}} once; on the phone say it twice, so a caller "
                                      "can catch it (\"The number is {phone}. Again, the number is {phone}.\")")
        if spoken:
            for why in misread(bare):
                self.p.error(label, line, f"'{name}' has {why}, which a voice would misread; write it as it should be said")

    def text_fill(self, template: str) -> str:
        return fill(template, **self.text_facts)

    def voice_fill(self, template: str) -> str:
        return fill(self.spoken.say(template), **self.voice_facts)

    def add_phrase(self, phrase: str, target: Target, where: str, line: int = 0) -> None:
        norm = normalize(phrase)
        if not norm:
            self.p.error(where, line, f"'{phrase}' has no letters or digits")
            return
        self.p.phrase_lines.setdefault((where, norm), line)
        if norm in self.phrases and self.phrases[norm] != target:
            other = self.phrases[norm]
            self.p.error(where, line, f"'{phrase}' is also a keyword or synonym of {other.kind} '{other.id}' ({self.phrase_where[norm]})")
            return
        self.phrases[norm] = target
        self.phrase_where[norm] = f"{where}:{line}" if line else where

    def prompts(self) -> tuple[dict, dict]:
        p = self.p
        data, lines, label = p.read(self.folder / "prompts.yaml")
        data = p.fields(data, lines, label, (), {"sms": "map", "voice": "map"})
        sms_raw = p.fields(data.get("sms", {}), lines, label, ("sms",), {n: "text" for n in SMS_PROMPTS})
        voice_raw = p.fields(data.get("voice", {}), lines, label, ("voice",), {n: "text" for n in VOICE_PROMPTS})
        sms, voice = {}, {}
        for name, template in sms_raw.items():
            line = lines.at("sms", name)
            p.places(template, FACTS | SMS_PROMPTS[name], label, line, name)
            self.check_written(label, line, name, template, spoken=False)
            sms[name] = self.text_fill(template)
            if not SMS_PROMPTS[name]:
                self.check_sms(sms[name], label, line, f"the text '{name}'")
        for name, template in voice_raw.items():
            line = lines.at("voice", name)
            p.places(template, FACTS | VOICE_PROMPTS[name], label, line, name)
            self.check_written(label, line, name, template, spoken=True)
            voice[name] = self.voice_fill(template)
        return sms, voice

    def topics(self, sms: dict) -> dict[str, Topic]:
        p = self.p
        folder = self.folder / "topics"
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if not files:
            p.error(self.label("topics/"), 0, "there are no topics (one .yaml file per topic)")
        topics = {}
        for path in files:
            before = len(p.problems)
            data, lines, label = p.read(path)
            f = p.fields(data, lines, label, (), {
                "keyword": "text", "label": "text", "sources": "list", "reviewed": "text",
                "text": "text", "speech": "text"}, {"synonyms": "list", "translation": "text"})
            translation = f.get("translation", "original")
            if translation not in TRANSLATION_STATES:
                p.error(label, lines.at("translation"), f"translation must be one of {', '.join(TRANSLATION_STATES)}")
            tid = path.stem
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", tid):
                p.error(label, 0, "a topic's file name must be lower-case letters, digits and dashes")
            keyword = f.get("keyword", "")
            if keyword and not KEYWORD.match(keyword):
                p.error(label, lines.at("keyword"), f"keyword '{keyword}' must be one word of 2 to 15 capital letters or digits")
            for sid in f.get("sources", []):
                if sid not in self.sources:
                    p.error(label, lines.at("sources"), f"unknown source '{sid}' (sources are listed in shared.yaml)")
            if "sources" in f and not f["sources"]:
                p.error(label, lines.at("sources"), "name at least one source")
            reviewed = p.date(f.get("reviewed"), label, lines.at("reviewed"))
            if reviewed and reviewed > date.today():
                p.error(label, lines.at("reviewed"), f"reviewed date {reviewed} is in the future")
            for name in ("text", "speech", "label"):
                if name in f:
                    p.places(f[name], FACTS, label, lines.at(name), name)
                    self.check_written(label, lines.at(name), name, f[name], spoken=name != "text")
            if len(p.problems) > before:
                self.broken_topics.add(tid)
                continue
            citation = self.joiner.join(self.citations[s] for s in f["sources"])
            body = self.text_fill(f["text"])
            text = body + " " + fill(sms["topic_footer"], citation=citation)
            self.check_sms(text, label, lines.at("text"), "the text (with its source line)")
            self.check_sms(fill(sms["from_call"], topic=body, citation=citation), label, lines.at("text"),
                        "the text sent to a caller (with the referral office's contact)")
            seconds = spoken_seconds(self.voice_fill(f["speech"]))
            if seconds > MAX_SPOKEN_SECONDS:
                p.error(label, lines.at("speech"), f"the spoken summary takes about {seconds:.0f} s; keep it under "
                                                   f"{MAX_SPOKEN_SECONDS} s (about {MAX_SPOKEN_SECONDS * WORDS_PER_MINUTE // 60} words)")
            topic = Topic(
                id=tid, keyword=keyword, label=f["label"], spoken_label=self.voice_fill(f["label"]),
                synonyms=tuple(f.get("synonyms", ())), sources=tuple(f["sources"]), reviewed=reviewed,
                body=body, citation=citation, text=text, speech=self.voice_fill(f["speech"]), file=label,
                translation=translation,
            )
            topics[tid] = topic
            target = Target("topic", tid)
            for i, phrase in enumerate([keyword, *topic.synonyms]):
                self.add_phrase(phrase, target, label, lines.at("synonyms", i - 1) if i else lines.at("keyword"))
        return topics

    def menus(self, sms: dict, topics: dict[str, Topic]) -> dict[str, Menu]:
        p = self.p
        data, lines, label = p.read(self.folder / "menu.yaml")
        if label in p.unreadable:
            return {}
        data = p.fields(data, lines, label, (), {"main": "map", "menus": "map"})
        raw = {"main": data.get("main", {})}
        for mid, m in data.get("menus", {}).items():
            if mid == "main" or mid in topics:
                p.error(label, lines.at("menus", mid), f"menu '{mid}' has the name of {'the main menu' if mid == 'main' else 'a topic'}")
                continue
            raw[mid] = m
        shapes = {}
        for mid, m in raw.items():
            path = () if mid == "main" else ("menus", mid)
            path = ("main",) if mid == "main" else path
            if not isinstance(m, dict):
                p.error(label, lines.at(*path), f"menu '{mid}' must be a set of 'name: value' lines")
                continue
            if mid == "main":
                f = p.fields(m, lines, label, path, {"options": "list"})
            else:
                f = p.fields(m, lines, label, path, {"keyword": "text", "label": "text", "options": "list"}, {"synonyms": "list"})
            options = f.get("options", [])
            if not options:
                p.error(label, lines.at(*path), f"menu '{mid}' has no options")
            if len(options) > MAX_MENU_OPTIONS:
                p.error(label, lines.at(*path, "options"), f"menu '{mid}' has {len(options)} options; callers can follow {MAX_MENU_OPTIONS} at most")
            for o in options:
                if o not in topics and o not in raw and o not in self.broken_topics:
                    p.error(label, lines.at(*path, "options"), f"menu '{mid}' lists '{o}', which is neither a topic nor a menu")
                if o == "main":
                    p.error(label, lines.at(*path, "options"), "the main menu cannot be an option; every menu offers it already")
            if len(set(options)) != len(options):
                p.error(label, lines.at(*path, "options"), f"menu '{mid}' lists an option twice")
            kw = f.get("keyword")
            if kw and not KEYWORD.match(kw):
                p.error(label, lines.at(*path, "keyword"), f"keyword '{kw}' must be one word of 2 to 15 capital letters or digits")
            shapes[mid] = f
        self.check_tree(shapes, topics, label)
        if self.broken_topics or any(pr.file == label for pr in p.problems):
            return {}

        def option_lines(options) -> str:
            rows = []
            for o in options:
                item = topics.get(o) or shapes[o]
                rows.append(f"{item['keyword'] if isinstance(item, dict) else item.keyword}: {item['label'] if isinstance(item, dict) else item.label}")
            return "\n".join(rows)

        menus = {}
        for mid, f in shapes.items():
            if mid == "main":
                text = fill(sms["main_menu"], options=option_lines(f["options"]))
                label_text = self.line_name
            else:
                text = fill(sms["submenu"], label=f["label"], options=option_lines(f["options"]))
                label_text = f["label"]
            path = ("main",) if mid == "main" else ("menus", mid)
            self.check_sms(text, label, lines.at(*path), f"the text for menu '{mid}'")
            menus[mid] = Menu(
                id=mid, keyword=f.get("keyword"), label=label_text, spoken_label=self.voice_fill(label_text),
                synonyms=tuple(f.get("synonyms", ())), options=tuple(f["options"]), text=text, file=label,
            )
            if f.get("keyword"):
                for i, phrase in enumerate([f["keyword"], *f.get("synonyms", [])]):
                    line = lines.at(*path, "synonyms", i - 1) if i else lines.at(*path, "keyword")
                    self.add_phrase(phrase, Target("menu", mid), label, line)
        return menus

    def check_tree(self, shapes: dict, topics: dict, label: str) -> None:
        """Every topic and menu is reachable from the main menu, once, without loops."""
        seen: dict[str, str] = {}
        stack = [("main", ())]
        while stack:
            mid, trail = stack.pop()
            for o in shapes.get(mid, {}).get("options", []):
                if o in trail or o == mid:
                    self.p.error(label, 0, f"menu '{o}' lists itself (through {' > '.join(trail + (mid,))})")
                    continue
                if o in seen and seen[o] != mid:
                    self.p.error(label, 0, f"'{o}' is listed in both menu '{seen[o]}' and menu '{mid}'; list it once, so 'back' is clear")
                seen[o] = mid
                if o in shapes:
                    stack.append((o, trail + (mid,)))
        for tid in topics:
            if tid not in seen:
                self.p.error(topics[tid].file, 0, "this topic is in no menu, so callers cannot reach it; add it to menu.yaml")
        for mid in shapes:
            if mid != "main" and mid not in seen:
                self.p.error(label, 0, f"menu '{mid}' is in no other menu, so callers cannot reach it")
