"""Turn TwiML builders into Flask responses; the last-resort answers when a handler fails."""
from __future__ import annotations

from flask import Response
from twilio.twiml import TwiML


def twiml(response: TwiML) -> Response:
    return Response(str(response), status=200, mimetype="text/xml")
