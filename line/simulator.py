"""Try the line as a texter or a caller would, without a phone, a network or Twilio.

Staff use it through the preview page (`GET /preview`, line/preview.py) and `line try`
(line/cli.py). Both walk the REAL webhooks with the content in use now.

How, and why this way: every text and every key press is an ordinary HTTP request made with
Flask's test client to `/sms` and `/voice...`, so it goes through everything a request from
Twilio goes through: the proxy fix, the blueprint's signature check, the view, its error
handler and the TwiML it returns. Nothing is called behind the app's back. The signature check
is not switched off either: the simulator signs each request the way Twilio does, with the
line's own auth token (RequestValidator.compute_signature), over the URL the check will use
(LINE_PUBLIC_URL when set). When the line accepts unsigned requests (LINE_ALLOW_UNSIGNED) it
sends none, like anyone could. When the line has no token and does not accept unsigned
requests, it refuses every webhook, Twilio's included; the simulator says so (PreviewError)
rather than pretend. The token never leaves the process: the test client has no network.

What makes a preview different from a real call or text is the Runtime its requests are served
by, `Runtime.for_preview(state)` (carried by each request made here: `Runtime.environ`; no
request from outside the process can carry it), on purpose:
- Nothing is recorded, counted or sent (line/preview_runtime.py): no usage, no unmatched words,
  no rate limit's count, no replay id, no text; the caller's number is "preview", not a phone's.
- The preview texter's state (opted out, language, answered before) is the session's own
  (`Simulator.state`), kept as the store would keep a number's but never in the store: each
  session (a `line try`, a preview page opened) starts as a new number, in the line's first
  language, its first reply led by the first_text notice exactly as a new number's is; its
  ESPANOL or STOP holds for the rest of that session and reaches no other.

Nothing is read back out of the TwiML: while a preview request runs, the channel hands the
simulator what it is about to encode (`Runtime.showing`): for a text, the engine's `TextAnswer`;
for a call, the engine's `CallStep` as the voice channel renders it (`voice.Rendered`: the
words or clips heard, in order, and the URLs Twilio would go to next). A `Step` is made from
those: the place, the path to it, the pace and the keys offered come from the engine.
"""
from __future__ import annotations

import secrets
import textwrap
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from flask import Flask
from twilio.request_validator import RequestValidator

from .content import Language, Library
from .engine.calls import NUMBER, CallStep, Key as OfferedKey, parent
from .engine.texts import TextAnswer
from .store import NumberState
from .voice import Piece, Rendered

PREVIEW_NUMBER = "preview"  # the caller and texter: not a phone number, so never texted
LINE_NUMBER = "preview-line"  # the line's own number, as Twilio would send it in To
VOICE_PREFIX = "/voice"
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed")
PRESSABLE = "0123456789*#"


class PreviewError(Exception):
    """The line would not answer this (no token, a refused request, not TwiML)."""


@dataclass
class Key:
    key: str
    label: str


@dataclass
class Step:
    """One answer of the phone line, as a caller would experience it."""

    url: str  # the URL that was posted
    xml: str
    pieces: list[Piece] = field(default_factory=list)
    gather_action: str | None = None
    redirect: str | None = None
    dial_number: str | None = None
    dial_action: str | None = None
    hung_up: bool = False
    place: str | None = None  # menu, topic or "_number": where the engine put the caller
    place_path: list[str] = field(default_factory=list)  # "Main menu" > ... > the place
    pace: str = "normal"
    keys: list[Key] = field(default_factory=list)  # the keys the caller was told about here

    @property
    def said(self) -> list[str]:
        return [p.text for p in self.pieces if p.kind in ("say", "play") and p.text]

    @property
    def text(self) -> str:
        return " ".join(self.said)

    @property
    def audio(self) -> list[str]:
        return [p.url for p in self.pieces if p.kind == "play"]

    @property
    def waiting_for_caller(self) -> bool:
        return self.gather_action is not None

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(said=self.said, text=self.text, audio=self.audio)
        return data


