""""Get this by text" must not become SMS pumping: a caller ID is easy to spoof, so the line texts
only numbers of the allowed regions (LINE_TEXT_REGIONS, the United States and Canada by default)
and kinds of line that take texts. Attacked the way the issue describes, on the running line, with
a fake Twilio REST API on loopback counting the texts it is asked to send."""
from __future__ import annotations

import pytest

from conftest import MOBILE, make_settings
from fake_twilio import FakeTwilio, fake_twilio  # noqa: F401 (a fixture)
from line import create_app
from line.config import Settings
from line.content import load_library
from line.outbound import textable
from conftest import CONTENT
from phone import Caller

SID = "AC" + "5" * 32
LIB = load_library(CONTENT)
EN, ES = LIB.language("en").voice_prompts, LIB.language("es").voice_prompts
DEFAULT = frozenset({"US", "CA"})
# 555-01xx numbers (kept for fiction) of each kind; phonenumbers places them as commented.
US_MOBILE = "+12015550123"          # New Jersey
CANADA = "+14165550123"             # Toronto
JAMAICA = "+18765550123"            # +1 876: the NANP, but the Caribbean
DOMINICAN = "+18095550123"          # +1 809
PUERTO_RICO = "+17875550123"        # +1 787: the NANP, a US territory, its own region (PR)
PREMIUM = "+19005550123"            # +1 900: premium rate
TOLL_FREE = "+18005550123"          # +1 800
NO_REGION = "+15555550123"          # area code 555 is no region's
UK_MOBILE = "+447400123456"         # libphonenumber's own example of a mobile
UK_LANDLINE = "+442079460123"       # Ofcom's drama range, London


@pytest.mark.parametrize("number, regions, allowed", [
    (US_MOBILE, DEFAULT, True),
    (CANADA, DEFAULT, True),
    (JAMAICA, DEFAULT, False),
    (DOMINICAN, DEFAULT, False),
    (PUERTO_RICO, DEFAULT, False),
    (PREMIUM, DEFAULT, False),
    (TOLL_FREE, DEFAULT, False),
    (NO_REGION, DEFAULT, False),
    (UK_MOBILE, DEFAULT, False),
    ("+266696687", DEFAULT, False),  # Twilio's stand-in for ANONYMOUS
    ("anonymous", DEFAULT, False),
    ("", DEFAULT, False),
    (JAMAICA, frozenset({"US", "CA", "JM"}), True),
    (CANADA, frozenset({"US"}), False),
    (UK_MOBILE, frozenset({"GB"}), True),
    (UK_LANDLINE, frozenset({"GB"}), False),  # a landline takes no texts
])
def test_which_numbers_the_line_may_text(number, regions, allowed):
    assert textable(number, regions) is allowed


def test_the_regions_are_a_setting_with_the_united_states_and_canada_by_default():
    assert Settings.from_env({}).text_regions == ("US", "CA")
    assert Settings.from_env({"LINE_TEXT_REGIONS": " us, ca ,JM"}).text_regions == ("US", "CA", "JM")
    for wrong in ("USA", "XX", "US;CA", ","):
        with pytest.raises(ValueError, match="LINE_TEXT_REGIONS"):
            Settings.from_env({"LINE_TEXT_REGIONS": wrong})


def test_twilios_api_elsewhere_must_be_https_or_on_this_machine():
    assert Settings.from_env({}).twilio_api_url is None
    assert Settings.from_env({"LINE_TWILIO_API_URL": "https://egress.example/"}).twilio_api_url == "https://egress.example"
    assert Settings.from_env({"LINE_TWILIO_API_URL": "http://127.0.0.1:9"}).twilio_api_url == "http://127.0.0.1:9"
    for wrong in ("http://egress.example", "ftp://127.0.0.1", "egress.example"):
        with pytest.raises(ValueError, match="LINE_TWILIO_API_URL"):
            Settings.from_env({"LINE_TWILIO_API_URL": wrong})


def texting_line(tmp_path, fake: FakeTwilio, **overrides):
    return create_app(make_settings(tmp_path, twilio_account_sid=SID, twilio_api_url=fake.url, **overrides))


def at_a_topic(app, number: str, lang: str = "en") -> tuple[Caller, str]:
    caller = Caller(app, number=number)
    caller.call()
    if lang == "es":
        caller.press("6")
    heard = caller.say("efectos secundarios" if lang == "es" else "side effects").said
    return caller, heard


def test_a_caller_in_the_united_states_gets_the_text_through_twilios_api(tmp_path, fake_twilio):  # noqa: F811
    app = texting_line(tmp_path, fake_twilio)
    caller, heard = at_a_topic(app, US_MOBILE)
    assert "To get this by text message, press seven." in heard
    assert EN["text_sent"].split(".")[0] in caller.press("7").said
    assert [m["to"] for m in fake_twilio.messages] == [US_MOBILE]
    assert fake_twilio.messages[0]["from"] == "+15555550100"


