"""The caller's view: walk the phone menu as Twilio would."""
import re

import pytest
import responses

from conftest import MOBILE, NUMBER, TOKEN, make_settings, twilio_signature
from line import create_app
from line.content import load_library
from phone import LINE_NUMBER, Caller, Step, walk_every_key

LIB = load_library("content")
EN = LIB.language("en")
SID = "AC" + "0" * 32
SPOKEN_PHONE = "one. eight, six, six. eight, two, zero. four, five, zero, five"


@pytest.fixture
def caller(app):
    c = Caller(app)
    c.call()
    return c


def at(step) -> str:
    return step.state()["at"]


def test_greeting_then_main_menu_at_once(caller):
    said = caller.last.said
    offer = caller.last.gather.find("Say")
    assert offer.text == "Para español, oprima seis." and offer.get("language") == "es-US"
    assert said.startswith("Para español, oprima seis. Welcome to the Cancer Immunotherapy Info Line.")
    assert "not medical advice" in said and "nine one one" in said
    options = re.findall(r"For ([^.]+?), press (\w+)\.", said)
    assert [key for _, key in options[:5]] == ["one", "two", "three", "four", "five"]
    assert len([o for o in options if o[1] in {"one", "two", "three", "four", "five", "six", "seven", "eight"}]) <= 6
    assert "To talk to the N C I referral office, press zero." in said
    assert "To hear this again, press star." in said
    assert at(caller.last) == "main"


def test_every_key_at_every_level_leads_somewhere(app):
    """Breadth-first over every place: every key gives valid TwiML with a way forward."""
    seen = walk_every_key(app, "en")
    assert {"main", "about", "treatment", "research", "_number"} | set(EN.topics) <= seen


def test_topics_are_reached_by_keys_and_the_summary_is_inside_the_gather(caller):
    caller.press("2")
    assert at(caller.last) == "treatment"
    assert "For side effects, press three." in caller.last.said
    step = caller.press("3")
    assert at(step) == "side-effects"
    assert EN.topics["side-effects"].speech in " ".join(step.gather.itertext())
    assert "To hear this again, press star." in step.said
    assert "To go back, press eight." in step.said


def test_summaries_fit_in_about_90_seconds():
    for topic in EN.topics.values():
        assert len(topic.speech.split()) <= 200, topic.id


def test_repeat_back_and_main_menu(caller):
    caller.press("3")
    caller.press("1")
    first = caller.last.said
    assert caller.press("*").said == first
    assert at(caller.press("8")) == "research"
    assert at(caller.press("8")) == "main"
    caller.press("2")
    caller.press("4")
    assert at(caller.press("9")) == "main"


def test_back_on_the_main_menu_is_not_an_option(caller):
    step = caller.press("8")
    assert "Sorry, eight is not an option." in step.said
    assert at(step) == "main"


def test_speech_works_everywhere(caller):
    step = caller.say("side effects")
    assert at(step) == "side-effects"
    assert at(caller.say("go back")) == "treatment"
    assert at(caller.say("Clinical trails")) == "trials"
    assert at(caller.say("repeat")) == "trials"
    assert at(caller.say("main menu")) == "main"
    assert at(caller.say("two")) == "treatment"
    assert caller.say("operator").root.find("Dial") is not None


def test_speech_hints_and_language_come_from_the_content(caller):
    gather = caller.last.gather
    assert gather.get("language") == "en-US"
    assert "side effects" in gather.get("hints")


def test_words_nobody_understood_get_the_options_again(caller):
    step = caller.say("purple elephants")
    assert "Sorry, we did not understand that." in step.said
    assert "For clinical trials, press four." in step.said


def test_wrong_keys_say_so_and_after_three_offer_the_referral_office(caller):
    caller.press("1")
    first = caller.press("7")  # no texting without Twilio credentials
    assert "Sorry, seven is not an option." in first.said
    assert "For what cancer is, press one." in first.said
    assert "For clinical trials at N C I, press zero" not in first.said
    second = caller.press("5")
    assert "Sorry, five is not an option." in second.said
    assert second.state()["w"] == "2" and at(second) == "about"


