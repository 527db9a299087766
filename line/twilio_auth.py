"""The X-Twilio-Signature check (fails closed). Texts sent to callers are in outbound.py."""
from __future__ import annotations

import hmac
import logging

from flask import abort, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def signed_url(public_base_url: str | None) -> str:
    """The URL Twilio signed, as Twilio wrote it: the public base when the line sits behind a
    proxy, and the path and query exactly as they came (escapes such as %C3%B1 kept), since
    werkzeug's request.url decodes some of them."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if not raw.startswith("/"):
        query = request.query_string.decode("latin-1")
        raw = request.path + (f"?{query}" if query else "")
    base = public_base_url or request.host_url.rstrip("/")
    return base + raw


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
        if self.allow_unsigned:
            return None
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.validator or not signature:
            log.warning("refused an unsigned request to %s", request.path)
            abort(403)
        url = signed_url(self.public_base_url)
        if "bodySHA256" in request.args:
            params = request.get_data(as_text=True)
        else:
            params = request.form
            # The common case, checked once; the validator's full check (the URL with and
            # without its port, JSON bodies) only when that does not match.
            if hmac.compare_digest(self.validator.compute_signature(url, params), signature):
                return None
        if not self.validator.validate(url, params, signature):
            log.warning("refused a request to %s with a signature that does not match", request.path)
            abort(403)
        return None
