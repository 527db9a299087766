"""Drafts: a change-set of edits to the content's fields, from its author's first edit to release.

    draft ──submit──> in_review ──approve──> approved ──publish──> published
      ^                  │
      └── changes_requested (sent back, with a note) ──submit──> in_review ...
    withdrawn: by its author, any time before it is published

An edit keeps the published words it was made over (`base_text`): if those change before the
draft is published (another draft published first, or an edit outside the console), publishing
stops and names the field, so nobody's words are overwritten unseen. Every change to a draft adds
one to its `revision`; a form carries the revision it was shown, so a stale form or a second
click changes nothing twice. Each step goes in the audit log, naming the field, never the words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, desc, insert, select, update
from sqlalchemy.engine import Connection

from ..store.schema import draft_edits, drafts, reviews, staff
from . import audit, releases, yaml_edit
from .accounts import Person

EDITABLE = ("draft", "changes_requested")
OPEN = ("draft", "in_review", "changes_requested", "approved")
MAX_TITLE = 200
MAX_NOTE = 2000
MAX_FIELD = 5000


class DraftError(Exception):
    """Why a step cannot be taken, in words for staff; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Conflict:
    """An edit not saved because the field changed since the form was shown."""

    file: str
    path: str
    now: str  # the words the field has now
    yours: str  # the words the form sent, kept to be used again


def now() -> datetime:
    return datetime.now(timezone.utc)


