"""Texts sent from calls ("get this by text"), for the limits: hashed number and call, kept two
days (purge.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import insert, select

from .database import Database, now
from .schema import texts_sent


class TextsSent:
    def __init__(self, db: Database, hash_number: Callable[[str], str]):
        self.db = db
        self.hash = hash_number

    def count(self, number: str, call_sid: str, since: datetime) -> tuple[int, int]:
        """(texts sent in this call, texts sent to this number since `since`)."""
        self.db.ensure()
        nh, ch = self.hash(number), self.hash(call_sid)
        with self.db.engine.connect() as conn:
            rows = list(conn.execute(select(texts_sent.c.call_hash).where(texts_sent.c.number_hash == nh, texts_sent.c.at >= since)))
        return sum(1 for r in rows if r.call_hash == ch), len(rows)

    def record(self, number: str, call_sid: str) -> None:
        self.db.ensure()
        with self.db.writer.begin() as conn:
            conn.execute(insert(texts_sent).values(at=now(), number_hash=self.hash(number), call_hash=self.hash(call_sid)))
