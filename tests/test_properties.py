"""Unbreakable (issue 7): arbitrary texts, key presses, speech and URLs never break the line.

Hypothesis throws arbitrary bodies, digits, speech results, query strings and form fields at
both webhooks, always correctly signed, and checks that every answer is valid TwiML: a text
gets at most one message that fits in its language's budget (a number's first answer: the
first_text notice before it, and never again); a caller is never left in silence
(phone.check_leads_somewhere) and is only ever sent to URLs under /voice. It also walks calls
with random presses, speech and silences, and checks the opt-out against a small model.

Profiles (HYPOTHESIS_PROFILE): "ci", the default, is derandomized with no example database, so
every run tries the same examples; "dev" explores at random with the same budget; "explore"
tries ten times as many; those two remember failing examples in .pytest_cache/hypothesis.
For how much of the line each test reaches: pytest --hypothesis-show-statistics.
"""
from __future__ import annotations

import dataclasses
import os
import re
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree

import pytest
import responses
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis import event as _event
from hypothesis.control import currently_in_test_context
from hypothesis.database import DirectoryBasedExampleDatabase
from werkzeug.datastructures import MultiDict

from conftest import CONTENT, ROOT, TOKEN, answered_before, fictional_numbers, make_settings, twilio_signature
from line import create_app
from line.config import Settings
from line.content import load_library
from line.sms_encoding import count
from phone import Caller, Step, check_leads_somewhere

# -- profiles -------------------------------------------------------------------------------
_DB = DirectoryBasedExampleDatabase(str(ROOT / ".pytest_cache" / "hypothesis"))
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", database=_DB, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", database=_DB, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or "ci"
SCALE = 10 if PROFILE == "explore" else 1



def event(note: str) -> None:
    """hypothesis.event, for helpers also used by plain (example-based) tests."""
    if currently_in_test_context():
        _event(note)

def budget(examples: int) -> settings:
    """This file's profile with a number of examples sized to keep the file well under 60 s."""
    return settings(settings.get_profile(PROFILE), max_examples=examples * SCALE)


LIB = load_library(CONTENT)
# The most segments a text may cost: each language has its own budget (English 2, Spanish 4).
MAX_SEGMENTS = max(lang.text_budget.segments for lang in LIB.languages.values())
EN, ES = LIB.language("en"), LIB.language("es")
ACCOUNT_SID = "AC" + "1" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
BASE = "http://localhost"
LINE_NUMBER = "+15555550100"
VOICE_PATHS = ["/voice", "/voice/menu", "/voice/choose", "/voice/silence", "/voice/dialed"]
PLACES = sorted({"main", "_number", *EN.menus, *EN.topics, *ES.menus, *ES.topics})
KEYS = list("0123456789*#")
DIAL_STATUSES = ["completed", "answered", "busy", "no-answer", "failed", "canceled", ""]
OPT_OUT = {w for lang in LIB.languages.values() for w in lang.opt_out_words}
OPT_IN = {w for lang in LIB.languages.values() for w in lang.opt_in_words}
HELP = {w for lang in LIB.languages.values() for w in lang.help_words}
CONFIRMED_BY_TWILIO = {w for lang in LIB.languages.values() for w in lang.confirmed_by_twilio}
COMPLIANCE = OPT_OUT | OPT_IN | HELP
FIRST_TEXTS = {lang.sms["first_text"] for lang in LIB.languages.values()}  # before a number's first answer


def owner(word: str):
    return next(lang for lang in LIB.languages.values()
                if word in lang.opt_out_words | lang.opt_in_words | lang.help_words)


# -- apps: one per module, sharing one temporary data folder per app ---------------------------
def generous(**overrides) -> dict:
    """Rate limits no example reaches, where Settings has them, so the examples reach the content
    rather than the limit; the flood tests below run with the real ones."""
    names = {f.name for f in dataclasses.fields(Settings)}
    unlimited = {"sms_rate": "1000000/minute", "voice_rate": "1000000/minute"}
    return {**{k: v for k, v in unlimited.items() if k in names}, **overrides}


