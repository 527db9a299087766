"""The texter's view of the line, through the Flask test client."""
from xml.etree import ElementTree

import pytest

from conftest import NUMBER, Twilio, make_settings, message_sid, replies as parse_replies
from line import create_app
from line.content import load_library
from line.sms_encoding import count

LIB = load_library("content")
EN = LIB.language("en")


@pytest.mark.parametrize("body, topic", [
    ("SIDE", "side-effects"),
    ("side effects", "side-effects"),
    ("Side effects??", "side-effects"),
    ("  sIdE   EFFECTS ", "side-effects"),
    ("side efects", "side-effects"),
    ("sied effects", "side-effects"),
    ("what are the side effects of immunotherapy?", "side-effects"),
    ("how is it given", "how-given"),
    ("How is it given?", "how-given"),
    ("where do I get it", "where"),
    ("clinical trials", "trials"),
    ("clinical trails", "trials"),
    ("TRIALS", "trials"),
    ("referral", "referral"),
    ("phone number", "referral"),
    ("what is immunotherapy", "immunotherapy"),
    ("What is immunotherpy?", "immunotherapy"),
    ("what is cancer", "cancer"),
    ("needle", "needle-site"),
    ("interleukin-2", "interleukin"),
    ("IL2", "interleukin"),
])
def test_words_and_typos_get_the_topic(twilio, body, topic):
    assert twilio.text(body) == [EN.topics[topic].text]


def test_every_keyword_gets_its_topic_with_source_and_plain_words(twilio):
    for topic in EN.topics.values():
        [reply] = twilio.text(topic.keyword)
        assert reply == topic.text
        assert "Source: MedlinePlus magazine" in reply
        assert "MENU" in reply


def test_menu_lists_keywords_with_what_they_bring(twilio):
    [reply] = twilio.text("MENU")
    for option in ["ABOUT: cancer and immunotherapy basics", "TRIALS: clinical trials", "CALL: "]:
        assert option in reply
    [sub] = twilio.text("treatment")
    assert "SIDE: side effects" in sub and "GIVEN: how it is given" in sub and "MENU: all topics" in sub


def test_unknown_text_gets_who_to_call_a_suggestion_and_the_way_to_the_topics(twilio):
    """Third reading H2: words the line does not understand may be about how someone feels
    ("my eyes are yellow"): never only "we did not understand"."""
    [reply] = twilio.text("sdie")
    assert reply == ("Sorry, we did not understand. If you feel unwell, call your health care provider. "
                     "In an emergency, call 911. If you are thinking of hurting yourself, call or text 988. "
                     "Try the word SIDE. Reply MENU for topics.")
    [reply] = twilio.text("qqqq zzzz")
    assert "Try the word" not in reply and "call your health care provider" in reply and "911" in reply
    assert reply.endswith("Reply MENU for topics.")


def test_help_names_the_line_what_it_sends_how_to_stop_rates_and_the_office(twilio):
    for word in ["HELP", "help", "Info", "INFO."]:
        [reply] = twilio.text(word)
        assert "Cancer Immunotherapy Info Line" in reply
        assert "cancer immunotherapy" in reply
        assert "STOP" in reply
        assert "Msg&data rates may apply" in reply
        assert "1-866-820-4505" in reply
        assert "Not medical advice" in reply


@pytest.mark.parametrize("word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit", "REVOKE", "OPTOUT", "stop!"])
def test_opt_out_words_silence_the_line_until_opt_in(twilio, word):
    assert twilio.text(word) == []  # Twilio itself confirms these words
    assert twilio.text("side effects") == []
    assert twilio.text("MENU") == []
    other = twilio.text("side effects", number="+15555550999")
    assert other == [EN.topics["side-effects"].text]
    [welcome] = twilio.text("START")
    assert "Welcome back" in welcome
    assert twilio.text("side effects") == [EN.topics["side-effects"].text]


@pytest.mark.parametrize("word", ["START", "yes", "Unstop"])
def test_opt_in_words(twilio, word):
    twilio.text("STOP")
    [reply] = twilio.text(word)
    assert "get texts again" in reply
    assert twilio.text("trials")


def test_help_is_answered_even_after_opting_out(twilio):
    twilio.text("STOP")
    [reply] = twilio.text("HELP")
    assert "1-866-820-4505" in reply


def test_an_opt_out_in_danger_hears_the_crisis_line_first_and_is_opted_out(twilio):
    crisis, stopped = twilio.text("stop texting me, I want to kill myself")
    assert crisis == EN.intents["crisis"].text and "988" in crisis and "911" in crisis
    assert stopped == EN.sms["opted_out"]
    assert twilio.text("side effects") == []  # opted out, as asked