@pytest.mark.parametrize("number", [JAMAICA, DOMINICAN, PREMIUM, TOLL_FREE, NO_REGION, UK_MOBILE])
def test_a_spoofed_caller_id_outside_the_regions_gets_no_text_and_a_kind_way_forward(tmp_path, fake_twilio, number):  # noqa: F811
    app = texting_line(tmp_path, fake_twilio)
    caller, heard = at_a_topic(app, number)
    assert "by text" not in heard  # not offered
    for ask in (lambda: caller.press("7"), lambda: caller.say("text me")):
        step = ask()
        assert "Sorry, we cannot send a text message to this phone." in step.said
        assert "one. eight, six, six. eight, two, zero. four, five, zero, five" in step.said  # the way forward
        assert step.gather is not None and step.state()["at"] == "side-effects"  # the call goes on
        for why in ("region", "country", "premium", "Jamaica", "allowed"):
            assert why not in step.said
    assert fake_twilio.sent == 0


def test_refused_anywhere_in_the_menu_and_in_spanish(tmp_path, fake_twilio):  # noqa: F811
    app = texting_line(tmp_path, fake_twilio)
    caller = Caller(app, number=JAMAICA)
    caller.call()
    assert "Sorry, we cannot send a text message to this phone." in caller.press("7").said  # on the main menu
    caller, _ = at_a_topic(app, JAMAICA, lang="es")
    step = caller.press("7")
    assert ES["text_refused"] in step.said and "ocho, dos, cero" in step.said
    assert fake_twilio.sent == 0


def test_the_regions_setting_opens_and_closes_regions(tmp_path, fake_twilio):  # noqa: F811
    app = texting_line(tmp_path / "a", fake_twilio, text_regions=("US", "CA", "JM"))
    caller, heard = at_a_topic(app, JAMAICA)
    assert "by text" in heard and "We sent" in caller.press("7").said
    app = texting_line(tmp_path / "b", fake_twilio, text_regions=("US",))
    caller, heard = at_a_topic(app, CANADA)
    assert "by text" not in heard and "cannot send a text" in caller.press("7").said
    assert [m["to"] for m in fake_twilio.messages] == [JAMAICA]


def test_hidden_callers_still_hear_texting_is_not_an_option(tmp_path, fake_twilio):  # noqa: F811
    caller, _ = at_a_topic(texting_line(tmp_path, fake_twilio), "+266696687")
    assert "not an option" in caller.press("7").said
    assert fake_twilio.sent == 0


def test_a_text_twilio_refuses_says_it_was_not_sent(tmp_path):
    fake = FakeTwilio(status=400)
    try:
        caller, _ = at_a_topic(texting_line(tmp_path, fake), MOBILE)
        assert EN["text_failed"] in caller.press("7").said
    finally:
        fake.stop()


API_KEY, API_SECRET = "SK" + "7" * 32, "api-key-secret"


def test_with_an_api_key_the_auth_token_need_not_be_on_the_host(tmp_path):
    """Texts go out with an API key and its secret; webhooks come signed with a SharedKey: the line
    runs and texts with no TWILIO_AUTH_TOKEN at all."""
    fake = FakeTwilio(api_keys={API_KEY: API_SECRET})
    try:
        app = texting_line(tmp_path, fake, twilio_auth_token=None, twilio_api_key=API_KEY,
                           twilio_api_secret=API_SECRET, webhook_shared_keys=("shared-key-secret",))
        caller = Caller(app, number=US_MOBILE, shared_key="shared-key-secret")
        caller.call()
        assert "press seven" in caller.say("side effects").said
        assert EN["text_sent"].split(".")[0] in caller.press("7").said
        assert [(m["to"], m["user"]) for m in fake.messages] == [(US_MOBILE, API_KEY)]  # as the API key
        wrong = texting_line(tmp_path / "wrong", fake, twilio_auth_token=None, twilio_api_key=API_KEY,
                             twilio_api_secret="not-the-secret", webhook_shared_keys=("shared-key-secret",))
        caller = Caller(wrong, number=US_MOBILE, shared_key="shared-key-secret")
        caller.call()
        caller.say("side effects")
        assert EN["text_failed"].split(".")[0] in caller.press("7").said
        assert fake.sent == 1  # Twilio refused the wrong secret: nothing more was sent
    finally:
        fake.stop()


def test_an_api_key_goes_with_its_secret():
    for env in ({"TWILIO_API_KEY": API_KEY}, {"TWILIO_API_SECRET": API_SECRET}):
        with pytest.raises(ValueError, match="TWILIO_API_KEY and TWILIO_API_SECRET"):
            Settings.from_env(env)
    settings = Settings.from_env({"TWILIO_API_KEY": API_KEY, "TWILIO_API_SECRET": API_SECRET})
    assert API_SECRET not in repr(settings)
