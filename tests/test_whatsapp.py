"""WhatsApp, the third channel: Twilio posts WhatsApp messages to the Messaging webhook (/sms)
with whatsapp: addresses. Signed requests to the real webhook, as Twilio sends them."""
from datetime import datetime, timezone
from xml.etree import ElementTree

import pytest

from conftest import NUMBER, Twilio, message_sid, replies
from line.content import load_library

LIB = load_library("content")
EN, ES = LIB.language("en"), LIB.language("es")
WHATSAPP = "whatsapp:" + NUMBER
LINE_WHATSAPP = "whatsapp:+15555550100"
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


class WhatsApp(Twilio):
    def text(self, body: str, number: str = WHATSAPP):
        form = {"Body": body, "From": self.from_number(number), "To": LINE_WHATSAPP, "MessageSid": message_sid(), "NumMedia": "0",
                "ProfileName": "Test", "WaId": number.removeprefix("whatsapp:+")}
        response = self.post("/sms", form)
        assert response.status_code == 200, response.data
        return replies(response)


@pytest.fixture
def whatsapp(app):
    return WhatsApp(app)


def test_a_whatsapp_message_gets_the_same_answers_as_a_text(whatsapp, twilio):
    for body in ("side effects", "clinical trails", "MENU", "treatment", "sdie", "efectos secundarios"):
        assert whatsapp.text(body) == twilio.text(body), body
    assert whatsapp.text("side effects") == [EN.topics["side-effects"].text]


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "END", "quit!"])
def test_the_line_itself_confirms_an_opt_out_on_whatsapp_then_keeps_quiet(whatsapp, twilio, word):
    assert twilio.text(word) == []  # on SMS, Twilio confirms these words itself
    assert whatsapp.text(word) == [EN.sms["opted_out"]]  # on WhatsApp nobody else would
    assert whatsapp.text("side effects") == []
    [welcome] = whatsapp.text("START")
    assert welcome == EN.sms["opted_in"]
    assert whatsapp.text("side effects") == [EN.topics["side-effects"].text]


def test_a_spanish_opt_out_is_confirmed_in_spanish(whatsapp):
    assert whatsapp.text("ALTO") == [ES.sms["opted_out"]]
    assert whatsapp.text("EFECTOS") == []
    assert whatsapp.text("INICIO") == [ES.sms["opted_in"]]


def test_opt_outs_are_kept_per_channel_and_number(whatsapp, twilio):
    twilio.text("STOP")  # SMS from the number: the WhatsApp address is not opted out
    assert twilio.text("side effects") == []
    assert whatsapp.text("side effects") == [EN.topics["side-effects"].text]
    twilio.text("START")
    whatsapp.text("STOP")  # and the reverse
    assert whatsapp.text("side effects") == []
    assert twilio.text("side effects") == [EN.topics["side-effects"].text]
    assert whatsapp.text("trials", number="whatsapp:+15555550999") == [EN.topics["trials"].text]


def test_a_language_chosen_on_whatsapp_is_the_whatsapp_addresss(whatsapp, twilio):
    assert whatsapp.text("ESPANOL") == [ES.sms["language_set"]]
    assert whatsapp.text("MENU") == [ES.menus["main"].text]
    assert twilio.text("MENU") == [EN.menus["main"].text]


def test_help_on_whatsapp_has_no_rates_notice_but_everything_else(whatsapp, twilio):
    [sms_help] = twilio.text("HELP")
    assert "Msg&data rates may apply" in sms_help
    for word in ("HELP", "info"):
        [reply] = whatsapp.text(word)
        assert reply == EN.sms["whatsapp_help"]
        assert "rates" not in reply.lower()
        for needed in ("Cancer Immunotherapy Info Line", "Not medical advice", "STOP", "1-866-820-4505", "IRC@nih.gov"):
            assert needed in reply
    [ayuda] = whatsapp.text("AYUDA")
    assert ayuda == ES.sms["whatsapp_help"] and "cobrarse" not in ayuda and "1-866-820-4505" in ayuda


def test_every_whatsapp_reply_fits_a_whatsapp_message(whatsapp):
    bodies = ["HELP", "AYUDA", "STOP", "START", "MENU", "x" * 1600, "nonsense words",
              *[t.keyword for lang in (EN, ES) for t in lang.topics.values()]]
    for body in bodies:
        for reply in whatsapp.text(body, number="whatsapp:+15555550777"):
            assert 0 < len(reply) <= 1600


