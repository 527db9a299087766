"""Texts sent during a call ("get this by text"), through Twilio's REST API.

Only to the number that is calling, never to one that opted out, at most a few per call and
per day. Without Twilio credentials the line does not offer it.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

from twilio.rest import Client

log = logging.getLogger(__name__)
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# What Twilio puts in From when a caller hides their number: ANONYMOUS, UNAVAILABLE, RESTRICTED,
# BLOCKED and UNKNOWN spelled on a keypad. They look like numbers, but no text can reach them.
HIDDEN_CALLERS = frozenset({"+266696687", "+86282452253", "+7378742833", "+2562533", "+8656696"})


def reachable(number: str) -> bool:
    """A number a text could reach: E.164, and not one of Twilio's stand-ins for a hidden caller."""
    return bool(E164.fullmatch(number or "")) and number not in HIDDEN_CALLERS


class Texter:
    def __init__(self, settings, store):
        self.store = store
        self.per_call = settings.texts_per_call
        self.per_day = settings.texts_per_day
        self.client = None
        if settings.twilio_account_sid and settings.twilio_auth_token:
            self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token)

    def can_text(self, caller: str) -> bool:
        """Whether to offer texting at all: credentials, and a caller number a text can reach."""
        return self.client is not None and reachable(caller)

    def send(self, caller: str, line_number: str, call_sid: str, body: str) -> str:
        """Send `body` to the caller. Returns 'sent', 'opted_out', 'limit' or 'failed'."""
        if not self.can_text(caller) or not E164.fullmatch(line_number or ""):
            return "failed"
        if self.store.is_opted_out(caller):
            return "opted_out"
        in_call, today = self.store.texts_sent_to(caller, call_sid, datetime.now(timezone.utc) - timedelta(days=1))
        if in_call >= self.per_call or today >= self.per_day:
            return "limit"
        try:
            self.client.messages.create(to=caller, from_=line_number, body=body)
        except Exception as exc:  # Twilio said no (opted out at Twilio, bad number, outage)
            log.warning("a text from a call was not sent: %s", type(exc).__name__)
            return "failed"
        self.store.record_text_sent(caller, call_sid)
        return "sent"
