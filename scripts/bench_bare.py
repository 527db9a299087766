"""The ceiling: a bare Flask app that answers every POST with a constant TwiML reply.

scripts/bench serves it with exactly the same gunicorn settings as the line.
"""
from flask import Flask, Response

app = Flask(__name__)
REPLY = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello</Message></Response>'


@app.post("/<path:path>")
@app.post("/")
def answer(path: str = ""):
    return Response(REPLY, mimetype="text/xml")
