import base64
import hashlib
import hmac
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

from line import create_app
from line.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
TOKEN = "test-auth-token"
NUMBER = "+15555550123"


def twilio_signature(token: str, url: str, params) -> str:
    """Twilio's algorithm, written out independently of twilio-python (see shared/twilio-signature-vectors.md)."""
    items = params.items(multi=True) if hasattr(params, "items") and hasattr(params, "getlist") else (
        params.items() if hasattr(params, "items") else params)
    values: dict[str, set] = {}
    for name, value in items:
        values.setdefault(name, set()).add(value)
    message = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(token.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def make_settings(tmp_path: Path, **overrides) -> Settings:
    env = {"LINE_DATA_DIR": str(tmp_path / "data"), "TWILIO_AUTH_TOKEN": TOKEN, "LINE_SECRET": "test-secret"}
    return Settings.from_env(env, **overrides)


class Twilio:
    """Posts to the line the way Twilio does: form-encoded and signed."""

    def __init__(self, app, base="http://localhost"):
        self.client = app.test_client()
        self.base = base

    def post(self, path: str, data: dict, sign: bool = True, headers: dict | None = None):
        headers = dict(headers or {})
        if sign:
            headers["X-Twilio-Signature"] = twilio_signature(TOKEN, self.base + path, data)
        return self.client.post(path, data=data, headers=headers, base_url=self.base)

    def text(self, body: str, number: str = NUMBER):
        response = self.post("/sms", {"Body": body, "From": number, "To": "+15555550100", "MessageSid": "SM1"})
        assert response.status_code == 200, response.data
        return replies(response)


def replies(response) -> list[str]:
    """The texts in a MessagingResponse (parsing proves it is valid XML)."""
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def twilio(app):
    return Twilio(app)


@pytest.fixture
def content_copy(tmp_path):
    """A copy of the shipped content that a test may break."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target
