"""Usage: one event per answer, and the texts and speech nobody understood, queued and written
in batches so that an answer never waits on a usage write.

- `events`: time, channel, language, step (menu or topic id), outcome, and for calls a keyed hash
  of the call's id (to tell where callers leave the menu).
- `unmatched`: texts and speech nobody understood, with digits, emails and numbers removed.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from datetime import datetime
from typing import Callable

from sqlalchemy import Table, select

from ..config import MAX_TEXT_CHARS
from .database import Database, reason
from .schema import events, unmatched

log = logging.getLogger(__name__)

# The columns of queued rows, in order.
QUEUED_COLUMNS = {
    events: ("at", "channel", "language", "step", "outcome", "call_hash"),
    unmatched: ("at", "channel", "language", "text"),
}
FLUSH_SECONDS = 0.5  # usage events are written once the oldest has waited this long (at most twice this)
FLUSH_EVENTS = 200  # ... or once this many are queued
MAX_PENDING_EVENTS = 20000  # kept in memory while the database is away

REDACTED_CHARS = 200  # what staff may read of one text nobody understood


def redact(text: str) -> str:
    """What staff may read of a text nobody understood: no emails, numbers or digits.

    Word by word, in one pass (a pattern over the whole text took 21 s on a 60,000-character
    word): a word with an @ inside is an email, one with a digit a number. Only the first
    MAX_TEXT_CHARS of a text are ever read (line/config.py), and no more words are
    looked at than the 200 characters kept can hold."""
    kept: list[str] = []
    length = -1
    for word in "".join(ch if ch.isprintable() else " " for ch in text[:MAX_TEXT_CHARS]).split():
        if "@" in word[1:-1]:
            word = "[email]"
        elif any(ch.isdecimal() for ch in word):
            word = "[number]"
        kept.append(word)
        length += len(word) + 1
        if length >= REDACTED_CHARS:
            break
    return " ".join(kept)[:REDACTED_CHARS]


class UsageQueue:
    def __init__(self, db: Database, hash_number: Callable[[str], str], when_quiet: Callable[[], None]):
        """`when_quiet` is called after each flush and while nothing is queued (the purge on time)."""
        self.db = db
        self.hash = hash_number
        self.when_quiet = when_quiet
        self._pending: list[tuple[Table, tuple]] = []
        self._pending_lock = threading.Lock()
        self._oldest = 0.0  # when the oldest queued row was queued (time.monotonic)
        self._retry_pause, self._retry_flush_at = FLUSH_SECONDS, 0.0
        self._dropped = 0
        self._flushing = threading.Lock()
        self._flusher_start = threading.Lock()
        self._flusher_pid: int | None = None
        self._flush_failing = False
        self._flush_failed_alone = False  # failing, and not because the database is away (logged here, not by the outage)
        # Queued rows go to the driver as they are (a third of the time of SQLAlchemy's inserts).
        self._queued_sql = {
            table: f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([db.mark] * len(columns))})"
            for table, columns in QUEUED_COLUMNS.items()
        }

    def record(self, channel: str, language: str, step: str, outcome: str, call: str | None = None) -> None:
        """One answer. `call` is the call's id (CallSid): only its keyed hash is kept.

        Usage events are queued and written in batches, so an answer never waits on a usage
        write. Opt-outs are never queued: they are written before the reply."""
        self._queue(events, (time.time(), channel, language, step[:64], outcome[:20], self.hash(call) if call else None))

    def record_unmatched(self, channel: str, language: str, text: str) -> None:
        """A text or speech nobody understood, redacted, queued and written like usage events."""
        clean = redact(text)
        if clean:
            self._queue(unmatched, (time.time(), channel, language, clean))

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
        if not pending or self._flush_failing or time.monotonic() < self.db.paused_until:
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
                self.when_quiet()  # a quiet worker purges on time too

    def flush(self) -> int:
        """Write the queued usage events now. Returns how many were written, -1 on failure."""
        with self._flushing:
            with self._pending_lock:
                rows, self._pending = self._pending, []
                dropped, self._dropped = self._dropped, 0
            if not rows:
                self.when_quiet()
                return 0
            try:
                self.db.ensure()
                with self.db.write() as conn:
                    for table, sql in self._queued_sql.items():
                        batch = [(self.db.time(row[0]), *row[1:]) for kind, row in rows if kind is table]
                        if batch:
                            conn.exec_driver_sql(sql, batch)
            except Exception as exc:
                away = self.db.outage.failed(exc)  # the database being away is logged there, once
                if not self._flush_failing and not away:
                    log.warning("could not write usage events (%s); keeping them and trying again", reason(exc))
                self._flush_failing, self._flush_failed_alone = True, not away
                # While the database is away, try again less and less often (at most every 30 s).
                self._retry_pause = min(30.0, self._retry_pause * 2)
                self._retry_flush_at = time.monotonic() + self._retry_pause
                with self._pending_lock:
                    self._pending[:0] = rows[-MAX_PENDING_EVENTS:]
                    self._dropped += dropped + max(0, len(rows) - MAX_PENDING_EVENTS)  # said once written again
                return -1
            self.db.outage.succeeded()
            self._retry_pause, self._retry_flush_at = FLUSH_SECONDS, 0.0
            if self._flush_failing and self._flush_failed_alone:
                log.info("usage events are being written again")
            self._flush_failing = self._flush_failed_alone = False
            if dropped:
                log.warning("%d usage events were dropped while the database was unreachable", dropped)
        self.when_quiet()
        return len(rows)

    def since(self, table: Table, since: datetime) -> list:
        """The rows of `events` or `unmatched` from `since` on, the queued ones written first."""
        self.flush()
        self.db.ensure()
        with self.db.engine.connect() as conn:
            return list(conn.execute(select(table).where(table.c.at >= since).order_by(table.c.id)))
