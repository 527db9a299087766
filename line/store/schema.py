"""The line's tables, and the steps that bring an older database up to date.

The schema is versioned in `schema_info`. A new database is made at the latest version straight
from `metadata`; MIGRATIONS bring older ones up without losing rows. To add a table: define it
here, and add a step to MIGRATIONS that makes it in an existing database (a new database gets it
from `metadata`).
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, delete, func, insert, inspect, select, text
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


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (2, _v2_call_key_and_revision),
    (3, _v3_seen_requests),
    (4, _v4_lean_seen_requests),
    (5, _v5_answered_at),
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
