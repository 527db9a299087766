"""The checks of `line check` for one field, live, as staff type it, and its words as heard.

Every number here comes from the code `line check` runs (sms_encoding, speech, readability,
content.checks, content.language): the console must never say "fine" of words the line would
refuse, nor find fault the line would not. Only how it is said to staff is written here. The
loader's own problems for the field (`problems_for`) stay the last word; the measures say how
close a field is to a limit before it is crossed.
"""
from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

from .. import audio, readability, sms_encoding
from ..content import checks
from ..content.language import NUMBER
from ..content.model import PLACEHOLDER, SAFETY_NUMBERS, Language, Library, Written, fill
from ..speech import MAX_SPOKEN_SECONDS, misread, spoken_seconds

MAX_HEAR_CHARS = 3000  # a topic's summary is well under this; more is not a field, it is a misuse
PHONE_DIGITS = 7  # outside intents.yaml a number this long is a phone number ("2018" is a year)
FORMULA_NAMES = {"flesch-kincaid-grade": ("grade", "Flesch-Kincaid"), "fernandez-huerta": ("ease", "Fernández-Huerta")}


@dataclass(frozen=True)
class Measure:
    """One line of feedback: what is measured, in plain words, and whether it is worth a look."""

    name: str
    text: str
    ok: bool


# -- what a field is ---------------------------------------------------------------------------
# file kind -> {first key(s) of the path -> kind}; the longest matching key wins. What a field
# is decides what applies to it, as the loader decides (language.py reads each file's fields).
_KINDS = {
    "topic": {("text",): "sms", ("speech",): "speech", ("label",): "label", ("keyword",): "words",
              ("synonyms",): "words", ("examples",): "words"},
    "prompts": {("sms", "*"): "sms", ("voice", "*"): "speech"},
    "menu": {("*", "*", "label"): "label", ("*", "*", "keyword"): "words", ("*", "*", "synonyms"): "words",
             ("*", "*", "examples"): "words"},
    # An intent's label is staff's own name for it: never sent, never said.
    "intents": {("intents", "*", "text"): "sms", ("intents", "*", "speech"): "speech",
                **{("intents", "*", k): "words" for k in ("cues", "pairs", "alone", "examples")},
                ("then_topic",): "sms", ("then_menu",): "sms", ("small_words",): "words", ("subject_words",): "words"},
    # {line_name} and {office} are said and shown; a citation ends every topic's text.
    "language": {("line_name",): "label", ("office_name",): "label", ("citations", "*"): "label",
                 **{(k,): "words" for k in ("sms_words", "menu_words", "voice_words", "language_words",
                                             "language_phrases", "help_phrases")}},
    "opt-in": {("*",): "words"},
    "opt-out": {("*",): "words"},
    "shared": {("referral_office", "name"): "label"},  # {office} where a language has no office_name
}


def _file_kind(file: str) -> tuple[str, str | None]:
    """'es/topics/results.yaml' -> ('topic', 'es'); 'shared.yaml' -> ('shared', None)."""
    parts = file.removeprefix("content/").split("/")
    if len(parts) == 1:
        return parts[0].removesuffix(".yaml"), None
    return ("topic" if parts[1] == "topics" else parts[-1].removesuffix(".yaml")), parts[0]


def kind_of(file: str, path: tuple) -> str:
    """"sms", "speech", "label", "words" (what people send) or "other" for a field."""
    keys = tuple(k for k in path if not isinstance(k, int))  # a list's items are what the list is
    best, kind = -1, "other"
    for pattern, k in _KINDS.get(_file_kind(file)[0], {}).items():
        if len(pattern) > best and len(keys) >= len(pattern) and all(
                p in ("*", key) for p, key in zip(pattern, keys)):
            best, kind = len(pattern), k
    return kind


# -- the measures ------------------------------------------------------------------------------
def said(language: Language, text: str) -> str:
    """What a caller hears for `text` as staff wrote it: the facts written out, then made safe
    for a voice by the language's Spoken.say (digits, emails, short forms). The same words the
    loader makes with its voice_fill, for every shipped prompt and summary (tests hold it)."""
    return language.spoken.say(language.as_written(text))


