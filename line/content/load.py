"""content/ -> `Loaded`: the immutable Library and the list of its problems, in one pass.

Each file is read once. shared.yaml first (every language leans on its facts), then each
language folder (language.py), then the checks over what was built (checks.py). Errors mean
the folder cannot be served (no library); warnings are worth a look but do not stop an edit.
`line check` prints the problems; the line serves `load_library`, which refuses on any error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

from ..match import Entry, Matcher, Target, normalize
from ..optout import says
from . import checks
from .language import Shared, load_language
from .model import MAX_MENU_OPTIONS, PHONE_KEYS, RESERVED_KEYS, Language, Library, Source
from .reader import Reader
from .yaml_source import ContentError, Lines, Problem


@dataclass(frozen=True)
class Loaded:
    """What a content folder holds: its library (None when it has errors) and its problems,
    errors first, each group by file and line."""

    library: Library | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load(folder: Path | str, today: date | None = None) -> Loaded:
    """Load and check `folder` (`today` dates the reviews, for tests)."""
    reader = Reader(Path(folder))
    library = _library(reader)
    problems = list(reader.problems)
    if library is not None and not problems:
        for check in checks.CHECKS:
            problems.extend(check(library, today or date.today()))
    problems.sort(key=lambda p: (p.severity != "error", p.file, p.line))
    if any(p.severity == "error" for p in problems):
        return Loaded(None, tuple(problems))
    return Loaded(replace(library, warnings=tuple(problems)), tuple(problems))


def load_library(folder: Path | str) -> Library:
    """The library in `folder`, or ContentError naming every error's file and line."""
    loaded = load(folder)
    if loaded.library is None:
        raise ContentError(loaded.errors)
    return loaded.library


def _library(reader: Reader) -> Library | None:
    folder = reader.folder
    if not folder.is_dir():
        reader.problems.append(Problem(str(folder), 0, "is not a folder"))
        return None
    shared, lines, label = reader.read(folder / "shared.yaml")
    if label in reader.unreadable:  # every other file leans on its facts
        return None
    shared = reader.fields(shared, lines, label, (), {
        "referral_office": "map", "sources": "map", "phone_keys": "map", "default_language": "text"})
    office = reader.fields(shared.get("referral_office", {}), lines, label, ("referral_office",),
                           {"name": "text", "phone": "text", "email": "text"})
    if "phone" in office and len(re.sub(r"\D", "", office["phone"])) not in (10, 11):
        reader.error(label, lines.at("referral_office", "phone"), "the phone number must have 10 or 11 digits")
    if "email" in office and not re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", office["email"]):
        reader.error(label, lines.at("referral_office", "email"), "the email address does not look right")
    sources = {}
    for sid, raw in shared.get("sources", {}).items():
        path = ("sources", sid)
        if not isinstance(raw, dict):
            reader.error(label, lines.at(*path), f"source '{sid}' must be a set of 'name: value' lines")
            continue
        f = reader.fields(raw, lines, label, path, {"title": "text", "publisher": "text", "date": "text"})
        when = reader.date(f.get("date"), label, lines.at(*path, "date"))
        if len(f) == 3 and when:
            sources[sid] = Source(sid, f["title"], f["publisher"], when)
    keys = _phone_keys(reader, shared.get("phone_keys", {}), lines, label)
    default = shared.get("default_language", "en")

    languages = {}
    folders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    for sub in folders:
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,4})?", sub.name):
            reader.error(str(sub.relative_to(folder.parent)), 0,
                         "a language folder is named by its language code, like en or es (at most 8 characters)")
    if not folders:
        reader.error(label, 0, "there is no language folder (such as en/) beside shared.yaml")
    facts = {"phone": office.get("phone", ""), "email": office.get("email", ""), "office": office.get("name", "")}
    shared_facts = Shared(MappingProxyType(facts), MappingProxyType(sources))
    for sub in folders:
        lang = load_language(reader, sub, shared_facts)
        if lang:
            languages[lang.code] = lang
    if folders and default not in {p.name for p in folders}:
        reader.error(label, lines.at("default_language"), f"default_language '{default}' has no folder")
    _check_shadowing(reader, languages)
    if reader.problems:
        return None
    # Every language understands a request for any language ("in Spanish", "en inglés").
    asking = [Entry(Target("language", lang.code), lang.language_phrases) for lang in languages.values()]
    languages = {code: _with_matcher(lang, asking) for code, lang in languages.items()}
    return Library(
        languages=MappingProxyType(languages), default_language=default,
        keys=MappingProxyType(keys), referral_phone=facts["phone"], referral_email=facts["email"],
        sources=MappingProxyType(sources), version=reader.version,
    )