@pytest.fixture(scope="module")
def line_app(tmp_path_factory):
    return create_app(make_settings(tmp_path_factory.mktemp("line"), **generous()))


@pytest.fixture(scope="module")
def texting_app(tmp_path_factory):
    """With an account SID the line offers "get this by text" (Twilio's REST API is stubbed)."""
    texting = make_settings(tmp_path_factory.mktemp("texting"), **generous(twilio_account_sid=ACCOUNT_SID))
    return create_app(texting)


@pytest.fixture(scope="module")
def limited_app(tmp_path_factory):
    """The line's default settings, rate limits included."""
    return create_app(make_settings(tmp_path_factory.mktemp("limited")))


_numbers = fictional_numbers()  # numbers "get this by text" may send to, none of them anyone's


def next_number() -> str:
    """A fresh number for each example, so examples do not share opt-outs, languages
    or rate limits (which count per number)."""
    return next(_numbers)


def signed_post(app, path: str, data):
    """Post form data the way Twilio does, signed over the URL exactly as posted."""
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, BASE + path, data)}
    return app.test_client().post(path, data=data, headers=headers, base_url=BASE)


# -- strategies -----------------------------------------------------------------------------
ANY_CHAR = st.characters(blacklist_categories=("Cs",))  # any code point a form can carry: NUL, emoji, ...
any_text = st.text(ANY_CHAR, max_size=60)
WEIRD = [
    "", " ", "\x00", "STOP\x00", "\x00STOP", "<Response><Message>hi</Message></Response>", "]]>", "&amp;",
    "&#0;", "<![CDATA[x]]>", "\u202e STOP", "\ufeffHELP", "😀" * 80, "ß" * 200, "€" * 170, "{phone}",
    "\r\n", "\t", "\u2028", "\U0010ffff", "%00", "' OR 1=1 --", "../../etc/passwd", "SIDE\x07",
    "efectos secundarios", "ESPAÑOL", "ENGLISH", "side efects", "MENU",
]
KEYWORDS = sorted({item.keyword for lang in LIB.languages.values()
                   for item in [*lang.topics.values(), *lang.menus.values()] if item.keyword})
words = st.sampled_from(sorted(COMPLIANCE) + KEYWORDS + WEIRD)
long_text = st.builds(lambda piece, n: (piece * n)[:n], st.text(ANY_CHAR, min_size=1, max_size=8),
                      st.integers(1500, 2000))
bodies = st.one_of(any_text, words, long_text, st.builds("".join, st.lists(st.one_of(words, any_text), max_size=5)))
e164 = st.from_regex(r"\+1[2-9]\d{9}", fullmatch=True)
numbers = st.one_of(st.just(""), e164, any_text, st.just("+" + "9" * 500),
                    st.sampled_from(["+", "+0", "+15555550123\n", " +15555550123 ", "client:alice", "anonymous"]))
names = st.one_of(st.sampled_from(["Body", "From", "To", "MessageSid", "AccountSid", "NumMedia", "Digits",
                                   "SpeechResult", "bodySHA256"]), st.text(ANY_CHAR, min_size=1, max_size=20))


def form(known: dict) -> st.SearchStrategy[MultiDict]:
    """Any of the known fields (each may be missing), then arbitrary extra fields (repeats too)."""
    return st.builds(
        lambda fields, extra: MultiDict([*fields.items(), *extra]),
        st.fixed_dictionaries({}, optional=known),
        st.lists(st.tuples(names, any_text), max_size=4),
    )


