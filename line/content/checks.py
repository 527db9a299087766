"""Checks over a loaded library: what staff should know before callers do.

Each check is a function (library, today) -> the problems it finds, each naming a file and a
line (the model keeps where every text was written, so no check reads the YAML again). A
warning is worth a look and does not stop an edit; an error stops it like a loader error does.
To add a check, write the function and list it in CHECKS.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Iterable, Iterator

from .. import readability
from ..match import Match, Target
from .model import (MIN_INTENT_EXAMPLES, MIN_TOPIC_EXAMPLES, PLACEHOLDER, Example, Language, Library, Topic)
from .yaml_source import Problem

REVIEW_EVERY = timedelta(days=365)
BROKEN_AT_DASH = re.compile(r"\w+- \w+")

Check = Callable[[Library, date], Iterable[Problem]]


def warning(file: str, line: int, message: str) -> Problem:
    return Problem(file, line, message, "warning")


def words_broken_at_a_dash(library: Library, today: date) -> Iterator[Problem]:
    """A folded YAML block (>-) that breaks "flu-like" across lines turns it into "flu- like"."""
    for lang in library.languages.values():
        for w in lang.written():
            broken = BROKEN_AT_DASH.search(w.text)
            if broken:
                yield warning(w.file, w.line, f"'{w.name}' has a word broken at a dash ('{broken.group(0)}'): "
                                              "in a folded (>-) block, keep the dashed word on one line")


def error(file: str, line: int, message: str) -> Problem:
    return Problem(file, line, message, "error")


def long_sentences(library: Library, today: date) -> Iterator[Problem]:
    """Callers cannot look back: a spoken sentence of more than 20 words is too long to follow."""
    for lang in library.languages.values():
        for w in lang.written():
            if not w.spoken:
                continue
            for n, sentence in readability.long_sentences(lang.as_written(w.text)):
                yield error(w.file, w.line, f"'{w.name}' has a sentence of {n} words (at most {readability.MAX_SENTENCE_WORDS}): "
                                            f"\"{sentence[:60]}...\"")


def reading(lang: Language, topic: Topic) -> readability.Reading:
    """How hard a topic's spoken summary is to follow, by the language's formula: the whole
    summary, every word of it, the facts ({phone}, {office} ...) written out."""
    return readability.measure(lang.as_written(topic.written["speech"].text), lang.plain.formula, lang.plain.target)


def reading_without_terms(lang: Language, topic: Topic) -> readability.Reading:
    """The same, leaving out the facts and language.yaml's terms (the names of treatments), as the
    line once measured: shown beside the whole count for comparison, never judged."""
    written = PLACEHOLDER.sub(" ", topic.written["speech"].text)
    for term in lang.plain.terms:
        written = re.sub(rf"\b{re.escape(term)}\b", " ", written, flags=re.IGNORECASE)
    return readability.measure(written, lang.plain.formula, lang.plain.target)


def plain_summaries(library: Library, today: date) -> Iterator[Problem]:
    """Every spoken summary at the language's reading target, counted on every word, and its
    sentences 15 words long on average at most."""
    for lang in library.languages.values():
        for topic in lang.topics.values():
            r = reading(lang, topic)
            where = topic.file, topic.written["speech"].line
            if not r.ok:
                want = f"{r.target:g} or more" if r.higher_is_easier else f"grade {r.target:g} or below"
                yield error(*where, f"the spoken summary reads at {r.score:g} by {r.formula}, counting every word "
                                    f"(want {want}); use shorter sentences and shorter words")
            if r.average > readability.TARGET_AVERAGE_WORDS:
                yield error(*where, f"the spoken summary's sentences average {r.average:.1f} words "
                                    f"(at most {readability.TARGET_AVERAGE_WORDS})")


def reviews_out_of_date(library: Library, today: date) -> Iterator[Problem]:
    """A topic reviewed more than a year ago is checked against its sources again."""
    for lang in library.languages.values():
        for topic in lang.topics.values():
            if today - topic.reviewed > REVIEW_EVERY:
                yield warning(topic.file, topic.lines["reviewed"], f"last reviewed {topic.reviewed}, more than a year ago: "
                                                                   "check it against its sources")


def glossary_words(library: Library, today: date) -> Iterator[Problem]:
    """A word the language's glossary.yaml lists to avoid (a calque, a word written around
    "cancer", a second name for one idea), in anything a texter reads or a caller hears."""
    for lang in library.languages.values():
        if not lang.avoid:
            continue
        pieces = [*lang.written(), *(t.written["label"] for t in lang.topics.values())]
        for w in pieces:
            for entry in lang.avoid:
                found = entry.found_in(w.text)
                if found:
                    yield warning(w.file, w.line, f"'{w.name}' says '{found}'; the glossary asks for '{entry.use}' "
                                                  f"({entry.why})")
        for menu in lang.menus.values():
            for entry in lang.avoid:
                found = entry.found_in(menu.label) if menu.keyword else None
                if found:
                    yield warning(menu.file, 0, f"menu '{menu.id}' is named '{menu.label}', which says '{found}'; "
                                                f"the glossary asks for '{entry.use}' ({entry.why})")


@dataclass(frozen=True)
class Routed:
    """An example staff wrote, and what the line understands by it."""

    example: Example
    language: str
    want: Target
    got: Match | None

    @property
    def ok(self) -> bool:
        return self.got is not None and self.got.target == self.want

    @property
    def reached(self) -> str:
        return _name(self.got.target) if self.got else "nothing (the menu)"


def _name(target: Target) -> str:
    return target.id if target.kind in ("topic", "intent") else f"{target.kind} {target.id}"


def _examples(lang: Language):
    yield from ((Target("intent", i.id), i) for i in (lang.intents.items.values() if lang.intents else ()))
    yield from ((Target("topic", t.id), t) for t in lang.topics.values())
    yield from ((Target("menu", m.id), m) for m in lang.menus.values() if m.examples)


def route(library: Library) -> list[Routed]:
    """Every example of every language through the real matcher, each as a new message (as if
    it were not listed): an example the line understands only because it is listed tests nothing."""
    return [Routed(example, lang.code, target, lang.matcher.understand(example.text, "sms", as_new=True))
            for lang in library.languages.values() for target, item in _examples(lang) for example in item.examples]


def examples_reach_their_place(routed: list[Routed]) -> Iterator[Problem]:
    """Examples are tests written by staff: one that lands anywhere else is an error of `line
    check` (not of publishing: the line still serves, and the miss is a matter of understanding,
    which `line check` and the tests hold to)."""
    for r in routed:
        if not r.ok:
            yield Problem(r.example.file, r.example.line, f"example \"{r.example.text}\" reaches {r.reached}, "
                                                          f"not {_name(r.want)}: add words it uses to the cues or "
                                                          "synonyms, or more examples like it")


def enough_examples(library: Library, today: date) -> Iterator[Problem]:
    """At least 20 examples for each intent and 5 for each topic, in each language."""
    for lang in library.languages.values():
        for target, item in _examples(lang):
            least = MIN_INTENT_EXAMPLES if target.kind == "intent" else MIN_TOPIC_EXAMPLES
            if target.kind != "menu" and len(item.examples) < least:
                yield warning(item.file, 0, f"{_name(target)} has {len(item.examples)} examples; write at least "
                                            f"{least}, in people's own words")


CHECKS: tuple[Check, ...] = (words_broken_at_a_dash, long_sentences, plain_summaries, reviews_out_of_date, glossary_words,
                             enough_examples)
