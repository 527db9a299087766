"""The staff preview (GET /preview and its JSON steps): who may open it, and that it walks the
real line without counting usage or sending texts."""
import base64
import re
from datetime import datetime, timezone

import pytest
import responses

from sqlalchemy import func, select

from conftest import CONTENT, MOBILE, NUMBER, Twilio, make_settings
from line import create_app
from line.content import load_library
from line.simulator import PreviewError, Session, Simulator
from line.store import NumberState, numbers, seen_requests, texts_sent
from line.store import events as events_table, unmatched as unmatched_table
from phone import Caller

LIB = load_library(CONTENT)
EN, ES = LIB.language("en"), LIB.language("es")
SID = "AC" + "0" * 32
PASSWORD = "correct horse battery staple"
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
REMOTE = {"REMOTE_ADDR": "10.1.2.3"}


def basic(password: str, user: str = "staff") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def locked_app(tmp_path):
    return create_app(make_settings(tmp_path, staff_password=PASSWORD))


def voice(client, url="/voice", **fields):
    response = client.post("/preview/voice", json={"url": url, **fields})
    assert response.status_code == 200, response.data
    return response.get_json()


def events(app) -> list:
    return app.extensions["line"].store.events_since(EPOCH)


def unmatched(app) -> list:
    return app.extensions["line"].store.unmatched_since(EPOCH)


# -- who may open it -----------------------------------------------------------------------------
def test_the_page_opens_from_this_machine_without_a_password(client):
    for addr in ("127.0.0.1", "::1"):
        response = client.get("/preview", environ_base={"REMOTE_ADDR": addr})
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Try the line" in page
    assert 'aria-live="polite"' in page
    for key, name in [("1", "1"), ("5", "5"), ("0", "0"), ("*", "star"), ("#", "pound")]:
        assert re.search(rf'<button type="button" data-key="{re.escape(key)}"[^>]*aria-label="Press {name}"', page), key
    assert '<label for="sms-input">' in page and '<label for="say-input">' in page
    assert "Wait" in page and "Call" in page


def test_the_page_loads_nothing_from_elsewhere(client):
    response = client.get("/preview")
    page = response.get_data(as_text=True)
    assert not re.search(r"<(script|link|img|iframe|audio|source)[^>]+(src|href)=\"(?!data:)", page)
    assert "http://" not in page.replace("http://127.0.0.1:PORT", "") and "https://" not in page
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in page
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("how", [
    {"environ_base": REMOTE},
    {"headers": {"X-Forwarded-For": "203.0.113.9"}},
    {"headers": {"Forwarded": "for=203.0.113.9"}},
    {"base_url": "http://line.example.org"},  # loopback, but by a name that could point anywhere
])
def test_from_elsewhere_without_the_setting_it_is_refused_and_says_how_to_allow_it(client, how):
    for method, path in (("get", "/preview"), ("post", "/preview/sms"), ("post", "/preview/voice")):
        response = getattr(client, method)(path, json={"body": "hi"} if method == "post" else None, **how)
        assert response.status_code == 403, path
        assert "LINE_STAFF_PASSWORD" in response.get_data(as_text=True)


@pytest.mark.parametrize("how", [{"environ_base": REMOTE}, {"headers": {"X-Forwarded-For": "127.0.0.1"}}])
def test_from_elsewhere_the_staff_password_opens_it(locked_app, how):
    client = locked_app.test_client()
    headers = how.get("headers", {})
    environ = how.get("environ_base", {})
    refused = client.get("/preview", headers=headers, environ_base=environ)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = client.get("/preview", headers={**headers, **basic("wrong")}, environ_base=environ)
    assert wrong.status_code == 401
    assert client.get("/preview", headers={**headers, **basic(PASSWORD[:-1])}, environ_base=environ).status_code == 401
    ok = client.get("/preview", headers={**headers, **basic(PASSWORD)}, environ_base=environ)
    assert ok.status_code == 200
    assert client.post("/preview/sms", json={"body": "side effects"}, headers=headers,
                       environ_base=environ).status_code == 401
    sms = client.post("/preview/sms", json={"body": "side effects", "answered": True},
                      headers={**headers, **basic(PASSWORD)}, environ_base=environ)
    assert sms.status_code == 200 and sms.get_json()["replies"] == [EN.topics["side-effects"].text]