def test_three_wrong_keys_offer_the_referral_office(caller):
    caller.press("2")
    for n in range(3):
        step = caller.press("5")
    assert "Sorry, five is not an option." in step.said
    assert ("For clinical trials at N C I, press zero for the N C I referral office. For your own care, call your "
            "health care provider.") in step.said
    assert at(caller.press("1")) == "how-given"  # a right key clears the count
    assert caller.last.state().get("w") is None


def test_silence_reprompts_offers_more_time_and_only_then_says_goodbye(app, settings):
    c = Caller(app)
    c.call()
    steps = []
    for _ in range(60):
        step = c.wait()
        steps.append(step)
        if step.hung_up:
            break
    assert steps[-1].hung_up, "never gave up: loops forever"
    waited = (len(steps)) * settings.gather_timeout
    assert len(steps) >= 11 and waited >= 20  # WCAG 2.2.1: a reprompt then 10 extensions
    assert steps[0].said.startswith("We did not hear anything.")
    assert all("Take your time" in s.said for s in steps[1:-1])
    assert steps[-1].said.count(SPOKEN_PHONE) == 2
    assert steps[-1].said.endswith("Goodbye.")


def test_the_transfer_dials_the_referral_office(caller):
    step = caller.press("0")
    assert "Putting you through to the N C I referral office" in step.said
    dial = step.root.find("Dial")
    assert dial.find("Number").text == "+18668204505"
    assert dial.get("action").startswith("/voice/dialed")


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
def test_a_failed_transfer_says_so_and_reads_the_number_twice(caller, status):
    dial = caller.press("0").root.find("Dial")
    step = caller.post(dial.get("action"), DialCallStatus=status)
    assert "we could not put you through" in step.said
    assert step.said.count(SPOKEN_PHONE) == 2
    assert "I R C, at, N I H, dot, gov" in step.said
    assert "To hear the number again, press star." in step.said
    again = caller.press("*")
    assert again.said.count(SPOKEN_PHONE) == 2


def test_after_a_completed_transfer_the_line_says_goodbye(caller):
    dial = caller.press("0").root.find("Dial")
    step = caller.post(dial.get("action"), DialCallStatus="completed")
    assert step.hung_up and "Goodbye" in step.said


def test_the_number_is_never_handed_to_the_voice_as_written(caller):
    caller.press("5")
    said = caller.last.said
    assert "1-866" not in said and "@" not in said
    assert said.count(SPOKEN_PHONE) == 2


def test_slower_pace_is_kept_for_the_rest_of_the_call(caller):
    step = caller.press("#")
    assert "We will speak more slowly" in step.said
    assert step.state()["pace"] == "slow"
    prosody = step.root.find("Gather/Say/prosody")
    assert prosody is not None and prosody.get("rate") == "80%"
    step = caller.press("2")
    assert step.state()["pace"] == "slow"
    step = caller.wait()
    assert step.state(step.action)["pace"] == "slow"
    assert caller.say("slower").state()["pace"] == "slow"


def test_slower_pace_without_ssml_pauses_between_sentences(tmp_path, content_copy):
    lang = content_copy / "en" / "language.yaml"
    lang.write_text(lang.read_text().replace("twilio_voice: Polly.Joanna-Neural", "twilio_voice: alice"))
    app = create_app(make_settings(tmp_path, content_dir=content_copy))
    c = Caller(app)
    c.call()
    step = c.press("#")
    gather = step.gather
    english = [say for say in gather.findall("Say") if say.get("voice") == "alice"]
    assert english and all(say.find("prosody") is None for say in english)
    assert len(gather.findall("Pause")) >= 3


def test_with_the_content_unreachable_too_a_caller_hears_the_number_written_in_code_twice(app, caller, monkeypatch):
    def gone(*args, **kwargs):
        raise OSError("the content folder is gone")

    monkeypatch.setattr(app.extensions["line"].content, "get", gone)
    data = {"CallSid": caller.call_sid, "From": NUMBER, "To": LINE_NUMBER}
    step = Step(caller.client.post("/voice", data=data,
                                   headers={"X-Twilio-Signature": twilio_signature(TOKEN, "http://localhost/voice", data)}))
    assert step.hung_up and step.said.count(SPOKEN_PHONE) == 2 and "Sorry, something went wrong" in step.said


