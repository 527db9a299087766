"""No false alarms (issue 21): a message of the labeled set that is not an emergency or a crisis
never gets the emergency or the crisis answer, whose words come alone, through the line itself:
what a texter reads and what a caller hears. The questions about taking treatment (pills,
tablets, doses, "can I take") are the ones that once got the 988 reply; every other message of
the set is held to the same."""
import pytest

from conftest import CONTENT, Twilio, make_settings
from line import create_app, labeled
from line.content import load_library
from phone import Caller

LIB = load_library(CONTENT)
ROWS = [row for row in labeled.read() if row.label not in ("emergency", "crisis", "opt_out")]
TAKING = ("pill", "tablet", "dose", "take", "taking", "pastilla", "tableta", "dosis", "tomar", "tomo", "toma")


def alarms(lang_code: str) -> dict[str, str]:
    lang = LIB.language(lang_code)
    return {name: lang.intents.items[name].text for name in ("crisis", "emergency")}


ALARMS = {code: alarms(code) for code in ("en", "es")}
SAID = {code: {name: " ".join(LIB.language(code).intents.items[name].speech.split()[:8])
               for name in ("crisis", "emergency")} for code in ("en", "es")}


def test_the_set_holds_at_least_40_questions_about_taking_treatment_in_both_languages_and_channels():
    taking = [row for row in ROWS if any(word in row.message.lower() for word in TAKING)]
    assert len(taking) >= 40
    assert {(row.language, row.channel) for row in taking} == {("en", "sms"), ("en", "voice"), ("es", "sms"), ("es", "voice")}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(make_settings(tmp_path_factory.mktemp("alarms")))


@pytest.mark.parametrize("row", [r for r in ROWS if r.channel == "sms"], ids=lambda r: f"line{r.line}")
def test_a_texter_never_gets_the_crisis_or_emergency_answer_for_a_message_that_is_neither(app, row):
    replies = Twilio(app).text(row.message, number=f"+1555{row.line:07d}")
    for texts in ALARMS.values():
        for name, words in texts.items():
            assert not any(words in reply for reply in replies), (row.line, row.message, name)


@pytest.mark.parametrize("row", [r for r in ROWS if r.channel == "voice"], ids=lambda r: f"line{r.line}")
def test_a_caller_never_hears_the_crisis_or_emergency_answer_for_words_that_are_neither(app, row):
    caller = Caller(app, number=f"+1555{row.line:07d}")
    caller.call()
    if row.language == "es":
        caller.press("6")  # the Spanish menu: the recognizer listens in Spanish
    heard = caller.say(row.message).said
    for name, words in SAID[row.language].items():
        assert words not in heard, (row.line, row.message, name)


# Everyday words a second reader found answered with 911 or 988 (the phone, the text, a dropped
# call, insurance): not dangers, whatever the line then answers. Each is sent as a text and said.
EVERYDAY = [
    ("en", "I cant see the text on my phone"),
    ("en", "sorry i can't talk right now"),
    ("en", "my phone was dead so i missed your text"),
    ("es", "se cayó la llamada"),
    ("es", "no puedo ver bien el mensaje"),
    ("es", "no puede hablar ahora, está en el trabajo"),
]


@pytest.mark.parametrize("lang, message", EVERYDAY)
def test_everyday_words_about_the_phone_get_no_alarm(app, lang, message):
    replies = Twilio(app).text(message, number="+15550000042")
    for texts in ALARMS.values():
        for name, words in texts.items():
            assert not any(words in reply for reply in replies), (message, name)
    caller = Caller(app, number="+15550000043")
    caller.call()
    if lang == "es":
        caller.press("6")
    heard = caller.say(message).said
    for name, words in SAID[lang].items():
        assert words not in heard, (message, name)
