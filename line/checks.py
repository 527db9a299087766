"""`line check`: everything the loader validates, plus what staff should know before callers do.

Errors come from the loader (content.py), the same checks that decide whether an edit is
published: a folder with errors is never served. Warnings, worth a look but not stopping an
edit, are found here: long sentences, a reading level above the target, a word broken at a dash,
a review more than a year old. Then a table per topic.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from . import readability, sms_encoding
from .content import PLACEHOLDER, Library, load_library
from .speech import WORDS_PER_MINUTE, spoken_seconds
from .yaml_source import ContentError, Problem, load

REVIEW_EVERY = timedelta(days=365)
BROKEN_AT_DASH = re.compile(r"\w+- \w+")


@dataclass
class TopicRow:
    language: str
    topic: str
    text_chars: int
    text_segments: int
    encoding: str
    spoken_words: int
    spoken_seconds: float
    reading: readability.Reading
    translation: str = "original"


@dataclass
class Report:
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    rows: list[TopicRow] = field(default_factory=list)
    library: Library | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def render(self) -> str:
        out = [str(p) for p in self.errors] + [str(p) for p in self.warnings]
        if self.rows:
            out.append("")
            out.append(f"{'language/topic':32} {'text':>5} {'segs':>4} {'words':>5} {'~secs':>5} {'reading':>8}")
            for r in self.rows:
                name = f"{r.language}/{r.topic}"
                segs = f"{r.text_segments}" + ("" if r.encoding == "GSM-7" else "U")
                out.append(f"{name:32} {r.text_chars:>5} {segs:>4} {r.spoken_words:>5} {r.spoken_seconds:>5.0f} {str(r.reading):>8}")
            formulas = sorted({r.reading.formula for r in self.rows})
            out.append(f"reading: {', '.join(formulas)} of the spoken summary (~ = under "
                       f"{readability.SHORT_TEXT_WORDS} words, so rough); ~secs at {WORDS_PER_MINUTE} words a minute")
        waiting = [r for r in self.rows if r.translation not in ("original", "reviewed")]
        if waiting:
            out.append(f"translations a native speaker still has to read ({len(waiting)}): "
                       + ", ".join(f"{r.language}/{r.topic} ({r.translation})" for r in waiting))
        verdict = "no errors" if not self.errors else f"{len(self.errors)} error(s)"
        out.append(f"{self.folder}: {verdict}, {len(self.warnings)} warning(s).")
        return "\n".join(out)


def check_folder(folder: Path | str, today: date | None = None) -> Report:
    folder = Path(folder)
    report = Report(folder)
    try:
        library = load_library(folder)
    except ContentError as exc:
        report.problems.extend(exc.problems)
        return report
    report.library = library
    report.problems.extend(library.warnings)
    for lang in library.languages.values():
        _check_language(report, library, lang, folder, today or date.today())
    report.problems.sort(key=lambda p: (p.severity != "error", p.file, p.line))
    return report


def _label(root: Path, path: Path) -> str:
    """Name files as the loader does: from the content folder's parent ('content/en/...')."""
    return str(path.relative_to(root.parent))


def _check_language(report: Report, library: Library, lang, root: Path, today: date) -> None:
    folder = root / lang.code
    raw, _ = load(folder / "language.yaml", _label(root, folder / "language.yaml"))
    plain = raw.get("plain_language", {}) if isinstance(raw, dict) else {}
    formula = plain.get("formula", "flesch-kincaid-grade")
    target = float(plain.get("target", 7))
    terms = [t.lower() for t in plain.get("terms", [])]
    def problem(label, line, message, severity="error"):
        report.problems.append(Problem(label, line, message, severity))

    def written_checks(label, line, name, text, spoken):
        bare = PLACEHOLDER.sub(" ", text)
        broken = BROKEN_AT_DASH.search(text)
        if broken:
            problem(label, line, f"'{name}' has a word broken at a dash ('{broken.group(0)}'): "
                                 "in a folded (>-) block, keep the dashed word on one line", "warning")
        if spoken:
            for n, sentence in readability.long_sentences(bare):
                problem(label, line, f"'{name}' has a sentence of {n} words (at most {readability.MAX_SENTENCE_WORDS}): "
                                     f"\"{sentence[:60]}...\"", "warning")

    prompts_path = folder / "prompts.yaml"
    prompts, plines = load(prompts_path, _label(root, prompts_path))
    for channel in ("sms", "voice"):
        for name, text in prompts.get(channel, {}).items():
            written_checks(_label(root, prompts_path), plines.at(channel, name), name, text, channel == "voice")

    for path in sorted((folder / "topics").glob("*.yaml")):
        label = _label(root, path)
        data, lines = load(path, label)
        topic = lang.topics[path.stem]
        written_checks(label, lines.at("text"), "text", data["text"], False)
        written_checks(label, lines.at("speech"), "speech", data["speech"], True)
        seconds = spoken_seconds(topic.speech)
        spoken_written = PLACEHOLDER.sub(" ", data["speech"])
        for term in terms:
            spoken_written = re.sub(rf"\b{re.escape(term)}\b", " ", spoken_written, flags=re.IGNORECASE)
        reading = readability.measure(spoken_written, formula, target)
        if not reading.ok:
            want = f"{target:g} or more" if reading.higher_is_easier else f"grade {target:g} or below"
            problem(label, lines.at("speech"), f"the spoken summary reads at {reading.score:g} by {formula} (want {want}); "
                                               "use shorter sentences and shorter words", "warning")
        avg = reading.words / max(1, reading.sentences)
        if avg > readability.TARGET_AVERAGE_WORDS:
            problem(label, lines.at("speech"), f"sentences average {avg:.0f} words (aim for {readability.TARGET_AVERAGE_WORDS})", "warning")
        if today - topic.reviewed > REVIEW_EVERY:
            problem(label, lines.at("reviewed"), f"last reviewed {topic.reviewed}, more than a year ago: check it against its sources", "warning")
        count = sms_encoding.count(topic.text)
        report.rows.append(TopicRow(lang.code, topic.id, count.units, count.segments, count.encoding,
                                    len(topic.speech.split()), seconds, reading, topic.translation))
