"""Releases of the content folder: what the line serves, numbered, with who, when and why.

A release is the whole tree of content/ (every file's text, kept once by its SHA-256), so any two
can be compared and any one restored. Publishing, rolling back and adopting edits made outside
the console all end here: the new tree is checked by the same loader the line serves
(line/content/load.py, as `line check` runs it), in a folder of its own; only a tree without
errors is written into content/, atomically (see `write_tree`); the running line picks it up
within its reload interval, as it would any edit. History is never rewritten: a rollback is a
new release equal to an older one.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import desc, func, insert, select, text
from sqlalchemy.engine import Connection

from ..content import load
from ..content.load import Loaded
from ..reload import PUBLISHING
from ..store.schema import blobs, field_changes, release_files, releases
from . import audit, yaml_edit

Tree = dict[str, str]  # a path relative to content/ ("es/topics/results.yaml") -> the file's text
_LOCK_KEY = 7_261_003  # pg_advisory_xact_lock: one release at a time, on every host


class ReleaseRefused(Exception):
    """Why a tree cannot become a release: its problems, or a conflict, in words for staff."""

    def __init__(self, message: str, problems: tuple = ()):
        super().__init__(message)
        self.problems = problems


def read_tree(folder: Path) -> Tree:
    """Every file under `folder` but hidden ones (as the reloader's fingerprint sees it)."""
    tree: Tree = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        tree[rel.as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    return tree


def sha(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def tree_hash(tree: Tree) -> str:
    return sha("\n".join(f"{path}\0{sha(body)}" for path, body in sorted(tree.items())))


def check(tree: Tree) -> Loaded:
    """The tree loaded and checked as the line would serve it, and as `line check` reports it:
    problems name files as `line check` does ('content/es/topics/results.yaml')."""
    with tempfile.TemporaryDirectory(prefix="line-staff-") as tmp:
        folder = Path(tmp) / "content"
        for rel, body in tree.items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        return load(folder)


def write_tree(folder: Path, tree: Tree) -> None:
    """Make content/ hold exactly `tree`. Each file is replaced whole (written beside it, then
    renamed over it), and the reloader of every worker waits while the `.publishing` marker is
    there, so the line never loads a folder half old and half new."""
    current = read_tree(folder)
    marker = folder / PUBLISHING
    marker.write_text(str(os.getpid()))
    try:
        for rel, body in tree.items():
            if current.get(rel) == body:
                continue
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with open(tmp, "w", encoding="utf-8") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        for rel in set(current) - set(tree):
            (folder / rel).unlink(missing_ok=True)
    finally:
        marker.unlink(missing_ok=True)


# -- the releases in the database --------------------------------------------------------------
def latest(conn: Connection):
    return conn.execute(select(releases).order_by(desc(releases.c.id)).limit(1)).mappings().first()


def get(conn: Connection, number: int):
    return conn.execute(select(releases).where(releases.c.id == number)).mappings().first()


def every(conn: Connection) -> list:
    return list(conn.execute(select(releases).order_by(desc(releases.c.id))).mappings())


def tree_of(conn: Connection, number: int) -> Tree:
    query = (select(release_files.c.path, blobs.c.text).join(blobs, blobs.c.sha256 == release_files.c.sha256)
             .where(release_files.c.release_id == number))
    return {path: body for path, body in conn.execute(query)}


def last_changed(conn: Connection) -> dict[tuple[str, str], int]:
    """(file, field key) -> the newest release that changed it (stale translations)."""
    query = select(field_changes.c.file, field_changes.c.path, func.max(field_changes.c.release_id)).group_by(
        field_changes.c.file, field_changes.c.path)
    return {(f, p): n for f, p, n in conn.execute(query)}


def changed_fields(old: Tree, new: Tree) -> set[tuple[str, str]]:
    """The fields whose words differ between two trees, as (file, field key)."""
    changed = set()
    for rel in set(old) | set(new):
        before, after = old.get(rel), new.get(rel)
        if before == after or not rel.endswith(".yaml"):
            continue
        try:
            was = {yaml_edit.key(f.path): f.value for f in yaml_edit.fields(before)} if before else {}
            now = {yaml_edit.key(f.path): f.value for f in yaml_edit.fields(after)} if after else {}
        except yaml_edit.EditError:
            continue  # a file that does not parse changes no field we can name
        changed.update((rel, k) for k in set(was) | set(now) if was.get(k) != now.get(k))
    return changed


@contextmanager
def one_at_a_time(conn: Connection):
    """Releases are made one at a time: SQLite's write lock is already held by the caller's
    transaction; PostgreSQL's workers and hosts take this advisory lock, held to its end."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    yield


def record(conn: Connection, tree: Tree, kind: str, why: str, made_by: str, approved_by: str | None = None,
           draft_id: int | None = None, equal_to: int | None = None, previous: Tree | None = None) -> int:
    """Keep `tree` as the next release; its number."""
    number = conn.execute(insert(releases).values(
        kind=kind, why=why, made_by=made_by, approved_by=approved_by, draft_id=draft_id, equal_to=equal_to,
        tree_hash=tree_hash(tree), at=datetime.now(timezone.utc))).inserted_primary_key[0]
    known = set(conn.execute(select(blobs.c.sha256).where(blobs.c.sha256.in_([sha(b) for b in tree.values()]))).scalars())
    fresh = {sha(body): body for body in tree.values() if sha(body) not in known}
    if fresh:
        conn.execute(insert(blobs), [{"sha256": k, "text": v} for k, v in fresh.items()])
    conn.execute(insert(release_files), [{"release_id": number, "path": p, "sha256": sha(b)} for p, b in tree.items()])
    fields = changed_fields(previous or {}, tree) if previous is not None else {
        (rel, yaml_edit.key(f.path)) for rel, body in tree.items() if rel.endswith(".yaml")
        for f in _fields_or_none(body)}
    if fields:
        conn.execute(insert(field_changes), [{"release_id": number, "file": f, "path": p} for f, p in sorted(fields)])
    return number


def _fields_or_none(body: str):
    try:
        return yaml_edit.fields(body)
    except yaml_edit.EditError:
        return []


def make(conn: Connection, folder: Path, tree: Tree, kind: str, why: str, made_by: str, **extra) -> int:
    """Check `tree`, write it into content/ and keep it as the next release, in `conn`'s
    transaction (the caller's: a failure leaves neither). ReleaseRefused when it has errors or
    when content/ holds edits made outside the console since the last release."""
    with one_at_a_time(conn):
        last = latest(conn)
        previous = tree_of(conn, last["id"]) if last is not None else {}
        if last is not None and kind != "adopt" and tree_hash(read_tree(folder)) != last["tree_hash"]:
            raise ReleaseRefused("content/ was changed outside the console since release "
                                 f"{last['id']}: adopt or undo those changes first (Releases page).")
        loaded = check(tree)
        if loaded.errors:
            raise ReleaseRefused(f"{len(loaded.errors)} problem(s) must be fixed first.", tuple(loaded.errors))
        number = record(conn, tree, kind, why, made_by, previous=previous if last is not None else None, **extra)
        write_tree(folder, tree)
        audit.append(conn, made_by, {"publish": "published", "rollback": "rolled back", "adopt": "adopted",
                                     "first": "first release"}[kind], f"release {number}", why=why,
                     **{k: v for k, v in extra.items() if v is not None})
        return number


def first(conn: Connection, folder: Path) -> int | None:
    """Release 1, the content as the console first found it (if it loads without errors)."""
    with one_at_a_time(conn):
        if latest(conn) is not None:
            return None
        tree = read_tree(folder)
        if check(tree).errors:
            return None
        number = record(conn, tree, "first", "The content as the console first found it.", "the console")
        audit.append(conn, "the console", "first release", f"release {number}")
        return number
