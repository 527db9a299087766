"""The labeled set: real-sounding messages and what a careful reader wants the line to do with each.

The set lives in tests/labeled/messages.tsv (its header says what each label means). This module holds
the one list of labels and the reader, for the tests and for the command that measures accuracy.

The set is kept apart from the examples in content/: an example teaches the line, so a message that
is one (word for word, as the matcher reads it) would measure what the line was taught, not what it
understands. `repeats` finds them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .match import normalize

if TYPE_CHECKING:
    from .content.model import Example, Library

# What people mean beyond the topics (issue 11): checked before any topic.
INTENTS = ("emergency", "crisis", "feelings", "personal", "person", "not_covered", "thanks")
# The carrier words and their plain-language kin: stop, start again, help, change language.
COMPLIANCE = ("opt_out", "opt_in", "help", "language")
# The topics, by their file name in content/<language>/topics/.
TOPICS = ("cancer", "cell-therapy", "how-given", "how-it-works", "immunotherapy", "interleukin",
          "needle-site", "nih-research", "referral", "results", "side-effects", "trials", "where", "who")
# The menus: the main one and those in menu.yaml.
MENUS = ("main", "about", "treatment", "research")
LABELS = INTENTS + COMPLIANCE + TOPICS + MENUS

LANGUAGES = ("en", "es")
CHANNELS = ("sms", "voice")
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "tests" / "labeled" / "messages.tsv"


@dataclass(frozen=True)
class Labeled:
    message: str
    language: str
    label: str
    channel: str  # "sms" unless the row says "voice" (a phrasing as a speech recognizer writes it)
    line: int  # where it is in the file, for messages that name it


class LabeledSetError(ValueError):
    pass


def read(path: Path | str = DEFAULT_PATH) -> list[Labeled]:
    """Every row of the set. Lines starting with # and blank lines are comments; the first other
    line is the header. Fields are separated by one tab: message, language, label, and optionally
    the channel. A row that breaks these rules is an error naming its line."""
    rows: list[Labeled] = []
    header_seen = False
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        if not header_seen:
            if fields[:3] != ["message", "language", "label"]:
                raise LabeledSetError(f"{path}:{number}: the header must be message, language, label, channel")
            header_seen = True
            continue
        if len(fields) not in (3, 4):
            raise LabeledSetError(f"{path}:{number}: {len(fields)} fields; a row has 3 or 4, separated by tabs")
        message, language, label = (field.strip() for field in fields[:3])
        channel = fields[3].strip() if len(fields) == 4 else "sms"
        if not message:
            raise LabeledSetError(f"{path}:{number}: the message is empty")
        if language not in LANGUAGES:
            raise LabeledSetError(f"{path}:{number}: unknown language {language!r} (one of {', '.join(LANGUAGES)})")
        if label not in LABELS:
            raise LabeledSetError(f"{path}:{number}: unknown label {label!r}")
        if channel not in CHANNELS:
            raise LabeledSetError(f"{path}:{number}: unknown channel {channel!r} (one of {', '.join(CHANNELS)})")
        rows.append(Labeled(message, language, label, channel, number))
    return rows


def repeats(rows: list[Labeled], library: Library) -> list[tuple[Labeled, Example]]:
    """Each row whose message is the words of an example in the content, in either language (as
    the matcher reads them: case, accents and punctuation aside), with that example."""
    taught: dict[str, Example] = {}
    for lang in library.languages.values():
        items = [*(lang.intents.items.values() if lang.intents else ()), *lang.topics.values(), *lang.menus.values()]
        for item in items:
            for example in item.examples:
                taught.setdefault(normalize(example.text), example)
    return [(row, taught[normalize(row.message)]) for row in rows if normalize(row.message) in taught]