def test_a_word_inside_a_sentence_is_not_an_opt_out(twilio):
    [reply] = twilio.text("how do I stop the side effects")
    assert reply == EN.topics["side-effects"].text
    assert twilio.text("trials")


def test_opt_out_survives_a_restart(tmp_path):
    first = Twilio(create_app(make_settings(tmp_path)))
    assert first.text("STOP") == []
    second = Twilio(create_app(make_settings(tmp_path)))
    assert second.text("side effects") == []
    second.text("START")
    assert Twilio(create_app(make_settings(tmp_path))).text("side effects")


def test_every_reply_is_plain_gsm7_in_at_most_two_segments(twilio):
    bodies = ["MENU", "HELP", "START", "nonsense words", "sdie", "", *[t.keyword for t in EN.topics.values()],
              *[m.keyword for m in EN.menus.values() if m.keyword]]
    for body in bodies:
        for reply in twilio.text(body):
            c = count(reply)
            assert c.encoding == "GSM-7", (body, c.offending)
            assert c.segments <= 2, (body, c.units)


@pytest.mark.parametrize("body, foreign", [
    ("", None),
    (" ", None),
    ("x" * 1600, "xxxx"),
    ("side effects " * 130, None),
    ("😀😀😀", "😀"),
    ("side effects 🙏", "🙏"),
    ("<Response><Say>hi</Say></Response>", "Say"),
    ("]]><Message>forged</Message>", "forged"),
    ("&amp; &lt; \x00 \u202e", "\u202e"),
    ("+1 (555) 555-0123 call me at me@example.com", "me@example.com"),
])
def test_odd_bodies_get_a_valid_short_answer_that_never_repeats_them(twilio, body, foreign):
    """One short valid reply, and the texter's words never come back in it: markup in a body cannot
    forge a message or a <Say>, and a number or address someone typed is not sent back to the phone."""
    response = twilio.post("/sms", {"Body": body, "From": twilio.from_number(NUMBER), "MessageSid": message_sid()})
    replies = parse_replies(response)
    assert len(replies) == 1
    assert count(replies[0]).segments <= 2
    if foreign is not None:
        assert foreign not in replies[0]
        assert foreign.encode() not in response.data
    assert b"<Say" not in response.data and b"]]>" not in response.data


def test_missing_fields_still_get_an_answer(twilio):
    response = twilio.post("/sms", {})
    assert response.status_code == 200
    assert b"<Message>" in response.data


def test_a_failure_inside_the_handler_still_answers_with_the_referral_number(app, twilio, monkeypatch):
    language = app.extensions["line"].library().language("en")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(language.matcher, "understand", broken)
    [reply] = twilio.text("side effects")
    assert "1-866-820-4505" in reply


def test_with_the_content_unreachable_too_a_failure_answers_with_the_referral_number_written_in_code(app, twilio, monkeypatch):
    def gone(*args, **kwargs):
        raise OSError("the content folder is gone")

    monkeypatch.setattr(app.extensions["line"].content, "get", gone)
    assert twilio.text("side effects") == [
        "Sorry, something went wrong. Please call the NCI referral office at 1-866-820-4505."]


def test_a_store_failure_still_answers(app, twilio, monkeypatch):
    store = app.extensions["line"].store

    def broken(*args, **kwargs):
        raise OSError("database is gone")

    monkeypatch.setattr(store, "state_of", broken)
    [reply] = twilio.text("side effects")
    assert "1-866-820-4505" in reply


def test_no_numbers_or_bodies_in_the_logs(twilio, caplog):
    caplog.set_level("DEBUG")
    twilio.text("my secret message side effects", number="+15555550177")
    twilio.text("STOP", number="+15555550177")
    twilio.text("qwerty uiop", number="+15555550177")
    assert "5555550177" not in caplog.text
    assert "secret message" not in caplog.text
    assert "qwerty" not in caplog.text


def test_control_characters_never_reach_the_store(app, twilio):
    twilio.text("zzyzx\x00qq\x07 ww")
    from datetime import datetime, timedelta, timezone
    rows = app.extensions["line"].store.unmatched_since(datetime.now(timezone.utc) - timedelta(minutes=5))
    assert [r.text for r in rows] == ["zzyzx qq ww"]


