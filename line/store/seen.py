"""Twilio's ids of the requests the line has handled (each text's MessageSid, idempotency tokens,
each call step that sent a text), so a replay changes nothing again (line/replays.py).

Only keyed hashes (HMAC-SHA256 with the line's secret) are kept, deleted after the retention
period (purge.py). A call step's row also says what came of it, for its replays.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

from .database import Database, guarded, now
from .schema import seen_requests


class Seen:
    def __init__(self, db: Database, hash_number: Callable[[str], str], run: Callable[[str, tuple, bool], list]):
        """`run`: one statement on the thread's kept connection (OptOuts.run)."""
        self.db = db
        self.hash = hash_number
        self.run = run

    def keys(self, ids: Iterable[str]) -> list[str]:
        return [self.hash("seen:" + i) for i in dict.fromkeys(ids)]

    def insert(self, keys: list[str], outcome: str | None = None):
        """Remember `keys` (those seen before are left as they are)."""
        at = now()
        stmt = self.db.upsert()(seen_requests).values([{"key_hash": k, "at": at, "outcome": outcome} for k in keys])
        return stmt.on_conflict_do_nothing(index_elements=["key_hash"])

    @guarded
    def claim(self, *ids: str) -> bool:
        """Remember Twilio's ids of a request (its MessageSid, its idempotency token): True the
        first time, False when any of them was seen before (a replay).

        Every text asks this, so it is one statement (an INSERT that returns the rows it made:
        atomic on its own) on the connection each thread keeps for its reads, in autocommit: one
        round trip. Tried once: had it been written before a failure, a second try would call a
        new text a replay."""
        self.db.ensure()
        keys = self.keys(ids)
        at = self.db.time(time.time())
        mark = self.db.mark
        sql = (f"INSERT INTO seen_requests (key_hash, at) VALUES {', '.join([f'({mark}, {mark})'] * len(keys))} "
               "ON CONFLICT (key_hash) DO NOTHING RETURNING key_hash")
        with self.db.turn():
            return len(self.run(sql, tuple(v for k in keys for v in (k, at)), False)) == len(keys)


class SeenInRedis:
    """The same ids of texts in Redis instead (where the line counts its rate limits there): each
    a key `PREFIX/seen/HASH` set with SET NX EX, so remembering one is one atomic round trip and
    Redis forgets it after the retention period by itself. No table, no write lock, no purge."""

    def __init__(self, client, prefix: str, hash_number: Callable[[str], str], retention_days: int):
        self.client = client
        self.prefix = prefix
        self.hash = hash_number
        self.seconds = retention_days * 86400

    def key(self, id_: str) -> str:
        return f"{self.prefix}/seen/{self.hash('seen:' + id_)}"

    def claim(self, *ids: str) -> bool:
        """As Seen.claim: True the first time, False when any of `ids` was seen before."""
        keys = [self.key(i) for i in dict.fromkeys(ids)]
        if len(keys) == 1:
            return bool(self.client.set(keys[0], 1, nx=True, ex=self.seconds))
        pipe = self.client.pipeline(transaction=False)  # a text with its idempotency token: one round trip
        for key in keys:
            pipe.set(key, 1, nx=True, ex=self.seconds)
        return all(pipe.execute())
