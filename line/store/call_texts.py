"""Texts sent from calls ("get this by text"): reserved atomically within the limits per call,
per number and for the whole line, once per call step. Hashed number and call, kept two days
(purge.py)."""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from sqlalchemy import case, delete, func, insert, select, text, update

from .database import Database, guarded, now
from .schema import seen_requests, texts_sent
from .seen import Seen

TEXTS_LOCK = 7_241_950_319  # pg_advisory_xact_lock key: "texts from calls are reserved one at a time"


class TextsSent:
    def __init__(self, db: Database, hash_number: Callable[[str], str], seen: Seen):
        self.db = db
        self.hash = hash_number
        self.seen = seen

    @guarded
    def reserve(self, number: str, call_sid: str, ids: tuple[str, ...], per_call: int, per_day: int,
                total: int) -> tuple[str, int | None]:
        """Reserve one text to `number` from the call `call_sid`, atomically: ('reserved', its id)
        while the call is under `per_call`, the number under `per_day` and the line under `total`
        texts in the last day; ('limit', None) or ('cap', None) if not. `ids` are Twilio's ids of
        the step that asks (the call and the step, its idempotency token): a step seen before
        reserves nothing again and gets what came of it the first time, marked as a replay
        ('replay:sent', 'replay:limit' ...).

        Reservations are made one at a time, on every worker and host: SQLite's write lock (BEGIN
        IMMEDIATE) or, on PostgreSQL, an advisory lock held for the transaction. Texts are few, so
        nobody waits long; the text itself is sent after the commit."""
        self.db.ensure()
        at = now()
        since = at - timedelta(days=1)
        nh, ch = self.hash(number), self.hash(call_sid)
        keys = self.seen.keys(ids)
        with self.db.write() as conn:
            if self.db.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TEXTS_LOCK})
            if keys:
                earlier = conn.execute(select(seen_requests.c.outcome).where(seen_requests.c.key_hash.in_(keys))).first()
                if earlier is not None:
                    return "replay:" + (earlier.outcome or "sent"), None

            def count(condition):
                return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

            in_call, to_number, everyone = conn.execute(
                select(count(texts_sent.c.call_hash == ch),
                       count((texts_sent.c.number_hash == nh) & (texts_sent.c.at >= since)),
                       count(texts_sent.c.at >= since))
                .where((texts_sent.c.at >= since) | (texts_sent.c.call_hash == ch))).one()
            reservation = None
            if in_call >= per_call or to_number >= per_day:
                outcome = "limit"
            elif everyone >= total:
                outcome = "cap"
            else:
                outcome = "reserved"
                reservation = conn.execute(insert(texts_sent).values(at=at, number_hash=nh, call_hash=ch)
                                           .returning(texts_sent.c.id)).scalar_one()
            if keys:
                conn.execute(self.seen.insert(keys, "sent" if reservation else outcome))
        return outcome, reservation

    @guarded
    def not_sent(self, reservation: int, ids: tuple[str, ...], release: bool, outcome: str = "failed") -> None:
        """A reserved text did not go out: say so (`outcome`) to a replay of its step, and give the
        reservation back when `release` (nothing was sent), so it counts against no limit."""
        keys = self.seen.keys(ids)
        with self.db.write() as conn:
            if keys:
                conn.execute(update(seen_requests).where(seen_requests.c.key_hash.in_(keys)).values(outcome=outcome))
            if release:
                conn.execute(delete(texts_sent).where(texts_sent.c.id == reservation))
