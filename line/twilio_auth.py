"""Twilio's webhook signatures (fails closed), and the bounded read of the body they sign.

Twilio signs with the account Auth Token (HMAC-SHA1), or, where a Webhook Setting says so, with
a SharedKey (the header X-Twilio-Webhooks-Signature-Settings names the key and the algorithm,
HMAC-SHA256). Texts sent to callers are in outbound.py.
"""
from __future__ import annotations

import hmac
import logging
from functools import lru_cache

from flask import abort, request
from twilio.request_validator import (
    HMAC_SHA1, SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm,
)
from werkzeug.exceptions import ClientDisconnected
from werkzeug.sansio.utils import get_current_url, get_host

from .config import MAX_TEXT_CHARS

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # LINE_MAX_BODY_BYTES: Twilio's webhook forms are a few KB
BODY_SECONDS = 10.0  # LINE_BODY_TIMEOUT: Twilio sends its form at once


def read_body(max_bytes: int, seconds: float) -> None:
    """Read the request's body, at most `max_bytes` of it, for request.form and get_data().

    A Content-Length over the bound is refused (413) before a byte is read; one within it is all
    werkzeug will read, however long the body really is. A body without one (chunked) is cut
    off while reading: the app's MAX_CONTENT_LENGTH is one byte more than the bound (see
    create_app), so werkzeug stops there, and a body that reached it is refused.

    Under gunicorn, a client that stops sending for `seconds` is given up (408): the wait for
    each next piece of the body is bounded, so a stalled body frees its worker thread."""
    length = request.content_length
    if length is not None and length > max_bytes:
        log.warning("refused a body of %d bytes to %s (LINE_MAX_BODY_BYTES)", length, request.path)
        abort(413)
    sock = request.environ.get("gunicorn.socket")  # the client's socket, as gunicorn hands it over
    before = sock.gettimeout() if sock is not None else None
    if sock is not None:
        sock.settimeout(seconds)
    try:
        length = len(request.get_data(cache=True))  # kept: request.form parses what was read
    except ClientDisconnected:  # stopped sending, or went away
        log.warning("gave up a body that stopped coming to %s", request.path)
        abort(408)
    finally:
        if sock is not None:
            sock.settimeout(before)
    if length > max_bytes:
        log.warning("refused a body of more than %d bytes to %s (LINE_MAX_BODY_BYTES)", max_bytes, request.path)
        abort(413)


def text_field(name: str) -> str:
    """A free-text field Twilio posted (Body, SpeechResult): its first MAX_TEXT_CHARS, all the
    line reads of it."""
    return request.form.get(name, "")[:MAX_TEXT_CHARS]


@lru_cache(maxsize=256)
def _host_url(scheme: str, host_header: str | None, server: tuple[str, int | None] | None) -> str:
    """werkzeug's request.host_url (scheme and host, default ports dropped), for each host seen."""
    return get_current_url(scheme, get_host(scheme, host_header, server))


def signed_url(public_base_url: str | None) -> str:
    """The URL Twilio signed, as Twilio wrote it: the public base when the line sits behind a
    proxy, and the path and query exactly as they came (escapes such as %C3%B1 kept), since
    werkzeug's request.url decodes some of them."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if not raw.startswith("/"):
        query = request.query_string.decode("latin-1")
        raw = request.path + (f"?{query}" if query else "")
    if public_base_url:
        return public_base_url + raw
    return _host_url(request.scheme, environ.get("HTTP_HOST"), request.server).rstrip("/") + raw


class Fields(dict):
    """A form as name -> every value. twilio's validator asks a form for `getall` first, then
    `getlist`, each failure an exception; werkzeug's forms have only the second."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def same(a: str, b: str) -> bool:
    """A constant-time comparison that any header value can reach (compare_digest refuses
    non-ASCII str)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


class SignatureCheck:
    """A before_request hook for the webhook blueprints: a request that no configured key could
    have signed is refused (403) before its body is read; a signed one has its body read, within
    the bound, and checked."""

    def __init__(self, auth_token: str | None, allow_unsigned: bool, public_base_url: str | None,
                 shared_keys: tuple[str, ...] = (), max_body: int = MAX_BODY_BYTES,
                 body_seconds: float = BODY_SECONDS):
        self.account = [RequestValidator(auth_token)] if auth_token else []
        self.shared = [RequestValidator(key) for key in shared_keys if key]
        self.allow_unsigned = allow_unsigned
        self.public_base_url = public_base_url
        self.max_body = max_body
        self.body_seconds = body_seconds
        if allow_unsigned:
            log.warning(
                "LINE_ALLOW_UNSIGNED is on: requests are NOT checked for Twilio's signature. "
                "Anyone who can reach this server can use the line. Never run it like this in production."
            )
        elif not auth_token and not self.shared:
            log.error("TWILIO_AUTH_TOKEN is not set: every webhook request will be refused (403).")

    def keys_for(self) -> tuple[list[RequestValidator], str]:
        """The keys that could have signed this request, and with which algorithm, from its
        headers alone: a SharedKey where Twilio says so, the account's Auth Token otherwise."""
        settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
        if settings is None:
            return self.account, HMAC_SHA1
        if not self.shared:
            log.warning("refused a request signed with a SharedKey: TWILIO_WEBHOOK_SHARED_KEY is not set")
        return self.shared, get_signature_algorithm(settings)

    def __call__(self):
        if self.allow_unsigned:
            read_body(self.max_body, self.body_seconds)
            return None
        signature = request.headers.get(SIGNATURE_HEADER, "")
        validators, algorithm = self.keys_for()
        if not signature or not validators:
            log.warning("refused an unsigned request to %s", request.path)
            abort(403)  # its body is never read
        read_body(self.max_body, self.body_seconds)
        try:
            valid = self.valid(validators, signature, algorithm)
        except (TypeError, ValueError) as exc:  # nothing Twilio sends; a forgery's odd shape
            log.warning("refused a request to %s that cannot be checked: %s", request.path, type(exc).__name__)
            valid = False
        if not valid:
            log.warning("refused a request to %s with a signature that does not match", request.path)
            abort(403)
        return None

    def valid(self, validators: list[RequestValidator], signature: str, algorithm: str) -> bool:
        url = signed_url(self.public_base_url)
        if b"bodySHA256" in request.query_string and "bodySHA256" in request.args:
            # A JSON body: the URL carries the body's hash. Without one there is nothing to check.
            if not all(request.args.getlist("bodySHA256")):
                return False
            body = request.get_data(as_text=True)
            return any(v.validate(url, body, signature, algorithm) for v in validators)
        params = Fields(request.form.lists())
        # The common case, checked once per key; the validator's full check (the URL with and
        # without its port) only when that does not match.
        if any(same(v.compute_signature(url, params, algorithm), signature) for v in validators):
            return True
        return any(v.validate(url, params, signature, algorithm) for v in validators)
