"""A stand-in for Twilio placing a call: it posts to the real webhooks, follows Gather actions and
Redirects, and checks that every answer is valid TwiML that leads somewhere.

What a step means (where the caller is, what the line listens for) is the engine's decision: the
voice channel shows each rendered step (each request is served by `Runtime.showing`), and `walk_every_key` follows those,
not its own reading of the TwiML. The TwiML accessors below are for tests of what Twilio gets."""
from __future__ import annotations

import hashlib
import uuid
from itertools import count
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from conftest import NUMBER, TOKEN, twilio_signature
from line.speech import misread

LINE_NUMBER = "+15555550100"


class Step:
    def __init__(self, response, shown: list | None = None):
        """`shown`: what the channel showed of its answer (None: the test did not look)."""
        if shown is not None:
            assert len(shown) == 1, "the channel encoded no step of the engine's (or more than one)"
        # line.voice.Rendered: the engine's step as the channel renders it; .engine: the CallStep
        self.rendered = shown[0] if shown else None
        self.engine = self.rendered.step if shown else None
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        self.xml = response.data.decode()
        self.root = ElementTree.fromstring(response.data)
        assert self.root.tag == "Response"
        check_leads_somewhere(self.root)

    @property
    def said(self) -> str:
        return " ".join(" ".join(el.itertext()) for el in self.root.iter("Say"))

    @property
    def gather(self):
        return self.root.find("Gather")

    @property
    def action(self) -> str:
        return self.gather.get("action")

    @property
    def redirect(self) -> str | None:
        el = self.root.find("Redirect")
        return el.text if el is not None else None

    def state(self, url: str | None = None) -> dict:
        url = url or self.action
        return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    @property
    def hung_up(self) -> bool:
        return self.root.find("Hangup") is not None


def check_leads_somewhere(root) -> None:
    """A caller is never left in silence: Gather then Redirect, a Dial with an action, or a Hangup."""
    children = list(root)
    assert children, "an empty response hangs up on the caller"
    tags = [c.tag for c in children]
    for say in root.iter("Say"):
        text = " ".join(say.itertext())
        assert text.strip(), "an empty <Say>"
        assert not misread(text), (misread(text), text)
    if "Gather" in tags:
        gather = children[tags.index("Gather")]
        assert gather.get("action") and gather.get("method") == "POST"
        assert gather.get("input") == "dtmf speech"
        assert int(gather.get("timeout")) >= 7
        assert gather.get("finishOnKey") == ""
        assert list(gather), "a Gather with nothing to say"
        assert tags[tags.index("Gather") + 1:] == ["Redirect"], f"after the Gather: {tags}"
    elif "Dial" in tags:
        assert children[tags.index("Dial")].get("action")
    else:
        assert tags[-1] in ("Hangup", "Redirect"), tags


class Caller:
    def __init__(self, app, number: str = NUMBER, call_sid: str | None = None, base: str = "http://localhost",
                 shared_key: str | None = None):
        """`shared_key`: sign as a Twilio Webhook Setting with that SharedKey does (HMAC-SHA256)."""
        self.shared_key = shared_key
        self.app = app
        self.client = app.test_client()
        self.number = number
        self.call_sid = call_sid or "CA" + uuid.uuid4().hex  # each call its own, as Twilio gives them
        self.base = base
        self.last: Step | None = None

    def post(self, url: str, **fields) -> Step:
        data = {"CallSid": self.call_sid, "From": self.number, "To": LINE_NUMBER, "Caller": self.number, **fields}
        if self.shared_key:
            headers = {"X-Twilio-Signature": twilio_signature(self.shared_key, self.base + url, data, hashlib.sha256),
                       "X-Twilio-Webhooks-Signature-Settings": "key=KS0001,algorithm=HMAC_SHA256"}
        else:
            headers = {"X-Twilio-Signature": twilio_signature(TOKEN, self.base + url, data)}
        shown: list = []
        showing = self.app.extensions["line"].showing(shown)
        response = self.client.post(url, data=data, headers=headers, base_url=self.base, environ_overrides=showing.environ())
        self.last = Step(response, shown)
        return self.last

    def call(self) -> Step:
        return self.post("/voice")

    def press(self, key: str) -> Step:
        return self.post(self.last.action, Digits=key)

    def say(self, words: str) -> Step:
        return self.post(self.last.action, SpeechResult=words, Confidence="0.9")

    def wait(self) -> Step:
        """Silence: Twilio runs the verbs after the Gather."""
        return self.post(self.last.redirect)


_walker_numbers = count()


def walk_every_key(app, lang: str = "en", dial_status: str = "no-answer", check=None) -> set[str]:
    """Press every key at every place reachable from the main menu in one language, as Twilio
    would post them; every answer is checked to lead somewhere, and `check(place, key, step)`
    may look at each one too. Returns the places reached (menus, topics, the number). Each press
    is its own call from its own number: the line limits requests per number (line/limits.py)."""
    seen, queue = set(), ["main"]
    while queue:
        place = queue.pop()
        if place in seen:
            continue
        seen.add(place)
        for key in "0123456789*#":
            c = Caller(app, number=f"+1555556{next(_walker_numbers) % 10_000:04d}")
            c.post(f"/voice/menu?at={place}&lang={lang}")
            step = c.press(key)
            if check:
                check(place, key, step)
            if step.engine.transfer:
                step = c.post(step.rendered.dial_action, DialCallStatus=dial_status)
            if step.engine.listen and step.engine.call.lang == lang:
                queue.append(step.engine.call.at)
    return seen