# Query values. Werkzeug's request.url decodes percent-escapes of non-ASCII characters and of
# some ASCII punctuation (see test_a_signed_url_with_escaped_characters_is_accepted, a known
# bug), so this alphabet holds what survives: the rest of ASCII, control characters included,
# with "/" ":" "?" "@" and friends sent raw as RFC 3986 allows in a query.
RAW_IN_QUERY = "!$'()*,/:;?@"
QUERY_CHARS = st.characters(max_codepoint=0x7F, blacklist_characters='"<>[\\]^`{|}')
query_values = st.one_of(
    st.text(QUERY_CHARS, max_size=30),
    st.sampled_from([*PLACES, "", "en", "es", "EN", "slow", "fast", "../../etc/passwd", "/voice/../sms",
                     "http://evil.example/x", "//evil.example", "main/../_number", "__init__", "None"]),
    st.integers().map(str),
    st.integers(0, 10**40).map(lambda n: "9" * (n % 60 + 1)),
    st.sampled_from(["-1", "+1", " 1", "1 ", "1e9", "0x10", "011", "999", "1000", "00012", "1.5"]),
)
small_counts = st.integers(0, 15).map(str)
queries = st.builds(
    lambda state, extra: [*state.items(), *extra],
    # The call's state, each part missing, plausible or anything ...
    st.fixed_dictionaries({}, optional={
        "at": st.one_of(st.sampled_from(PLACES), query_values),
        "lang": st.one_of(st.sampled_from(["en", "es"]), query_values),
        "pace": st.one_of(st.just("slow"), query_values), "s": st.one_of(small_counts, query_values),
        "w": st.one_of(small_counts, query_values), "e": st.one_of(small_counts, query_values),
    }),
    # ... then any parameters, repeats of the state's included. (bodySHA256 in the query means
    # Twilio signed a JSON body, not a form: not a request it makes here.)
    st.lists(st.tuples(st.one_of(st.sampled_from(["at", "lang", "pace", "s", "w", "e"]),
                                 st.text(QUERY_CHARS, max_size=8)), query_values)
             .filter(lambda pair: pair[0] != "bodySHA256"), max_size=4),
)


def query_string(pairs) -> str:
    return "&".join(quote(k, safe=RAW_IN_QUERY) + "=" + quote(v, safe=RAW_IN_QUERY) for k, v in pairs)


spoken_phrases = st.sampled_from(sorted({
    *EN.speech_hints.split(", "), *ES.speech_hints.split(", "), "uno", "one", "star", "pound", "asterisco",
    "español", "English", "operator", "go back", "text me", "slower", "repeat", "main menu",
}))
digits = st.one_of(st.sampled_from(KEYS), st.text(ANY_CHAR, max_size=6),
                   st.sampled_from(["", " ", "12", "1#", "²", "٣", "½", "**", "0000000000", "\x00"]))
speech = st.one_of(spoken_phrases, any_text, long_text)
voice_form = form({
    "Digits": digits, "SpeechResult": speech, "Confidence": st.one_of(any_text, st.just("0.9")),
    "DialCallStatus": st.one_of(st.sampled_from(DIAL_STATUSES), any_text),
    "From": numbers, "To": numbers, "Caller": numbers, "CallSid": st.one_of(any_text, st.just("CA" + "0" * 32)),
})
sms_form = form({"Body": bodies, "From": numbers, "To": numbers, "MessageSid": any_text})


# -- checks ---------------------------------------------------------------------------------
def check_sms_answer(response) -> list[str]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    assert [c.tag for c in root] in ([], ["Message"], ["Message", "Message"]), response.data
    texts = [m.text or "" for m in root.iter("Message")]
    if len(texts) == 2:  # a number's first answer: the notice, then the answer
        assert texts[0] in FIRST_TEXTS and texts[1] not in FIRST_TEXTS, texts
    event(f"sms answer: {len(texts)} message(s)" + (f", {count(texts[0]).encoding}" if texts else ""))
    for text in texts:
        assert text.strip(), "an empty text"
        assert count(text).segments <= MAX_SEGMENTS, (count(text), text)
    return texts


def emitted_urls(root) -> list[str]:
    urls = [el.get("action") for el in root.iter() if el.get("action") is not None]
    return urls + [el.text or "" for el in root.iter("Redirect")]


