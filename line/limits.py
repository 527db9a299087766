"""Rate limits per number: a flood from one number is cut off cheaply, and nobody else waits for it.

flask-limiter counts each number's requests in a storage (LINE_RATE_LIMIT_STORAGE): `memory://`,
the default, counts in each worker process on its own (with 2 workers a number gets up to twice
its limit); `redis://host:6379` shares the counts between every worker on every host.

- Texts (`/sms`): LINE_SMS_RATE per number, default "20/minute;200/day".
- Calls (every `/voice` step together): LINE_VOICE_RATE per number, default "120/minute"; a call
  makes a request per key press, silence or transfer, so this stays generous.
- "Get this by text" during a call: LINE_TEXT_ME_RATE per number, default "3/hour", on top of
  the store's per-call and per-day limits (which count only texts sent): every try that reaches
  Twilio counts, a text Twilio refused too; over it the caller hears the text_limit prompt.

The key is never the number: it is a keyed hash (HMAC-SHA256 with the line's secret) of "From",
or of the remote address for the rare request without one, so neither the storage nor a log holds
a number. STOP, START, HELP and every other compliance word (Twilio's and each language's) are
never limited, nor counted: an opt-out is always recorded. Staff previews are never limited.

A limited request still gets valid TwiML with status 200, never a 429 (Twilio would count it as
an error and call the fallback URL): a text gets an empty <Response/> (no reply, so a flood costs
no outbound texts and no database writes); a call hears the referral number and goodbye, then
<Hangup/>. Limits are checked after the signature check, so an unsigned request is refused (403)
and never counts against anybody's number.

If the storage is unreachable the line keeps answering: flask-limiter logs a warning and counts
in memory, per worker, until the storage is back (it tries again after 1, 2, 4 ... 32 seconds).
"""
from __future__ import annotations

import logging
import threading
import time
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_limiter import Limiter, RequestLimit
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from .responses import twiml
from .runtime import PREVIEW, runtime

log = logging.getLogger(__name__)

# Twilio's default opt-out, opt-in and help words, and the line's Spanish ones. The content's own
# words (language.yaml) are added to these at request time; these hold even if content fails.
COMPLIANCE_WORDS = frozenset({
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    "START", "YES", "UNSTOP", "HELP", "INFO",
    "ALTO", "PARAR", "CANCELAR", "BAJA", "DETENER", "INICIO", "COMENZAR", "AYUDA",
})

STRATEGY = "fixed-window"  # one atomic INCR (+EXPIRE) per limit and request on Redis: the cheapest
REDIS_TIMEOUT = 0.5  # seconds: an unreachable Redis must not hold an answer up for long
BREACH_LOG_MEMORY = 10_000  # numbers over a limit each worker remembers

SETTINGS_NAMES = {"sms_rate": "LINE_SMS_RATE", "voice_rate": "LINE_VOICE_RATE",
                  "text_me_rate": "LINE_TEXT_ME_RATE"}


def parse_rate(value: str, name: str) -> list[RateLimitItem]:
    """'20/minute;200/day' -> the limits, or a clear error naming the setting."""
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items:
        raise ValueError(f"{name} must be one or more limits like '20/minute;200/day', not {value!r}")
    return items


