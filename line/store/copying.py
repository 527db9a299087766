"""`line db copy`: every row of one database into another (to move from SQLite to PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, insert, select

from .database import Database
from .optouts import opt_out_upsert
from .schema import events, numbers, seen_requests, texts_sent, unmatched


def _utc(value):
    """SQLite gives back UTC times without their zone: say it, so PostgreSQL does not guess."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def copy_rows(source: Database, target: Database, batch: int = 1000) -> dict[str, int]:
    """Copy the source's rows into the target. Opt-outs merge, the newer write of each number
    winning; usage rows are added, so the target must have none yet. Hashes are copied as they
    are: keep the same LINE_SECRET."""
    source.upgrade()
    target.upgrade()
    with target.engine.connect() as conn:
        if any(conn.execute(select(func.count()).select_from(t)).scalar() for t in (events, unmatched, texts_sent)):
            raise ValueError(f"{target.safe_url} already has usage records: copy into a new database")
    upsert = opt_out_upsert(target, newer_only=True)
    copied = {}
    with source.engine.connect() as src, target.write() as dst:
        for table, stmt in ((numbers, upsert), (events, insert(events)), (unmatched, insert(unmatched)),
                            (texts_sent, insert(texts_sent)), (seen_requests, insert(seen_requests))):
            columns = [c for c in table.c if c.name != "id"]  # new ids come from this database
            result = src.execution_options(yield_per=batch).execute(select(*columns).order_by(*table.primary_key))
            copied[table.name] = 0
            for chunk in result.mappings().partitions():
                dst.execute(stmt, [{k: _utc(v) for k, v in row.items()} for row in chunk])
                copied[table.name] += len(chunk)
    return copied