def check_stays_on_the_line(root) -> None:
    """Every URL the line hands Twilio is its own, under /voice, with a known place and language."""
    for url in emitted_urls(root):
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        assert parts.path == "/voice" or parts.path.startswith("/voice/"), url
        state = parse_qs(parts.query)
        assert state.get("at", ["main"])[0] in PLACES, url
        assert state.get("lang", ["en"])[0] in LIB.languages, url


def checked(step: Step) -> Step:
    """phone.Step has checked status 200, text/xml and <Response>; then: a caller is never left
    in silence, and is only ever sent to the line's own /voice URLs."""
    check_leads_somewhere(step.root)
    check_stays_on_the_line(step.root)
    return step


def check_voice_answer(response) -> Step:
    step = checked(Step(response))
    event(f"voice answer: {kind_of(step)}")
    return step


ERROR_PROMPTS = [lang.voice_prompts["error"] for lang in LIB.languages.values()]


def is_error(step: Step) -> bool:
    """Whether the line's error handler answered ("Sorry, something went wrong on our side.")."""
    return any(prompt in step.said for prompt in ERROR_PROMPTS) or "something went wrong" in step.said


def kind_of(step: Step) -> str:
    """What a caller gets, for --hypothesis-show-statistics: how much of the line a test reached."""
    tags = [c.tag for c in step.root]
    failed = is_error(step)
    if "Hangup" in tags:
        return "error, goodbye" if failed else "goodbye"
    if "Dial" in tags:
        return "transfer"
    if "Gather" not in tags:
        return "error, back to the menu" if failed else "redirect " + " ".join(tags)
    at = step.state()["at"]
    return f"menu, {step.state()['lang']} " + ("at a topic" if at in EN.topics else f"at {at}")


# -- the form Twilio posts -------------------------------------------------------------------
FORM_BYTES = st.one_of(
    st.binary(max_size=200),
    st.text(alphabet="aZ=&;+%2Fe9\u00f1\u00e9 \x00", max_size=60).map(lambda t: t.encode("utf-8")),
    st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=6).map(
        lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode()),
)


@budget(300)
@given(body=FORM_BYTES)
def test_the_form_is_read_exactly_as_werkzeug_reads_it(line_app, body):
    """The signature check reads the form through werkzeug's own parser (line/twilio_auth.read_body):
    the same fields, values, order and repeats, whatever the bytes, and the body stays there."""
    from flask import request
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from line.twilio_auth import read_body

    form_type = "application/x-www-form-urlencoded"
    environ = EnvironBuilder(path="/sms", method="POST", data=body, content_type=form_type).get_environ()
    expected = list(Request(environ).form.items(multi=True))
    with line_app.test_request_context("/sms", method="POST", data=body, content_type=form_type):
        read_body(64 * 1024, 10)
        assert list(request.form.items(multi=True)) == expected
        assert request.get_data() == body  # and the body is still there for whoever asks


# -- texts ----------------------------------------------------------------------------------
@budget(250)
@given(data=sms_form)
def test_any_text_gets_valid_twiml_with_at_most_one_short_message(line_app, data):
    check_sms_answer(signed_post(line_app, "/sms", data))


@budget(60)
@given(conversation=st.lists(bodies, min_size=1, max_size=6), language=st.sampled_from(["", "ESPANOL", "ENGLISH"]))
def test_any_conversation_from_one_number_keeps_every_text_within_two_segments(line_app, conversation, language):
    """A number that chose Spanish gets Spanish (maybe UCS-2) answers to whatever it sends."""
    number = next_number()
    noticed = 0
    for body in [language, *conversation] if language else conversation:
        sent = check_sms_answer(signed_post(line_app, "/sms", {"Body": body, "From": number, "To": LINE_NUMBER}))
        noticed += len(sent) == 2
    assert noticed <= 1  # the first_text notice, once at most


