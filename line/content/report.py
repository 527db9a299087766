"""`line check`: every problem the loader and the checks found, then a table per topic."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .. import readability, sms_encoding
from ..speech import WORDS_PER_MINUTE, spoken_seconds
from .checks import Routed, examples_reach_their_place, reading, reading_without_terms, route
from .load import Loaded, load


@dataclass
class TopicRow:
    language: str
    topic: str
    text_chars: int
    text_segments: int
    encoding: str
    spoken_words: int
    spoken_seconds: float
    reading: readability.Reading  # the whole spoken summary, every word: what is judged
    without_terms: readability.Reading  # leaving out the facts and language.yaml's terms, for comparison
    budget: int = sms_encoding.MAX_SEGMENTS  # the most segments a text may cost in this language


@dataclass(frozen=True)
class Report(Loaded):
    """What `line check` found in a folder: the loader's problems, and a row per topic."""

    folder: Path = Path("content")
    rows: tuple[TopicRow, ...] = ()
    examples: tuple[Routed, ...] = ()
    # Each topic's and intents file's translation state ('es/side-effects', 'reviewed'); a file of a
    # language other than the default that does not say is 'not marked'.
    translations: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        out = [str(p) for p in self.errors] + [str(p) for p in self.warnings]
        if self.examples:
            out.append("")
            out.append(f"examples: {sum(r.ok for r in self.examples)} of {len(self.examples)} reach where they are "
                       "written (each tried as a new message)")
            for r in self.examples:
                mark = "ok  " if r.ok else "MISS"
                out.append(f"  {mark} {r.example.file}:{r.example.line}  \"{r.example.text}\" -> {r.reached}")
        if self.rows:
            out.append("")
            out.append(f"{'language/topic':24} {'text':>5} {'segs':>7} {'words':>5} {'~secs':>5} "
                       f"{'reading':>8} {'w/o terms':>9} {'avg':>5} {'longest':>7}")
            for r in self.rows:
                name = f"{r.language}/{r.topic}"
                segs = f"{r.text_segments}{'' if r.encoding == 'GSM-7' else 'U'} of {r.budget}"
                out.append(f"{name:24} {r.text_chars:>5} {segs:>7} {r.spoken_words:>5} {r.spoken_seconds:>5.0f} "
                           f"{str(r.reading):>8} {str(r.without_terms):>9} {r.reading.average:>5.1f} "
                           f"{r.reading.longest_sentence:>7}")
            formulas = sorted({r.reading.formula for r in self.rows})
            out.append(f"segs: what the topic's text costs (U: UCS-2) of the most its language allows")
            out.append(f"reading: {', '.join(formulas)} of the whole spoken summary, every word "
                       f"(~ = under {readability.SHORT_TEXT_WORDS} words, so rough); w/o terms: the same without the "
                       "facts and language.yaml's terms, for comparison only")
            out.append(f"avg, longest: words a sentence; ~secs at {WORDS_PER_MINUTE} words a minute")
        waiting = [(name, state) for name, state in self.translations if state not in ("original", "reviewed")]
        if waiting:
            out.append(f"translations a native speaker still has to read ({len(waiting)}): "
                       + ", ".join(f"{name} ({state})" for name, state in waiting))
        verdict = "no errors" if not self.errors else f"{len(self.errors)} error(s)"
        out.append(f"{self.folder}: {verdict}, {len(self.warnings)} warning(s).")
        return "\n".join(out)


def check_folder(folder: Path | str, today: date | None = None) -> Report:
    loaded = load(folder, today)
    rows, translations = [], []
    for lang in loaded.library.languages.values() if loaded.library else ():
        unmarked = "original" if lang.code == loaded.library.default_language else "not marked"
        for topic in sorted(lang.topics.values(), key=lambda t: t.file):
            translations.append((f"{lang.code}/{topic.id}", topic.translation or unmarked))
            count = sms_encoding.count(topic.text)
            rows.append(TopicRow(lang.code, topic.id, count.units, count.segments, count.encoding,
                                 len(topic.speech.split()), spoken_seconds(topic.speech),
                                 reading(lang, topic), reading_without_terms(lang, topic),
                                 lang.text_budget.segments))
        if lang.intents:
            translations.append((f"{lang.code}/intents", lang.intents.translation or unmarked))
    examples = tuple(route(loaded.library)) if loaded.library else ()
    problems = sorted([*loaded.problems, *examples_reach_their_place(list(examples))],
                      key=lambda p: (p.severity != "error", p.file, p.line))
    return Report(loaded.library, tuple(problems), folder=Path(folder), rows=tuple(rows), examples=examples,
                  translations=tuple(translations))