def _with_matcher(lang: Language, asking: list[Entry]) -> Language:
    entries, voice_phrases, keywords, small_words, subject_words = lang.matcher_recipe
    matcher = Matcher([*entries, *asking], voice_phrases, keywords, small_words, subject_words, _own_words(lang))
    return replace(lang, matcher=matcher, matcher_recipe=())


def _own_words(lang: Language) -> frozenset[str]:
    """Every word the language's own content writes (prompts, topics, menus, intents' replies,
    the plain opt-out and opt-in words): words of the language, so never taken for a typo of
    another ("mandarme" is not a typo of "matarme")."""
    texts = [w.text for w in lang.written()] + [m.text for m in lang.menus.values()]
    phrases = (lang.opt_out_phrases, lang.opt_in_phrases)
    words = {word for text in texts for word in normalize(text).split()}
    words.update(w for plain in phrases for phrase in (*plain.whole_message, *plain.polite, *plain.about_texts,
                                                        *plain.unless_care) for w in phrase)
    return frozenset(w for w in words if w.isalpha())


def _phone_keys(reader: Reader, raw: dict, lines: Lines, label: str) -> dict[str, str]:
    f = reader.fields(raw, lines, label, ("phone_keys",), {name: "text" for name in RESERVED_KEYS})
    seen: dict[str, str] = {}
    for name, key in f.items():
        line = lines.at("phone_keys", name)
        if key not in PHONE_KEYS:
            reader.error(label, line, f"phone key for {name} must be one key: 0-9, * or #")
        elif key in seen:
            reader.error(label, line, f"phone key {key} is used for both {seen[key]} and {name}")
        elif key.isdigit() and 1 <= int(key) <= MAX_MENU_OPTIONS:
            reader.error(label, line, f"phone key {key} for {name} is needed for menu options 1 to {MAX_MENU_OPTIONS}")
        seen[key] = name
    return f


def _check_shadowing(reader: Reader, languages: dict[str, Language]) -> None:
    """No keyword may hide a compliance word (Twilio acts on those in every language), nor be taken
    as a request to stop the texts, or to start them again, in plain words (opt-out.yaml, opt-in.yaml)."""
    words = {}
    for lang in languages.values():
        for w in lang.opt_out_words | lang.opt_in_words | lang.help_words | lang.language_words:
            words[normalize(w)] = w.upper()
    for lang in languages.values():
        intents = list(lang.intents.items.values()) if lang.intents else []
        for item in [*lang.topics.values(), *lang.menus.values(), *intents]:
            phrases = list(item.cues) if item in intents else ([item.keyword] if item.keyword else []) + list(item.synonyms)
            for phrase in phrases:
                line = reader.phrase_lines.get((item.file, normalize(phrase)), 0)
                # An intent's cues come after the opt-out and opt-in judgement by design (stop ... my life).
                stops = [] if item in intents else [
                    f"content/{other.code}/{name}.yaml" for other in languages.values()
                    for name, words in (("opt-out", other.opt_out_phrases), ("opt-in", other.opt_in_phrases))
                    if says(words, phrase)]
                if normalize(phrase) in words:
                    reader.error(item.file, line, f"'{phrase}' is the text word {words[normalize(phrase)]} (an opt-out, opt-in, help or language word); choose another")
                elif stops:
                    reader.error(item.file, line, f"'{phrase}' would be taken as a request to stop or start the "
                                 f"texts ({stops[0]}); choose other words")
