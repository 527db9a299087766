"""Replays: a captured signed request sent again changes nothing again.

A signature proves that Twilio sent a request once, not that it is new: anyone who captured one
(from a log, a proxy, a misrouted webhook) can send it again, and its signature still checks. So
the line remembers Twilio's ids of what it has handled, only as keyed hashes (HMAC-SHA256 with the
line's secret), for LINE_RETENTION_DAYS (the store's `seen_requests`):

- a text (POST /sms) by its MessageSid, and by Twilio's `I-Twilio-Idempotency-Token` header where
  Twilio sends one (the same on each of Twilio's own retries of one webhook). A message seen
  before is answered with an empty <Response/>: nothing is recorded again (no opt-out or opt-in,
  no language, no usage event) and no reply is sent, so a replay costs no text and cannot make the
  line text anyone. Twilio sends each MessageSid once; it posts one again only when it retries a
  webhook whose answer it never got, and a reply to that retry could reach the texter twice.
- a call step that sends a text, by its CallSid and the number of texts asked for before it in
  the call (carried, signed, in the step's URL: `t`), and its idempotency token. A replayed step
  sends nothing again, records no usage, and says what came of it the first time (an empty answer
  would hang up on a caller whose step Twilio retried).

So a START replayed after a STOP subscribes nobody again. Staff previews are never recorded.

Where the ids are kept: where the rate limits count in Redis (LINE_RATE_LIMIT_STORAGE=redis://...),
a text's ids go there too (`SET key 1 NX EX` for the retention period, under
LINE_RATE_LIMIT_PREFIX: one round trip, no database write); otherwise in the store's
`seen_requests`, the embedded default. A call step's ids stay in the store either way: they are
written with the text's reservation, in one transaction, with what came of it.

Only what a replay could change or cost is remembered: every text (each either sends a reply,
which costs a text, or changes what the store holds: an opt-out or opt-in, a language, the first
answer, at least a usage event) and every call step that sends a text. A call step that only
reads (a menu, a topic, a silence, a transfer) is not: its TwiML goes back to whoever sent the
request, so a replay of it makes the line call or text nobody; Twilio acts only on the answers to
its own requests.

While Redis is unreachable the ids go to the store's `seen_requests` instead (logged once; Redis
is tried again after 1, 2, 4 ... 32 seconds), so replays are still refused. Each place knows only
what was written there: a text first seen during the outage and sent again after it, or the
other way round, is answered as new once more. While the database is unreachable too (or without
Redis, the database alone), nothing can be recorded, so a message is answered as new (and its
changes cannot be written either).
"""
from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import redis
from flask import request

from .backoff import Backoff
from .limits import REDIS_TIMEOUT
from .runtime import runtime
from .store import Store
from .store.seen import SeenInRedis

log = logging.getLogger(__name__)
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
MAX_ID = 128  # Twilio's ids are 34 characters, its tokens a few dozen: no more is remembered
_quiet_until = 0.0  # when "could not check for replays" may be logged again (once a minute)
REDIS_SCHEMES = {"redis": "redis", "rediss": "rediss", "redis+unix": "unix"}  # limits' names -> redis-py's


class Replays:
    """Where the ids of texts are remembered: Redis, or the store (see above)."""

    def __init__(self, store: Store, redis_url: str | None = None, prefix: str = "line"):
        self.store = store
        self.redis = None
        scheme = urlsplit(redis_url or "").scheme
        if scheme in REDIS_SCHEMES:
            url = REDIS_SCHEMES[scheme] + redis_url[len(scheme):]
            client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
            self.redis = SeenInRedis(client, prefix, store.hash, store.retention_days)
        self.backoff = Backoff(log, "could not reach Redis for texts' replay ids (%s); the database keeps them "
                                    "until it is back", "Redis keeps texts' replay ids again")
        log.info("texts' replay ids are kept in %s", "Redis" if self.redis is not None else "the database")

    @classmethod
    def for_settings(cls, settings, store: Store) -> "Replays":
        return cls(store, settings.rate_limit_storage, settings.rate_limit_prefix)

    def claim(self, *ids: str) -> bool:
        """True the first time any of these ids is seen, False for a replay; raises when neither
        Redis nor the database can say."""
        if self.redis is not None and self.backoff.due():
            try:
                first = self.redis.claim(*ids)
            except redis.RedisError as exc:
                self.backoff.failed(exc)
            else:
                self.backoff.succeeded()
                return first
        return self.store.claim(*ids)


def token_ids() -> tuple[str, ...]:
    """The request's idempotency token as an id to remember; none if Twilio sent none."""
    token = request.headers.get(IDEMPOTENCY_HEADER, "").strip()[:MAX_ID]
    return ("token:" + token,) if token else ()


def seen_message() -> bool:
    """Whether this text (POST /sms) was handled before: its MessageSid or idempotency token seen.
    The first time, its ids are remembered; a text with neither is always new."""
    global _quiet_until
    sid = request.form.get("MessageSid", "").strip()[:MAX_ID]
    ids = (("message:" + sid,) if sid else ()) + token_ids()
    if not ids:
        return False
    try:
        first = runtime().replays.claim(*ids)
    except Exception as exc:
        if runtime().store.outage.covers(exc):
            return False  # the database is away: the store's outage log says so, once
        if time.monotonic() >= _quiet_until:
            _quiet_until = time.monotonic() + 60.0
            log.warning("could not check texts for replays (%s); answering them as new", type(exc).__name__)
        return False
    if not first:
        log.info("a text seen before was answered with nothing (a replay, or Twilio trying again)")
    return not first
