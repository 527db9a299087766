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
  LINE_TEXTS_PER_DAY, LINE_TEXTS_PER_DAY_TOTAL), reserved atomically in the store before Twilio
  is asked, so no race between workers or hosts lets one more text through;
- once per step: a replayed step (the same CallSid and step, or idempotency token) sends nothing
  again and says what came of it the first time (see line/replays.py).
A caller refused by region or kind is not offered texting; asking anyway gets a kind "we cannot
send a text to this phone" and the referral number, never the reason. Without Twilio credentials
the line does not offer texting at all.
"""
from __future__ import annotations

import functools
import logging
import re
import time
from typing import Callable, NamedTuple, Protocol

import phonenumbers
from phonenumbers import PhoneNumberType
from twilio.base.exceptions import TwilioRestException
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


class Sent(NamedTuple):
    """What came of asking for a text: 'sent', 'refused', 'opted_out', 'limit' or 'failed'; and
    whether the step was a replay (seen before: nothing was sent again, nothing is counted again)."""

    outcome: str
    replay: bool = False


class TextSender(Protocol):
    """What the phone line asks of texting (Texter, or limits.RateLimitedTexter in front of it)."""

    def answers(self, caller: str) -> bool: ...

    def can_text(self, caller: str) -> bool: ...

    def send(self, caller: str, line_number: str, call_sid: str, body: str, step_ids: tuple[str, ...] = ()) -> Sent: ...


# What a replayed step says: what came of the step the first time (the daily cap is a refusal).
REPLAYED = {"sent": "sent", "limit": "limit", "cap": "refused", "failed": "failed"}


class Texter:
    def __init__(self, settings, store):
        self.store = store
        self.per_call = settings.texts_per_call
        self.per_day = settings.texts_per_day
        self.total = settings.texts_per_day_total
        self._cap_logged = 0.0  # time.monotonic() before which the cap is not logged again
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

    def send(self, caller: str, line_number: str, call_sid: str, body: str, step_ids: tuple[str, ...] = (),
             gate: Callable[[], bool] | None = None) -> Sent:
        """Send `body` to the caller, from the call `call_sid`, for the step `step_ids` names.
        `gate`, asked once the text is reserved and before Twilio is, may still say no (the rate
        limit per number, which counts only tries that reach Twilio): then the reservation is
        given back and the answer is 'limit'.

        Reserve, then send: the store reserves the text atomically, on every worker and host, within
        the limits per call, per number and for the line; only then is Twilio asked. A text Twilio
        refused (it answered 4xx: it created no message) gives its reservation back; one whose fate
        is unknown (a timeout, a 5xx, a broken connection: it may have gone out) keeps it, so no
        failure ever lets one more text through than the limits allow."""
        if not self.answers(caller) or not E164.fullmatch(line_number or ""):
            return Sent("failed")
        if not self.can_text(caller):
            return Sent("refused")
        if self.store.is_opted_out(caller):
            return Sent("opted_out")
        outcome, reservation = self.store.reserve_text(caller, call_sid, step_ids, self.per_call, self.per_day,
                                                       self.total)
        if outcome.startswith("replay:"):
            return Sent(REPLAYED.get(outcome.partition(":")[2], "failed"), replay=True)
        if outcome == "cap":
            self._cap_reached()
            return Sent("refused")
        if outcome == "limit":
            return Sent("limit")
        if gate is not None and not gate():
            self.store.text_not_sent(reservation, step_ids, release=True, outcome="limit")
            return Sent("limit")
        try:
            self.client.messages.create(to=caller, from_=line_number, body=body)
        except Exception as exc:
            refused = isinstance(exc, TwilioRestException) and 400 <= (exc.status or 0) < 500
            log.warning("a text from a call was not sent (%s%s); its reservation is %s", type(exc).__name__,
                        f" {exc.status}" if isinstance(exc, TwilioRestException) else "",
                        "given back" if refused else "kept (it may have gone out)")
            self.store.text_not_sent(reservation, step_ids, release=refused)
            return Sent("failed")
        return Sent("sent")

    def _cap_reached(self) -> None:
        """Log the line's daily cap once an hour per worker: a sign of pumping, or of a busy day."""
        now = time.monotonic()
        if now >= self._cap_logged:
            self._cap_logged = now + 3600
            log.warning("the line's cap of %d texts a day (LINE_TEXTS_PER_DAY_TOTAL) is reached; "
                        "callers asking for a text hear the referral number instead", self.total)
