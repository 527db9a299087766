"""A stand-in for Twilio's REST API on loopback: a real HTTP server that takes the line's
`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` and counts the messages it is asked to send.

The line reaches it through its public setting LINE_TWILIO_API_URL (twilio's own HTTP client,
sending to another base URL), over a real socket, from the test's app or a real gunicorn.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")


class FakeTwilio:
    """Counts the texts it is asked to send. `delay` holds each answer that long (so requests that
    race overlap); `status` 400 answers as Twilio does when it will not send (error 21610)."""

    def __init__(self, delay: float = 0.0, status: int = 201, api_keys: dict[str, str] | None = None):
        self.api_keys = dict(api_keys or {})  # API key SID -> secret, accepted besides the account SID
        self.delay = delay
        self.status = status
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                match = MESSAGES_PATH.match(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                auth = self.headers.get("Authorization", "")
                user, _, password = (base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else "").partition(":")
                if not match or not (user == match.group(1) or fake.api_keys.get(user, None) == password):
                    return self.answer(401 if match else 404, {"code": 20003, "message": "Authenticate"})
                time.sleep(fake.delay)
                if fake.status != 201:
                    return self.answer(fake.status, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                                     "status": fake.status})
                sid = "SM" + secrets.token_hex(16)
                with fake.lock:
                    fake.messages.append({"sid": sid, "to": form.get("To"), "from": form.get("From"), "body": form.get("Body"),
                                          "user": user})
                self.answer(201, {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                                  "account_sid": match.group(1)})

            def answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-twilio", daemon=True)
        self.thread.start()

    @property
    def sent(self) -> int:
        with self.lock:
            return len(self.messages)

    def to(self, number: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m["to"] == number]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio()
    yield fake
    fake.stop()
