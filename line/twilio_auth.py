"""The X-Twilio-Signature check (fails closed). Texts sent to callers are in outbound.py."""
from __future__ import annotations

import hmac
import logging
from functools import lru_cache
from urllib.parse import parse_qsl

from flask import abort, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.sansio.utils import get_current_url, get_host

log = logging.getLogger(__name__)

FORM_TYPE = "application/x-www-form-urlencoded"
QUICK_FORM_BYTES = 64 * 1024  # Twilio's webhook forms are a few KB; bigger bodies go through werkzeug


def load_form() -> None:
    """Parse the form Twilio posted, once, straight from the body: the same `parse_qsl` (and the
    same handling of bad bytes) that werkzeug's form parser ends in, without its layers of stream
    wrapping, in less than half its time. Anything but a small urlencoded body is left to
    werkzeug, as `request.form` parses it (tests/test_properties.py checks both read the same
    fields from any bytes)."""
    req = request._get_current_object()
    if "form" in req.__dict__:
        return
    environ = req.environ
    if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != FORM_TYPE:
        return
    length = req.content_length
    if length is None or length > QUICK_FORM_BYTES:
        return
    body = environ["wsgi.input"].read(length)  # exactly CONTENT_LENGTH bytes, as WSGI allows
    req._cached_data = body  # what werkzeug's get_data() gives back once the body has been read
    try:
        text = body.decode()
    except UnicodeDecodeError:  # werkzeug too reads no field at all from such a body
        req.form = ImmutableMultiDict()
        return
    req.form = ImmutableMultiDict(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))


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


class SignatureCheck:
    """A before_request hook for the webhook blueprints."""

    def __init__(self, auth_token: str | None, allow_unsigned: bool, public_base_url: str | None):
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.allow_unsigned = allow_unsigned
        self.public_base_url = public_base_url
        if allow_unsigned:
            log.warning(
                "LINE_ALLOW_UNSIGNED is on: requests are NOT checked for Twilio's signature. "
                "Anyone who can reach this server can use the line. Never run it like this in production."
            )
        elif not auth_token:
            log.error("TWILIO_AUTH_TOKEN is not set: every webhook request will be refused (403).")

    def __call__(self):
        load_form()
        if self.allow_unsigned:
            return None
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.validator or not signature:
            log.warning("refused an unsigned request to %s", request.path)
            abort(403)
        url = signed_url(self.public_base_url)
        if b"bodySHA256" in request.query_string and "bodySHA256" in request.args:
            params = request.get_data(as_text=True)
        else:
            params = request.form
            # The common case, checked once; the validator's full check (the URL with and
            # without its port, JSON bodies) only when that does not match.
            if hmac.compare_digest(self.validator.compute_signature(url, Fields(params.lists())), signature):
                return None
        if not self.validator.validate(url, params, signature):
            log.warning("refused a request to %s with a signature that does not match", request.path)
            abort(403)
        return None