def test_unknown_texts_are_kept_without_numbers_or_emails(app, twilio):
    twilio.text("zzyzx 555-0123 qwerty me@example.com")
    from datetime import datetime, timedelta, timezone
    rows = app.extensions["line"].store.unmatched_since(datetime.now(timezone.utc) - timedelta(minutes=5))
    assert [r.text for r in rows] == ["zzyzx [number] qwerty [email]"]


def test_healthz(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["ok"] is True


# -- a number's first reply ------------------------------------------------------------------------
@pytest.fixture
def new_phone(app):
    """A phone the line has never answered."""
    return Twilio(app, returning=False)


def test_a_new_number_first_gets_the_notice_then_its_answer_and_never_again(new_phone):
    response = new_phone.post("/sms", {"Body": "side effects", "From": NUMBER, "To": "+15555550100",
                                       "MessageSid": "SM" + "1" * 32})
    root = ElementTree.fromstring(response.data)
    assert [(m.tag, m.text, list(m)) for m in root] == [  # two texts, in this order, nothing else
        ("Message", EN.sms["first_text"], []), ("Message", EN.topics["side-effects"].text, [])]
    notice = EN.sms["first_text"]
    for needed in ("general information", "not medical advice", "In an emergency, call 911", "NIH"):
        assert needed in notice
    assert count(notice).encoding == "GSM-7" and count(notice).segments <= 2
    assert new_phone.text("side effects") == [EN.topics["side-effects"].text]  # the second text: no notice
    assert new_phone.text("MENU") == [EN.menus["main"].text]


@pytest.mark.parametrize("body, answer", [
    ("MENU", EN.menus["main"].text),
    ("sdie", EN.not_understood_text("sdie")),
    ("I am so scared", EN.intents.reply_text("feelings", None)),
    ("START", EN.menus["main"].text),
])
def test_whatever_a_new_number_texts_its_first_answer_leads_with_the_notice(new_phone, body, answer):
    assert new_phone.text(body) == [EN.sms["first_text"], answer]
    assert new_phone.text(body) == [answer]


def test_a_new_number_in_spanish_gets_the_spanish_notice(new_phone):
    es = LIB.language("es")
    assert new_phone.text("efectos secundarios") == [es.sms["first_text"], es.topics["side-effects"].text]
    assert new_phone.text("ESPANOL", number="+15555550998") == [es.sms["first_text"], es.sms["language_set"]]
    assert new_phone.text("MENU", number="+15555550998") == [es.menus["main"].text]
    notice = es.sms["first_text"]
    assert count(notice).segments <= 4 and "911" in notice and "no ofrece consejos médicos" in notice.lower()


def test_an_emergency_from_a_new_number_gets_its_safe_words_alone_and_the_notice_comes_next(new_phone):
    [urgent] = new_phone.text("I can't breathe")
    assert urgent.startswith("If this may be an emergency (trouble breathing, chest pain, fainting, too much medicine or poison), call 911 now.")
    assert new_phone.text("MENU") == [EN.sms["first_text"], EN.menus["main"].text]
    [crisis] = new_phone.text("I want to kill myself", number="+15555550998")
    assert "988" in crisis and EN.sms["first_text"] not in crisis


def test_stop_or_help_from_a_new_number_gets_no_notice_and_later_texts_none(new_phone):
    assert new_phone.text("STOP") == []  # Twilio confirms it
    assert new_phone.text("START") == [EN.sms["opted_in"]]
    assert new_phone.text("side effects") == [EN.topics["side-effects"].text]
    assert new_phone.text("stop texting me", number="+15555550998") == [EN.sms["opted_out"]]
    assert new_phone.text("HELP", number="+15555550997") == [EN.sms["help"]]  # says it already
    assert new_phone.text("MENU", number="+15555550997") == [EN.menus["main"].text]


def test_when_the_answer_cannot_be_remembered_it_still_goes_out_and_the_next_has_the_notice(app, new_phone, monkeypatch):
    store = app.extensions["line"].store

    def broken(*args, **kwargs):
        raise OSError("database is gone")

    monkeypatch.setattr(store, "set_answered", broken)
    first = [EN.sms["first_text"], EN.topics["side-effects"].text]
    assert new_phone.text("side effects") == first
    assert new_phone.text("side effects") == first
    monkeypatch.undo()
    assert new_phone.text("side effects") == first
    assert new_phone.text("side effects") == [EN.topics["side-effects"].text]


def test_a_number_the_store_cannot_read_gets_no_notice(app, new_phone, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("database is gone")

    monkeypatch.setattr(app.extensions["line"].store, "state_of", broken)
    assert new_phone.text("side effects") == [EN.sms["error"]]  # as before: only where help is
