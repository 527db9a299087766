"""`line measure`: how well the line understands people, on the labeled set (tests/labeled/).

Each message goes through the engine's own judgement, as a new texter's text or a caller's words
at the main menu of its language: compliance first (opt-out, opt-in, help: engine/compliance.py),
then what the words mean (engine/understand.py). What it reached is compared with its label.

The line is held to what was last measured, rounded down a little: every emergency, crisis and
opt-out found (recall 100%), nothing else taken for an opt-out, an emergency or a crisis (false
alarms, each its own figure: their answers come alone), every other label right at least
THRESHOLD of the time and all of them together ALL_THRESHOLD. A message of the set that is an
example in the content (labeled.repeats) fails the measure too: it would count what the line was
taught.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from . import labeled
from .content import Library
from .content.model import Example
from .engine.compliance import judge
from .engine.understand import understand

SAFE_RECALL = ("emergency", "crisis", "opt_out")  # each must be found every time
FALSE_ALARMS = ("crisis", "emergency")  # never given to a message that is not one
THRESHOLD = 0.80  # every other label (measured: 83.3% at worst, how-it-works 10 of 12)
ALL_THRESHOLD = 0.99  # all the messages together (measured: 99.0%, 616 of 622)
NOTHING = "nothing"  # what a message no label fits reaches: the menu


def reached(library: Library, row: labeled.Labeled) -> str:
    """The label the line's answer to `row` amounts to."""
    if row.channel == "sms":
        said = judge(library, row.message)
        if said is not None:
            return said.kind
    # A new texter has chosen no language (their words choose it); a caller is at the main menu
    # of the language they called in.
    lang = library.language(row.language if row.channel == "voice" else None)
    meaning = understand(library, lang, row.message, row.channel, chosen=row.channel == "voice")
    if meaning.kind == "command":
        return {"menu": "main", "main_menu": "main", "referral": "person"}.get(meaning.id, meaning.id)
    if meaning.kind == "nothing":
        return NOTHING
    return meaning.kind if meaning.kind == "language" else meaning.id


@dataclass
class Measured:
    rows: list[tuple[labeled.Labeled, str]] = field(default_factory=list)  # (row, what it reached)
    repeats: list[tuple[labeled.Labeled, Example]] = field(default_factory=list)  # rows that are examples

    @property
    def right(self) -> int:
        return sum(got == row.label for row, got in self.rows)

    def counts(self) -> dict[str, tuple[int, int]]:
        """label -> (messages, reached it)."""
        total, right = Counter(), Counter()
        for row, got in self.rows:
            total[row.label] += 1
            right[row.label] += got == row.label
        return {label: (total[label], right[label]) for label in labeled.LABELS if total[label]}

    def taken_for(self, label: str) -> list[tuple[labeled.Labeled, str]]:
        """The messages of another label that reached `label`: a false alarm for the safety ones."""
        return [(row, got) for row, got in self.rows if got == label and row.label != label]

    @property
    def false_opt_outs(self) -> list[tuple[labeled.Labeled, str]]:
        return self.taken_for("opt_out")

    def false_alarms(self) -> dict[str, list[tuple[labeled.Labeled, str]]]:
        """The messages that got the crisis or the emergency answer without being one (issue 21):
        that answer comes alone, so a false one frightens the texter and hides what they asked."""
        return {label: self.taken_for(label) for label in FALSE_ALARMS}

    def failing(self) -> list[str]:
        """Why the line falls short of the thresholds (empty when it meets them)."""
        found = []
        for label, (n, right) in self.counts().items():
            want = 1.0 if label in SAFE_RECALL else THRESHOLD
            if right / n < want:
                found.append(f"{label}: {right}/{n} ({100 * right / n:.1f}%), below {100 * want:g}%")
        if self.rows and self.right / len(self.rows) < ALL_THRESHOLD:
            found.append(f"all: {self.right}/{len(self.rows)} ({100 * self.right / len(self.rows):.1f}%), "
                         f"below {100 * ALL_THRESHOLD:g}%")
        if self.false_opt_outs:
            found.append(f"false opt-outs: {len(self.false_opt_outs)}, want 0")
        for label, rows in self.false_alarms().items():
            if rows:
                found.append(f"false {label}: {len(rows)}, want 0")
        if self.repeats:
            found.append(f"examples in the set: {len(self.repeats)}, want 0")
        return found

    def render(self, misses: bool = False) -> str:
        out = [f"{'label':14} {'right':>5} {'of':>4} {'accuracy':>9}  threshold"]
        for label, (n, right) in self.counts().items():
            want = "100% (recall)" if label in SAFE_RECALL else f"{100 * THRESHOLD:g}%"
            out.append(f"{label:14} {right:>5} {n:>4} {100 * right / n:>8.1f}%  {want}")
        total = len(self.rows)
        out.append(f"{'all':14} {self.right:>5} {total:>4} {100 * self.right / max(1, total):>8.1f}%  "
                   f"{100 * ALL_THRESHOLD:g}%")
        out.append(f"false opt-outs: {len(self.false_opt_outs)} (want 0)")
        for label, rows in self.false_alarms().items():
            out.append(f"false {label}: {len(rows)} (want 0)")
            for row, _ in rows:
                out.append(f"  line {row.line} [{row.language} {row.channel}] {row.label} -> {label}: {row.message}")
        out.append(f"examples in the set: {len(self.repeats)} (want 0)")
        for row, example in self.repeats:
            out.append(f"  line {row.line} \"{row.message}\" is the example at {example.file}:{example.line}: "
                       "write a new message for the set")
        if misses:
            out.append("")
            for row, got in self.rows:
                if got != row.label:
                    out.append(f"  line {row.line} [{row.language} {row.channel}] {row.label} -> {got}: {row.message}")
        failing = self.failing()
        out.append("meets every threshold" if not failing else "BELOW THRESHOLD: " + "; ".join(failing))
        return "\n".join(out)


def measure(library: Library, rows: list[labeled.Labeled]) -> Measured:
    return Measured([(row, reached(library, row)) for row in rows], labeled.repeats(rows, library))