def storage_options(uri: str) -> dict:
    """Short timeouts for Redis, so an unreachable one costs a fraction of a second, then memory."""
    if urlsplit(uri).scheme in ("redis", "rediss", "redis+unix", "valkey", "valkeys", "valkey+unix"):
        return {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
    return {}


class Limits:
    """The line's rate limits, wired into one app by `install`."""

    def __init__(self, app: Flask, settings, store):
        for attribute, name in SETTINGS_NAMES.items():
            parse_rate(getattr(settings, attribute), name)
        self.store = store
        self.settings = settings
        self.prefix = settings.rate_limit_prefix
        uri = settings.rate_limit_storage
        self.limiter = Limiter(
            key_func=self.request_key, app=app, storage_uri=uri, storage_options=storage_options(uri),
            strategy=STRATEGY, key_prefix=self.prefix, headers_enabled=False,
            swallow_errors=True,  # a storage failure never fails an answer ...
            in_memory_fallback_enabled=True,  # ... and the limits go on in memory meanwhile
        )
        self.text_me_items = parse_rate(settings.text_me_rate, "LINE_TEXT_ME_RATE")
        self._local = FixedWindowRateLimiter(MemoryStorage())  # text-me, while the storage is away
        # (channel, key) -> when its window resets (epoch seconds): numbers this worker has seen
        # over a limit. Within a fixed window a count only grows, so until then this worker answers
        # them at once, without asking the storage again; it also logs each breach once.
        self._blocked: dict[tuple[str, str], float] = {}
        self._blocked_lock = threading.Lock()
        self._words: tuple[object, frozenset[str]] = (None, COMPLIANCE_WORDS)
        log.info("rate limits: %s storage, sms %s, voice %s, text-me %s", urlsplit(uri).scheme or uri,
                 settings.sms_rate, settings.voice_rate, settings.text_me_rate)

    # -- keys: a keyed hash, never the number ---------------------------------------------------
    def key_for(self, number: str) -> str:
        return "n" + self.store.hash("rate-limit:" + number.strip())

    def request_key(self) -> str:
        if "line_rate_key" not in g:
            number = request.form.get("From", "").strip()
            if number:
                g.line_rate_key = self.key_for(number)
            else:  # rare: requests without a number share a key by address
                g.line_rate_key = "a" + self.store.hash("rate-limit-address:" + (request.remote_addr or ""))
        return g.line_rate_key

    # -- who is never limited ------------------------------------------------------------------
    def compliance_words(self) -> frozenset[str]:
        try:
            library = runtime().library()
        except Exception:  # no content at all: Twilio's words and the Spanish ones still hold
            return COMPLIANCE_WORDS
        seen, words = self._words
        if seen is not library:
            words = set(COMPLIANCE_WORDS)
            for lang in library.languages.values():
                words.update(lang.opt_out_words, lang.opt_in_words, lang.help_words)
            words = frozenset(words)
            self._words = (library, words)
        return words

    def sms_exempt(self) -> bool:
        from .sms import compliance_word

        if PREVIEW.get():
            return True
        return compliance_word(request.form.get("Body", "")) in self.compliance_words()

    @staticmethod
    def voice_exempt() -> bool:
        return PREVIEW.get()

    # -- numbers over a limit ----------------------------------------------------------------------
    def blocked(self, channel: str, key: str) -> bool:
        until = self._blocked.get((channel, key))
        return until is not None and until > time.time()

    def breached(self, channel: str, key: str, until: float) -> None:
        """Remember a number over a limit until `until`; log it once per window and worker, with
        the channel only (never the number, nor its hash)."""
        if g.get("line_rate_limited"):
            return  # one line per request, however many of its limits it broke
        g.line_rate_limited = True
        now = time.time()
        with self._blocked_lock:
            known = self._blocked.get((channel, key), 0.0) > now
            if len(self._blocked) >= BREACH_LOG_MEMORY:
                self._blocked = {k: t for k, t in self._blocked.items() if t > now}
                if len(self._blocked) >= BREACH_LOG_MEMORY:
                    self._blocked.clear()
            self._blocked[(channel, key)] = until
        if known:
            log.debug("%s rate_limited (again)", channel)
        else:
            log.warning("%s rate limit reached by a number; its requests are answered without content "
                        "until the limit resets", channel)

    def _breach(self, channel: str, limit: RequestLimit) -> None:
        try:
            until = float(limit.reset_at)  # one read of the storage, once per breach and worker
        except Exception:  # the storage went away: no shortcut, just this answer
            until = time.time() + 1.0
        self.breached(channel, self.request_key(), until)

    # -- what a limited request gets -----------------------------------------------------------
    @staticmethod
    def sms_answer() -> object:
        return twiml(MessagingResponse())  # no reply: a flood costs no outbound texts

    @staticmethod
    def voice_answer() -> object:
        """The referral number, goodbye, and a hang-up, in the call's language."""
        try:
            from .voice import Call, Prompter

            library = runtime().library()
            p = Prompter(library, Call.from_request(library))
            return twiml(p.goodbye([p.p["number"]]))
        except Exception:
            log.exception("the rate-limited voice answer failed; sent the fallback")
            from .voice import FALLBACK_SPEECH

            response = VoiceResponse()
            response.say(FALLBACK_SPEECH)
            response.hangup()
            return twiml(response)

    def sms_breach(self, limit: RequestLimit) -> object:
        self._breach("sms", limit)
        return self.sms_answer()

    def voice_breach(self, limit: RequestLimit) -> object:
        self._breach("voice", limit)
        return self.voice_answer()

    def shortcut(self, channel: str, view, exempt, answer):
        """`view` (already limited by flask-limiter), answered at once for a number this worker
        knows to be over its limit: a flood's requests cost no storage round trip."""

        @wraps(view)
        def limited_view(*args, **kwargs):
            if not exempt() and self.blocked(channel, self.request_key()):
                return answer()
            return view(*args, **kwargs)

        return limited_view

    # -- "get this by text" ----------------------------------------------------------------------
    def _text_me(self, method: str, key: str) -> bool:
        try:
            limiter = self.limiter.limiter
            return all([getattr(limiter, method)(item, self.prefix, key, "text-me") for item in self.text_me_items])
        except Exception as exc:
            log.warning("rate limit storage unreachable for text-me (%s); counting in this worker",
                        type(exc).__name__)
            return all([getattr(self._local, method)(item, self.prefix, key, "text-me") for item in self.text_me_items])

    def may_text(self, caller: str) -> bool:
        """Whether `caller` is under LINE_TEXT_ME_RATE (nothing is counted)."""
        if PREVIEW.get():
            return True
        key = self.key_for(caller)
        if self._text_me("test", key):
            return True
        self.breached("text-me", key, time.time() + 60.0)  # for the log only: no shortcut
        return False

    def count_text(self, caller: str) -> None:
        """Count one try that reached Twilio (sent, or refused by Twilio)."""
        if not PREVIEW.get():
            self._text_me("hit", self.key_for(caller))


class RateLimitedTexter:
    """outbound.Texter with LINE_TEXT_ME_RATE in front: over the limit, a try answers 'limit' (the
    caller hears the text_limit prompt and stays in the call) before the store or Twilio is asked.
    Only tries that reach Twilio count (sent, or refused there): the store's per-call and per-day
    limits count sent texts only, so this is what bounds a number whose texts Twilio keeps refusing."""

    COUNTED = ("sent", "failed")

    def __init__(self, texter, limits: Limits):
        self.texter = texter
        self.limits = limits

    def can_text(self, caller: str) -> bool:
        return self.texter.can_text(caller)

    def send(self, caller: str, line_number: str, call_sid: str, body: str) -> str:
        if not self.texter.can_text(caller):
            return self.texter.send(caller, line_number, call_sid, body)  # it says 'failed' itself
        if not self.limits.may_text(caller):
            return "limit"
        outcome = self.texter.send(caller, line_number, call_sid, body)
        if outcome in self.COUNTED:
            self.limits.count_text(caller)
        return outcome

    def __getattr__(self, name: str):
        return getattr(self.texter, name)


def install(app: Flask, settings, store) -> Limits:
    """Limit the app's /sms and /voice views (call after their blueprints are registered) and
    put LINE_TEXT_ME_RATE in front of the texter. The views are wrapped, not the app: the limit
    is checked after each blueprint's signature check."""
    limits = Limits(app, settings, store)
    sms_limit = limits.limiter.shared_limit(settings.sms_rate, scope="sms", exempt_when=limits.sms_exempt,
                                            on_breach=limits.sms_breach)
    voice_limit = limits.limiter.shared_limit(settings.voice_rate, scope="voice", exempt_when=limits.voice_exempt,
                                              on_breach=limits.voice_breach)
    for endpoint, view in list(app.view_functions.items()):
        blueprint = endpoint.partition(".")[0]
        if blueprint == "sms":
            app.view_functions[endpoint] = limits.shortcut("sms", sms_limit(view), limits.sms_exempt,
                                                           limits.sms_answer)
        elif blueprint == "voice":
            app.view_functions[endpoint] = limits.shortcut("voice", voice_limit(view), limits.voice_exempt,
                                                           limits.voice_answer)
    # Every limit is on these views: flask-limiter's app-wide check before each request (for
    # application and default limits, which the line has none of) would only cost time.
    hooks = app.before_request_funcs.get(None, [])
    if limits.limiter._check_request_limit in hooks:
        hooks.remove(limits.limiter._check_request_limit)
    rt = app.extensions["line"]
    rt.texter = RateLimitedTexter(rt.texter, limits)
    app.extensions["line_limits"] = limits
    # flask-limiter logs each breach itself at INFO, with the (hashed) key: ours says it once, with
    # the channel only. Its warnings (the storage is unreachable) still show.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    return limits
