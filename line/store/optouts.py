"""Each number's state: opted out or not (STOP, START), the language it chose, and whether the
line has answered it before (it has a row: the first reply carried the first_text notice).

Only a keyed hash of a number is kept (`numbers.number_hash`), never the number itself; an
opt-out is kept while the line runs, because it must be honoured for good. A row that says only
"answered" is deleted after the retention period (purge.py).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable, NamedTuple

from .database import Database, guarded, now
from .schema import numbers

log = logging.getLogger(__name__)


class NumberState(NamedTuple):
    """What the store knows of a number, from its one row (no row: all defaults)."""

    opted_out: bool = False
    language: str | None = None  # the language it chose, if any
    answered: bool = False  # the line has answered it before (any row: answered, STOP, START, a language)


def opt_out_upsert(db: Database, newer_only: bool = False):
    """The write of a number's opt-out (STOP or START): a new row, or, over the row there, its
    opt-out and time with the revision counted up, so the last write wins. `newer_only` (a copy
    from another database): only over a row last written before it."""
    stmt = db.upsert()(numbers)
    return stmt.on_conflict_do_update(
        index_elements=["number_hash"],
        set_={"opted_out": stmt.excluded.opted_out, "updated_at": stmt.excluded.updated_at,
              "revision": numbers.c.revision + 1},
        where=numbers.c.updated_at < stmt.excluded.updated_at if newer_only else None,
    )


class OptOuts:
    def __init__(self, db: Database, hash_number: Callable[[str], str]):
        self.db = db
        self.hash = hash_number
        self._reader = threading.local()  # each thread's connection for state_of
        self._state_sql = f"SELECT opted_out, language FROM numbers WHERE number_hash = {db.mark}"
        self._answered_sql = ("INSERT INTO numbers (number_hash, opted_out, updated_at, revision, answered_at) "
                              f"VALUES ({db.mark}, {db.mark}, {db.mark}, 0, {db.mark}) "
                              "ON CONFLICT (number_hash) DO NOTHING RETURNING number_hash")

    @guarded
    def set_opted_out(self, number: str, opted_out: bool) -> int:
        """Record STOP (True) or START (False) for a number. Returns the write's revision: writes
        to one number are numbered in the order the database applied them, and the last wins."""
        self.db.ensure()
        stmt = opt_out_upsert(self.db).values(number_hash=self.hash(number), opted_out=opted_out,
                                              updated_at=now(), revision=1).returning(numbers.c.revision)
        with self.db.write() as conn:
            return conn.execute(stmt).scalar_one()

    @guarded
    def state_of(self, number: str) -> NumberState:
        """(opted out?, the language the number chose, if any, answered before?), in one read.

        Every text and call asks this, so it is one plain query on a driver connection that
        each thread keeps for it (checking a connection out of the pool and back in each time
        cost as much as the query). Never cached: an opt-out recorded by any worker on any host
        is honoured at once. A kept connection that fails (the database restarted) is thrown
        away and the read is tried once more on a fresh one, checked by the pool's pre-ping."""
        self.db.ensure()
        rows = self.run(self._state_sql, (self.hash(number),), again=True)
        return NumberState(bool(rows[0][0]), rows[0][1], True) if rows else NumberState()

    @guarded
    def set_answered(self, number: str) -> bool:
        """Remember that the line has answered `number` (so its next reply carries no first_text
        notice); True if this made its row. A row already there (an opt-out, a language) is left
        exactly as it is. One statement on this thread's kept connection (autocommit: one round
        trip), in the writers' turn, tried again on a fresh one if that fails: writing it twice
        changes nothing."""
        self.db.ensure()
        at = self.db.time(time.time())
        with self.db.turn():
            return bool(self.run(self._answered_sql, (self.hash(number), False, at, at), again=True))

    def run(self, sql: str, params: tuple, again: bool) -> list[tuple]:
        """One statement on this thread's kept connection (autocommit: one round trip), and its
        rows. A connection that fails is thrown away; `again`: try once more on a fresh one (for
        a read: a write might have been done before it failed)."""
        tries = 2 if again else 1
        for attempt in range(1, tries + 1):
            conn = self._reading_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                cursor.close()
                return rows
            except Exception:
                self.drop_reading_connection()
                if attempt == tries:
                    raise
        return []

    def _reading_connection(self):
        held = getattr(self._reader, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        # None yet in this thread, or one made before a fork (it belongs to the parent: leave it be)
        conn = self.db.engine.raw_connection()
        if self.db.dialect == "postgresql":
            # Each read on its own, no transaction around it: one round trip instead of three
            # (BEGIN, the query, COMMIT), and every read sees every write committed before it.
            conn.rollback()
            conn.driver_connection.autocommit = True
        self._reader.held = (os.getpid(), conn)
        return conn

    def drop_reading_connection(self) -> None:
        held = getattr(self._reader, "held", None)
        self._reader.held = None
        if held is not None and held[0] == os.getpid():
            try:
                held[1].invalidate()  # closed and never handed out again
            except Exception:
                log.debug("could not close a failed reading connection", exc_info=True)

    @guarded
    def set_language(self, number: str, language: str) -> None:
        """Remember the language a texter chose (ESPANOL, ENGLISH); opt-outs are left as they are."""
        self.db.ensure()
        stmt = self.db.upsert()(numbers).values(number_hash=self.hash(number), opted_out=False, language=language,
                                                updated_at=now(), revision=0)
        stmt = stmt.on_conflict_do_update(index_elements=["number_hash"],
                                          set_={"language": stmt.excluded.language, "updated_at": stmt.excluded.updated_at})
        with self.db.write() as conn:
            conn.execute(stmt)