def get(conn: Connection, draft_id: int):
    query = select(drafts, staff.c.name.label("author")).join(staff, staff.c.id == drafts.c.author_id).where(
        drafts.c.id == draft_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise DraftError("There is no such draft.", 404)
    return row


def listing(conn: Connection, states=OPEN) -> list:
    query = (select(drafts, staff.c.name.label("author")).join(staff, staff.c.id == drafts.c.author_id)
             .where(drafts.c.state.in_(states)).order_by(desc(drafts.c.updated_at)))
    return list(conn.execute(query).mappings())


def edits(conn: Connection, draft_id: int) -> list:
    return list(conn.execute(select(draft_edits).where(draft_edits.c.draft_id == draft_id)
                             .order_by(draft_edits.c.file, draft_edits.c.id)).mappings())


def history(conn: Connection, draft_id: int) -> list:
    query = (select(reviews, staff.c.name.label("who")).join(staff, staff.c.id == reviews.c.staff_id)
             .where(reviews.c.draft_id == draft_id).order_by(reviews.c.id))
    return list(conn.execute(query).mappings())


def create(conn: Connection, person: Person, title: str) -> int:
    title = " ".join((title or "").split())
    if not title:
        raise DraftError("Say in a few words what the draft changes and why, like 'Shorter Spanish text on results'.", 400)
    if len(title) > MAX_TITLE:
        raise DraftError(f"A draft's title is at most {MAX_TITLE} characters.", 400)
    draft_id = conn.execute(insert(drafts).values(title=title, state="draft", author_id=person.id, revision=0,
                                                  created_at=now(), updated_at=now())).inserted_primary_key[0]
    audit.append(conn, person.name, "draft started", f"draft {draft_id}")
    return draft_id


def _bump(conn: Connection, draft, revision: int | None, **values) -> None:
    """Change the draft if it is still at `revision` (the one the form showed): one writer wins."""
    query = update(drafts).where(drafts.c.id == draft["id"])
    if revision is not None:
        query = query.where(drafts.c.revision == revision)
    done = conn.execute(query.values(revision=drafts.c.revision + 1, updated_at=now(), **values)).rowcount
    if not done:
        raise DraftError("This draft changed since the page was opened (another tab, or a second click): "
                         "nothing was changed. Here it is as it is now.")


def tree(conn: Connection, draft_id: int, published: releases.Tree) -> releases.Tree:
    """The content as it would be with the draft's edits: the published tree, each edited field replaced."""
    by_file: dict[str, dict] = {}
    for edit in edits(conn, draft_id):
        by_file.setdefault(edit["file"], {})[yaml_edit.parse_key(edit["path"])] = edit["new_text"]
    result = dict(published)
    for file, changes in by_file.items():
        if file in result:
            result[file] = yaml_edit.replace(result[file], changes)
    return result


def others_editing(conn: Connection, draft_id: int, file: str, path: str) -> list:
    """Other open drafts that change the same field: whoever publishes second must redo it."""
    query = (select(drafts.c.id, drafts.c.title, staff.c.name.label("author"))
             .join(draft_edits, draft_edits.c.draft_id == drafts.c.id).join(staff, staff.c.id == drafts.c.author_id)
             .where(draft_edits.c.file == file, draft_edits.c.path == path, drafts.c.id != draft_id,
                    drafts.c.state.in_(OPEN)))
    return list(conn.execute(query).mappings())


def may_edit(draft, person: Person) -> None:
    if not person.can("edit"):
        raise DraftError("Your role cannot edit drafts.", 403)
    if draft["author_id"] != person.id and person.role != "admin":
        raise DraftError(f"This draft is {draft['author']}'s: start a draft of your own.", 403)
    if draft["state"] not in EDITABLE:
        raise DraftError(f"This draft is {draft['state'].replace('_', ' ')}: it can no longer be edited.")


def save(conn: Connection, draft, person: Person, published: releases.Tree, revision: int,
         changes: list[tuple[str, str, str, str]]) -> tuple[list[str], list[Conflict]]:
    """Save the fields a form sent: each (file, field key, the words the form showed, the words
    now). A field whose words changed since the form showed them is not saved (a Conflict);
    a field back to its published words is no longer an edit. The saved fields' names."""
    may_edit(draft, person)
    current = {(e["file"], e["path"]): e for e in edits(conn, draft["id"])}
    saved, conflicts = [], []
    for file, key, shown, words in changes:
        if file not in published:
            raise DraftError(f"There is no file {file} in the content.", 400)
        path = yaml_edit.parse_key(key)
        base = yaml_edit.value_at(published[file], path)
        if base is None:
            raise DraftError(f"{file} has no field {key}.", 400)
        if len(words) > MAX_FIELD:
            raise DraftError(f"{file} {key}: a field is at most {MAX_FIELD} characters.", 400)
        edit = current.get((file, key))
        in_draft = edit["new_text"] if edit is not None else base
        if _same(shown, in_draft) and _same(words, in_draft):
            continue  # not changed by this form
        if not _same(shown, in_draft):
            conflicts.append(Conflict(file, key, in_draft, words))
            continue
        yaml_edit.replace(published[file], {path: words})  # raises EditError for words that cannot be written
        if edit is not None and _same(words, edit["base_text"]):
            conn.execute(delete(draft_edits).where(draft_edits.c.id == edit["id"]))
        elif edit is not None:
            conn.execute(update(draft_edits).where(draft_edits.c.id == edit["id"]).values(new_text=words, updated_at=now()))
        elif not _same(words, base):
            conn.execute(insert(draft_edits).values(draft_id=draft["id"], file=file, path=key, base_text=base,
                                                    new_text=words, updated_at=now()))
        else:
            continue
        saved.append(f"{file} {key}")
    if saved:
        _bump(conn, draft, revision)
        audit.append(conn, person.name, "edited", f"draft {draft['id']}", fields=saved)
    return saved, conflicts


def _same(a: str, b: str) -> bool:
    """Browsers send a textarea's lines with CR LF: the same words either way."""
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def submit(conn: Connection, draft, person: Person, revision: int, problems: tuple) -> None:
    if draft["author_id"] != person.id:
        raise DraftError("Only the draft's author submits it for review.", 403)
    if draft["state"] not in EDITABLE:
        raise DraftError(f"This draft is already {draft['state'].replace('_', ' ')}: nothing was changed.")
    if not edits(conn, draft["id"]):
        raise DraftError("This draft changes nothing yet: edit a field first.", 400)
    if problems:
        raise DraftError(f"Fix the {len(problems)} problem(s) shown first; your edits are kept.", 400)
    _bump(conn, draft, revision, state="in_review")
    conn.execute(insert(reviews).values(draft_id=draft["id"], staff_id=person.id, verdict="submitted", note="", at=now()))
    audit.append(conn, person.name, "submitted", f"draft {draft['id']}")


def review(conn: Connection, draft, person: Person, revision: int, verdict: str, note: str, problems: tuple) -> None:
    """A reviewer who is not the draft's author approves it, or sends it back with a note."""
    if not person.can("review"):
        raise DraftError("Your role cannot review drafts.", 403)
    if draft["author_id"] == person.id:
        raise DraftError("A draft is approved by someone other than its author: ask another reviewer.", 403)
    if draft["state"] != "in_review":
        raise DraftError(f"This draft is {draft['state'].replace('_', ' ')}, not waiting for review: nothing was changed.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DraftError(f"A note is at most {MAX_NOTE} characters.", 400)
    if verdict == "approved" and problems:
        raise DraftError(f"This draft has {len(problems)} problem(s): it cannot be approved. Send it back.", 400)
    if verdict == "changes_requested" and not note:
        raise DraftError("Say what to change, so the author knows.", 400)
    if verdict not in ("approved", "changes_requested"):
        raise DraftError("Approve, or send back with a note.", 400)
    _bump(conn, draft, revision, state=verdict)
    conn.execute(insert(reviews).values(draft_id=draft["id"], staff_id=person.id, verdict=verdict, note=note, at=now()))
    audit.append(conn, person.name, "approved" if verdict == "approved" else "sent back", f"draft {draft['id']}")


def withdraw(conn: Connection, draft, person: Person, revision: int) -> None:
    if draft["author_id"] != person.id and person.role != "admin":
        raise DraftError("Only the draft's author withdraws it.", 403)
    if draft["state"] not in ("draft", "in_review", "changes_requested", "approved"):
        raise DraftError(f"This draft is {draft['state']}: nothing was changed.")
    _bump(conn, draft, revision, state="withdrawn")
    conn.execute(insert(reviews).values(draft_id=draft["id"], staff_id=person.id, verdict="withdrawn", note="", at=now()))
    audit.append(conn, person.name, "withdrew", f"draft {draft['id']}")


def conflicts_with_published(conn: Connection, draft_id: int, published: releases.Tree) -> list[str]:
    """The draft's fields whose published words changed since they were edited."""
    stale = []
    for edit in edits(conn, draft_id):
        body = published.get(edit["file"])
        now_ = yaml_edit.value_at(body, yaml_edit.parse_key(edit["path"])) if body is not None else None
        if now_ is None or not _same(now_, edit["base_text"]):
            stale.append(f"{edit['file']} {edit['path']}")
    return stale


def publish(conn: Connection, draft, person: Person, folder, published: releases.Tree) -> int:
    """An approved draft becomes the next release (releases.make checks it whole first)."""
    if not person.can("publish"):
        raise DraftError("Your role cannot publish.", 403)
    if draft["state"] == "published":
        raise DraftError(f"This draft is already published, as release {draft['release_id']}: nothing was changed.")
    if draft["state"] != "approved":
        raise DraftError("Only an approved draft is published.")
    stale = conflicts_with_published(conn, draft["id"], published)
    if stale:
        raise DraftError("Since this draft was made, these fields were changed by another release: "
                         + "; ".join(stale) + ". Send it back so its author redoes them over the new words.")
    approver = conn.execute(select(staff.c.name).join(reviews, reviews.c.staff_id == staff.c.id)
                            .where(reviews.c.draft_id == draft["id"], reviews.c.verdict == "approved")
                            .order_by(desc(reviews.c.id)).limit(1)).scalar()
    number = releases.make(conn, folder, tree(conn, draft["id"], published), "publish", draft["title"], draft["author"],
                           approved_by=approver, draft_id=draft["id"])
    _bump(conn, draft, None, state="published", release_id=number)
    return number