# -- the opt-out under arbitrary interleavings -------------------------------------------------
def compliance_word(body: str) -> str:
    """The rule in docs/using.md: a whole message, any case, spaces and stray punctuation around it ignored."""
    return re.sub(r"^[\W_]+|[\W_]+$", "", body).upper()


def opt_kind(body: str) -> str | None:
    """"opt_out", "opt_in", "help" or None: the keyword rule, then opt-out and opt-in in plain words
    (opt-out.yaml, opt-in.yaml)."""
    word = compliance_word(body)
    for kind, words in (("opt_out", OPT_OUT), ("opt_in", OPT_IN), ("help", HELP)):
        if word in words:
            return kind
    return "opt_out" if LIB.asks_to_stop(body) else "opt_in" if LIB.asks_to_start(body) else None


def dressed(word: str) -> st.SearchStrategy[str]:
    """A compliance word as people type it: any case, spaces and punctuation around it."""
    return st.builds(lambda case, before, after: before + "".join(
        c.lower() if flip else c for c, flip in zip(word, case)) + after,
        st.lists(st.booleans(), min_size=len(word), max_size=len(word)),
        st.sampled_from(["", " ", "  ", "\n", "¡", "."]), st.sampled_from(["", " ", "!", ".", "!!", " \n"]))


OTHER_WORDS = ["side effects", "MENU", "hola", "trials", "ESPANOL", "ENGLISH", "start over", "stop it please",
               "qqqq", "", "alto ahí", "INFORMATION", "yes please", "stop texting me", "should I stop my treatment",
               "ya no me manden mensajes", "¿puedo parar el tratamiento?"]
other = st.one_of(st.sampled_from(OTHER_WORDS),
                  st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd", "Zs")), max_size=20)
                  .filter(lambda t: compliance_word(t) not in COMPLIANCE))
texts = st.one_of(
    st.sampled_from(["STOP", "START", "ALTO", "INICIO"]).flatmap(dressed),
    st.sampled_from(sorted(COMPLIANCE)).flatmap(dressed),
    other,
)


@budget(120)
@given(conversation=st.lists(texts, min_size=1, max_size=12))
def test_the_opt_out_is_never_lost(line_app, conversation):
    """After each text, whether the line answered agrees with a model: opted out after an opt-out
    (a word, or plain words) until an opt-in word; help always answered; Twilio confirms its own
    opt-out words, the line confirms the others itself, once; an opt-in word from a number that
    had not opted out gets the menu."""
    number = next_number()
    answered_before(line_app, number)  # about opt-outs, not a first answer: a number the line has answered
    opted_out = False
    for body in conversation:
        sent = check_sms_answer(signed_post(line_app, "/sms", {"Body": body, "From": number, "To": LINE_NUMBER}))
        word = compliance_word(body)
        kind = opt_kind(body)
        if kind == "opt_out":
            if opted_out or word in CONFIRMED_BY_TWILIO:
                assert sent == [], (body, sent)
            elif word in OPT_OUT:
                assert sent == [owner(word).sms["opted_out"]], (body, sent)
            else:  # plain words: confirmed in the texter's language or the words'
                assert sent in [[lang.sms["opted_out"]] for lang in LIB.languages.values()], (body, sent)
            opted_out = True
        elif kind == "opt_in":
            expected = owner(word).sms["opted_in"] if opted_out else owner(word).menus["main"].text
            opted_out = False
            assert sent == [expected], (body, sent)
        elif kind == "help":
            assert sent == [owner(word).sms["help"]], (body, sent)
        else:
            assert bool(sent) == (not opted_out), (body, opted_out, sent)


@budget(6)
@given(flood=st.lists(st.one_of(texts, bodies), min_size=30, max_size=40))
def test_a_flood_from_one_number_gets_valid_twiml_and_never_loses_an_opt_out(limited_app, flood):
    """Past the rate limit (default settings) answers stay valid, and every opt-out and opt-in
    is still recorded: the store agrees with the model after each text."""
    number = next_number()
    store = limited_app.extensions["line"].store
    opted_out = False
    for body in flood:
        check_sms_answer(signed_post(limited_app, "/sms", {"Body": body, "From": number, "To": LINE_NUMBER}))
        kind = opt_kind(body)
        opted_out = True if kind == "opt_out" else False if kind == "opt_in" else opted_out
        assert store.state_of(number)[0] == opted_out, (body, opted_out)