def _sent(language: Language, file: str, path: tuple, value: str) -> tuple[str, str]:
    """The costliest text the line sends with this field, and how to name it: a topic's text goes
    with its source line (or a caller's), an intent's with what follows it, as the loader counts."""
    text = language.as_written(value)
    kind, _ = _file_kind(file)
    topic = language.topics.get(Path(file).stem) if kind == "topic" else None
    if topic is not None:
        return max(((f"{text} {fill(language.sms['topic_footer'], citation=topic.citation)}", "with its source line"),
                    (fill(language.sms["from_call"], topic=text, citation=topic.citation), "as sent to a caller")),
                   key=lambda c: sms_encoding.count(c[0]).units)
    intents = language.intents
    if kind == "intents" and intents and len(path) >= 2 and path[1] in intents.items:
        then = intents.items[path[1]].then
        options = [(text, "alone")]
        if then in ("topic", "menu"):
            options.append((f"{text} {intents.then_menu}", "with the menu line"))
        if then == "topic":
            named = [*language.topics.values(), *(m for m in language.menus.values() if m.keyword)]
            options += [(f"{text} {fill(intents.then_topic, label=n.label, keyword=n.keyword)}",
                         "with the longest topic line") for n in named]
        return max(options, key=lambda c: sms_encoding.count(c[0]).units)
    places = sorted(set(PLACEHOLDER.findall(text)))
    return text, ("before " + ", ".join("{" + p + "}" for p in places) + " is filled in") if places else "alone"


def _sms(language: Language, file: str, path: tuple, value: str) -> list[Measure]:
    """Segments, encoding and characters left, by sms_encoding.count against the language's
    TextBudget, as Reader.check_sms judges them."""
    text, what = _sent(language, file, path, value)
    c, budget = sms_encoding.count(text), language.text_budget
    limit = budget.limit(c.encoding)
    if c.encoding == "GSM-7":
        encoding = Measure("encoding", "GSM-7 (plain text)", True)
    else:
        chars = ", ".join(sms_encoding.describe(ch) for ch in c.offending)
        # UCS-2 is a cost where the language allows it (Spanish accents); worth a look when only
        # punctuation forces it (a curly quote: the plain one keeps the text GSM-7).
        only_marks = not any(ch.isalpha() for ch in c.offending)
        note = ("; this language sends plain GSM-7 only" if budget.alphabet == "gsm-7"
                else "; a plain character instead would keep it GSM-7" if only_marks else "")
        encoding = Measure("encoding", f"UCS-2 ({_n(c.segments, 'segment')} of {67 if c.segments > 1 else 70}): "
                                       f"forced by {chars}{note}", budget.alphabet != "gsm-7" and not only_marks)
    left = limit - c.units
    return [
        Measure("segments", f"{c.segments} of {_n(budget.segments, 'segment')} ({c.encoding}), {what}",
                c.segments <= budget.segments),
        encoding,
        Measure("characters left", f"{_n(left, 'character')} left of {limit} ({_n(budget.segments, 'segment')}, {c.encoding})"
                if left >= 0 else f"{_n(-left, 'character')} over the {limit} of {_n(budget.segments, 'segment')} ({c.encoding})",
                left >= 0),
    ]


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _speech(language: Language, value: str) -> list[Measure]:
    """Seconds at each pace (speech.spoken_seconds of what a caller hears, under
    MAX_SPOKEN_SECONDS as the loader holds a summary), and readability.long_sentences as
    checks.long_sentences finds them."""
    words = said(language, value)
    normal, slow = spoken_seconds(words), spoken_seconds(words, slow=True)
    limit = f"under {MAX_SPOKEN_SECONDS} s" if normal <= MAX_SPOKEN_SECONDS else f"keep it under {MAX_SPOKEN_SECONDS} s"
    found = [Measure("seconds of speech", f"about {normal:.0f} s of speech (slow: {slow:.0f} s); {limit}",
                     normal <= MAX_SPOKEN_SECONDS)]
    long = readability.long_sentences(language.as_written(value))
    found.append(Measure("sentences", f"a sentence of {long[0][0]} words (at most {readability.MAX_SENTENCE_WORDS}): "
                                      f"\"{long[0][1][:60]}...\"" if long else
                         f"no sentence over {readability.MAX_SENTENCE_WORDS} words", not long))
    return found


@dataclass(frozen=True)
class _Summary:
    """All of a topic checks.reading reads: its summary as written."""

    written: MappingProxyType | dict


def _reading(language: Language, file: str, value: str) -> list[Measure]:
    """A topic's whole spoken summary by checks.reading (the language's formula and target, every
    word), with the average sentence that checks.plain_summaries also holds to."""
    r = checks.reading(language, _Summary({"speech": Written(file, 0, "speech", value, True)}))
    what, formula = FORMULA_NAMES.get(r.formula, ("score", r.formula))
    target = f"{r.target:g} or more" if r.higher_is_easier else f"{r.target:g} or less"
    rough = f"; under {readability.SHORT_TEXT_WORDS} words, so rough" if r.rough else ""
    return [Measure("reading grade", f"{what} {r.score:.1f} by {formula} (target {target}){rough}", r.ok),
            Measure("sentence length", f"sentences average {r.average:.1f} words (at most "
                                       f"{readability.TARGET_AVERAGE_WORDS})", r.average <= readability.TARGET_AVERAGE_WORDS)]