class Simulator:
    """Texts and calls to the real line, from inside the process."""

    def __init__(self, app: Flask, state: NumberState = NumberState(), caller: str = PREVIEW_NUMBER,
                 runtime=None):
        """`state`: the session's texter so far, as the store would know a number (a new one's
        by default: not opted out, no language chosen, never answered). `runtime`: the line's own
        by default; the staff console gives one serving a draft's content (Runtime.serving)."""
        self.app = app
        self.caller = caller
        self.line = runtime or app.extensions["line"]
        self.runtime = self.line.for_preview(state)
        self.client = app.test_client()
        settings = self.runtime.settings
        self.base = "http://localhost"
        self.signed_base = settings.public_base_url or self.base
        self.validator = RequestValidator(settings.twilio_auth_token) if settings.twilio_auth_token else None
        self.allow_unsigned = settings.allow_unsigned

    # -- requests ------------------------------------------------------------------------
    def post(self, path: str, form: dict) -> tuple[str, list]:
        """POST `form` to `path` as Twilio would; (the body, what the channel showed of its answer)."""
        headers = {}
        if not self.allow_unsigned:
            if self.validator is None:
                raise PreviewError(
                    "The line refuses every request: TWILIO_AUTH_TOKEN is not set (and LINE_ALLOW_UNSIGNED is off). "
                    "Set the token the line uses with Twilio, or LINE_ALLOW_UNSIGNED=1 on a trial machine.")
            headers["X-Twilio-Signature"] = self.validator.compute_signature(self.signed_base + path, form)
        shown: list = []
        response = self.client.post(path, data=form, headers=headers, base_url=self.base,
                                    environ_overrides=self.runtime.showing(shown).environ())
        if response.status_code != 200:
            raise PreviewError(f"The line answered {path} with HTTP {response.status_code}.")
        if response.mimetype != "text/xml":
            raise PreviewError(f"The line answered {path} with {response.mimetype}, not TwiML.")
        if len(shown) != 1:
            raise PreviewError(f"The line answered {path} without its content (its last-resort answer).")
        return response.get_data(as_text=True), shown[0]

    # -- texts ---------------------------------------------------------------------------
    def text(self, body: str) -> list[str]:
        """Send a text; the replies (none when the line keeps quiet, as after STOP)."""
        form = {"Body": body, "From": self.caller, "To": LINE_NUMBER,
                "MessageSid": "SMpreview" + secrets.token_hex(8), "NumMedia": "0"}
        _, answer = self.post("/sms", form)
        if not isinstance(answer, TextAnswer):
            raise PreviewError("The line did not answer the text as a text.")
        return list(answer.texts)

    # -- calls ---------------------------------------------------------------------------
    def voice(self, url: str = VOICE_PREFIX, digits: str | None = None, speech: str | None = None,
              dial_status: str | None = None, call_sid: str | None = None) -> Step:
        """Post one step of a call: `url` is /voice, or a URL the line gave (Gather action,
        Redirect, Dial action)."""
        path = check_voice_url(url)
        form = {"CallSid": call_sid or new_call_sid(), "From": self.caller, "To": LINE_NUMBER,
                "Caller": self.caller, "Direction": "inbound", "CallStatus": "in-progress"}
        if digits:
            form["Digits"] = digits
        if speech:
            form["SpeechResult"] = speech
            form["Confidence"] = "0.9"
        if dial_status:
            form["DialCallStatus"] = dial_status
        xml, rendered = self.post(path, form)
        if not isinstance(rendered, Rendered):
            raise PreviewError("The line did not answer the call step as a call.")
        return self.step(path, xml, rendered)

    def step(self, url: str, xml: str, rendered: Rendered) -> Step:
        """What the caller gets, from the engine's step and how the channel renders it."""
        answer: CallStep = rendered.step
        step = Step(url=url, xml=xml, pieces=list(rendered.pieces), gather_action=rendered.gather_action,
                    redirect=rendered.redirect, dial_number=answer.transfer, dial_action=rendered.dial_action,
                    hung_up=answer.hang_up)
        if answer.hang_up:
            return step
        call = answer.retry or answer.call
        library = self.library()
        lang = library.language(call.lang)
        step.place, step.pace = call.at, "slow" if call.slow else "normal"
        step.place_path = place_path(lang, call.at)
        if answer.listen:
            step.keys = [Key(k.key, key_label(lang, k)) for k in answer.keys]
        return step

    @property
    def state(self) -> NumberState:
        """The session's texter now: what the store would know of a number that sent its texts."""
        return self.runtime.store.state

    def library(self) -> Library:
        with self.app.app_context():
            return self.line.library()


