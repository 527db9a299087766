"""The same line, en español: both channels, both languages."""
import re

import pytest
from click.testing import CliRunner

from conftest import CONTENT, Twilio, make_settings
from line import create_app
from line.cli import main
from line.content import load_library
from line.sms_encoding import count
from phone import Caller, walk_every_key

LIB = load_library(CONTENT)
EN, ES = LIB.language("en"), LIB.language("es")
SPOKEN_PHONE_ES = "uno. ocho, seis, seis. ocho, dos, cero. cuatro, cinco, cero, cinco"


# -- texts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("word", ["ESPANOL", "ESPAÑOL", "espanol", "Español"])
def test_espanol_switches_a_texter_to_spanish_and_english_back(twilio, word):
    [ok] = twilio.text(word)
    assert ok == ES.sms["language_set"]
    assert twilio.text("MENU") == [ES.menus["main"].text]
    assert twilio.text("efectos secundarios") == [ES.topics["side-effects"].text]
    assert twilio.text("EFECTOS") == [ES.topics["side-effects"].text]
    assert twilio.text("no entiendo nada zzz")[0].startswith(ES.sms["not_understood"])
    [back] = twilio.text("ENGLISH")
    assert back == EN.sms["language_set"]
    assert twilio.text("MENU") == [EN.menus["main"].text]


def test_the_language_choice_is_remembered_across_a_restart(tmp_path):
    Twilio(create_app(make_settings(tmp_path))).text("ESPANOL")
    again = Twilio(create_app(make_settings(tmp_path)))
    assert again.text("MENU") == [ES.menus["main"].text]


@pytest.mark.parametrize("body, topic", [
    ("efectos secundarios", "side-effects"),
    ("ensayos clínicos", "trials"),
    ("ensayos clinicos", "trials"),
    ("¿Qué es la inmunoterapia?", "immunotherapy"),
    ("efectos secundaros", "side-effects"),
])
def test_spanish_words_get_the_spanish_answer_even_without_switching(twilio, body, topic):
    assert twilio.text(body) == [ES.topics[topic].text]


def test_ayuda_gets_the_spanish_help(twilio):
    [reply] = twilio.text("AYUDA")
    assert reply == ES.sms["help"]
    assert "ALTO" in reply and "1-866-820-4505" in reply


@pytest.mark.parametrize("word", ["ALTO", "parar", "Cancelar", "BAJA"])
def test_spanish_opt_out_words_are_honoured_and_confirmed_by_the_line(twilio, word):
    [confirmation] = twilio.text(word)  # Twilio does not confirm Spanish words, so the line does
    assert confirmation == ES.sms["opted_out"]
    assert twilio.text("efectos secundarios") == []
    assert twilio.text("side effects") == []
    assert twilio.text("ESPANOL") == []  # the choice is kept, but nothing is sent
    [welcome] = twilio.text("INICIO")
    assert welcome == ES.sms["opted_in"]
    assert twilio.text("MENU") == [ES.menus["main"].text]


def test_english_stop_from_a_spanish_texter_is_silent_as_twilio_confirms(twilio):
    twilio.text("ESPANOL")
    assert twilio.text("STOP") == []
    assert twilio.text("MENU") == []


def test_every_spanish_reply_fits_four_segments_written_with_its_accents(twilio):
    twilio.text("ESPANOL")
    bodies = ["MENU", "AYUDA", "INICIO", "qqq", "efectoss", *[t.keyword for t in ES.topics.values()],
              *[m.keyword for m in ES.menus.values() if m.keyword]]
    for body in bodies:
        for reply in twilio.text(body):
            c = count(reply)
            assert c.segments <= ES.text_budget.segments == 4, (body, c)
    assert count(ES.menus["main"].text).encoding == "UCS-2"  # accents are written, and counted


# -- calls -------------------------------------------------------------------------------------
def test_the_first_prompt_offers_spanish_in_spanish(caller_app):
    step = Caller(caller_app).call()
    offer = step.gather.find("Say")
    assert offer.text == "Para español, oprima seis."
    assert (offer.get("voice"), offer.get("language")) == ("Polly.Lupe-Neural", "es-US")


@pytest.fixture
def caller_app(app):
    return app


def spanish_caller(app) -> Caller:
    c = Caller(app)
    c.call()
    c.press("6")
    return c


def test_a_spanish_caller_hears_everything_in_a_spanish_voice(app):
    c = spanish_caller(app)
    step = c.last
    assert step.state()["lang"] == "es"
    assert step.gather.get("language") == "es-US"
    assert "efectos secundarios" in step.gather.get("hints")
    spanish = [s for s in step.gather.findall("Say") if s.get("voice") == "Polly.Lupe-Neural"]
    english = [s for s in step.gather.findall("Say") if s.get("voice") == "Polly.Joanna-Neural"]
    assert [s.text for s in english] == ["For English, press six."]
    heard = " ".join(s.text for s in spanish)
    assert heard.startswith("Le damos la bienvenida")
    assert "nueve uno uno" in heard and "oprima uno" in heard and "oprima cero" in heard
    step = c.press("2")
    assert step.state()["lang"] == "es" and step.state()["at"] == "treatment"
    step = c.press("3")
    assert ES.topics["side-effects"].speech in step.said
    assert "oprima asterisco" in step.said


