"""Rate limits per number: a flood from one number is cut off cheaply, and nobody else waits for it.

The `limits` library (the engine under flask-limiter, used directly: through flask-limiter's
decorators each request cost about thirty times more) counts each number's requests in fixed
windows, in a storage (LINE_RATE_LIMIT_STORAGE): `memory://`,
the default, counts in each worker process on its own (with 2 workers a number gets up to twice
its limit); `redis://host:6379` shares the counts between every worker on every host.

- Texts (`/sms`): LINE_SMS_RATE per number, default "20/minute;200/day".
- Calls (every `/voice` step together): LINE_VOICE_RATE per number, default "120/minute"; a call
  makes a request per key press, silence or transfer, so this stays generous.
- "Get this by text" during a call: LINE_TEXT_ME_RATE per number, default "3/hour", on top of
  the store's per-call, per-day and whole-line limits: every try that reaches Twilio counts, a
  text Twilio refused too (the store gives that one's reservation back). It is counted and checked
  in one step (an INCR on Redis) once the store has reserved the text, so tries racing each other
  cannot all pass; over it the reservation is given back and the caller hears text_limit.

The key is never the number: it is a keyed hash (HMAC-SHA256 with the line's secret) of "From",
or of the remote address for the rare request without one, so neither the storage nor a log holds
a number. STOP, START, HELP and every other compliance word (Twilio's and each language's), and
an opt-out in plain words ("stop texting me"), are never limited, nor counted: an opt-out is
always recorded. Staff previews are never limited.

A limited request still gets valid TwiML with status 200, never a 429 (Twilio would count it as
an error and call the fallback URL): a text gets an empty <Response/> (no reply, so a flood costs
no outbound texts and no database writes); a call hears the referral number and goodbye, then
<Hangup/>. Limits are checked after the signature check, so an unsigned request is refused (403)
and never counts against anybody's number.

In memory the counts live in `QuietMemoryStorage`, a fixed-window storage on limits' public
`Storage` API, without the expiry thread of limits' own memory storage: that one starts a new
thread up to a hundred times a second to drop expired counts, and under load that thread took
the interpreter from the answers. Expired counts are dropped when their number is next counted,
and all of them once a minute. tests/test_limits.py checks that no thread is started.

If the storage is unreachable the line keeps answering: it logs a warning and counts in memory,
per worker, until the storage is back (it tries again after 1, 2, 4 ... 32 seconds).
"""
from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

from flask import g, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .backoff import Backoff
from .outbound import Sent, Texter, reachable
from .runtime import runtime
from .engine import memo
from .engine.compliance import compliance_word
from .twilio_auth import text_field

log = logging.getLogger(__name__)

# Twilio's default opt-out, opt-in and help words, and the line's Spanish ones. The content's own
# words (language.yaml) are added to these at request time; these hold even if content fails.
COMPLIANCE_WORDS = frozenset({
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    "START", "YES", "UNSTOP", "HELP", "INFO",
    "ALTO", "PARAR", "CANCELAR", "BAJA", "DETENER", "INICIO", "COMENZAR", "AYUDA",
})

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