def test_whatsapp_usage_is_counted_as_whatsapp(app, whatsapp):
    whatsapp.text("side effects")
    whatsapp.text("purple elephants")
    whatsapp.text("STOP")
    store = app.extensions["line"].store
    store.flush()
    events = [(e.channel, e.step, e.outcome) for e in store.events_since(EPOCH)]
    assert events == [("whatsapp", "side-effects", "answered"), ("whatsapp", "not_understood", "not_understood"),
                      ("whatsapp", "stop", "opted_out")]
    assert [(u.channel, u.text) for u in store.unmatched_since(EPOCH)] == [("whatsapp", "purple elephants")]


def test_an_unsigned_or_forged_whatsapp_message_is_refused(whatsapp):
    form = {"Body": "STOP", "From": WHATSAPP, "To": LINE_WHATSAPP}
    assert whatsapp.post("/sms", form, sign=False).status_code == 403
    forged = whatsapp.post("/sms", form, headers={"X-Twilio-Signature": "AAAA"}, sign=False)
    assert forged.status_code == 403


def test_no_whatsapp_address_or_message_in_the_logs(whatsapp, caplog):
    caplog.set_level("DEBUG")
    whatsapp.text("my secret words side effects", number="whatsapp:+15555550188")
    whatsapp.text("STOP", number="whatsapp:+15555550188")
    assert "5555550188" not in caplog.text and "secret words" not in caplog.text


def test_line_report_counts_whatsapp_messages_with_the_texts(app, whatsapp, twilio):
    from line import report

    whatsapp.text("side effects")
    whatsapp.text("STOP")
    twilio.text("side effects")
    store = app.extensions["line"].store
    store.flush()
    today = datetime.now(timezone.utc).date()
    usage = report.build(store, today, today, LIB)
    assert usage.per_day == [(today, 3, 0)]
    assert dict(usage.topics["sms"]) == {EN.topics["side-effects"].label: 2}
    assert usage.outcomes["answered"] == {"sms": 2} and usage.outcomes["opted_out"] == {"sms": 1}


@pytest.mark.parametrize("body, lang", [("stop texting me", EN), ("no more messages please", EN),
                                        ("ya no me manden mensajes", ES)])
def test_plain_words_opt_out_on_whatsapp_confirmed_once(whatsapp, body, lang):
    assert whatsapp.text(body) == [lang.sms["opted_out"]]
    assert whatsapp.text(body) == []
    assert whatsapp.text("side effects") == []
    assert whatsapp.text("should I stop my treatment") == []
    assert whatsapp.text("start texting me again") == [EN.sms["opted_in"]]
    assert whatsapp.text("side effects") == [EN.topics["side-effects"].text]


def test_a_care_question_with_stop_words_is_answered_on_whatsapp(whatsapp):
    [reply] = whatsapp.text("how do I stop the side effects")
    assert reply == EN.topics["side-effects"].text
    assert whatsapp.text("side effects") == [EN.topics["side-effects"].text]


def test_a_new_whatsapp_address_gets_the_notice_above_its_first_answer_in_one_message(app):
    """WhatsApp has no segment budget: one message, the notice, a blank line, the answer (it
    cannot arrive after the answer, and the texter is notified once)."""
    phone = WhatsApp(app, returning=False)
    response = phone.post("/sms", {"Body": "side effects", "From": WHATSAPP, "To": LINE_WHATSAPP,
                                   "MessageSid": message_sid()})
    root = ElementTree.fromstring(response.data)
    assert [(m.tag, m.text) for m in root] == [
        ("Message", EN.sms["first_text"] + "\n\n" + EN.topics["side-effects"].text)]
    assert phone.text("side effects") == [EN.topics["side-effects"].text]  # the second: no notice
    # The SMS number of the same phone is an address of its own: new there.
    assert Twilio(app, returning=False).text("MENU") == [EN.sms["first_text"], EN.menus["main"].text]
    assert phone.text("efectos secundarios", number="whatsapp:+15555550998") == [
        ES.sms["first_text"] + "\n\n" + ES.topics["side-effects"].text]


def test_on_whatsapp_stop_help_and_an_emergency_come_without_the_notice(app):
    phone = WhatsApp(app, returning=False)
    assert phone.text("HELP") == [EN.sms["whatsapp_help"]]
    assert phone.text("MENU") == [EN.menus["main"].text]
    assert phone.text("STOP", number="whatsapp:+15555550998") == [EN.sms["opted_out"]]
    [urgent] = phone.text("chest pain", number="whatsapp:+15555550997")
    assert urgent.startswith("If this may be an emergency (trouble breathing, chest pain, fainting, too much medicine or poison), call 911 now.") and EN.sms["first_text"] not in urgent
    assert phone.text("MENU", number="whatsapp:+15555550997") == [EN.sms["first_text"] + "\n\n" + EN.menus["main"].text]
