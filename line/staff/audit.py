"""The console's audit log: every login, edit, submit, review, publish and rollback, appended.

Rows are only ever added. Each row's hash covers the row before it (`prev_hash`), so a row
changed or taken out later breaks the chain, and `verify` says where. The log names staff and
what they acted on (a draft, a release, a field); never a texter's number or words: the console
has none to write.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from sqlalchemy import desc, insert, select
from sqlalchemy.engine import Connection

from ..store.schema import audit

GENESIS = "0" * 64


def _digest(prev: str, at: datetime, actor: str, action: str, obj: str, detail: str) -> str:
    when = at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")
    body = json.dumps([prev, when, actor, action, obj, detail], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def append(conn: Connection, actor: str, action: str, obj: str = "", **detail) -> None:
    """Add one row, in the caller's transaction (so an action and its record stand or fall together)."""
    last = conn.execute(select(audit.c.hash).order_by(desc(audit.c.id)).limit(1)).scalar() or GENESIS
    at = datetime.now(timezone.utc)
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else ""
    conn.execute(insert(audit).values(at=at, actor=actor, action=action, object=obj[:300], detail=text,
                                      prev_hash=last, hash=_digest(last, at, actor, action, obj[:300], text)))


def rows(conn: Connection, limit: int = 200, before: int | None = None) -> list:
    query = select(audit).order_by(desc(audit.c.id)).limit(limit)
    if before is not None:
        query = query.where(audit.c.id < before)
    return list(conn.execute(query).mappings())


def verify(conn: Connection) -> int | None:
    """The id of the first row whose hash does not follow from the rows before it; None if the chain holds."""
    prev = GENESIS
    for row in conn.execute(select(audit).order_by(audit.c.id)).mappings():
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=timezone.utc)
        if row["prev_hash"] != prev or row["hash"] != _digest(prev, at, row["actor"], row["action"], row["object"],
                                                              row["detail"]):
            return row["id"]
        prev = row["hash"]
    return None
