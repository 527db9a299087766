"""Read a YAML file into plain Python values, remembering the line of every value.

Every scalar stays a string (PyYAML's BaseLoader): `YES`, `NO`, `on` and `2019-01-09`
are words, never booleans or dates. Duplicate keys are an error, not a silent overwrite.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) in a content file."""

    file: str
    line: int
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"


class ContentError(Exception):
    """The content cannot be served; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Lines(dict):
    """Path (a tuple of keys and indexes) -> 1-based line number."""

    def at(self, *path) -> int:
        while path:
            if path in self:
                return self[path]
            path = path[:-1]
        return self.get((), 1)


# libyaml's loader where PyYAML was built with it (ten times faster, the same nodes and lines).
BASE_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def load(path: Path, label: str) -> tuple[object, Lines]:
    """Parse `path`; `label` is how problems name the file. The caller gets its own copy."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError([Problem(label, 1, f"is not UTF-8 text ({exc.reason})")]) from None
    value, lines, problems = parse(text, label)
    if problems:
        raise ContentError(list(problems))
    return copy.deepcopy(value), Lines(lines)


@lru_cache(maxsize=512)
def parse(text: str, label: str) -> tuple[object, Lines, tuple[Problem, ...]]:
    """A YAML text -> (its value, the line of every value, its problems). A memo keyed by the text
    and the label, its only inputs: a reload parses again only the files that changed (PyYAML's
    parser is most of the time a load takes), and a worker's check of its published copy none."""
    lines = Lines()
    try:
        try:
            node = yaml.compose(text, Loader=BASE_LOADER)
        except yaml.MarkedYAMLError:  # PyYAML's own parser says what is wrong, as `line check` always has
            node = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, lines, (Problem(label, line, f"is not valid YAML: {exc.problem}"),)
    if node is None:
        return {}, lines, ()
    problems: list[Problem] = []
    value = _convert(node, (), lines, label, problems)
    return value, lines, tuple(problems)


def _convert(node, path, lines: Lines, label: str, problems: list[Problem]):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), lines, label, problems) for i, item in enumerate(node.value)]
    result: dict = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(label, key_node.start_mark.line + 1, "a key must be a plain word"))
            continue
        key = key_node.value
        if key in result:
            problems.append(Problem(label, key_node.start_mark.line + 1, f"'{key}' is given twice"))
            continue
        result[key] = _convert(value_node, path + (key,), lines, label, problems)
        lines[path + (key,)] = key_node.start_mark.line + 1
    return result
