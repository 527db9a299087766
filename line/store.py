"""Opt-outs, usage events and the line's schema, through SQLAlchemy Core.

SQLite (a file in the data folder) is the default; PostgreSQL when DATABASE_URL says so
(`postgresql://...`, or `postgres://...` as hosting platforms hand it out).

What is kept, and why (docs/operations.md, "What is stored, and for how long", says the same):
- `numbers`: a keyed hash (HMAC-SHA256) of each number that sent STOP or START, whether it is
  opted out, and how many such writes it has had (`revision`, so the last word is known).
  Never the number itself. Kept while the line runs: an opt-out must be honoured for good.
- `events`: one row per answer: time, channel, language, step (menu or topic id), outcome, and
  for calls a keyed hash of the call's id (to tell where callers leave the menu), cleared after
  the retention period.
- `unmatched`: texts and speech nobody understood, with digits, emails and numbers removed,
  deleted after the retention period (LINE_RETENTION_DAYS, 90 days by default).
- `texts_sent`: hashed number and call of each text sent from a call, for the limits; deleted
  after two days.

The schema is versioned in `schema_info`. `Store.upgrade()` makes a new database at the latest
version, or applies the missing steps of MIGRATIONS to an older one, in one transaction, under a
lock that keeps two workers from doing it at once (PostgreSQL: an advisory transaction lock;
SQLite: BEGIN IMMEDIATE). When the database cannot be reached the store raises, and tries the
upgrade again on its next use: the line keeps answering without it.
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import (
    Boolean, Column, DateTime, Integer, MetaData, String, Table, create_engine, delete, event,
    func, insert, inspect, select, text, update,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
TEXTS_SENT_KEPT = timedelta(days=2)  # the daily limit looks back one day
PURGE_EVERY = 3600.0  # seconds between purges while the line runs
_UPGRADE_LOCK = 7_241_950_318  # pg_advisory_xact_lock key: "the line's schema"

metadata = MetaData()
numbers = Table(
    "numbers", metadata,
    Column("number_hash", String(64), primary_key=True),
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("language", String(8)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("revision", Integer, nullable=False, server_default="0"),  # version 2
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
schema_info = Table("schema_info", metadata, Column("version", Integer, nullable=False))


# -- migrations: each takes a database at the version before it to its own version ----------
# Version 1 is the schema the line first shipped with. A new database is made at the latest
# version straight from `metadata`; these steps bring older ones up without losing rows.
def _v2_call_key_and_revision(conn: Connection) -> None:
    """events.call_hash tells a call's steps apart (where callers leave the menu);
    numbers.revision counts STOP/START writes, so the one in force is the last one."""
    conn.execute(text("ALTER TABLE events ADD COLUMN call_hash VARCHAR(64)"))
    conn.execute(text("ALTER TABLE numbers ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"))


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (2, _v2_call_key_and_revision),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
# The columns of queued rows (usage events and texts nobody understood), in order.
QUEUED_COLUMNS = {
    events: ("at", "channel", "language", "step", "outcome", "call_hash"),
    unmatched: ("at", "channel", "language", "text"),
}
FLUSH_SECONDS = 0.5  # usage events are written once the oldest has waited this long (at most twice this)
FLUSH_EVENTS = 200  # ... or once this many are queued
MAX_PENDING_EVENTS = 20000  # kept in memory while the database is away

# -- texts nobody understood -----------------------------------------------------------------
_EMAIL = re.compile(r"\S+@\S+")
_NUMBERISH = re.compile(r"\S*\d\S*")


def redact(text: str) -> str:
    """What staff may read of a text nobody understood: no emails, numbers or digits."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)  # no NUL or control characters
    text = _EMAIL.sub("[email]", text)
    text = _NUMBERISH.sub("[number]", text)
    return " ".join(text.split())[:200]


