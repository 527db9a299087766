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

Two things make a preview different from a real call, on purpose:
- The caller's number is "preview", which is not a phone number: the line never offers to
  text it and could not send it a text.
- Each request runs with `runtime.PREVIEW` set, so `Runtime.record` and `record_unmatched`
  count nothing: staff trying the line is not usage. (A context variable, not a header: it
  cannot be set from outside the process.)

The TwiML is parsed with xml.etree into a `Step`: what is said (text, and the recorded clips
with the words they hold when the line plays audio), the Gather's action, the Redirect for
silence, a Dial (number and action), whether the call hung up, and any messages.
"""
from __future__ import annotations

import secrets
import textwrap
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from flask import Flask
from twilio.request_validator import RequestValidator

from .audio import clip_name
from .content import SPOKEN_COMMANDS, Language, Library, fill
from .runtime import PREVIEW
from .engine.calls import NUMBER, key_line, option_line, parent, phrases

PREVIEW_NUMBER = "preview"  # the caller and texter: not a phone number, so never texted
LINE_NUMBER = "preview-line"  # the line's own number, as Twilio would send it in To
VOICE_PREFIX = "/voice"
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed")
PRESSABLE = "0123456789*#"


class PreviewError(Exception):
    """The line would not answer this (no token, a refused request, not TwiML)."""


@dataclass
class Piece:
    """One thing the caller hears, in order: words said, a clip played, or a pause."""

    kind: str  # "say", "play" or "pause"
    text: str = ""  # the words (for a clip: the words it holds, when known)
    url: str = ""  # for "play"
    seconds: float = 0.0  # for "pause"
    rate: float = 1.0  # 0.8 when the line asks for a slower voice
    language: str = ""  # for "say": the voice's language (en-US)


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
    messages: list[str] = field(default_factory=list)
    place: str | None = None  # menu, topic or "_number", from the next URL's `at`
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

    def __init__(self, app: Flask, caller: str = PREVIEW_NUMBER):
        self.app = app
        self.caller = caller
        self.client = app.test_client()
        settings = app.extensions["line"].settings
        self.base = "http://localhost"
        self.signed_base = settings.public_base_url or self.base
        self.validator = RequestValidator(settings.twilio_auth_token) if settings.twilio_auth_token else None
        self.allow_unsigned = settings.allow_unsigned
        self._clips: tuple[str, dict[str, str]] | None = None  # (library version, clip name -> words)

    # -- requests ------------------------------------------------------------------------
    def post(self, path: str, form: dict) -> tuple[str, str]:
        """POST `form` to `path` as Twilio would; (mimetype, body)."""
        headers = {}
        if not self.allow_unsigned:
            if self.validator is None:
                raise PreviewError(
                    "The line refuses every request: TWILIO_AUTH_TOKEN is not set (and LINE_ALLOW_UNSIGNED is off). "
                    "Set the token the line uses with Twilio, or LINE_ALLOW_UNSIGNED=1 on a trial machine.")
            headers["X-Twilio-Signature"] = self.validator.compute_signature(self.signed_base + path, form)
        token = PREVIEW.set(True)
        try:
            response = self.client.post(path, data=form, headers=headers, base_url=self.base)
        finally:
            PREVIEW.reset(token)
        if response.status_code != 200:
            raise PreviewError(f"The line answered {path} with HTTP {response.status_code}.")
        if response.mimetype != "text/xml":
            raise PreviewError(f"The line answered {path} with {response.mimetype}, not TwiML.")
        return response.mimetype, response.get_data(as_text=True)

    # -- texts ---------------------------------------------------------------------------
    def text(self, body: str) -> list[str]:
        """Send a text; the replies (none when the line keeps quiet, as after STOP)."""
        form = {"Body": body, "From": self.caller, "To": LINE_NUMBER,
                "MessageSid": "SMpreview" + secrets.token_hex(8), "NumMedia": "0"}
        _, xml = self.post("/sms", form)
        root = _parse(xml)
        return ["".join(m.find("Body").itertext()) if m.find("Body") is not None else "".join(m.itertext())
                for m in root.iter("Message")]

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
        _, xml = self.post(path, form)
        return self.parse_step(path, xml)

    def parse_step(self, url: str, xml: str) -> Step:
        root = _parse(xml)
        step = Step(url=url, xml=xml)
        clips = self._clip_words()
        for el in root.iter():
            if el.tag == "Say":
                text = " ".join(" ".join(el.itertext()).split())
                slow = el.find("prosody") is not None
                step.pieces.append(Piece("say", text=text, rate=0.8 if slow else 1.0, language=el.get("language", "")))
            elif el.tag == "Play":
                url_ = (el.text or "").strip()
                name = url_.rsplit("/", 1)[-1]
                step.pieces.append(Piece("play", text=clips.get(name, ""), url=url_))
            elif el.tag == "Pause":
                step.pieces.append(Piece("pause", seconds=float(el.get("length") or 1)))
            elif el.tag in ("Message", "Sms"):
                step.messages.append(" ".join(el.itertext()).strip())
        gather = root.find("Gather")
        if gather is not None:
            step.gather_action = gather.get("action")
        redirect = root.find("Redirect")
        if redirect is not None:
            step.redirect = (redirect.text or "").strip()
        dial = root.find("Dial")
        if dial is not None:
            number = dial.find("Number")
            step.dial_number = (number.text if number is not None else dial.text or "").strip()
            step.dial_action = dial.get("action")
        step.hung_up = root.find("Hangup") is not None
        self._describe(step)
        return step

    # -- what a step means, in the content's words ----------------------------------------
    def library(self) -> Library:
        with self.app.app_context():
            return self.app.extensions["line"].library()

    def _describe(self, step: Step) -> None:
        next_url = step.gather_action or step.dial_action or step.redirect
        if not next_url:
            return
        args = {k: v[0] for k, v in parse_qs(urlsplit(next_url).query).items()}
        library = self.library()
        lang = library.language(args.get("lang"))
        step.place = args.get("at", "main")
        step.pace = "slow" if args.get("pace") == "slow" else "normal"
        step.place_path = place_path(lang, step.place)
        if step.gather_action:
            step.keys = offered_keys(library, lang, step.place, step.text)

    def _clip_words(self) -> dict[str, str]:
        """Clip file name -> the words in it, for the clips the line may play (LINE_AUDIO=files)."""
        library = self.library()
        if self._clips and self._clips[0] == library.version:
            return self._clips[1]
        words: dict[str, str] = {}
        for code, text in phrases(library):
            voice = library.languages[code].voice.espeak_voice
            for slow in (False, True):
                words[clip_name(text, voice, slow)] = text
        self._clips = (library.version, words)
        return words


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


def _parse(xml: str):
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise PreviewError(f"The line answered with XML that does not parse: {exc}") from None
    if root.tag != "Response":
        raise PreviewError(f"The line answered <{root.tag}>, not <Response>.")
    return root


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
             "back": "back one level", "text_me": "get this by text", "slower": "a slower voice"}


def offered_keys(library: Library, lang: Language, place: str, said: str) -> list[Key]:
    """The keys the line told the caller about in this step, in the order it said them, found
    by the content's own words (so it works in any language)."""
    lines: list[tuple[str, Key]] = []
    if place in lang.menus:
        for i, option in enumerate(lang.menus[place].options, start=1):
            lines.append((option_line(lang, i, option), Key(str(i), _title(lang.item(option).label))))
    repeat = library.keys.get("repeat", "*")
    again = lang.voice_prompts.get("number_again")
    if again:
        lines.append((fill(again, key=lang.spoken.key(repeat)), Key(repeat, "hear the number again")))
    for name in SPOKEN_COMMANDS:
        lines.append((key_line(lang, library.keys, name), Key(library.keys[name], KEY_NAMES[name])))
    found, seen = [], set()
    for _, _, key in sorted((said.find(line), i, key) for i, (line, key) in enumerate(lines) if line in said):
        if key.key not in seen:
            seen.add(key.key)
            found.append(key)
    return found


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
    for message in step.messages:
        out.append(f"Text sent during the call: {message}")
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
