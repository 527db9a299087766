"""TwiML answers for Flask, and the last-resort answers for when not even the content can be
reached (the only words about the referral office written in code, not in content/)."""
from __future__ import annotations

from flask import Response
from twilio.twiml import TwiML
from twilio.twiml.voice_response import VoiceResponse

FALLBACK_TEXT = "Sorry, something went wrong. Please call the NCI referral office at 1-866-820-4505."
FALLBACK_SPEECH = ("Sorry, something went wrong. Please call the N C I referral office at "
                   "one. eight, six, six. eight, two, zero. four, five, zero, five.")


def twiml(response: TwiML | str) -> Response:
    """A built response (or its XML) as Twilio wants it: status 200, text/xml."""
    return Response(str(response), status=200, mimetype="text/xml")


def last_resort_call() -> Response:
    """The referral number, twice, and goodbye: never a dead end, even with nothing else working."""
    response = VoiceResponse()
    response.say(FALLBACK_SPEECH)
    response.say(FALLBACK_SPEECH)
    response.hangup()
    return twiml(response)