@budget(3)
@given(presses=st.lists(digits, min_size=130, max_size=130))
def test_a_flood_of_key_presses_from_one_number_gets_valid_twiml(limited_app, presses):
    number = next_number()
    for press in presses:
        check_voice_answer(signed_post(limited_app, "/voice/choose?at=main&lang=en",
                                       {"Digits": press, "From": number, "CallSid": "CA" + "9" * 32}))


# -- calls: any URL, any form ---------------------------------------------------------------
@budget(300)
@given(path=st.sampled_from(VOICE_PATHS), query=queries, data=voice_form)
def test_any_voice_request_leads_somewhere_on_the_line(line_app, path, query, data):
    qs = query_string(query)
    check_voice_answer(signed_post(line_app, path + (f"?{qs}" if qs else ""), data))


@budget(100)
@given(at=st.sampled_from(sorted(EN.topics)), lang=st.sampled_from(sorted(LIB.languages)),
       data=voice_form, status=st.sampled_from([201, 400, 500]),
       caller=st.one_of(st.builds(next_number), numbers), line=st.one_of(st.just(LINE_NUMBER), numbers))
def test_get_this_by_text_with_any_caller_leads_somewhere_and_texts_only_the_caller(texting_app, at, lang, data,
                                                                                      status, caller, line):
    data.setlist("From", [caller])
    data.setlist("To", [line])
    data.setlist("Digits", [LIB.keys["text_me"]])
    data.poplist("SpeechResult")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as twilio_api:
        twilio_api.add(responses.POST, MESSAGES_URL, status=status, json={"sid": "SM" + "0" * 32, "status": "queued"})
        check_voice_answer(signed_post(texting_app, f"/voice/choose?at={at}&lang={lang}", data))
        for call in twilio_api.calls:
            sent = parse_qs(call.request.body)
            assert sent["To"] == [data.get("From")], (sent["To"], data.get("From"))
            assert count(sent["Body"][0]).segments <= MAX_SEGMENTS, sent["Body"]
        event(f"texts asked of Twilio: {len(twilio_api.calls)}")


@budget(30)
@given(conversation=st.lists(texts, max_size=5), at=st.sampled_from(sorted(EN.topics)),
       lang=st.sampled_from(sorted(LIB.languages)))
def test_a_number_that_texted_an_opt_out_never_gets_a_text_from_a_call(texting_app, conversation, at, lang):
    """Across channels: "get this by text" sends only while the number's last compliance word
    (by text) was not an opt-out."""
    number = next_number()
    opted_out = False
    for body in conversation:
        check_sms_answer(signed_post(texting_app, "/sms", {"Body": body, "From": number, "To": LINE_NUMBER}))
        kind = opt_kind(body)
        opted_out = True if kind == "opt_out" else False if kind == "opt_in" else opted_out
    with responses.RequestsMock(assert_all_requests_are_fired=False) as twilio_api:
        twilio_api.add(responses.POST, MESSAGES_URL, status=201, json={"sid": "SM" + "0" * 32, "status": "queued"})
        caller = Caller(texting_app, number=number)
        caller.post(f"/voice/menu?at={at}&lang={lang}")
        step = checked(caller.press(LIB.keys["text_me"]))
        assert len(twilio_api.calls) == (0 if opted_out else 1), (conversation, step.said)
        said = LIB.language(lang).voice_prompts["text_opted_out" if opted_out else "text_sent"]
        assert said in step.said


