"""The line's tables, and the steps that bring an older database up to date.

The schema is versioned in `schema_info`. A new database is made at the latest version straight
from `metadata`; MIGRATIONS bring older ones up without losing rows. To add a table: define it
here, and add a step to MIGRATIONS that makes it in an existing database (a new database gets it
from `metadata`).
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint, delete,
                        func, insert, inspect, select, text)
from sqlalchemy.engine import Connection

metadata = MetaData()
numbers = Table(
    "numbers", metadata,
    Column("number_hash", String(64), primary_key=True),
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("language", String(8)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("revision", Integer, nullable=False, server_default="0"),  # version 2
    # When the line first answered the number, on a row made for that alone (version 5): such a
    # row says only "answered" and goes after the retention period (purge.py). NULL on rows made
    # by STOP, START or a language choice, which are kept.
    Column("answered_at", DateTime(timezone=True)),
)
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("language", String(8), nullable=False),
    Column("step", String(64), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("call_hash", String(64)),  # version 2
)
unmatched = Table(
    "unmatched", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("language", String(8), nullable=False),
    Column("text", String(200), nullable=False),
)
texts_sent = Table(
    "texts_sent", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("number_hash", String(64), nullable=False, index=True),
    Column("call_hash", String(64), nullable=False),
)
seen_requests = Table(  # version 3; version 4: no index on `at`, and on SQLite kept by its key alone
    "seen_requests", metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(12)),  # a call step that asked for a text: what came of it
    # Every text writes a row here before it is answered, so the row is made as cheap as it can
    # be: one B-tree on SQLite (WITHOUT ROWID: the key is the table), and no index on `at` (it
    # cost as much again on every text; the hourly purge reads the table through instead).
    sqlite_with_rowid=False,
)
schema_info = Table("schema_info", metadata, Column("version", Integer, nullable=False))

# -- the staff console (version 6; line/staff/): accounts, drafts and their reviews, releases of
# the content folder, and the audit log. Nothing here holds a texter's number or words.
staff = Table(
    "staff", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # editor, reviewer or admin
    Column("pw_hash", String(200), nullable=False),  # argon2id
    Column("one_time", Boolean, nullable=False, default=True),  # a password to replace at first login
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
)
drafts = Table(
    "drafts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    # draft -> in_review -> approved -> published; in_review -> changes_requested -> in_review ...;
    # withdrawn by its author at any time before it is published
    Column("state", String(20), nullable=False),
    Column("author_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("revision", Integer, nullable=False, default=0),  # every change adds one: a stale form changes nothing
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("release_id", Integer),  # the release it became
)
draft_edits = Table(
    "draft_edits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draft_id", Integer, ForeignKey("drafts.id"), nullable=False, index=True),
    Column("file", String(200), nullable=False),  # relative to content/, like es/topics/results.yaml
    Column("path", String(300), nullable=False),  # the field in it (line/staff/yaml_edit.key)
    Column("base_text", Text, nullable=False),  # the published words the edit was made over
    Column("new_text", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("draft_id", "file", "path"),
)
reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draft_id", Integer, ForeignKey("drafts.id"), nullable=False, index=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("verdict", String(20), nullable=False),  # submitted, approved, changes_requested, withdrawn
    Column("note", Text, nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
)
releases = Table(
    "releases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the release's number
    Column("kind", String(12), nullable=False),  # first, publish, rollback, adopt
    Column("why", Text, nullable=False),
    Column("made_by", String(80), nullable=False),  # a staff name, or "the console" for the first
    Column("approved_by", String(80)),
    Column("draft_id", Integer),
    Column("equal_to", Integer),  # a rollback: the release it is equal to
    Column("tree_hash", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
blobs = Table(  # each file's text once, by its SHA-256: a release keeps the whole tree cheaply
    "blobs", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("text", Text, nullable=False),
)
release_files = Table(
    "release_files", metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("path", String(200), primary_key=True),
    Column("sha256", String(64), nullable=False),
)
field_changes = Table(  # which fields each release changed: a translation older than its English
    "field_changes", metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("file", String(200), primary_key=True),
    Column("path", String(300), primary_key=True),
)
audit = Table(  # append-only; each row's hash covers the one before it, so a removed or changed row shows
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(30), nullable=False),
    Column("object", String(300), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
STAFF_TABLES = (staff, drafts, draft_edits, reviews, releases, blobs, release_files, field_changes, audit)


# -- migrations: each takes a database at the version before it to its own version ----------
# Version 1 is the schema the line first shipped with.
def _v2_call_key_and_revision(conn: Connection) -> None:
    """events.call_hash tells a call's steps apart (where callers leave the menu);
    numbers.revision counts STOP/START writes, so the one in force is the last one."""
    conn.execute(text("ALTER TABLE events ADD COLUMN call_hash VARCHAR(64)"))
    conn.execute(text("ALTER TABLE numbers ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"))


def _v3_seen_requests(conn: Connection) -> None:
    """seen_requests: Twilio's ids of what was handled, so a replay changes nothing again."""
    seen_requests.create(conn)


def _v4_lean_seen_requests(conn: Connection) -> None:
    """seen_requests without its index on `at`, and on SQLite kept by its key alone (the table
    is made again with its rows: SQLite cannot change that of a table in place)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("ALTER TABLE seen_requests RENAME TO seen_requests_v3"))
        conn.execute(text("DROP INDEX IF EXISTS ix_seen_requests_at"))
        seen_requests.create(conn)
        conn.execute(text("INSERT INTO seen_requests (key_hash, at, outcome) "
                          "SELECT key_hash, at, outcome FROM seen_requests_v3"))
        conn.execute(text("DROP TABLE seen_requests_v3"))
    else:
        conn.execute(text("DROP INDEX IF EXISTS ix_seen_requests_at"))


def _v5_answered_at(conn: Connection) -> None:
    """numbers.answered_at: a row made only because the line answered the number (its first
    reply carried the first_text notice), so it can be told from an opt-out and purged."""
    kind = numbers.c.answered_at.type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE numbers ADD COLUMN answered_at {kind}"))


def _v6_staff_console(conn: Connection) -> None:
    """The staff console's tables (line/staff/): accounts, drafts, reviews, releases, audit."""
    for table in STAFF_TABLES:
        table.create(conn, checkfirst=True)  # checkfirst: a database made by a newer line, then marked older


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (2, _v2_call_key_and_revision),
    (3, _v3_seen_requests),
    (4, _v4_lean_seen_requests),
    (5, _v5_answered_at),
    (6, _v6_staff_console),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def version_of(conn: Connection) -> int | None:
    """The schema version of the database; None for an empty database."""
    inspector = inspect(conn)
    if inspector.has_table("schema_info"):
        found = conn.execute(select(func.max(schema_info.c.version))).scalar()
        if found is not None:
            return found
    return 1 if inspector.has_table("numbers") or inspector.has_table("events") else None


def bring_up_to_date(conn: Connection, found: int | None) -> None:
    """Make the schema in an empty database, or apply the steps an older one lacks."""
    if found is None:
        metadata.create_all(conn)
    elif found < SCHEMA_VERSION:
        for version, step in MIGRATIONS:
            if version > found:
                step(conn)
    if found is None or found < SCHEMA_VERSION:
        conn.execute(delete(schema_info))
        conn.execute(insert(schema_info).values(version=SCHEMA_VERSION))