# -- where the database is -------------------------------------------------------------------
def normalize_url(url: str) -> str:
    """Accept postgres:// (as hosting platforms give it) and use the psycopg driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def safe_url(url: str) -> str:
    """The database URL with no user, password or query: safe for logs and /healthz."""
    try:
        parsed = make_url(normalize_url(url))
    except Exception:
        return "(a DATABASE_URL that cannot be read)"
    bare = URL.create(parsed.get_backend_name(), host=parsed.host, port=parsed.port, database=parsed.database)
    return bare.render_as_string(hide_password=True)


def reason(exc: BaseException) -> str:
    """What went wrong, by kind only: driver messages can hold user names and parameters."""
    orig = getattr(exc, "orig", None)
    if orig is not None:
        return f"{type(exc).__name__} ({type(orig).__module__.split('.')[0]}.{type(orig).__name__})"
    return type(exc).__name__


def load_secret(settings) -> bytes:
    """The key for hashing numbers: LINE_SECRET, or one made once and kept in the data folder."""
    if settings.secret:
        return settings.secret.encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: the first worker wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value):
    """SQLite gives back UTC times without their zone: say it, so PostgreSQL does not guess."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


SLOW_FAILURE_SECONDS = 0.5  # a database that fails this slowly is timing out, not refusing
PAUSE_AFTER_SLOW_FAILURE = 2.0  # ... so for this long, answers do not wait on it again


class StoreUnavailable(RuntimeError):
    """The database timed out a moment ago: answer without it rather than wait again."""


