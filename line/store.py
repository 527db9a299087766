"""Opt-outs, preferences and usage events, through SQLAlchemy Core.

SQLite (a file in the data folder) is the default; PostgreSQL when DATABASE_URL says so.
Phone numbers are never stored: a keyed hash (HMAC-SHA256) stands in for them.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import (
    Boolean, Column, DateTime, Integer, MetaData, String, Table, create_engine, delete, event,
    func, insert, select,
)
from sqlalchemy.engine import Engine, make_url

SCHEMA_VERSION = 1

metadata = MetaData()
numbers = Table(
    "numbers", metadata,
    Column("number_hash", String(64), primary_key=True),
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("language", String(8)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("language", String(8), nullable=False),
    Column("step", String(64), nullable=False),
    Column("outcome", String(20), nullable=False),
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

_EMAIL = re.compile(r"\S+@\S+")
_NUMBERISH = re.compile(r"\S*\d\S*")


def redact(text: str) -> str:
    """What staff may read of a text nobody understood: no emails, numbers or digits."""
    text = _EMAIL.sub("[email]", text)
    text = _NUMBERISH.sub("[number]", text)
    return " ".join(text.split())[:200]


def normalize_url(url: str) -> str:
    """Accept postgres:// (as hosting platforms give it) and use the psycopg driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_secret(settings) -> bytes:
    """The key for hashing numbers: LINE_SECRET, or one made once and kept in the data folder."""
    if settings.secret:
        return settings.secret.encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: the first worker wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    def __init__(self, url: str, secret: bytes):
        self.url = normalize_url(url)
        self.secret = secret
        self.engine = self._engine(self.url)
        self.dialect = self.engine.dialect.name

    @staticmethod
    def _engine(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 10})

            @event.listens_for(engine, "connect")
            def _pragmas(conn, _record):
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)

    def create(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(select(func.count()).select_from(schema_info)).scalar() == 0:
                conn.execute(insert(schema_info).values(version=SCHEMA_VERSION))

    def hash(self, value: str) -> str:
        return hmac.new(self.secret, value.strip().encode(), hashlib.sha256).hexdigest()

    # -- numbers -------------------------------------------------------------------------
    def _upsert_number(self, conn, number_hash: str, **values) -> None:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        values["updated_at"] = _now()
        stmt = dialect_insert(numbers).values(number_hash=number_hash, **{"opted_out": False, **values})
        conn.execute(stmt.on_conflict_do_update(index_elements=["number_hash"], set_=values))

    def set_opted_out(self, number: str, opted_out: bool) -> None:
        with self.engine.begin() as conn:
            self._upsert_number(conn, self.hash(number), opted_out=opted_out)

    def is_opted_out(self, number: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(numbers.c.opted_out).where(numbers.c.number_hash == self.hash(number))).first()
        return bool(row and row.opted_out)

    # -- usage ---------------------------------------------------------------------------
    def record(self, channel: str, language: str, step: str, outcome: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(events).values(at=_now(), channel=channel, language=language, step=step[:64], outcome=outcome))

    def record_unmatched(self, channel: str, language: str, text: str) -> None:
        clean = redact(text)
        if not clean:
            return
        with self.engine.begin() as conn:
            conn.execute(insert(unmatched).values(at=_now(), channel=channel, language=language, text=clean))

    def events_since(self, since: datetime) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(select(events).where(events.c.at >= since).order_by(events.c.id)))

    def unmatched_since(self, since: datetime) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(select(unmatched).where(unmatched.c.at >= since).order_by(unmatched.c.id)))

    def purge_unmatched(self, older_than_days: int) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(unmatched).where(unmatched.c.at < _now() - timedelta(days=older_than_days))).rowcount

    # -- texts sent from calls -----------------------------------------------------------
    def texts_sent_to(self, number: str, call_sid: str, since: datetime) -> tuple[int, int]:
        """(texts sent in this call, texts sent to this number since `since`)."""
        nh, ch = self.hash(number), self.hash(call_sid)
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(texts_sent.c.call_hash).where(texts_sent.c.number_hash == nh, texts_sent.c.at >= since)))
        return sum(1 for r in rows if r.call_hash == ch), len(rows)

    def record_text_sent(self, number: str, call_sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(texts_sent).values(at=_now(), number_hash=self.hash(number), call_hash=self.hash(call_sid)))

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))
