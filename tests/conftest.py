import base64
import hashlib
import hmac
import shutil
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest

from line import create_app
from line.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
TOKEN = "test-auth-token"
NUMBER = "+15555550123"
# A number the line may text (a United States one): 555-0100 to 555-0199 are kept for fiction in
# every area code. NUMBER's area code 555 is no region's, so "get this by text" refuses it.
MOBILE = "+12015550123"


def fictional_numbers(region: str = "US"):
    """Numbers of `region` the line may text and nobody has: 555-01xx in each of its area codes."""
    import phonenumbers

    for area in range(200, 1000):
        first = phonenumbers.parse(f"+1{area}5550100")
        if phonenumbers.is_valid_number(first) and phonenumbers.region_code_for_number(first) == region:
            for line in range(100, 200):
                yield f"+1{area}5550{line}"


def twilio_signature(token: str, url: str, params, digest=hashlib.sha1) -> str:
    """Twilio's algorithm, written out independently of twilio-python (see shared/twilio-signature-vectors.md).
    A SharedKey signs the same way with `digest=hashlib.sha256` (HMAC_SHA256)."""
    items = params.items(multi=True) if hasattr(params, "items") and hasattr(params, "getlist") else (
        params.items() if hasattr(params, "items") else params)
    values: dict[str, set] = {}
    for name, value in items:
        values.setdefault(name, set()).add(value)
    message = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    return base64.b64encode(hmac.new(token.encode(), message.encode(), digest).digest()).decode()


def message_sid() -> str:
    """A new MessageSid, as Twilio gives each message: the line answers a MessageSid once."""
    return "SM" + uuid.uuid4().hex


def make_settings(tmp_path: Path, **overrides) -> Settings:
    env = {"LINE_DATA_DIR": str(tmp_path / "data"), "TWILIO_AUTH_TOKEN": TOKEN, "LINE_SECRET": "test-secret"}
    return Settings.from_env(env, **overrides)


def answered_before(app, *numbers: str) -> bool:
    """Make `numbers` ones the line has answered before, as its first reply to each would have: their
    replies come without the first_text notice. For tests about something other than a first reply.
    False when the database cannot be reached (then the line cannot tell a new number either, and
    sends no notice)."""
    return store_answered_before(app.extensions["line"].store, *numbers)


def store_answered_before(store, *numbers: str) -> bool:
    """answered_before, in `store`. Written straight into its table, not through the line's guarded
    store, so that a test's own write never counts in an outage's log."""
    from datetime import datetime, timezone

    from line.store import numbers as table

    at = datetime.now(timezone.utc)
    rows = [{"number_hash": store.hash(n), "opted_out": False, "updated_at": at, "answered_at": at} for n in numbers]
    try:
        store.db.ensure()
        with store.db.write() as conn:
            conn.execute(store.db.upsert()(table).values(rows).on_conflict_do_nothing(index_elements=["number_hash"]))
    except Exception:
        return False
    return True


class Twilio:
    """Posts to the line the way Twilio does: form-encoded and signed.

    `text` sends from numbers the line has answered before (`returning`, the default), so the
    replies are the answers alone; `returning=False` for tests of a number's first reply, which
    leads with the first_text notice."""

    def __init__(self, app, base="http://localhost", returning: bool = True):
        self.app = app
        self.client = app.test_client()
        self.base = base
        self.returning = returning
        self.known: set[str] = set()  # numbers this phone has texted from

    def from_number(self, number: str) -> str:
        """`number`; the first time this phone texts from it, made one the line has answered before
        if the phone is `returning` (tried once: with the database away, the line cannot tell a new
        number either, and a database that times out would hold up every text)."""
        if self.returning and number not in self.known:
            answered_before(self.app, number)
        self.known.add(number)
        return number

    def post(self, path: str, data: dict, sign: bool = True, headers: dict | None = None):
        headers = dict(headers or {})
        if sign:
            headers["X-Twilio-Signature"] = twilio_signature(TOKEN, self.base + path, data)
        return self.client.post(path, data=data, headers=headers, base_url=self.base)

    def text(self, body: str, number: str = NUMBER):
        response = self.post("/sms", {"Body": body, "From": self.from_number(number), "To": "+15555550100", "MessageSid": message_sid()})
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
