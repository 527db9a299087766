"""Keeping no more than needed: what is past its time is deleted, on start and every hour.

- `unmatched` rows are deleted after the retention period (LINE_RETENTION_DAYS, 90 days by
  default), and the per-call keys of older `events` are cleared;
- `texts_sent` rows are deleted after two days (the daily limits look back one day);
- `seen_requests` (the keyed hashes of Twilio's ids of handled requests) after the retention period;
- `numbers` rows that say only that the line answered the number (made by its first reply:
  `answered_at` set, not opted out, no language, no STOP or START since) after the retention
  period from that first reply, so the number gets the first_text notice again. Opt-outs,
  opt-ins and language choices are never deleted.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import and_, delete, select, update

from .database import Database, now, reason
from .schema import events, numbers, seen_requests, texts_sent, unmatched

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
TEXTS_SENT_KEPT = timedelta(days=2)  # the daily limit looks back one day
PURGE_EVERY = 3600.0  # seconds between purges while the line runs
DELETE_BATCH = 500  # seen request ids deleted in one write
# A `numbers` row that says nothing but "the line answered this number": never an opt-out, an
# opt-in (revision counts STOP and START writes) or a language choice.
ANSWERED_ONLY = and_(numbers.c.answered_at.is_not(None), numbers.c.opted_out.is_(False), numbers.c.language.is_(None),
                     numbers.c.revision == 0)


class Purge:
    def __init__(self, db: Database, retention_days: int = DEFAULT_RETENTION_DAYS):
        self.db = db
        self.retention_days = retention_days
        self._last = time.monotonic()

    def __call__(self, retention_days: int | None = None) -> dict[str, int]:
        """Delete not-understood texts past the retention period, clear the per-call keys of older
        events, delete the records of texts sent from calls once the limits no longer need them,
        and forget numbers the line only answered, that long ago."""
        self.db.ensure()
        days = self.retention_days if retention_days is None else retention_days
        cutoff = now() - timedelta(days=days)
        with self.db.write() as conn:
            done = {
                "unmatched texts deleted": conn.execute(delete(unmatched).where(unmatched.c.at < cutoff)).rowcount,
                "call keys cleared": conn.execute(
                    update(events).where(events.c.at < cutoff, events.c.call_hash.is_not(None))
                    .values(call_hash=None)).rowcount,
                "sent-text records deleted": conn.execute(
                    delete(texts_sent).where(texts_sent.c.at < now() - TEXTS_SENT_KEPT)).rowcount,
                "answered numbers forgotten": conn.execute(
                    delete(numbers).where(ANSWERED_ONLY, numbers.c.answered_at < cutoff)).rowcount,
            }
        done["seen request ids deleted"] = self._seen_requests(cutoff)
        self._last = time.monotonic()
        return done

    def _seen_requests(self, cutoff) -> int:
        """seen_requests has no index on `at` (every text writes a row, and the index cost as much
        again): its old keys are found by reading the table through, which makes no writer wait
        (SQLite's WAL, PostgreSQL), then deleted by key a few hundred at a time, each a short write."""
        with self.db.engine.connect() as conn:
            old = conn.execute(select(seen_requests.c.key_hash).where(seen_requests.c.at < cutoff)).scalars().all()
        deleted = 0
        for start in range(0, len(old), DELETE_BATCH):
            with self.db.write() as conn:
                deleted += conn.execute(delete(seen_requests).where(
                    seen_requests.c.key_hash.in_(old[start:start + DELETE_BATCH]))).rowcount
        return deleted

    def quietly(self) -> None:
        """Purge, and log what went rather than raise."""
        try:
            done = self()
        except Exception as exc:
            if not self.db.outage.failed(exc):  # the database being away is logged there, once
                log.warning("could not purge old records (%s)", reason(exc))
            return
        self.db.outage.succeeded()
        if any(done.values()):
            log.info("purged: %s", ", ".join(f"{n} {what}" for what, n in done.items()))

    def when_due(self) -> None:
        """Purge quietly if the last purge was PURGE_EVERY ago."""
        if time.monotonic() - self._last >= PURGE_EVERY:
            self._last = time.monotonic()
            self.quietly()
