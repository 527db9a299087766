"""Where the rows live: the database connection, its schema made once, and a pause after a slow
failure.

SQLite (a file in the data folder) is the default; PostgreSQL when DATABASE_URL says so
(`postgresql://...`, or `postgres://...` as hosting platforms hand it out). `Database.upgrade()`
makes a new database at the latest version, or applies the missing steps of MIGRATIONS to an
older one, in one transaction, under a lock that keeps two workers from doing it at once
(PostgreSQL: an advisory transaction lock; SQLite: BEGIN IMMEDIATE). When the database cannot be
reached the store raises, and tries the upgrade again on its next use: the line keeps answering
without it, and the outage is logged once for the whole line (outage.py).
"""
from __future__ import annotations

import fcntl
import functools
import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import URL, Engine, make_url

from .outage import Outage, StoreUnavailable  # noqa: F401 (StoreUnavailable: imported from here too)
from .schema import SCHEMA_VERSION, bring_up_to_date, version_of

log = logging.getLogger(__name__)

_UPGRADE_LOCK = 7_241_950_318  # pg_advisory_xact_lock key: "the line's schema"
SLOW_FAILURE_SECONDS = 0.5  # a database that fails this slowly is timing out, not refusing
PAUSE_AFTER_SLOW_FAILURE = 2.0  # ... so for this long, answers do not wait on it again
SQLITE_WAIT = 10.0  # seconds a write waits for SQLite's lock, and for its turn before that (WriteTurns)


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


def now() -> datetime:
    return datetime.now(timezone.utc)


def guarded(method):
    """An answer must not wait seconds on a database that is timing out (a host that is down
    drops packets: every connection attempt waits for its timeout). After one slow failure the
    store fails fast for a short pause; a database that refuses at once is tried every time.
    For methods of an object whose `db` is the Database."""

    @functools.wraps(method)
    def guarded_method(self, *args, **kwargs):
        db = self.db
        if time.monotonic() < db.paused_until:
            unavailable = StoreUnavailable("the database timed out a moment ago")
            db.outage.failed(unavailable)
            raise unavailable
        started = time.monotonic()
        try:
            result = method(self, *args, **kwargs)
        except Exception as exc:
            away = db.outage.failed(exc)  # logged there once for the whole outage
            if time.monotonic() - started >= SLOW_FAILURE_SECONDS:
                db.paused_until = time.monotonic() + PAUSE_AFTER_SLOW_FAILURE
                if not away:
                    log.warning("a database use failed slowly (%s); answering without it for %.0f s",
                                reason(exc), PAUSE_AFTER_SLOW_FAILURE)
            raise
        db.outage.succeeded()
        return result

    return guarded_method


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


class WriteTurns:
    """SQLite lets one connection write at a time, and a connection that finds the write lock taken
    sleeps and looks again (1, 2, 5 ... 100 ms between looks): under load a text waited hundreds of
    milliseconds for a write that took a tenth of one. So the line's writers take turns before
    they ask SQLite: a lock among a process's threads, and an flock on a file beside the database
    among processes, looked at again every half millisecond while another process has it. Nested
    turns in one thread are one turn. A turn not had within `wait` seconds (SQLite's own limit) is
    the database being unavailable: a worker stopped while writing must not stop every answer.
    PostgreSQL needs none: its writers wait on each other's rows."""

    POLL = 0.0005

    def __init__(self, path: Path | None, wait: float = SQLITE_WAIT):
        self.path = path  # None: nothing to take turns on (PostgreSQL, or SQLite in memory)
        self.wait = wait
        self._lock = threading.RLock()
        self._depth = 0
        self._held: tuple[int, int] | None = None  # (pid, fd): a file opened before a fork is the parent's

    def _fd(self) -> int:
        if self._held is None or self._held[0] != os.getpid():
            self._held = (os.getpid(), os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._held[1]

    def _take_the_file(self, deadline: float) -> None:
        fd = self._fd()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(f"another worker has held the database's write turn for {self.wait:g} s")
                time.sleep(self.POLL)

    @contextmanager
    def __call__(self):
        if self.path is None:
            yield
            return
        deadline = time.monotonic() + self.wait
        if not self._lock.acquire(timeout=self.wait):
            raise StoreUnavailable(f"this worker's writes have waited {self.wait:g} s for their turn")
        try:
            self._depth += 1
            try:
                if self._depth == 1:
                    self._take_the_file(deadline)
                try:
                    yield
                finally:
                    if self._depth == 1:
                        fcntl.flock(self._fd(), fcntl.LOCK_UN)
            finally:
                self._depth -= 1
        finally:
            self._lock.release()


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database, an in-memory one, or a URL that
    is not one (Database says what is wrong with it)."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_WAIT}, hide_parameters=True)

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


class Database:
    def __init__(self, url: str):
        self.url = normalize_url(url)
        self.safe_url = safe_url(url)
        self.engine = _engine(self.url)
        self.dialect = self.engine.dialect.name
        # Writes take SQLite's write lock at BEGIN, so they wait their turn instead of failing.
        self.writer = self.engine.execution_options(sqlite_immediate=True)
        file = sqlite_file(self.url)
        self.turn = WriteTurns(file.with_name(file.name + ".writers") if file else None)
        self.mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"  # the driver's placeholder
        self.paused_until = 0.0  # see `guarded`
        self.outage = Outage(self.dialect, self.engine.dialect.dbapi)  # line/store/outage.py
        self._ready = False
        self._upgrading = threading.Lock()

    def time(self, epoch: float):
        """A time as a column wants it from the driver: SQLite keeps UTC as text, as SQLAlchemy writes it."""
        moment = datetime.fromtimestamp(epoch, timezone.utc)
        if self.dialect == "sqlite":
            return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
        return moment

    @contextmanager
    def write(self):
        """A write transaction, in the writers' turn (see WriteTurns)."""
        with self.turn(), self.writer.begin() as conn:
            yield conn

    def upsert(self):
        """The dialect's INSERT, which has ON CONFLICT DO UPDATE (both SQLite and PostgreSQL)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert

    # -- schema ----------------------------------------------------------------------------
    def version(self) -> int | None:
        with self.engine.connect() as conn:
            return version_of(conn)

    @contextmanager
    def _locked(self):
        """A transaction that no other worker's upgrade runs beside."""
        with self.write() as conn:
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
                found = version_of(conn)  # another worker may have done it meanwhile
                bring_up_to_date(conn, found)
                if found is None or found < SCHEMA_VERSION:
                    log.info("database schema: version %s -> %s", found or 0, SCHEMA_VERSION)
            self._ready = True
            return found, max(found or 0, SCHEMA_VERSION)

    def ensure(self) -> None:
        """The schema is made or up to date (tried again on each use until it is)."""
        if not self._ready:
            self.upgrade()

    def problems(self, log_outage: bool = False) -> list[str]:
        """What is wrong with the database, for /healthz, which anyone may read: what, and the
        kind of error, never where (no host, port, database name, user or parameters).
        `log_outage`: the line's own health check, whose failures and success are the outage's
        (outage.py); `line db status` only says what it finds."""
        problem, error = "", None
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except Exception as exc:
            problem, error = "database unreachable", exc
        else:
            try:
                self.ensure()  # the schema could not be made at start: try again now
            except Exception as exc:
                problem, error = "database schema not ready", exc
        if log_outage and error is None:
            self.outage.succeeded()
        elif log_outage:
            self.outage.failed(error)
        return [f"{problem}: {reason(error)}"] if error is not None else []