def test_spanish_speech_and_the_same_keys(app):
    c = spanish_caller(app)
    assert c.say("efectos secundarios").state()["at"] == "side-effects"
    assert c.say("volver").state()["at"] == "treatment"
    assert c.say("menú principal").state()["at"] == "main"
    assert c.say("dos").state()["at"] == "treatment"
    assert c.say("English").state()["lang"] == "en"
    assert c.say("español").state()["lang"] == "es"


def test_the_number_is_read_digit_by_digit_in_spanish_twice(app):
    c = spanish_caller(app)
    dial = c.press("0").root.find("Dial")
    assert dial.find("Number").text == "+18668204505"
    step = c.post(dial.get("action"), DialCallStatus="busy")
    assert step.said.count(SPOKEN_PHONE_ES) == 2
    assert "I R C, arroba, N I H, punto, G O V" in step.said
    assert "1-866" not in step.said


def test_every_spanish_key_at_every_level_leads_somewhere(app):
    seen = walk_every_key(app, "es", dial_status="failed")
    assert set(ES.topics) <= seen


def test_spanish_silence_ends_with_the_number_in_spanish(app):
    c = spanish_caller(app)
    for _ in range(40):
        step = c.wait()
        if step.hung_up:
            break
    assert step.hung_up and step.said.count(SPOKEN_PHONE_ES) == 2 and "Adiós" in step.said


# -- staff -------------------------------------------------------------------------------------
def test_line_check_judges_spanish_with_a_spanish_formula_and_lists_what_awaits_review(content_copy):
    result = CliRunner().invoke(main, ["check", str(CONTENT)])
    assert result.exit_code == 0
    assert "fernandez-huerta" in result.output
    assert "translations a native speaker still has to read" not in result.output  # 14 topics, the intents: reviewed
    topic = content_copy / "es" / "topics" / "side-effects.yaml"
    topic.write_text(topic.read_text().replace("translation: reviewed", "translation: machine-draft"))
    result = CliRunner().invoke(main, ["check", str(content_copy)])
    assert "translations a native speaker still has to read (1): es/side-effects (machine-draft)" in result.output


def test_a_bad_translation_state_is_an_error(content_copy):
    topic = content_copy / "es" / "topics" / "where.yaml"
    topic.write_text(topic.read_text().replace("translation: reviewed", "translation: maybe"))
    result = CliRunner().invoke(main, ["check", str(content_copy)])
    assert result.exit_code == 1 and "content/es/topics/where.yaml:" in result.output
    assert "translation must be one of" in result.output


@pytest.mark.parametrize("state, listed", [("translation: needs-review\n", "needs-review"), ("", "not marked")],
                         ids=["unreviewed", "missing"])
def test_line_check_lists_spanish_intents_not_reviewed_or_not_marked(content_copy, state, listed):
    intents = content_copy / "es" / "intents.yaml"
    text = intents.read_text(encoding="utf-8")
    assert text.count("translation: reviewed\n") == 1
    intents.write_text(text.replace("translation: reviewed\n", state), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(content_copy)])
    assert result.exit_code == 0  # still published: the line waits for a reader, not for a fix
    assert f"translations a native speaker still has to read (1): es/intents ({listed})" in result.output


@pytest.mark.parametrize("change, message", [
    (lambda text: text.replace("translation: reviewed", "translation: maybe"), "translation must be one of"),
    (lambda text: re.sub(r"review: >-\n(  .*\n)+", "", text), "a translation marked reviewed needs a 'review' note"),
], ids=["bad-state", "no-review-note"])
def test_a_bad_or_unexplained_translation_state_of_the_intents_is_an_error(content_copy, change, message):
    intents = content_copy / "es" / "intents.yaml"
    text = change(intents.read_text(encoding="utf-8"))
    intents.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("translation:"))
    result = CliRunner().invoke(main, ["check", str(content_copy)])
    assert result.exit_code == 1 and f"content/es/intents.yaml:{line}: error: {message}" in result.output, result.output


def test_spanish_texts_over_four_ucs2_segments_are_refused(content_copy):
    topic = content_copy / "es" / "topics" / "where.yaml"
    text = topic.read_text()
    topic.write_text(text.replace("text: >-\n", "text: >-\n  Atención: más información aquí, también.\n", 1))
    result = CliRunner().invoke(main, ["check", str(content_copy)])
    assert result.exit_code == 1
    assert "in UCS-2, because of" in result.output and "the most is 268 characters (4 segments)" in result.output