def test_a_failure_reads_the_number_and_returns_to_the_menu_once(app, caller, monkeypatch):
    language = app.extensions["line"].library().language("en")
    monkeypatch.setattr(language.matcher, "understand", lambda *a, **k: 1 / 0)
    step = caller.say("side effects")
    assert "Sorry, something went wrong" in step.said and SPOKEN_PHONE in step.said
    assert step.redirect.startswith("/voice/menu")
    back = caller.post(step.redirect)
    assert at(back) == "main"

    failing_again = caller.say("side effects")
    assert failing_again.hung_up and failing_again.said.count(SPOKEN_PHONE) == 2


def test_a_broken_usage_store_never_reaches_the_caller(app, caller, monkeypatch):
    monkeypatch.setattr(app.extensions["line"].store, "record", lambda *a: 1 / 0)
    assert at(caller.say("side effects")) == "side-effects"


# -- get this by text ----------------------------------------------------------------------
@pytest.fixture
def texting_app(tmp_path):
    return create_app(make_settings(tmp_path, twilio_account_sid=SID))


MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"


def _ok(request):
    return (201, {}, '{"sid": "SM123", "status": "queued"}')


@responses.activate
def test_text_me_sends_the_topic_to_the_caller_only(texting_app):
    responses.add_callback(responses.POST, MESSAGES_URL, callback=_ok)
    c = Caller(texting_app, number=MOBILE)
    c.call()
    c.press("2")
    step = c.press("3")
    assert "To get this by text message, press seven." in step.said
    step = c.press("7")
    assert "We sent a text message" in step.said
    assert len(responses.calls) == 1
    from urllib.parse import parse_qs
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["To"] == [MOBILE]
    assert sent["From"] == [LINE_NUMBER]
    body = sent["Body"][0]
    assert body.startswith(EN.topics["side-effects"].body)
    assert "1-866-820-4505" in body and "July 2018" in body
    assert at(step) == "side-effects"


@responses.activate
def test_text_me_by_voice(texting_app):
    responses.add_callback(responses.POST, MESSAGES_URL, callback=_ok)
    c = Caller(texting_app, number=MOBILE)
    c.call()
    c.say("clinical trials")
    assert "We sent a text message" in c.say("text me").said
    assert len(responses.calls) == 1


@responses.activate
def test_text_me_is_limited_per_call_and_per_day(texting_app):
    responses.add_callback(responses.POST, MESSAGES_URL, callback=_ok)
    c = Caller(texting_app, number=MOBILE)
    c.call()
    c.say("side effects")
    assert "We sent" in c.press("7").said
    assert "We sent" in c.press("7").said
    assert "already sent texts" in c.press("7").said
    assert len(responses.calls) == 2
    second_call = Caller(texting_app, number=MOBILE, call_sid="CA0002")
    second_call.call()
    second_call.say("trials")
    assert "We sent" in second_call.press("7").said
    third_call = Caller(texting_app, number=MOBILE, call_sid="CA0003")
    third_call.call()
    third_call.say("trials")
    assert "already sent texts" in third_call.press("7").said
    assert len(responses.calls) == 3


@responses.activate
def test_text_me_never_texts_a_number_that_opted_out(texting_app):
    from conftest import Twilio
    Twilio(texting_app).text("STOP", number=MOBILE)
    c = Caller(texting_app, number=MOBILE)
    c.call()
    c.say("side effects")
    step = c.press("7")
    assert "asked not to get texts" in step.said
    assert len(responses.calls) == 0


@responses.activate
def test_text_me_says_so_when_twilio_refuses(texting_app):
    responses.add(responses.POST, MESSAGES_URL, status=400, json={"code": 21610, "message": "unsubscribed", "status": 400})
    c = Caller(texting_app, number=MOBILE)
    c.call()
    c.say("side effects")
    assert "could not send the text" in c.press("7").said