class QuietMemoryStorage(Storage):
    """Fixed-window counts in this worker's memory, on limits' public `Storage` API: what the
    fixed-window strategy asks of a storage (incr, get, get_expiry), with expired counts dropped
    when their key is next counted and all of them swept, at most once a minute, by the request
    that finds the sweep due. No thread: limits' own MemoryStorage starts a timer thread again
    and again to drop them, which under load took the interpreter from the answers."""

    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.counts: dict[str, list] = {}  # key -> [count, when its window ends (epoch seconds)]
        self._lock = threading.Lock()
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if time.monotonic() >= self._next_sweep:
                self._sweep(now)
            entry = self.counts.get(key)
            if entry is None or entry[1] <= now:
                entry = self.counts[key] = [0, now + expiry]
            entry[0] += amount
            return entry[0]

    def get(self, key: str) -> int:
        entry = self.counts.get(key)
        return entry[0] if entry is not None and entry[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        entry = self.counts.get(key)
        return entry[1] if entry is not None else time.time()

    def _sweep(self, now: float) -> None:
        """Drop every expired count (a count kept too long costs memory, never an answer)."""
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
        self.counts = {key: entry for key, entry in self.counts.items() if entry[1] > now}

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared, self.counts = len(self.counts), {}
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self.counts.pop(key, None)


def make_storage(uri: str):
    """The storage for `uri`: QuietMemoryStorage for memory://, limits' own for the rest."""
    if urlsplit(uri).scheme == "memory":
        return QuietMemoryStorage(uri)
    return storage_from_string(uri, **storage_options(uri))


def storage_options(uri: str) -> dict:
    """Short timeouts for Redis, so an unreachable one costs a fraction of a second, then memory."""
    if urlsplit(uri).scheme in ("redis", "rediss", "redis+unix", "valkey", "valkeys", "valkey+unix"):
        return {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
    return {}


class Counter:
    """Fixed-window counts (one atomic INCR and EXPIRE per limit on Redis, the cheapest way) in
    the configured storage; in this worker's memory while that storage is unreachable."""

    def __init__(self, uri: str):
        self.uri_scheme = urlsplit(uri).scheme or uri
        self.shared = FixedWindowRateLimiter(make_storage(uri))
        self.local = FixedWindowRateLimiter(QuietMemoryStorage())
        self.backoff = Backoff(log, f"rate limit storage unreachable ({self.uri_scheme}, %s); counting in each "
                                    "worker until it is back", f"rate limit storage ({self.uri_scheme}) is back")

    def _run(self, method: str, items: list[RateLimitItem], *identifiers: str):
        """Call `method` of the limiter for every item (all of them, so each window counts)."""
        if self.backoff.due():
            try:
                result = [getattr(self.shared, method)(item, *identifiers) for item in items]
            except Exception as exc:
                self.backoff.failed(exc)
            else:
                self.backoff.succeeded()
                return result, self.shared
        return [getattr(self.local, method)(item, *identifiers) for item in items], self.local

    def hit(self, items: list[RateLimitItem], *identifiers: str) -> bool:
        """Count one request; whether it is within every limit."""
        return all(self._run("hit", items, *identifiers)[0])

    def test(self, items: list[RateLimitItem], *identifiers: str) -> bool:
        """Whether one more request would be within every limit (nothing is counted)."""
        return all(self._run("test", items, *identifiers)[0])

    def reset_at(self, items: list[RateLimitItem], *identifiers: str) -> float:
        """When the last exhausted window ends (epoch seconds)."""
        try:
            stats, _ = self._run("get_window_stats", items, *identifiers)
            return max((s.reset_time for s in stats if s.remaining <= 0), default=time.time() + 1.0)
        except Exception:
            return time.time() + 1.0


class Limits:
    """The line's rate limits; create_app asks `check` before each /sms and /voice request."""

    def __init__(self, settings, store):
        self.items = {"sms": parse_rate(settings.sms_rate, "LINE_SMS_RATE"),
                      "voice": parse_rate(settings.voice_rate, "LINE_VOICE_RATE")}
        self.text_me_items = parse_rate(settings.text_me_rate, "LINE_TEXT_ME_RATE")
        self.store = store
        self.settings = settings
        self.prefix = settings.rate_limit_prefix
        uri = settings.rate_limit_storage
        self.counter = Counter(uri)
        # (channel, key) -> when its window resets (epoch seconds): numbers this worker has seen
        # over a limit. Within a fixed window a count only grows, so until then this worker answers
        # them at once, without asking the storage again; it also logs each breach once.
        self._blocked: dict[tuple[str, str], float] = {}
        self._blocked_lock = threading.Lock()
        self._words: tuple[object, frozenset[str]] = (None, COMPLIANCE_WORDS)
        log.info("rate limits: %s storage, sms %s, voice %s, text-me %s", self.counter.uri_scheme,
                 settings.sms_rate, settings.voice_rate, settings.text_me_rate)

    # -- keys: a keyed hash, never the number ---------------------------------------------------
    def key_for(self, number: str) -> str:
        return "n" + self.store.hash("rate-limit:" + number.strip())

    def request_key(self, form) -> str:
        """The key of the number a request (its `form`) comes from."""
        number = form.get("From", "").strip()
        if number and not reachable(number):
            call = form.get("CallSid", "").strip()
            if call:
                # A hidden caller (From "+266696687", "anonymous"...): all of them share that "number",
                # so each call counts on its own.
                return "c" + self.store.hash("rate-limit-call:" + call)
        if number:
            return self.key_for(number)
        # rare: requests without a number share a key by address
        return "a" + self.store.hash("rate-limit-address:" + (request.remote_addr or ""))

    # -- who is never limited ------------------------------------------------------------------
    def compliance_words(self) -> frozenset[str]:
        try:
            library = runtime().library()
        except Exception:  # no content at all: Twilio's words and the Spanish ones still hold
            log.exception("no content for the compliance words; using Twilio's and the Spanish ones")
            return COMPLIANCE_WORDS
        seen, words = self._words
        if seen is not library:
            words = set(COMPLIANCE_WORDS)
            for lang in library.languages.values():
                words.update(lang.opt_out_words, lang.opt_in_words, lang.help_words)
            words = frozenset(words)
            self._words = (library, words)
        return words

    def asks_to_stop(self, body: str) -> bool:
        """An opt-out in plain words ("stop texting me") is recorded whatever the limits."""
        try:
            said = memo.judge(runtime().library(), body)  # the engine's one judgement, remembered
            return said is not None and said.kind == "opt_out"
        except Exception:  # no content: the keywords above still hold
            log.exception("no content for the plain opt-out words")
            return False

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

    def check(self, channel: str) -> bool:
        """Whether this /sms or /voice request (signature checked) comes from a number over its
        limit; it is counted if not."""
        form = request.form
        if channel == "sms":
            body = text_field("Body")  # as the channel reads it
            if compliance_word(body) in self.compliance_words() or self.asks_to_stop(body):
                return False  # an opt-out is always recorded, help always given
        key = self.request_key(form)
        if self.blocked(channel, key):
            return True  # known to be over its limit: no storage round trip
        if self.counter.hit(self.items[channel], self.prefix, key, channel):
            return False
        # One read of the storage, once per breach and worker.
        self.breached(channel, key, self.counter.reset_at(self.items[channel], self.prefix, key, channel))
        return True

    # -- "get this by text" ----------------------------------------------------------------------
    def _text_me(self, method: str, key: str) -> bool:
        return getattr(self.counter, method)(self.text_me_items, self.prefix, key, "text-me")

    def take_text_try(self, caller: str) -> bool:
        """Count one try to text `caller`; whether it is within LINE_TEXT_ME_RATE. Counting and
        checking are one step (an INCR on Redis), so tries racing each other cannot all pass."""
        key = self.key_for(caller)
        if self._text_me("hit", key):
            return True
        self.breached("text-me", key, time.time() + 60.0)  # for the log only: no shortcut
        return False


class RateLimitedTexter:
    """outbound.Texter with LINE_TEXT_ME_RATE in front: over the limit, a try answers 'limit' (the
    caller hears the text_limit prompt and stays in the call) before the store or Twilio is asked.
    Only tries that reach Twilio count (sent, or refused there): the store's limits give back a
    reservation Twilio refused, so this is what bounds a number whose texts Twilio keeps refusing."""

    def __init__(self, texter: Texter, limits: Limits):
        self.texter = texter
        self.limits = limits

    def answers(self, caller: str) -> bool:
        return self.texter.answers(caller)

    def can_text(self, caller: str) -> bool:
        return self.texter.can_text(caller)

    def send(self, caller: str, line_number: str, call_sid: str, body: str, step_ids: tuple[str, ...] = ()) -> Sent:
        return self.texter.send(caller, line_number, call_sid, body, step_ids,
                                gate=lambda: self.limits.take_text_try(caller))
