"""Texts sent during a call ("get this by text"), through Twilio's REST API.

A caller ID is easy to spoof, so "text me" is guarded against SMS pumping (fraudsters making a
line send texts to numbers they are paid for, often international or NANP Caribbean ranges):
- only to the number that is calling, and only when phonenumbers places it in one of the
  allowed regions (LINE_TEXT_REGIONS, the United States and Canada by default: +1 876 Jamaica,
  +1 809 the Dominican Republic and the NANP's other Caribbean codes share +1 but are refused)
  and says it is a kind of line that takes texts (mobile, or a NANP number that may be mobile:
  never premium-rate, toll-free, shared-cost, pager, personal or fixed-line numbers);
- never to one that opted out;
- within the limits per call, per number and for the whole line (LINE_TEXTS_PER_CALL,
  LINE_TEXTS_PER_DAY, LINE_TEXTS_PER_DAY_TOTAL).
A caller refused by region or kind is not offered texting; asking anyway gets a kind "we cannot
send a text to this phone" and the referral number, never the reason. Without Twilio credentials
the line does not offer texting at all.
"""
from __future__ import annotations

import functools
import logging
import re
from datetime import datetime, timedelta, timezone

import phonenumbers
from phonenumbers import PhoneNumberType
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# What Twilio puts in From when a caller hides their number: ANONYMOUS, UNAVAILABLE, RESTRICTED,
# BLOCKED and UNKNOWN spelled on a keypad. They look like numbers, but no text can reach them.
HIDDEN_CALLERS = frozenset({"+266696687", "+86282452253", "+7378742833", "+2562533", "+8656696"})
# The kinds of line a text may go to. phonenumbers cannot tell mobiles from landlines in the
# NANP (FIXED_LINE_OR_MOBILE); elsewhere it can, and only mobiles take texts for sure.
TEXTABLE_KINDS = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
TWILIO_API = "https://api.twilio.com"
SEND_TIMEOUT = 5.0  # seconds for Twilio's REST API: the caller waits, and Twilio's webhook limit is 15 s


def reachable(number: str) -> bool:
    """A number a text could reach: E.164, and not one of Twilio's stand-ins for a hidden caller."""
    return bool(E164.fullmatch(number or "")) and number not in HIDDEN_CALLERS


@functools.lru_cache(maxsize=4096)
def textable(number: str, regions: frozenset[str]) -> bool:
    """Whether the line may text `number`: reachable, a valid number of one of `regions`, and a kind
    of line that takes texts. A memo on a pure function (phonenumbers' metadata is fixed)."""
    if not reachable(number):
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.is_valid_number(parsed)
            and phonenumbers.region_code_for_number(parsed) in regions
            and phonenumbers.number_type(parsed) in TEXTABLE_KINDS)


class TwilioApiAt(TwilioHttpClient):
    """twilio's own HTTP client with a timeout, sending to `base` instead of https://api.twilio.com
    when LINE_TWILIO_API_URL says so (an egress proxy; the tests' fake Twilio on loopback)."""

    def __init__(self, base: str | None):
        super().__init__(timeout=SEND_TIMEOUT)
        self.base = base

    def request(self, method, url, *args, **kwargs):
        if self.base and url.startswith(TWILIO_API + "/"):
            url = self.base + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


class Texter:
    def __init__(self, settings, store):
        self.store = store
        self.per_call = settings.texts_per_call
        self.per_day = settings.texts_per_day
        self.regions = frozenset(settings.text_regions)
        self.client = None
        # An API key and its secret (TWILIO_API_KEY, TWILIO_API_SECRET) where set, so the account's
        # Auth Token need not be on this host; else the Auth Token. Either with the account SID.
        if settings.twilio_account_sid and settings.twilio_api_key:
            self.client = Client(settings.twilio_api_key, settings.twilio_api_secret, settings.twilio_account_sid,
                                 http_client=TwilioApiAt(settings.twilio_api_url))
        elif settings.twilio_account_sid and settings.twilio_auth_token:
            self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                                 http_client=TwilioApiAt(settings.twilio_api_url))

    def answers(self, caller: str) -> bool:
        """Whether "text me" from `caller` is answered about texting (sent, or kindly refused):
        texting is set up and the caller's number is shown. Hidden callers hear it is not an option."""
        return self.client is not None and reachable(caller)

    def can_text(self, caller: str) -> bool:
        """Whether to offer texting: credentials, and a caller the line may text."""
        return self.client is not None and textable(caller, self.regions)

    def send(self, caller: str, line_number: str, call_sid: str, body: str) -> str:
        """Send `body` to the caller. Returns 'sent', 'refused', 'opted_out', 'limit' or 'failed'."""
        if not self.answers(caller) or not E164.fullmatch(line_number or ""):
            return "failed"
        if not self.can_text(caller):
            return "refused"
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