class Session:
    """One staff member trying the line: a texting phone and, at most, one call at a time."""

    def __init__(self, simulator: Simulator):
        self.sim = simulator
        self.last: Step | None = None
        self.call_sid: str | None = None
        self.keys: list[Key] = []  # the last keys the line listed, kept across silences

    @property
    def in_call(self) -> bool:
        return self.last is not None and not self.last.hung_up

    def text(self, body: str) -> list[str]:
        return self.sim.text(body)

    def call(self) -> Step:
        self.call_sid = new_call_sid()
        self.keys = []
        return self._step(VOICE_PREFIX)

    def press(self, key: str) -> Step:
        return self._step(self._gather_action(), digits=key)

    def say(self, words: str) -> Step:
        return self._step(self._gather_action(), speech=words)

    def wait(self) -> Step:
        if not self.in_call or not self.last.redirect:
            raise PreviewError("Nothing happens on silence here." if self.in_call else "There is no call: type call first.")
        return self._step(self.last.redirect)

    def dial_outcome(self, status: str) -> Step:
        if not self.in_call or not self.last.dial_action:
            raise PreviewError("The line is not putting the caller through right now.")
        if status not in DIAL_OUTCOMES:
            raise PreviewError(f"A transfer ends as one of: {', '.join(DIAL_OUTCOMES)}.")
        return self._step(self.last.dial_action, dial_status=status)

    def _gather_action(self) -> str:
        if not self.in_call:
            raise PreviewError("There is no call: type call first." if self.last is None
                               else "The call ended: type call to call again.")
        if self.last.dial_action:
            raise PreviewError("The caller is being put through: choose an outcome ("
                               + ", ".join(DIAL_OUTCOMES) + ").")
        if not self.last.gather_action:
            raise PreviewError("The line is not listening for keys here: wait.")
        return self.last.gather_action

    def _step(self, url: str, **fields) -> Step:
        step = self.sim.voice(url, call_sid=self.call_sid, **fields)
        if step.keys:
            self.keys = step.keys
        self.last = step
        return step


# -- helpers -----------------------------------------------------------------------------
def new_call_sid() -> str:
    return "CApreview" + secrets.token_hex(12)


def check_voice_url(url: str) -> str:
    """Only the phone line's own steps: a path under /voice, on this app."""
    parts = urlsplit(url or "")
    if (parts.scheme or parts.netloc or "\\" in parts.path or ".." in parts.path.split("/")
            or not (parts.path == VOICE_PREFIX or parts.path.startswith(VOICE_PREFIX + "/"))):
        raise PreviewError("A call step must be a /voice URL the line gave.")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _title(label: str) -> str:
    return label[:1].upper() + label[1:]


def place_path(lang: Language, place: str) -> list[str]:
    """Where the caller is, from the main menu down: ["Main menu", "Getting treatment ...", "Side effects"]."""
    if place == "main" or (place not in lang.menus and place not in lang.topics and place != NUMBER):
        return ["Main menu"]
    if place == NUMBER:
        return ["Main menu", "The referral office's number"]
    path, current, seen = [], place, set()
    while current != "main" and current not in seen:
        seen.add(current)
        path.append(_title(lang.item(current).label))
        current = parent(lang, current)
    return ["Main menu", *reversed(path)]


KEY_NAMES = {"referral": "the referral office (transfer)", "repeat": "repeat", "main_menu": "main menu",
             "back": "back one level", "text_me": "get this by text", "slower": "a slower voice",
             "number_again": "hear the number again"}


def key_label(lang: Language, key: OfferedKey) -> str:
    """What a key the engine offered does, for staff: a reserved key's job, or where it leads."""
    return KEY_NAMES.get(key.name) or _title(lang.item(key.name).label)