def _guarded(method):
    """An answer must not wait seconds on a database that is timing out (a host that is down
    drops packets: every connection attempt waits for its timeout). After one slow failure the
    store fails fast for a short pause; a database that refuses at once is tried every time."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        if time.monotonic() < self._paused_until:
            raise StoreUnavailable("the database timed out a moment ago")
        started = time.monotonic()
        try:
            return method(self, *args, **kwargs)
        except Exception:
            if time.monotonic() - started >= SLOW_FAILURE_SECONDS:
                self._paused_until = time.monotonic() + PAUSE_AFTER_SLOW_FAILURE
                log.warning("the database is timing out; answering without it for %.0f s", PAUSE_AFTER_SLOW_FAILURE)
            raise

    return guarded


def _use_wal(cursor, attempts: int = 100) -> None:
    """Put an SQLite database in WAL mode (once; it stays so). Switching takes a lock that
    SQLite does not wait for, so workers starting together try again for a few seconds."""
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


class Store:
    def __init__(self, url: str, secret: bytes | None, retention_days: int = DEFAULT_RETENTION_DAYS):
        """`secret` is the key for hashing numbers; None opens the store for reports and upkeep only."""
        self.url = normalize_url(url)
        self.safe_url = safe_url(url)
        self.secret = secret
        self.retention_days = retention_days
        self.engine = self._engine(self.url)
        self.dialect = self.engine.dialect.name
        # Writes take SQLite's write lock at BEGIN, so they wait their turn instead of failing.
        self._writer = self.engine.execution_options(sqlite_immediate=True)
        self._ready = False
        self._upgrading = threading.Lock()
        self._last_purge = time.monotonic()
        self._pending: list[tuple[Table, tuple]] = []
        self._pending_lock = threading.Lock()
        self._oldest = 0.0  # when the oldest queued row was queued (time.monotonic)
        self._retry_pause, self._retry_flush_at = FLUSH_SECONDS, 0.0
        self._dropped = 0
        self._flushing = threading.Lock()
        self._flusher_start = threading.Lock()
        self._flusher_pid: int | None = None
        self._flush_failing = False
        self._paused_until = 0.0
        self._reader = threading.local()  # each thread's connection for state_of
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._state_sql = f"SELECT opted_out, language FROM numbers WHERE number_hash = {mark}"
        # Queued rows go to the driver as they are (a third of the time of SQLAlchemy's inserts).
        self._queued_sql = {
            table: f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
            for table, columns in QUEUED_COLUMNS.items()
        }

    def _db_time(self, epoch: float):
        """A queued time as the column wants it: SQLite keeps UTC as text, as SQLAlchemy writes it."""
        moment = datetime.fromtimestamp(epoch, timezone.utc)
        if self.dialect == "sqlite":
            return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
        return moment

    @staticmethod
    def _engine(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 10}, hide_parameters=True)

            @event.listens_for(engine, "connect")
            def _pragmas(conn, _record):
                conn.isolation_level = None  # SQLAlchemy's "begin" below says BEGIN itself
                cur = conn.cursor()
                _use_wal(cur)
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            @event.listens_for(engine, "begin")
            def _begin(conn):
                immediate = conn.get_execution_options().get("sqlite_immediate")
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 3}
        # Each thread that answers keeps one connection for its opt-out reads (state_of); writes
        # check one out and give it back. Room for a gthread worker's threads plus its writes.
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=15, hide_parameters=True,
                             connect_args=connect_args)

    # -- schema ----------------------------------------------------------------------------
    @staticmethod
    def _version(conn: Connection) -> int | None:
        """The schema version of the database; None for an empty database."""
        inspector = inspect(conn)
        if inspector.has_table("schema_info"):
            found = conn.execute(select(func.max(schema_info.c.version))).scalar()
            if found is not None:
                return found
        return 1 if inspector.has_table("numbers") or inspector.has_table("events") else None

    def version(self) -> int | None:
        with self.engine.connect() as conn:
            return self._version(conn)

    @contextmanager
    def _locked(self):
        """A transaction that no other worker's upgrade runs beside."""
        with self._writer.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
            yield conn

    def upgrade(self) -> tuple[int | None, int]:
        """Make the schema, or bring it up to date. Returns (version found, version now)."""
        with self._upgrading:
            found = self.version()
            if found is not None and found >= SCHEMA_VERSION:
                if found > SCHEMA_VERSION:
                    log.warning("the database's schema (version %s) is newer than this line's (%s)",
                                found, SCHEMA_VERSION)
                self._ready = True
                return found, found
            with self._locked() as conn:
                found = self._version(conn)  # another worker may have done it meanwhile
                if found is None:
                    metadata.create_all(conn)
                elif found < SCHEMA_VERSION:
                    for version, step in MIGRATIONS:
                        if version > found:
                            step(conn)
                if found is None or found < SCHEMA_VERSION:
                    conn.execute(delete(schema_info))
                    conn.execute(insert(schema_info).values(version=SCHEMA_VERSION))
                    log.info("database schema: version %s -> %s", found or 0, SCHEMA_VERSION)
            self._ready = True
            return found, max(found or 0, SCHEMA_VERSION)

    def _ensure(self) -> None:
        if not self._ready:
            self.upgrade()

    def create(self) -> bool:
        """On start: make or upgrade the schema, then purge what is past keeping. When the database
        cannot be reached, say so and go on: the line answers without it and tries again later."""
        try:
            self.upgrade()
        except Exception as exc:
            log.error("the database at %s is not usable (%s); answering without it until it is",
                      self.safe_url, reason(exc))
            return False
        self._purge_quietly()
        return True

    def problems(self) -> list[str]:
        """What is wrong with the store, for /healthz: no user names, passwords or parameters."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except Exception as exc:
            return [f"database unreachable at {self.safe_url}: {reason(exc)}"]
        try:
            self._ensure()  # the schema could not be made at start: try again now
        except Exception as exc:
            return [f"database schema not ready at {self.safe_url}: {reason(exc)}"]
        return []

    def dispose(self) -> None:
        self._drop_reading_connection()
        self.engine.dispose()

    def hash(self, value: str) -> str:
        if not self.secret:
            raise RuntimeError("this store was opened without the key for hashing numbers")
        return hmac.new(self.secret, value.strip().encode(), hashlib.sha256).hexdigest()

    # -- numbers ---------------------------------------------------------------------------
    def _upsert_insert(self):
        """The dialect's INSERT, which has ON CONFLICT DO UPDATE (both SQLite and PostgreSQL)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert

    @_guarded
    def set_opted_out(self, number: str, opted_out: bool) -> int:
        """Record STOP (True) or START (False) for a number. Returns the write's revision: writes
        to one number are numbered in the order the database applied them, and the last wins."""
        self._ensure()
        dialect_insert = self._upsert_insert()
        stmt = dialect_insert(numbers).values(number_hash=self.hash(number), opted_out=opted_out,
                                              updated_at=_now(), revision=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["number_hash"],
            set_={"opted_out": stmt.excluded.opted_out, "updated_at": stmt.excluded.updated_at,
                  "revision": numbers.c.revision + 1},
        ).returning(numbers.c.revision)
        with self._writer.begin() as conn:
            return conn.execute(stmt).scalar_one()

    def is_opted_out(self, number: str) -> bool:
        return self.state_of(number)[0]

    @_guarded
    def state_of(self, number: str) -> tuple[bool, str | None]:
        """(opted out?, the language the number chose, if any), in one read.

        Every text and call asks this, so it is one plain query on a driver connection that
        each thread keeps for it (checking a connection out of the pool and back in each time
        cost as much as the query). Never cached: an opt-out recorded by any worker on any host
        is honoured at once. A kept connection that fails (the database restarted) is thrown
        away and the read is tried once more on a fresh one, checked by the pool's pre-ping."""
        self._ensure()
        key = (self.hash(number),)
        for attempt in (1, 2):
            conn = self._reading_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(self._state_sql, key)
                row = cursor.fetchone()
                cursor.close()
                break
            except Exception:
                self._drop_reading_connection()
                if attempt == 2:
                    raise
        return (bool(row[0]), row[1]) if row else (False, None)

    def _reading_connection(self):
        held = getattr(self._reader, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        # None yet in this thread, or one made before a fork (it belongs to the parent: leave it be)
        conn = self.engine.raw_connection()
        if self.dialect == "postgresql":
            # Each read on its own, no transaction around it: one round trip instead of three
            # (BEGIN, the query, COMMIT), and every read sees every write committed before it.
            conn.rollback()
            conn.driver_connection.autocommit = True
        self._reader.held = (os.getpid(), conn)
        return conn

    def _drop_reading_connection(self) -> None:
        held = getattr(self._reader, "held", None)
        self._reader.held = None
        if held is not None and held[0] == os.getpid():
            try:
                held[1].invalidate()  # closed and never handed out again
            except Exception:
                log.debug("could not close a failed reading connection", exc_info=True)

    @_guarded
    def set_language(self, number: str, language: str) -> None:
        """Remember the language a texter chose (ESPANOL, ENGLISH); opt-outs are left as they are."""
        self._ensure()
        dialect_insert = self._upsert_insert()
        stmt = dialect_insert(numbers).values(number_hash=self.hash(number), opted_out=False, language=language,
                                              updated_at=_now(), revision=0)
        stmt = stmt.on_conflict_do_update(index_elements=["number_hash"],
                                          set_={"language": stmt.excluded.language, "updated_at": stmt.excluded.updated_at})
        with self._writer.begin() as conn:
            conn.execute(stmt)

    # -- usage -----------------------------------------------------------------------------
    def record(self, channel: str, language: str, step: str, outcome: str, call: str | None = None) -> None:
        """One answer. `call` is the call's id (CallSid): only its keyed hash is kept.

        Usage events are queued and written in batches, so an answer never waits on a usage
        write. Opt-outs are never queued: they are written before the reply."""
        self._queue(events, (time.time(), channel, language, step[:64], outcome[:20], self.hash(call) if call else None))

    def _queue(self, table: Table, row: tuple) -> None:
        """`row` holds the table's columns in QUEUED_COLUMNS order, the time as epoch seconds."""
        with self._pending_lock:
            if not self._pending:
                self._oldest = time.monotonic()
            if len(self._pending) >= MAX_PENDING_EVENTS:
                del self._pending[0]  # the database has been away a long while: keep the newest
                self._dropped += 1
            self._pending.append((table, row))
        if self._flusher_pid != os.getpid():
            self._start_flusher()

    def flush_due(self) -> bool:
        """Whether an answer that has gone out should write the queued rows: FLUSH_EVENTS of
        them, or the oldest has waited FLUSH_SECONDS.

        The worker that answered writes them, between answers: a background writer took the
        interpreter from answers in the middle of them (each time an answer let go of it for a
        database read). The thread started here writes them for a worker gone quiet, and alone
        tries again while the database is failing, less and less often, so no worker waits on a
        database that is away."""
        pending = self._pending
        if not pending or self._flush_failing or time.monotonic() < self._paused_until:
            return False
        return len(pending) >= FLUSH_EVENTS or time.monotonic() - self._oldest >= FLUSH_SECONDS

    def _start_flusher(self) -> None:
        with self._flusher_start:
            if self._flusher_pid == os.getpid():
                return
            self._flusher_pid = os.getpid()  # after a fork the parent's thread is gone: start one here
            threading.Thread(target=self._flush_loop, name="usage-events", daemon=True).start()
            atexit.register(self.flush)

    def _flush_loop(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            if self._flush_failing:
                if time.monotonic() >= self._retry_flush_at:
                    self.flush()
            elif self.flush_due():
                self.flush()
            else:
                self._maybe_purge()  # a quiet worker purges on time too

    def flush(self) -> int:
        """Write the queued usage events now. Returns how many were written, -1 on failure."""
        with self._flushing:
            with self._pending_lock:
                rows, self._pending = self._pending, []
                dropped, self._dropped = self._dropped, 0
            if dropped:
                log.warning("%d usage events were dropped while the database was unreachable", dropped)
            if not rows:
                self._maybe_purge()  # a quiet worker purges on time too
                return 0
            try:
                self._ensure()
                with self._writer.begin() as conn:
                    for table, sql in self._queued_sql.items():
                        batch = [(self._db_time(row[0]), *row[1:]) for kind, row in rows if kind is table]
                        if batch:
                            conn.exec_driver_sql(sql, batch)
            except Exception as exc:
                if not self._flush_failing:
                    log.warning("could not write usage events (%s); keeping them and trying again", reason(exc))
                self._flush_failing = True
                # While the database is away, try again less and less often (at most every 30 s).
                self._retry_pause = min(30.0, self._retry_pause * 2)
                self._retry_flush_at = time.monotonic() + self._retry_pause
                with self._pending_lock:
                    self._pending[:0] = rows[-MAX_PENDING_EVENTS:]
                return -1
            self._retry_pause, self._retry_flush_at = FLUSH_SECONDS, 0.0
            if self._flush_failing:
                log.info("usage events are being written again")
                self._flush_failing = False
        self._maybe_purge()
        return len(rows)

    def record_unmatched(self, channel: str, language: str, text: str) -> None:
        """A text or speech nobody understood, redacted, queued and written like usage events."""
        clean = redact(text)
        if clean:
            self._queue(unmatched, (time.time(), channel, language, clean))

    def events_since(self, since: datetime) -> list:
        self.flush()
        self._ensure()
        with self.engine.connect() as conn:
            return list(conn.execute(select(events).where(events.c.at >= since).order_by(events.c.id)))

    def unmatched_since(self, since: datetime) -> list:
        self.flush()
        self._ensure()
        with self.engine.connect() as conn:
            return list(conn.execute(select(unmatched).where(unmatched.c.at >= since).order_by(unmatched.c.id)))

    # -- keeping no more than needed -------------------------------------------------------
    def purge(self, retention_days: int | None = None) -> dict[str, int]:
        """Delete not-understood texts past the retention period, clear the per-call keys of older
        events, and delete the records of texts sent from calls once the limits no longer need them."""
        self._ensure()
        days = self.retention_days if retention_days is None else retention_days
        cutoff = _now() - timedelta(days=days)
        with self._writer.begin() as conn:
            done = {
                "unmatched texts deleted": conn.execute(delete(unmatched).where(unmatched.c.at < cutoff)).rowcount,
                "call keys cleared": conn.execute(
                    update(events).where(events.c.at < cutoff, events.c.call_hash.is_not(None))
                    .values(call_hash=None)).rowcount,
                "sent-text records deleted": conn.execute(
                    delete(texts_sent).where(texts_sent.c.at < _now() - TEXTS_SENT_KEPT)).rowcount,
            }
        self._last_purge = time.monotonic()
        return done

    def _purge_quietly(self) -> None:
        try:
            done = self.purge()
        except Exception as exc:
            log.warning("could not purge old records (%s)", reason(exc))
            return
        if any(done.values()):
            log.info("purged: %s", ", ".join(f"{n} {what}" for what, n in done.items()))

    def _maybe_purge(self) -> None:
        if time.monotonic() - self._last_purge >= PURGE_EVERY:
            self._last_purge = time.monotonic()
            self._purge_quietly()

    # -- moving -----------------------------------------------------------------------------
    def copy_from(self, source: "Store", batch: int = 1000) -> dict[str, int]:
        """Copy another store's rows into this one (to move from SQLite to PostgreSQL). Opt-outs
        merge, the newer write of each number winning; usage rows are added, so this database must
        have none yet. Hashes are copied as they are: keep the same LINE_SECRET."""
        source.upgrade()
        self.upgrade()
        with self.engine.connect() as conn:
            if any(conn.execute(select(func.count()).select_from(t)).scalar() for t in (events, unmatched, texts_sent)):
                raise ValueError(f"{self.safe_url} already has usage records: copy into a new database")
        dialect_insert = self._upsert_insert()
        upsert = dialect_insert(numbers)
        upsert = upsert.on_conflict_do_update(
            index_elements=["number_hash"],
            set_={"opted_out": upsert.excluded.opted_out, "updated_at": upsert.excluded.updated_at,
                  "revision": numbers.c.revision + 1},
            where=numbers.c.updated_at < upsert.excluded.updated_at,
        )
        copied = {}
        with source.engine.connect() as src, self._writer.begin() as dst:
            for table, stmt in ((numbers, upsert), (events, insert(events)), (unmatched, insert(unmatched)),
                                (texts_sent, insert(texts_sent))):
                columns = [c for c in table.c if c.name != "id"]  # new ids come from this database
                result = src.execution_options(yield_per=batch).execute(select(*columns).order_by(*table.primary_key))
                copied[table.name] = 0
                for chunk in result.mappings().partitions():
                    dst.execute(stmt, [{k: _utc(v) for k, v in row.items()} for row in chunk])
                    copied[table.name] += len(chunk)
        return copied

    # -- texts sent from calls -------------------------------------------------------------
    def texts_sent_to(self, number: str, call_sid: str, since: datetime) -> tuple[int, int]:
        """(texts sent in this call, texts sent to this number since `since`)."""
        self._ensure()
        nh, ch = self.hash(number), self.hash(call_sid)
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(texts_sent.c.call_hash).where(texts_sent.c.number_hash == nh, texts_sent.c.at >= since)))
        return sum(1 for r in rows if r.call_hash == ch), len(rows)

    def record_text_sent(self, number: str, call_sid: str) -> None:
        self._ensure()
        with self._writer.begin() as conn:
            conn.execute(insert(texts_sent).values(at=_now(), number_hash=self.hash(number), call_hash=self.hash(call_sid)))
