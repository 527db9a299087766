"""Settings from the environment: one object, read once at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# How much of a text (Body) or of what a caller said (SpeechResult) the line reads at all: Twilio's
# longest message is 1,600 characters. Past that nothing is matched, remembered or redacted.
MAX_TEXT_CHARS = 1600


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def _regions(raw: str) -> tuple[str, ...]:
    """'US,CA' -> ('US', 'CA'): the regions "get this by text" may send to, each one phonenumbers knows."""
    import phonenumbers

    regions = tuple(dict.fromkeys(part.strip().upper() for part in raw.split(",") if part.strip()))
    unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
    if not regions or unknown:
        raise ValueError(f"LINE_TEXT_REGIONS must be two-letter region codes like 'US,CA', not {raw!r}")
    return regions


def _api_url(raw: str | None) -> str | None:
    """Where Twilio's REST API is, if not at Twilio: https, or http on this machine only (a test's
    fake), so the account's credentials never cross a network in the clear."""
    if raw is None:
        return None
    parsed = urlsplit(raw.strip())
    local = parsed.hostname in ("127.0.0.1", "::1", "localhost")
    if parsed.scheme not in ("https", "http") or not parsed.hostname or (parsed.scheme == "http" and not local):
        raise ValueError("LINE_TWILIO_API_URL must be an https:// URL (http:// only on 127.0.0.1)")
    return raw.strip().rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Everything the line reads from its environment (see the table in docs/operations.md)."""

    content_dir: Path
    data_dir: Path
    database_url: str = field(repr=False)  # may hold a password
    twilio_auth_token: str | None = field(repr=False)
    twilio_account_sid: str | None
    twilio_api_key: str | None = None  # an API key (SK...) and its secret send texts instead of the token
    twilio_api_secret: str | None = field(default=None, repr=False)
    webhook_shared_keys: tuple[str, ...] = field(default=(), repr=False)  # SharedKey secrets: current, previous
    max_body_bytes: int = 64 * 1024
    body_timeout: float = 10.0
    allow_unsigned: bool = False
    public_base_url: str | None = None
    proxy_count: int = 0
    secret: str | None = field(default=None, repr=False)
    gather_timeout: int = 10
    silence_limit: int = 12
    texts_per_call: int = 2
    texts_per_day: int = 3
    texts_per_day_total: int = 200  # every text from calls together, on every worker and host
    text_regions: tuple[str, ...] = ("US", "CA")  # where "get this by text" may send (ISO region codes)
    twilio_api_url: str | None = None  # Twilio's REST API elsewhere (an egress proxy, a test's fake)
    retention_days: int = 90
    log_level: str = "INFO"
    reload_seconds: float = 1.0
    audio_mode: str = "say"
    audio_dir: Path | None = None
    staff_password: str | None = field(default=None, repr=False)  # /preview from other machines
    staff_secret: str | None = field(default=None, repr=False)  # signs staff console sessions; unset: no console
    staff_idle_minutes: int = 30  # a console session ends after this long without a request
    rate_limit_storage: str = field(default="memory://", repr=False)  # a redis:// URL may hold a password
    rate_limit_prefix: str = "line"
    sms_rate: str = "20/minute;200/day"
    voice_rate: str = "120/minute"
    text_me_rate: str = "3/hour"

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("LINE_DATA_DIR") or PROJECT_ROOT / "data")
        database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'line.db'}"
        values = dict(
            content_dir=Path(env.get("LINE_CONTENT_DIR") or PROJECT_ROOT / "content"),
            data_dir=data_dir,
            database_url=database_url,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_api_key=env.get("TWILIO_API_KEY") or None,
            twilio_api_secret=env.get("TWILIO_API_SECRET") or None,
            webhook_shared_keys=tuple(key for key in (env.get("TWILIO_WEBHOOK_SHARED_KEY"),
                                                      env.get("TWILIO_WEBHOOK_SHARED_KEY_PREVIOUS")) if key),
            max_body_bytes=_int(env, "LINE_MAX_BODY_BYTES", 64 * 1024),
            body_timeout=float(env.get("LINE_BODY_TIMEOUT") or 10.0),
            allow_unsigned=_flag(env.get("LINE_ALLOW_UNSIGNED")),
            public_base_url=(env.get("LINE_PUBLIC_URL") or "").rstrip("/") or None,
            proxy_count=_int(env, "LINE_PROXY_COUNT", 0),
            secret=env.get("LINE_SECRET") or None,
            gather_timeout=_int(env, "LINE_GATHER_TIMEOUT", 10),
            silence_limit=_int(env, "LINE_SILENCE_LIMIT", 12),
            texts_per_call=_int(env, "LINE_TEXTS_PER_CALL", 2),
            texts_per_day=_int(env, "LINE_TEXTS_PER_DAY", 3),
            texts_per_day_total=_int(env, "LINE_TEXTS_PER_DAY_TOTAL", 200),
            text_regions=_regions(env.get("LINE_TEXT_REGIONS") or "US,CA"),
            twilio_api_url=_api_url(env.get("LINE_TWILIO_API_URL") or None),
            retention_days=_int(env, "LINE_RETENTION_DAYS", 90),
            log_level=env.get("LINE_LOG_LEVEL", "INFO").upper(),
            reload_seconds=float(env.get("LINE_RELOAD_SECONDS") or 1.0),
            audio_mode=(env.get("LINE_AUDIO") or "say").lower(),
            audio_dir=Path(env.get("LINE_AUDIO_DIR") or data_dir / "audio"),
            staff_password=env.get("LINE_STAFF_PASSWORD") or None,
            staff_secret=env.get("LINE_STAFF_SECRET") or None,
            staff_idle_minutes=_int(env, "LINE_STAFF_IDLE_MINUTES", 30),
            rate_limit_storage=env.get("LINE_RATE_LIMIT_STORAGE") or "memory://",
            rate_limit_prefix=env.get("LINE_RATE_LIMIT_PREFIX") or "line",
            sms_rate=env.get("LINE_SMS_RATE") or "20/minute;200/day",
            voice_rate=env.get("LINE_VOICE_RATE") or "120/minute",
            text_me_rate=env.get("LINE_TEXT_ME_RATE") or "3/hour",
        )
        values.update(overrides)
        settings = cls(**values)
        if settings.audio_mode not in ("say", "files"):
            raise ValueError("LINE_AUDIO must be 'say' (Twilio's voice) or 'files' (play rendered clips)")
        if settings.max_body_bytes < 4096:
            raise ValueError("LINE_MAX_BODY_BYTES must be 4096 or more (Twilio's forms take a few KB)")
        if not 0 < settings.body_timeout <= 14:
            raise ValueError("LINE_BODY_TIMEOUT must be more than 0 and at most 14 seconds (Twilio waits 15)")
        if bool(settings.twilio_api_key) != bool(settings.twilio_api_secret):
            raise ValueError("TWILIO_API_KEY and TWILIO_API_SECRET go together: set both, or neither")
        if min(settings.texts_per_call, settings.texts_per_day, settings.texts_per_day_total) < 0:
            raise ValueError("LINE_TEXTS_PER_CALL, LINE_TEXTS_PER_DAY and LINE_TEXTS_PER_DAY_TOTAL must be 0 or more")
        if settings.retention_days < 1:
            raise ValueError("LINE_RETENTION_DAYS must be 1 or more")
        if settings.gather_timeout < 7:
            raise ValueError("LINE_GATHER_TIMEOUT must be 7 seconds or more")
        if settings.silence_limit > 1000:
            raise ValueError("LINE_SILENCE_LIMIT must be 1000 or less")
        if settings.silence_limit < 12:
            raise ValueError("LINE_SILENCE_LIMIT must be 12 or more (a reprompt, then 10 extensions)")
        if settings.staff_secret is not None and len(settings.staff_secret) < 32:
            raise ValueError("LINE_STAFF_SECRET must be at least 32 characters (python3 -c 'import secrets; "
                             "print(secrets.token_urlsafe(32))')")
        if not 2 <= settings.staff_idle_minutes <= 24 * 60:
            raise ValueError("LINE_STAFF_IDLE_MINUTES must be from 2 to 1440")
        return settings