def describe(step: Step, width: int = 100, keys: list[Key] | None = None) -> str:
    """A step as plain text, for a terminal: the place, the words, the clips, what can happen next."""
    out = []
    if step.place_path and not step.hung_up:
        out.append("Place: " + " > ".join(step.place_path) + (" (slower voice)" if step.pace == "slow" else ""))
    for piece in step.pieces:
        if piece.kind == "say":
            out.append(textwrap.fill(piece.text, width, initial_indent="Line says: ", subsequent_indent="  "))
        elif piece.kind == "play":
            words = f": {piece.text}" if piece.text else " (words unknown)"
            out.append(textwrap.fill(f"Line plays {piece.url}{words}", width, subsequent_indent="  "))
        elif piece.kind == "pause":
            out.append(f"(pause, {piece.seconds:g} s)")
    if step.dial_number:
        out.append(f"The line would transfer the caller to {step.dial_number}.")
        out.append("How does the transfer end? Type: " + ", ".join(DIAL_OUTCOMES))
    elif step.hung_up:
        out.append("The line hung up: the call ended. Type call to call again.")
    elif step.gather_action:
        keys = step.keys or keys or []
        if keys:
            out.append(textwrap.fill("Keys: " + "; ".join(f"{k.key} {k.label}" for k in keys), width,
                                     subsequent_indent="  "))
        out.append("Press a key (0-9 * #), say <words>, or wait.")
    elif step.redirect:
        out.append("The line moves on by itself: type wait.")
    return "\n".join(out)


# -- `line try`: the same in a terminal ------------------------------------------------------
TRY_HELP = """Commands:
  text <words>     send a text message and see the reply
  call             call the line (again: a new call)
  0-9, * or #      press a key
  say <words>      speak words, as a caller would
  wait             say nothing (the line's silence handling)
  completed, busy, no-answer, failed
                   how a transfer to the referral office ends
  hang up          end the call
  help             this list
  quit             leave"""


def keyboard_reader():
    """Read commands typed at a terminal, with line editing and history where Python has them."""
    try:
        import readline  # noqa: F401
    except ImportError:
        pass

    def read() -> str:
        try:
            return input("> ") + "\n"
        except EOFError:
            return ""

    return read


def run_terminal(app: Flask, read_line, echo, interactive: bool) -> None:
    """The `line try` loop: read commands until quit or the end of input.

    `read_line()` returns a line ('' at the end; at a terminal it shows the prompt itself),
    `echo(text)` prints. With piped input the command is printed before its answer, so a
    transcript reads like a conversation.
    """
    session = Session(Simulator(app))
    library = session.sim.library()
    lang = library.language(None)
    echo(f"Trying the {lang.line_name} with the content in use now (version {library.version[:12]}).")
    echo("Nothing here is counted as use of the line, and no text message is ever sent.")
    echo(TRY_HELP)
    while True:
        raw = read_line()
        if not raw:
            echo("")
            return
        line = raw.strip()
        if not line:
            continue
        if not interactive:
            echo(f"> {line}")
        word, _, rest = line.partition(" ")
        word, rest = word.lower(), rest.strip()
        try:
            if word in ("quit", "exit", "q"):
                return
            if word in ("help", "?"):
                echo(TRY_HELP)
            elif word == "text":
                if not rest:
                    echo("Type text and the words, like: text side effects")
                    continue
                replies = session.text(rest)
                for reply in replies:
                    echo(textwrap.fill(reply, 100, initial_indent="Line replies: ", subsequent_indent="  ",
                                       replace_whitespace=False))
                if not replies:
                    echo("No reply: the line keeps quiet (after STOP it sends nothing until START).")
            elif word == "call":
                echo(describe(session.call()))
            elif len(line) == 1 and line in PRESSABLE:
                echo(describe(session.press(line), keys=session.keys))
            elif word == "press" and len(rest) == 1 and rest in PRESSABLE:
                echo(describe(session.press(rest), keys=session.keys))
            elif word == "say":
                if not rest:
                    echo("Type say and the words, like: say side effects")
                    continue
                echo(describe(session.say(rest), keys=session.keys))
            elif word == "wait":
                echo(describe(session.wait(), keys=session.keys))
            elif line.lower().replace(" ", "-") in DIAL_OUTCOMES or (word == "dial" and rest.replace(" ", "-") in DIAL_OUTCOMES):
                outcome = (rest if word == "dial" else line).lower().replace(" ", "-")
                echo(describe(session.dial_outcome(outcome), keys=session.keys))
            elif line.lower() in ("hang up", "hangup"):
                if session.in_call:
                    session.last = None
                    echo("You hung up. Type call to call again.")
                else:
                    echo("There is no call.")
            else:
                echo(f"Not a command: {line}. Type help for the list.")
        except PreviewError as exc:
            echo(str(exc))
