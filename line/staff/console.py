"""What the console's pages share: the database, the content folder, its items, and the
draft's content with its checks."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from flask import current_app
from flask_wtf.csrf import CSRFProtect

from ..content.load import Loaded
from . import drafts, releases, yaml_edit
from .feedback import kind_of, measure, problems_for

csrf = CSRFProtect()  # init_app; each console form is checked by views' before_request, nothing else
GROUPS = ("Topics", "Menus", "Intents", "Prompts", "Other words", "Shared facts")


@dataclass(frozen=True)
class Item:
    """What staff edit as one page: a file in each language ('topics/results.yaml' is en/ and
    es/topics/results.yaml side by side), or shared.yaml alone."""

    id: str
    title: str
    group: str
    files: tuple[tuple[str, str], ...]  # (language code or "", file relative to content/)


class Console:
    def __init__(self, settings, store):
        self.settings = settings
        self.store = store
        self.folder = Path(settings.content_dir)
        self.has_first = False  # release 1 is made (see staff._first_release)
        self.attempts = None  # auth.Attempts, set by init_app

    @classmethod
    def here(cls) -> "Console":
        return current_app.extensions["line_staff"]

    def read(self):
        self.store.db.ensure()
        return self.store.engine.connect()

    def write(self):
        self.store.db.ensure()
        return self.store.db.write()

    def folder_tree(self) -> releases.Tree:
        return releases.read_tree(self.folder)

    def published(self, conn) -> releases.Tree:
        """The last release's tree (the first is made from the folder when there is none)."""
        last = releases.latest(conn)
        return releases.tree_of(conn, last["id"]) if last is not None else self.folder_tree()

    def outside_changes(self, conn) -> bool:
        last = releases.latest(conn)
        return last is not None and releases.tree_hash(self.folder_tree()) != last["tree_hash"]


def languages(tree: releases.Tree) -> list[str]:
    """The language folders, English first (the line's first language), as the loader orders them."""
    codes = sorted({p.split("/")[0] for p in tree if p.count("/") >= 1 and p.endswith("/language.yaml")})
    return sorted(codes, key=lambda c: (c != "en", c))


def items(tree: releases.Tree) -> list[Item]:
    codes = languages(tree)
    found: dict[str, Item] = {}
    for path in sorted(tree):
        if not path.endswith(".yaml"):
            continue
        if "/" not in path:
            found[path] = Item(path, "Shared facts: the referral office, sources", "Shared facts", (("", path),))
            continue
        code, rest = path.split("/", 1)
        if code not in codes or rest in found:
            continue
        files = tuple((c, f"{c}/{rest}") for c in codes if f"{c}/{rest}" in tree)
        found[rest] = Item(rest, _title(tree, files[0][1], rest), _group(rest), files)
    return sorted(found.values(), key=lambda i: (GROUPS.index(i.group), i.title.lower()))


def _group(rest: str) -> str:
    if rest.startswith("topics/"):
        return "Topics"
    return {"menu.yaml": "Menus", "intents.yaml": "Intents", "prompts.yaml": "Prompts"}.get(rest, "Other words")


def _title(tree, file: str, rest: str) -> str:
    if rest.startswith("topics/"):
        label = yaml_edit.value_at(tree[file], ("label",)) if _parses(tree[file]) else None
        keyword = yaml_edit.value_at(tree[file], ("keyword",)) if _parses(tree[file]) else None
        if label:
            return f"{keyword}: {label}" if keyword else label
    names = {"menu.yaml": "Menus: the phone keys and texted lists", "intents.yaml": "Intents: safety, feelings, cost, thanks ...",
             "prompts.yaml": "Prompts: the words around the topics", "glossary.yaml": "Glossary: words to explain or avoid",
             "language.yaml": "Language: names, voice, reading level", "opt-in.yaml": "Opt-in words",
             "opt-out.yaml": "Opt-out words"}
    return names.get(rest, rest)


def _parses(body: str) -> bool:
    try:
        yaml_edit.fields(body)
    except yaml_edit.EditError:
        return False
    return True


@dataclass
class DraftView:
    """A draft's content: the published tree with its edits, checked once per page."""

    tree: releases.Tree
    published: releases.Tree

    @cached_property
    def loaded(self) -> Loaded:
        return releases.check(self.tree)

    @property
    def library(self):
        return self.loaded.library

    def problems(self, file: str | None = None) -> list:
        found = self.loaded.errors + self.loaded.warnings
        if file is None:
            return found
        return [p for p in found if p.file in (f"content/{file}", file)]

    def field_feedback(self, library, file: str, field: yaml_edit.Field) -> tuple[list, list]:
        """The measures and the problems for one field, as `line check` finds them."""
        measures = measure(library, file, field.path, field.value) if library is not None else []
        return measures, problems_for(self.problems(file), f"content/{file}", field.line, field.end_line)


def draft_view(conn, draft_id: int | None, published: releases.Tree) -> DraftView:
    tree = drafts.tree(conn, draft_id, published) if draft_id is not None else published
    return DraftView(tree, published)


__all__ = ["Console", "DraftView", "Item", "draft_view", "items", "kind_of", "languages"]
