"""Opt-outs, usage events and the line's schema, through SQLAlchemy Core.

What is kept, and why (docs/operations.md, "What is stored, and for how long", says the same):
- `numbers`: a keyed hash (HMAC-SHA256) of each number the line has answered or that sent STOP
  or START, whether it is opted out, the language it chose, how many STOP/START writes it has
  had (`revision`, so the last word is known), and for a row made only because the line
  answered it, when (`answered_at`). Never the number itself. Opt-outs and language choices are
  kept while the line runs (an opt-out must be honoured for good); a row that says only
  "answered" is deleted after the retention period, so the number gets the first_text notice again.
- `events`: one row per answer: time, channel, language, step (menu or topic id), outcome, and
  for calls a keyed hash of the call's id (to tell where callers leave the menu), cleared after
  the retention period.
- `unmatched`: texts and speech nobody understood, with digits, emails and numbers removed,
  deleted after the retention period (LINE_RETENTION_DAYS, 90 days by default).
- `texts_sent`: hashed number and call of each text sent (or reserved) from a call, for the
  limits per call, per number and for the line; deleted after two days.
- `seen_requests`: keyed hashes of Twilio's ids of what the line has handled (each text's
  MessageSid, idempotency tokens, each call step that sent a text), so a replay changes nothing
  again; deleted after the retention period.

One module per job; `Store` puts them together for the rest of the line:
    schema.py      the tables and the migrations (SCHEMA_VERSION)
    database.py    the connection (SQLite or PostgreSQL), the schema made once, the pause after a slow failure
    secret.py      the key for hashing numbers
    optouts.py     each number's opt-out, language, and whether the line has answered it
    usage.py       usage events and unmatched texts, queued and written in batches
    call_texts.py  texts sent from calls: reserved atomically within the limits, once per step
    seen.py        keyed hashes of Twilio's ids of handled requests (replays)
    purge.py       deleting what is past its time
    copying.py     every row into another database (`line db copy`)
"""
from __future__ import annotations

import functools
import logging
from datetime import datetime

from .copying import copy_rows
from .database import Database, StoreUnavailable, normalize_url, reason, safe_url
from .optouts import NumberState, OptOuts
from .purge import DEFAULT_RETENTION_DAYS, Purge
from .schema import SCHEMA_VERSION, events, metadata, numbers, schema_info, seen_requests, texts_sent, unmatched
from .seen import Seen
from .secret import keyed_hash, load_secret
from .call_texts import TextsSent
from .usage import UsageQueue, redact

__all__ = [
    "DEFAULT_RETENTION_DAYS", "SCHEMA_VERSION", "NumberState", "Store", "StoreUnavailable", "events", "load_secret",
    "metadata", "normalize_url", "numbers", "reason", "redact", "safe_url", "schema_info", "seen_requests",
    "texts_sent", "unmatched",
]
log = logging.getLogger(__name__)


class Store:
    """Everything the line keeps, for the channels, the limits, the report and `line db`."""

    def __init__(self, url: str, secret: bytes | None, retention_days: int = DEFAULT_RETENTION_DAYS):
        """`secret` is the key for hashing numbers; None opens the store for reports and upkeep only."""
        self.secret = secret
        self.retention_days = retention_days
        self.hash = functools.partial(keyed_hash, secret)
        self.db = Database(url)
        self.url, self.safe_url, self.engine, self.dialect = self.db.url, self.db.safe_url, self.db.engine, self.db.dialect
        self.purge = Purge(self.db, retention_days)
        self.opt_outs = OptOuts(self.db, self.hash)
        self.usage = UsageQueue(self.db, self.hash, when_quiet=self.purge.when_due)
        self.seen = Seen(self.db, self.hash, self.opt_outs.run)
        self.texts = TextsSent(self.db, self.hash, self.seen)
        # What every answer asks, straight from the part that does it.
        self.state_of = self.opt_outs.state_of
        self.set_opted_out = self.opt_outs.set_opted_out
        self.set_language = self.opt_outs.set_language
        self.set_answered = self.opt_outs.set_answered
        self.record = self.usage.record
        self.record_unmatched = self.usage.record_unmatched
        self.flush = self.usage.flush
        self.flush_due = self.usage.flush_due
        self.upgrade = self.db.upgrade
        self.version = self.db.version
        self.problems = self.db.problems
        self.outage = self.db.outage  # logs an outage once; `covers` tells its errors from others
        self.claim = self.seen.claim
        self.reserve_text = self.texts.reserve
        self.text_not_sent = self.texts.not_sent

    def create(self) -> bool:
        """On start: make or upgrade the schema, then purge what is past keeping. When the database
        cannot be reached, say so (the start of an outage: outage.py) and go on: the line answers
        without it and tries again later."""
        try:
            self.upgrade()
        except Exception as exc:
            if not self.outage.failed(exc):
                log.error("the database at %s is not usable (%s); answering without it until it is",
                          self.safe_url, reason(exc))
            return False
        self.outage.succeeded()
        self.purge.quietly()
        return True

    def is_opted_out(self, number: str) -> bool:
        return self.state_of(number)[0]

    def events_since(self, since: datetime) -> list:
        return self.usage.since(events, since)

    def unmatched_since(self, since: datetime) -> list:
        return self.usage.since(unmatched, since)

    def copy_from(self, source: "Store", batch: int = 1000) -> dict[str, int]:
        """Copy another store's rows into this one (copying.py)."""
        return copy_rows(source.db, self.db, batch)

    def dispose(self) -> None:
        self.opt_outs.drop_reading_connection()
        self.engine.dispose()