# -- calls: random walks ----------------------------------------------------------------------
def walk_step(caller: Caller, draw, quiet: bool = False) -> Step:
    """What Twilio posts next: the caller presses, speaks or stays silent (only silent if
    `quiet`); a transfer ends somehow; a bare Redirect is followed."""
    last = caller.last
    dial = last.root.find("Dial")
    if dial is not None:
        status = "no-answer" if quiet else draw(st.sampled_from(DIAL_STATUSES))
        return caller.post(dial.get("action"), DialCallStatus=status)
    if last.gather is None:
        return caller.post(last.redirect)
    kind = "wait" if quiet else draw(st.sampled_from(["press", "press", "press", "say", "wait", "odd"]))
    if kind == "press":
        return caller.press(draw(st.sampled_from(KEYS)))
    if kind == "say":
        return caller.say(draw(speech))
    if kind == "odd":
        return caller.post(last.action, Digits=draw(digits), SpeechResult=draw(any_text))
    return caller.wait()


@budget(60)
@given(st.data())
def test_a_random_call_always_leads_somewhere(line_app, data):
    caller = Caller(line_app, number=next_number())  # a fresh number: the rate limit is per number
    checked(caller.call())
    places = set()
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        if caller.last.hung_up:
            break
        step = checked(walk_step(caller, data.draw))
        places.add(kind_of(step))
    event(f"the call {'ended' if caller.last.hung_up else 'went on'}, reaching {len(places)} kinds of answer")
    for place in places:
        event(f"reached: {place}")


@budget(40)
@given(st.data())
def test_a_caller_who_stays_silent_is_said_goodbye_to_within_the_silence_limit(line_app, data):
    """Wherever a call has got to (a random walk, or a URL with any silence count), a run of
    silences ends in a Hangup within the silence limit and a small margin: it never loops."""
    limit = line_app.extensions["line"].settings.silence_limit
    caller = Caller(line_app, number=next_number())
    if data.draw(st.booleans(), label="start from a forged URL"):
        query = query_string([("at", data.draw(st.sampled_from(PLACES))),
                              ("lang", data.draw(st.sampled_from(["en", "es"]))),
                              ("s", data.draw(query_values, label="s"))])
        checked(caller.post(data.draw(st.sampled_from(VOICE_PATHS), label="path") + "?" + query))
    else:
        checked(caller.call())
        for _ in range(data.draw(st.integers(0, 15), label="steps before the silence")):
            if caller.last.hung_up:
                return
            checked(walk_step(caller, data.draw))
    for _ in range(limit + 2):
        if caller.last.hung_up:
            return
        checked(walk_step(caller, data.draw, quiet=True))
    assert caller.last.hung_up, f"still talking after {limit + 2} silences: {caller.last.xml}"


# -- bugs these properties found, fixed: kept as regression tests ---------------------------------
@pytest.mark.parametrize("query", ["lang=espa%C3%B1ol", "at=%2F", "at=%3Cx%3E"])
def test_a_signed_url_with_escaped_characters_is_accepted(line_app, query):
    check_voice_answer(signed_post(line_app, f"/voice/menu?{query}", {"From": "+15555550123"}))


@pytest.mark.parametrize("at", ["main", "side-effects"])
@pytest.mark.parametrize("press", ["a", "\u00b2"])
def test_a_key_that_is_not_on_the_keypad_is_a_wrong_key_not_a_failure(line_app, at, press):
    caller = Caller(line_app, number=next_number())
    caller.post(f"/voice/menu?at={at}&lang=en")
    step = checked(caller.press(press))
    assert not is_error(step), step.said
    assert step.state()["at"] == at and "e" not in step.state()


@pytest.fixture(scope="module")
def patient_app(tmp_path_factory):
    return create_app(make_settings(tmp_path_factory.mktemp("patient"), silence_limit=1000))


def test_a_silence_limit_of_1000_still_ends_the_call(patient_app):
    caller = Caller(patient_app)
    caller.post("/voice/silence?at=main&lang=en&s=998")
    for _ in range(4):
        if caller.last.hung_up:
            break
        caller.wait()
    assert caller.last.hung_up, caller.last.state(caller.last.redirect)