@pytest.mark.parametrize("hidden", ["anonymous", "+266696687", "+86282452253", "+7378742833", "+2562533", "+8656696"])
def test_text_me_is_not_offered_to_a_hidden_number(texting_app, hidden):
    c = Caller(texting_app, number=hidden)  # Twilio's stand-ins for ANONYMOUS, UNAVAILABLE ...
    c.call()
    step = c.say("side effects")
    assert "by text" not in step.said
    assert "not an option" in c.press("7").said


def test_each_caller_hears_whether_texting_is_offered_to_them_though_answers_are_built_once(texting_app):
    """The same step at the same place, one caller after another: built answers are kept, but
    one built for a caller a text can reach is never played to one it cannot, nor the reverse."""
    def topic_heard_by(number: str) -> str:
        c = Caller(texting_app, number=number)
        c.call()
        return c.say("side effects").said

    assert "by text" in topic_heard_by("+12015550123")
    assert "by text" not in topic_heard_by("+266696687")
    assert "by text" in topic_heard_by("+12015550124")
    assert "by text" not in topic_heard_by("anonymous")


def test_text_me_is_not_offered_without_credentials(caller):
    step = caller.say("side effects")
    assert "by text" not in step.said


def test_text_me_on_a_menu_says_to_choose_a_topic_first(texting_app):
    c = Caller(texting_app, number=MOBILE)
    c.call()
    step = c.press("7")
    assert step.said.startswith("To get a text, first choose a topic.")
    assert step.state()["at"] == "main"


def test_a_failure_then_a_good_step_starts_the_count_again(app, caller, monkeypatch):
    language = app.extensions["line"].library().language("en")
    real = language.matcher.understand
    monkeypatch.setattr(language.matcher, "understand", lambda *a, **k: 1 / 0)
    back = caller.post(caller.say("side effects").redirect)  # failure 1, then the main menu
    assert back.state().get("e") == "1"
    monkeypatch.setattr(language.matcher, "understand", real)
    step = caller.press("2")  # a step that works
    assert "e" not in step.state()
    monkeypatch.setattr(language.matcher, "understand", lambda *a, **k: 1 / 0)
    again = caller.say("side effects")
    assert not again.hung_up and again.redirect.startswith("/voice/menu")  # a first failure again


@pytest.mark.parametrize("menu_lang, keys, words, first", [
    ("en", [], "tengo dolor en el pecho", "Si puede ser una emergencia"),
    ("en", ["2"], "mi esposo no puede respirar", "Si puede ser una emergencia"),
    ("es", [], "i want to kill myself", "You matter, and you do not have to face this alone."),
    ("es", ["3"], "my chest hurts", "If this may be an emergency"),
])
def test_danger_is_heard_in_any_language_at_any_menu_and_answered_first_in_its_own(tmp_path, menu_lang, keys, words,
                                                                                  first):
    """Content review finding 8: the emergency and crisis words are heard whatever the menu's
    language; the answer comes first, in the language the caller spoke, and the call goes on
    in it (valid TwiML with a way forward)."""
    caller = Caller(create_app(make_settings(tmp_path)))
    caller.call()
    if menu_lang == "es":
        caller.press("6")
    for key in keys:
        caller.press(key)
    step = caller.say(words)
    assert step.said.startswith(first), step.said
    spoken = "es" if first.startswith("Si ") else "en"
    assert f"lang={spoken}" in step.action


@pytest.mark.parametrize("lang, words", [("en", "can immunotherapy cure my cancer"), ("es", "la inmunoterapia puede curar mi cáncer")])
def test_a_personal_question_on_the_phone_goes_to_the_menu_not_to_what_cancer_is(tmp_path, lang, words):
    """Content review finding 22, on the phone: the no-advice words, then the main menu, never the
    summary of what cancer is."""
    caller = Caller(create_app(make_settings(tmp_path)))
    caller.call()
    if lang == "es":
        caller.press("6")
    step = caller.say(words)
    said = step.said
    assert said.startswith(("This line cannot give medical advice", "Esta línea no puede dar consejos médicos")), said
    assert "What is cancer" not in said and "¿Qué es el cáncer?" not in said
    assert ("basics, press one" in said) if lang == "en" else ("Para Lo básico, oprima uno" in said), said