def _numbers(library: Library, file: str, value: str) -> Measure:
    """The rule of language.read_intents (NUMBER, SAFETY_NUMBERS): 911, 988 and the referral
    office's are the only numbers the line gives. In intents.yaml every other number counts, as
    the loader counts it; elsewhere only a phone number's length, so a year is not one."""
    referral = re.sub(r"\D", "", library.referral_phone)[-10:]
    everything = _file_kind(file)[0] == "intents"
    given = []
    for number in NUMBER.findall(PLACEHOLDER.sub(" ", value)):
        digits = re.sub(r"\D", "", number)
        if number in SAFETY_NUMBERS or (referral and digits[-10:] == referral and len(digits) >= 10):
            continue
        if everything or len(digits) >= PHONE_DIGITS:
            given.append(number)
    if given:
        return Measure("numbers", f"gives {', '.join(given)}: the only numbers the line gives are "
                                  f"{', '.join(SAFETY_NUMBERS)} and the referral office's {{phone}}", False)
    return Measure("numbers", f"no numbers but {', '.join(SAFETY_NUMBERS)} and {{phone}}", True)


def _glossary(library: Library, language: Language, file: str, name: str, value: str, spoken: bool) -> Measure:
    """checks.glossary_words itself, on a library whose one language holds only this field."""
    alone = replace(language, prompts_written=(Written(file, 0, name, value, spoken),),
                    topics=MappingProxyType({}), menus=MappingProxyType({}), intents=None)
    found = list(checks.glossary_words(replace(library, languages=MappingProxyType({language.code: alone})),
                                       date.today()))
    if not found:
        return Measure("glossary", "no word the glossary asks to avoid", True)
    return Measure("glossary", "; ".join(p.message for p in found), False)


def _misread(value: str) -> Measure:
    """speech.misread on the words as written, places left out (as language.check_written does)."""
    why = misread(PLACEHOLDER.sub(" ", value))
    return Measure("misread", "a voice would misread " + "; ".join(why) if why else "nothing a voice would misread", not why)


def measure(library: Library, file: str, path: tuple, value: str) -> list[Measure]:
    """The measures that apply to this field's kind, for `value` as typed."""
    kind = kind_of(file, path)
    code = _file_kind(file)[1] or library.default_language
    language = library.languages.get(code)
    if language is None or kind in ("words", "other"):
        return []  # what people send is checked by routing its examples (`problems_for` shows it)
    name = str(path[-1]) if path else ""
    found: list[Measure] = []
    if kind == "sms":
        found += _sms(language, file, path, value)
    if kind == "speech":
        found += _speech(language, value)
        if _file_kind(file)[0] == "topic" and tuple(path) == ("speech",):
            found += _reading(language, file, value)
    if kind in ("sms", "speech"):
        found.append(_numbers(library, file, value))
    found.append(_glossary(library, language, file, name, value, spoken=kind != "sms"))
    if kind in ("speech", "label"):  # a label is said too (a topic's or menu's spoken label)
        found.append(_misread(value))
    return found


def problems_for(problems, file: str, first_line: int, last_line: int) -> list:
    """The loader's problems in `file` on lines first_line..last_line. Problems name files from the
    content folder's parent ('content/es/topics/results.yaml'); `file` may be that or relative to
    the folder ('es/topics/results.yaml'). A problem at line 0 is about the whole file: not here."""
    def same(label: str) -> bool:
        return label == file or label.endswith("/" + file) or file.endswith("/" + label)

    return [p for p in problems if same(p.file) and first_line <= p.line <= last_line]


# -- hearing it --------------------------------------------------------------------------------
# audio.render speaks through its own child process (audio.Speaker, line/tts_worker.py): pyttsx3
# never runs in the server's threads. Each call has its own folder, so renders never share a file;
# a few at a time, so a burst of clicks does not start a process each at once.
_RENDERING = threading.BoundedSemaphore(2)


def hear(library: Library, lang: str, text: str, slow: bool) -> bytes:
    """`text` as a caller hears it: the language's espeak voice at the line's rate for the pace
    (audio.RATES), at phone quality (audio.to_phone_quality), as `line audio` renders it."""
    if len(text) > MAX_HEAR_CHARS:
        raise ValueError(f"at most {MAX_HEAR_CHARS} characters can be heard at once")
    language = library.languages.get(lang)
    if language is None:
        raise ValueError(f"there is no language '{lang}'")
    words = said(language, text)
    if not words:
        raise ValueError("there is nothing to say")
    with _RENDERING, tempfile.TemporaryDirectory(prefix="line-hear-") as tmp:
        [result] = audio.render([(words, language.voice.espeak_voice, slow)], Path(tmp))
        if result.status == "failed":
            raise OSError(f"the words could not be spoken: {result.why}")
        return (Path(tmp) / result.name).read_bytes()