def test_the_password_setting_is_read_from_the_environment_and_never_shown(tmp_path):
    from line.config import Settings

    settings = Settings.from_env({"LINE_DATA_DIR": str(tmp_path), "LINE_STAFF_PASSWORD": PASSWORD})
    assert settings.staff_password == PASSWORD
    assert PASSWORD not in repr(settings)
    assert Settings.from_env({"LINE_DATA_DIR": str(tmp_path)}).staff_password is None


def test_the_steps_take_only_json_from_the_page_itself(client):
    assert client.post("/preview/sms", data={"body": "side effects"}).status_code == 415
    other = client.post("/preview/sms", json={"body": "hi"}, headers={"Origin": "http://evil.example"})
    assert other.status_code == 403
    same = client.post("/preview/sms", json={"body": "hi"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 200


@pytest.mark.parametrize("data", [
    {"url": "/sms"}, {"url": "https://evil.example/voice"}, {"url": "//evil.example/voice"}, {"url": "/voicemail"},
    {"url": "/preview/voice"}, {"url": "/voice/../sms"},
    {"url": "/voice", "digits": "12"}, {"url": "/voice", "digits": "A"}, {"url": "/voice", "dial_status": "weird"},
    {"url": "/voice", "speech": "x" * 301}, {"url": "/voice", "call": "CA123"},
])
def test_the_voice_step_only_walks_the_phone_line(client, data):
    response = client.post("/preview/voice", json=data)
    assert response.status_code == 400
    assert response.get_json()["error"]


# -- it walks the real line ----------------------------------------------------------------------
def test_a_text_gets_the_topic_after_the_first_text_notice_as_a_new_number_would(client, app):
    """The page keeps its texter's state: a new texter first (the first_text notice leads the
    first reply), answered from then on. The store is never told."""
    response = client.post("/preview/sms", json={"body": "side effects"})
    assert response.status_code == 200
    assert response.get_json() == {"replies": [EN.sms["first_text"], EN.topics["side-effects"].text],
                                   "answered": True, "opted_out": False, "language": None}
    menu = client.post("/preview/sms", json={"body": "purple elephants", "answered": True}).get_json()
    assert len(menu["replies"]) == 1 and menu["replies"][0].startswith("Sorry, we did not understand.")
    assert menu["answered"] is True
    again = client.post("/preview/sms", json={"body": "side effects", "answered": False}).get_json()
    assert again["replies"] == [EN.sms["first_text"], EN.topics["side-effects"].text]  # a page opened anew
    assert app.extensions["line"].store.state_of("preview") == (False, None, False)  # nothing recorded


def test_a_preview_texter_who_chose_only_help_or_an_emergency_is_answered_as_a_new_number_would_be(client):
    """HELP says what the notice says (answered from then on); an emergency's words come alone
    (still new: the notice comes with the next reply)."""
    helped = client.post("/preview/sms", json={"body": "HELP"}).get_json()
    assert helped == {"replies": [EN.sms["help"]], "answered": True, "opted_out": False, "language": None}
    urgent = client.post("/preview/sms", json={"body": "I cant breathe"}).get_json()
    assert urgent["answered"] is False and len(urgent["replies"]) == 1 and "911" in urgent["replies"][0]
    then = client.post("/preview/sms", json={"body": "MENU", "answered": urgent["answered"]}).get_json()
    assert then == {"replies": [EN.sms["first_text"], EN.menus["main"].text], "answered": True, "opted_out": False,
                    "language": None}


@pytest.mark.parametrize("answered", ["yes", 1, None, [True]])
def test_the_texters_state_is_true_or_false(client, answered):
    response = client.post("/preview/sms", json={"body": "side effects", "answered": answered})
    assert response.status_code == 400 and "answered" in response.get_json()["error"]


def test_a_call_walks_to_the_side_effects_summary(client):
    step = voice(client)
    assert step["text"].startswith("Para español, oprima seis. Welcome to the Cancer Immunotherapy Info Line.")
    assert step["place_path"] == ["Main menu"]
    assert [k["key"] for k in step["keys"]][:5] == ["1", "2", "3", "4", "5"]
    assert step["keys"][1]["label"] == "Getting treatment and side effects"
    call = step["call"]
    assert call.startswith("CApreview")

    step = voice(client, step["gather_action"], digits="2", call=call)
    assert step["place_path"] == ["Main menu", "Getting treatment and side effects"]
    assert {"key": "3", "label": "Side effects"} in step["keys"]

    step = voice(client, step["gather_action"], digits="3", call=call)
    assert EN.topics["side-effects"].speech in step["text"]
    assert step["place"] == "side-effects"
    assert step["place_path"][-1] == "Side effects"
    assert [k["key"] for k in step["keys"]] == ["*", "8", "9", "0"]
    assert step["pieces"][0]["kind"] == "say" and step["pieces"][0]["language"] == "en-US"
    assert step["audio"] == [] and not step["hung_up"] and step["redirect"]


def test_words_work_as_if_spoken(client):
    step = voice(client)
    step = voice(client, step["gather_action"], speech="clinical trials")
    assert step["place"] == "trials"
    assert EN.topics["trials"].speech in step["text"]


def test_wait_follows_the_silence_redirect(client):
    step = voice(client)
    assert step["redirect"].startswith("/voice/silence")
    step = voice(client, step["redirect"])
    assert step["text"].startswith("We did not hear anything.")
    step = voice(client, step["redirect"])
    assert step["text"].startswith("Take your time.")
    assert step["keys"] == []  # the line listed no keys this time; the page keeps the last list


def test_zero_shows_the_transfer_and_each_outcome_follows_the_dial_action(client):
    step = voice(client)
    dial = voice(client, step["gather_action"], digits="0")
    assert dial["dial_number"] == "+18668204505"
    assert dial["dial_action"].startswith("/voice/dialed")
    assert dial["gather_action"] is None
    busy = voice(client, dial["dial_action"], dial_status="busy")
    assert "we could not put you through" in busy["text"]
    assert busy["place_path"] == ["Main menu", "The referral office's number"]
    no_answer = voice(client, dial["dial_action"], dial_status="no-answer")
    assert "we could not put you through" in no_answer["text"]
    done = voice(client, dial["dial_action"], dial_status="completed")
    assert done["hung_up"] and done["text"].endswith("Goodbye.")
    assert done["gather_action"] is None and done["redirect"] is None


def test_the_line_gives_up_after_the_silences_and_hangs_up(client, settings):
    step = voice(client)
    for _ in range(settings.silence_limit + 1):
        step = voice(client, step["redirect"])
        if step["hung_up"]:
            break
    assert step["hung_up"] and step["text"].endswith("Goodbye.")


def test_previews_count_no_usage_but_real_calls_do(app, client):
    client.post("/preview/sms", json={"body": "side effects"})
    client.post("/preview/sms", json={"body": "purple elephants"})
    step = voice(client)
    step = voice(client, step["gather_action"], digits="2")
    step = voice(client, step["gather_action"], speech="purple elephants")
    step = voice(client, step["redirect"])
    voice(client, voice(client, step["gather_action"], digits="0")["dial_action"], dial_status="busy")
    assert events(app) == []
    assert unmatched(app) == []

    caller = Caller(app)  # the same line, called through Twilio, is counted
    caller.call()
    caller.say("purple elephants")
    assert events(app) and unmatched(app)


def test_a_preview_writes_nothing_to_the_store_not_even_its_stop_or_its_language(app, client):
    """No usage, no unmatched words, no opt-out or language, no answered number, no replay id."""
    texter = {}
    for body in ["side effects", "ESPANOL", "efectos secundarios", "STOP", "START", "purple elephants", "ENGLISH"]:
        texter = client.post("/preview/sms", json={"body": body, **texter}).get_json()
        texter.pop("replies")
    step = voice(client)
    voice(client, step["gather_action"], speech="purple elephants", call=step["call"])
    store = app.extensions["line"].store
    store.flush()
    with store.db.engine.connect() as conn:
        rows = {table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in (numbers, events_table, unmatched_table, texts_sent, seen_requests)}
    assert rows == dict.fromkeys(rows, 0)
    Twilio(app).text("ESPANOL")  # the same through Twilio is recorded: the count above could see it
    with store.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(numbers)).scalar() == 1


def test_each_preview_page_is_a_new_number_in_english_whatever_another_chose(client):
    """docs/staff.md: each session starts as a new number, in English. One page's ESPANOL or STOP
    is its own: another page opened meanwhile, or after, starts in English with the notice, and
    the first page goes on in Spanish."""
    spanish = client.post("/preview/sms", json={"body": "ESPANOL"}).get_json()
    assert spanish["language"] == "es" and spanish["replies"][-1] == ES.sms["language_set"]
    texter = {k: spanish[k] for k in ("answered", "opted_out", "language")}
    other = client.post("/preview/sms", json={"body": "MENU"}).get_json()  # a second page, opened now
    assert other["replies"] == [EN.sms["first_text"], EN.menus["main"].text] and other["language"] is None
    stopped = client.post("/preview/sms", json={"body": "STOP", **{k: other[k] for k in ("answered", "language")}})
    assert stopped.get_json()["opted_out"] is True
    again = client.post("/preview/sms", json={"body": "MENU", **texter}).get_json()  # the first page goes on
    assert again["replies"] == [ES.menus["main"].text] and again["language"] == "es"
    fresh = client.post("/preview/sms", json={"body": "MENU"}).get_json()  # a page opened after both
    assert fresh["replies"] == [EN.sms["first_text"], EN.menus["main"].text]


@pytest.mark.parametrize("data", [{"language": "fr"}, {"language": 1}, {"opted_out": "no"}, {"opted_out": None}])
def test_the_page_texters_language_and_opt_out_are_the_lines_own(client, data):
    response = client.post("/preview/sms", json={"body": "side effects", **data})
    assert response.status_code == 400 and next(iter(data)) in response.get_json()["error"]


@responses.activate  # any request to Twilio's REST API would fail the test
def test_previews_never_offer_or_send_texts(tmp_path):
    app = create_app(make_settings(tmp_path, twilio_account_sid=SID))
    client = app.test_client()
    step = voice(client)
    step = voice(client, step["gather_action"], speech="side effects")
    assert "by text" not in step["text"]
    assert "7" not in [k["key"] for k in step["keys"]]
    step = voice(client, step["gather_action"], digits="7")
    assert "Sorry, seven is not an option." in step["text"]
    step = voice(client, step["gather_action"], speech="text me")
    assert "We sent" not in step["text"]
    assert len(responses.calls) == 0
    assert events(app) == []

    caller = Caller(app, number=MOBILE)  # a real caller on the same line is offered texts: the difference is the preview
    caller.call()
    assert "by text" in caller.say("side effects").said


# -- honest about the line's own checks -------------------------------------------------------
def test_the_simulator_signs_its_requests_and_the_line_checks_them(app):
    sim = Simulator(app)
    sim.validator = type(sim.validator)("not-the-token")
    with pytest.raises(PreviewError, match="403"):
        sim.text("side effects")


def test_previews_work_behind_a_proxy_with_a_public_url(tmp_path):
    app = create_app(make_settings(tmp_path, public_base_url="https://line.example.org", proxy_count=1))
    session = Session(Simulator(app, NumberState(answered=True)))
    assert session.text("side effects") == [EN.topics["side-effects"].text]
    assert "Welcome to the Cancer Immunotherapy Info Line" in session.call().text
    assert session.press("2").place == "treatment"


def test_an_unsigned_trial_line_previews_too(tmp_path):
    app = create_app(make_settings(tmp_path, twilio_auth_token=None, allow_unsigned=True))
    response = app.test_client().post("/preview/sms", json={"body": "side effects", "answered": True})
    assert response.get_json()["replies"] == [EN.topics["side-effects"].text]


def test_a_line_that_refuses_everything_says_why(tmp_path):
    app = create_app(make_settings(tmp_path, twilio_auth_token=None))
    response = app.test_client().post("/preview/sms", json={"body": "side effects"})
    assert response.status_code == 502
    assert "TWILIO_AUTH_TOKEN is not set" in response.get_json()["error"]


def test_recorded_clips_are_played_and_their_words_shown(tmp_path):
    from line.audio import clip_name

    settings = make_settings(tmp_path, audio_mode="files")
    settings.audio_dir.mkdir(parents=True)
    voice_name = EN.voice.espeak_voice
    greeting = EN.voice_prompts["greeting"]
    (settings.audio_dir / clip_name(greeting, voice_name, False)).write_bytes(b"RIFF")
    app = create_app(settings)
    step = voice(app.test_client())
    offer, first = step["pieces"][0], step["pieces"][1]
    assert offer["kind"] == "say" and offer["text"] == "Para español, oprima seis."  # no clip: said
    assert first["kind"] == "play" and first["url"].startswith("/audio/")
    assert first["text"] == greeting
    assert step["audio"] == [first["url"]]
    assert step["said"][1] == greeting and greeting in step["text"]
    assert step["pieces"][2]["kind"] == "say"  # the rest, without clips, is said
    assert [k["key"] for k in step["keys"]][:2] == ["1", "2"]


def test_a_preview_call_and_a_real_call_hear_the_same(app, client):
    step = voice(client)
    step = voice(client, step["gather_action"], digits="3")
    caller = Caller(app, number=NUMBER)
    caller.call()
    assert caller.press("3").said == step["text"]
