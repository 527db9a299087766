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
While the database is unreachable nothing can be recorded, so a message is answered as new (and
its changes cannot be written either).
"""
from __future__ import annotations

import logging
import time

from flask import request

from .runtime import PREVIEW, runtime

log = logging.getLogger(__name__)
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
MAX_ID = 128  # Twilio's ids are 34 characters, its tokens a few dozen: no more is remembered
_quiet_until = 0.0  # when "could not check for replays" may be logged again (once a minute)


def token_ids() -> tuple[str, ...]:
    """The request's idempotency token as an id to remember; none if Twilio sent none."""
    token = request.headers.get(IDEMPOTENCY_HEADER, "").strip()[:MAX_ID]
    return ("token:" + token,) if token else ()


def seen_message() -> bool:
    """Whether this text (POST /sms) was handled before: its MessageSid or idempotency token seen.
    The first time, its ids are remembered; a text with neither is always new."""
    global _quiet_until
    if PREVIEW.get():
        return False
    sid = request.form.get("MessageSid", "").strip()[:MAX_ID]
    ids = (("message:" + sid,) if sid else ()) + token_ids()
    if not ids:
        return False
    try:
        first = runtime().store.claim(*ids)
    except Exception as exc:
        if time.monotonic() >= _quiet_until:
            _quiet_until = time.monotonic() + 60.0
            log.warning("could not check texts for replays (%s); answering them as new", type(exc).__name__)
        return False
    if not first:
        log.info("a text seen before was answered with nothing (a replay, or Twilio trying again)")
    return not first
