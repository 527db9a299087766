"""Reading content files and collecting their problems, for every part of the loader.

A `Reader` reads each file once (its bytes also go into the version hash), checks the shape of
what is in it, and keeps every problem found, each naming the file and line. It never stops at
the first problem: staff see them all at once.
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from .. import sms_encoding
from .model import PLACEHOLDER, TextBudget
from .yaml_source import ContentError, Lines, Problem, load

KINDS = {  # kind of field -> (is it right?, how a problem describes what it must be)
    "text": (lambda v: isinstance(v, str), "a piece of text"),
    "list": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of words, like [a, b]"),
    "map": (lambda v: isinstance(v, dict), "a set of 'name: value' lines"),
    "words": (lambda v: isinstance(v, dict) and all(isinstance(x, str) and x.strip() for x in v.values()),
              "a set of 'name: words' lines, each with some words"),
    "entries": (lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
                "a list of entries, each starting with '- ' and holding 'name: value' lines"),
    "items": (lambda v: isinstance(v, list), "a list, each item on its own line starting with '- '"),
}


class Reader:
    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []
        self.unreadable: set[str] = set()  # files already reported missing or unparsable
        self.phrase_lines: dict[tuple[str, str], int] = {}  # (file, normalized phrase) -> its line
        self.digest = hashlib.sha256()

    @property
    def version(self) -> str:
        """A hash of every file read so far, to tell libraries apart."""
        return self.digest.hexdigest()[:12]

    def error(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def label(self, path: Path) -> str:
        """How problems name a file: from the content folder's parent ('content/en/topics/x.yaml')."""
        return str(path.relative_to(self.folder.parent)) if path.is_relative_to(self.folder.parent) else str(path)

    def read(self, path: Path) -> tuple[dict, Lines, str]:
        label = self.label(path)
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
        """Check a mapping's fields: required and optional name -> kind ('text', 'list', 'map',
        'words': a map whose every value is a piece of text, or 'entries': a list of maps)."""
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
            right, what = KINDS[kind]
            if kind == "text" and isinstance(value, str) and not value.strip():
                self.error(label, lines.at(*path, name), f"'{name}' is empty")
                continue
            if not right(value):
                self.error(label, lines.at(*path, name), f"'{name}' must be {what}")
                continue
            out[name] = value
        return out

    def places(self, template: str, allowed: set[str], label: str, line: int, name: str) -> None:
        for place in PLACEHOLDER.findall(template):
            if place not in allowed:
                choices = ", ".join("{" + a + "}" for a in sorted(allowed))
                self.error(label, line, f"'{name}' uses {{{place}}}, which is not known here (known: {choices})")

    def check_sms(self, text: str, label: str, line: int, what: str, budget: TextBudget = TextBudget()) -> None:
        c = sms_encoding.count(text)
        if c.encoding != "GSM-7" and budget.alphabet == "gsm-7":
            chars = ", ".join(sms_encoding.describe(ch) for ch in c.offending)
            self.error(label, line, f"{what} is not plain GSM-7 text because of {chars}; it would be sent as UCS-2 ({c.segments} segments)")
        elif c.segments > budget.segments:
            why = "" if c.encoding == "GSM-7" else (" in UCS-2, because of " + ", ".join(sms_encoding.describe(ch) for ch in c.offending))
            self.error(label, line, f"{what} is {c.units} characters, {c.segments} text segments{why}; the most is "
                                    f"{budget.limit(c.encoding)} characters ({budget.segments} segments)")

    def date(self, raw: str | None, label: str, line: int) -> date | None:
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.error(label, line, f"'{raw}' is not a date written as YYYY-MM-DD")
            return None
