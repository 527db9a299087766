"""Opt-out in plain words (line/optout.py and content/<lang>/opt-out.yaml): a table of messages,
judged on the shipped words, then what a texter gets from the real /sms webhook."""
import pytest

from conftest import NUMBER, Twilio, make_settings
from line import create_app, labeled, optout
from line.content import ContentError, load_library

LIB = load_library("content")
EN, ES = LIB.language("en"), LIB.language("es")

ASKS_TO_STOP = [
    # (message, the language whose words take it)
    ("stop texting me", "en"),
    ("Please stop.", "en"),
    ("unsubscribe me", "en"),
    ("no more texts", "en"),
    ("remove me from your list", "en"),
    ("don't text me again", "en"),
    ("Don’t text me again!!", "en"),  # a curly apostrophe, as phones type it
    ("DO NOT TEXT ME", "en"),
    ("pls stop sending me these", "en"),
    ("stop sending me the immunotherapy messages", "en"),  # about the texts, whatever their subject
    ("I no longer want to receive these text messages", "en"),
    ("i dont want ur texts", "en"),
    ("take me off your mailing list", "en"),
    ("opt out", "en"),
    ("Opt me out of these alerts", "en"),
    ("stop the notifications", "en"),
    ("quit sending me txts", "en"),
    ("unsubscibe", "en"),  # one typo in a long word
    ("stop sending me mesages", "en"),
    ("thank you but no more messages", "en"),
    ("who is this? stop texting me", "en"),
    ("My mother passed away. Please remove this number.", "en"),
    ("ya no me manden mensajes", "es"),
    ("no quiero recibir más mensajes", "es"),
    ("Ya no me envíen mensajes por favor", "es"),
    ("no me escriban mas", "es"),
    ("alto por favor", "es"),
    ("dejen de escribirme", "es"),
    ("no quiero que me manden mensajes", "es"),
    ("por favor bórrenme de su lista, borren mi número", "es"),
    ("me quiero dar de baja", "es"),
    ("ya no más", "es"),
    ("no longer interested, stop", "en"),
    ("wrong number, please remove", "en"),
    ("quit it", "en"),
    ("bórrenme de la lista", "es"),
    ("número equivocado", "es"),
    # The third reading: wanting the texts not to go on (before: the feelings words, or nothing)
    ("no quiero seguir recibiendo mensajes", "es"),
    ("ya no quiero que sigan mandando mensajes", "es"),
    ("i dont want to keep getting these texts", "en"),
    ("I don't want to continue receiving messages", "en"),
    # The fourth reading: "these" and "anything" as the whole message, and Spanish in everyday words
    ("I don't want these anymore", "en"),
    ("how do I stop getting these", "en"),
    ("I want out of these messages", "en"),
    ("please dont send me anything else", "en"),
    ("you can stop now", "en"),
    ("por favor quítenme de la lista", "es"),
    ("no quiero recibir esto", "es"),
    ("cómo dejo de recibir estos mensajes", "es"),
    ("dejen de molestar", "es"),
    ("basta ya", "es"),
]

ABOUT_CARE = [
    # Care questions, feelings and crises that hold stop-like words: never an opt-out.
    "should I stop my treatment",
    "how do I stop the side effects",
    "when does the itching end",
    "can I cancel my appointment",
    "quit smoking and immunotherapy",
    "can my body stop fighting cancer",
    "stop",  # ... see test_a_single_keyword_is_left_to_the_keyword_rules
    "I want to stop",
    "I want it to end",
    "make it stop",
    "i want to end it all",
    "the nausea will not stop",
    "can I opt out of the trial",
    "how do I unsubscribe from the study",
    "remove me from the trial please",
    "take me off the medication?",
    "i dont text well, can someone call me",
    "I never got a text back",
    "I don't get texts from my doctor anymore",
    "should i cancel chemo",
    "what happens when treatment ends",
    "can I end immunotherapy early",
    "is it ok to quit the study",
    "stop. I have chest pain",
    "my text messages about my appointment stopped",
    "no, the message was fine",
    "no tengo mensajes nuevos",
    "¿puedo parar el tratamiento?",
    "¿cómo paro la comezón?",
    "quiero cancelar mi cita",
    "no puedo dejar de llorar",
    "quiero que esto se acabe",
    "ya no me llegan los mensajes",
    "no me llegó el mensaje de mi cita",
    "no me mandaron el mensaje",
    "¿cuándo se terminan los efectos?",
    "quiero dejar de fumar",
    "sáquenme del estudio",
    "me quiero dar de baja del ensayo",
    "not interested in the trial",
    "I'm not interested in chemo, what about immunotherapy",
    "no me interesa el ensayo",
    "can I stop by the clinic",
    "no more chemo for me, what else is there",
    "the itching will not stop, is that normal",
    "no me dejan de doler las piernas",
    "no quiero seguir con el tratamiento",
    "ya no quiero seguir",
    "i dont want to continue my treatment",
    "how do i stop getting these rashes",
    "I don't want these side effects",
    "i never signed up for this",
]


@pytest.mark.parametrize("message, language", ASKS_TO_STOP)
def test_plain_words_asking_to_stop(message, language):
    assert LIB.asks_to_stop(message) == ((language,) if language else ())


@pytest.mark.parametrize("message", [m for m in ABOUT_CARE if m != "stop"])
def test_care_questions_are_never_an_opt_out(message):
    assert LIB.asks_to_stop(message) == ()


def test_a_single_keyword_is_left_to_the_keyword_rules():
    # "stop" on its own is also a plain request; the keyword rules see it first and know that
    # Twilio confirms it.
    assert LIB.asks_to_stop("stop") == ("en", "es")  # Spanish texters write "stop" too


def test_a_long_message_is_judged_whole_and_a_huge_one_on_its_start():
    worried = "my husband is on immunotherapy and he is tired " * 20  # 180 words, 940 characters
    assert LIB.asks_to_stop(worried + "please stop texting me") == ("en",)
    assert LIB.asks_to_stop("side effects " * optout.MAX_WORDS + "stop texting me") == ()
    assert LIB.asks_to_stop("stop texting me " + "side effects " * 5000) == ("en",)


WORDS = optout.PlainWords.build(
    whole_message=["stop", "opt out"], polite=["please", "thank you"],
    about_texts=["stop ... {texts}", "no more ... {texts}"], unless_care=["remove me"],
    texts=["texts", "messages"], between=["the", "me", "these", "sending", "any"], care=["trial"])


@pytest.mark.parametrize("message, stops", [
    ("stop", True),
    ("Please STOP, thank you!", True),
    ("stop stop opt out", True),
    ("please", False),  # polite words alone ask nothing
    ("stop it", False),  # "it" is not a polite word here
    ("stop the texts", True),
    ("stop sending me these texts", True),
    ("stop sending me any of these texts", False),  # "of" is not a small word here
    ("stop me the these sending any texts", False),  # more than four small words
    ("stop my texts", False),
    ("no more messages", True),
    ("no more treatment", False),
    ("remove me", True),
    ("remove me from the trial", False),
    ("remove me from the trials", True),  # short words must be exact: "trials" is not "trial" here
    ("", False),
    ("!!!", False),
])
def test_the_rules_on_a_small_vocabulary(message, stops):
    assert optout.says(WORDS, message) is stops


def test_problems_staff_can_act_on():
    words = optout.PlainWords.build(about_texts=["stop ...", "stop {texts}"], unless_care=["remove {texts}"],
                                     whole_message=["stop ..."])
    found = optout.problems(words)
    assert ("about_texts", "'stop ...' begins or ends with '...'; put it between two words") in found
    assert ("about_texts", "'stop {texts}' uses {texts} but no texts words are listed") in found
    assert ("unless_care", "'remove {texts}' names {texts}; it belongs in about_texts") in found
    assert ("whole_message", "'stop ...' cannot hold '...' or {texts}; put it in about_texts") in found


ASKS_TO_START = [
    ("start texting me again", "en"),
    ("Resubscribe me please!", "en"),
    ("ok, opt me back in", "en"),
    ("quiero volver a recibir mensajes, por favor", "es"),
    ("Denme de alta otra vez", "es"),
]
NOT_A_START = [
    "I don't want texts again", "do not start texting me again", "should I start treatment again",
    "start", "yes", "when do I start immunotherapy", "text me again when there are new trials",
    "no quiero volver a recibir mensajes", "¿cuándo empiezo el tratamiento?", "si",
]


@pytest.mark.parametrize("message, language", ASKS_TO_START)
def test_plain_words_asking_to_start_again(message, language):
    assert LIB.asks_to_start(message) == (language,)
    assert LIB.asks_to_stop(message) == ()


@pytest.mark.parametrize("message", NOT_A_START)
def test_only_a_whole_message_asks_to_start_again(message):
    # "start", "yes" and "si" alone are keywords (or not), judged by the keyword rules first.
    assert LIB.asks_to_start(message) == ()


# -- the words staff edit: content/<lang>/opt-out.yaml --------------------------------------------

def test_a_synonym_that_asks_to_stop_is_refused_naming_its_file_and_line(content_copy):
    side = content_copy / "en" / "topics" / "side-effects.yaml"
    side.write_text(side.read_text(encoding="utf-8").replace("synonyms: [side effects,", "synonyms: [no more texts, side effects,"),
                    encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_library(content_copy)
    [problem] = caught.value.problems
    line = next(n for n, text in enumerate(side.read_text(encoding="utf-8").splitlines(), 1) if text.startswith("synonyms:"))
    assert str(problem).startswith(f"content/en/topics/side-effects.yaml:{line}:")
    assert "'no more texts' would be taken as a request to stop or start the texts (content/en/opt-out.yaml)" in str(problem)


@pytest.mark.parametrize("old, new, field, message", [
    ("  - stop ... {texts}\n", "  - stop ...\n", "about_texts", "'stop ...' begins or ends with '...'"),
    ("  - remove me\n", "  - remove me from {texts}\n", "unless_care", "names {texts}; it belongs in about_texts"),
    ("care: [", "cares: [", "cares", "unknown field 'cares'"),
    ("texts: [text,", "texts: text\nold: [text,", "texts", "'texts' must be a list"),
])
def test_opt_out_words_that_cannot_work_are_refused_naming_the_field(content_copy, old, new, field, message):
    path = content_copy / "en" / "opt-out.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_library(content_copy)
    line = next(n for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if row.startswith(field + ":"))
    hits = [str(p) for p in caught.value.problems if message in str(p)]
    assert hits and hits[0].startswith(f"content/en/opt-out.yaml:{line}:"), caught.value


def test_a_language_without_opt_out_words_has_only_its_keywords(content_copy):
    (content_copy / "es" / "opt-out.yaml").unlink()
    library = load_library(content_copy)
    assert library.asks_to_stop("ya no me manden mensajes") == ()
    assert library.asks_to_stop("stop texting me") == ("en",)


# -- what a texter gets from the real /sms webhook ------------------------------------------------

def opted_out(app, number=NUMBER) -> bool:
    return app.extensions["line"].store.state_of(number)[0]


@pytest.mark.parametrize("body, lang", [
    ("stop texting me", EN), ("please stop", EN), ("unsubscribe me", EN), ("no more texts", EN),
    ("remove me from your list", EN), ("don't text me again", EN),
    ("ya no me manden mensajes", ES), ("no quiero recibir más mensajes", ES),
])
def test_plain_words_opt_out_confirm_once_then_nothing(app, twilio, body, lang):
    assert twilio.text(body) == [lang.sms["opted_out"]]  # Twilio does not confirm these: the line does
    assert opted_out(app)
    assert twilio.text("side effects") == []
    assert twilio.text(body) == []  # confirmed once only
    assert twilio.text("I have a question about trials") == []
    assert twilio.text("side effects", number="+15555550999") == [EN.topics["side-effects"].text]


def test_a_plain_opt_out_is_as_durable_as_stop(tmp_path):
    first = Twilio(create_app(make_settings(tmp_path)))
    assert first.text("please stop sending me these") == [EN.sms["opted_out"]]
    second = Twilio(create_app(make_settings(tmp_path)))
    assert second.text("side effects") == []
    [welcome] = second.text("START")
    assert welcome == EN.sms["opted_in"]
    assert Twilio(create_app(make_settings(tmp_path))).text("side effects") == [EN.topics["side-effects"].text]


def test_a_plain_opt_out_that_cannot_be_written_is_not_confirmed(app, twilio, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("database is gone")

    monkeypatch.setattr(app.extensions["line"].store, "set_opted_out", broken)
    [reply] = twilio.text("stop texting me")
    assert reply != EN.sms["opted_out"] and "1-866-820-4505" in reply


def test_a_plain_opt_out_is_confirmed_when_the_state_cannot_be_read(app, twilio, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("database is gone")

    monkeypatch.setattr(app.extensions["line"].store, "state_of", broken)
    assert twilio.text("no more texts please") == [EN.sms["opted_out"]]


def test_a_plain_opt_out_is_recorded_even_over_the_rate_limit(tmp_path):
    app = create_app(make_settings(tmp_path, sms_rate="2/minute"))
    twilio = Twilio(app)
    assert twilio.text("side effects") and twilio.text("side effects")
    assert twilio.text("side effects") == []  # over the limit: no reply
    assert twilio.text("stop texting me") == [EN.sms["opted_out"]]
    assert opted_out(app)


def test_a_spanish_keyword_is_confirmed_once(app, twilio):
    assert twilio.text("ALTO") == [ES.sms["opted_out"]]
    assert twilio.text("BAJA") == []
    assert twilio.text("dejen de mandarme mensajes") == []


def test_a_texter_who_chose_spanish_gets_the_spanish_confirmation(twilio):
    twilio.text("ESPANOL")
    assert twilio.text("no me manden mensajes") == [ES.sms["opted_out"]]


@pytest.mark.parametrize("body, topic", [
    ("how do I stop the side effects", "side-effects"),
    ("when does the itching end", "needle-site"),
    ("¿cómo paro los efectos secundarios?", "side-effects"),
])
def test_near_opt_outs_get_their_answer(app, twilio, body, topic):
    lang = ES if body.startswith("¿") else EN
    assert twilio.text(body) == [lang.topics[topic].text]
    assert not opted_out(app)


@pytest.mark.parametrize("body", [
    "should I stop my treatment", "can I cancel my appointment", "quit smoking and immunotherapy",
    "can my body stop fighting cancer", "i want to end it all", "can I opt out of the trial",
    "¿puedo parar la inmunoterapia?", "quiero cancelar mi cita",
])
def test_care_questions_with_stop_words_are_answered_and_the_texts_go_on(app, twilio, body):
    [reply] = twilio.text(body)
    assert reply and reply not in (EN.sms["opted_out"], ES.sms["opted_out"])
    assert not opted_out(app)
    assert twilio.text("side effects") == [EN.topics["side-effects"].text]


@pytest.mark.parametrize("body, lang", [("START", EN), ("yes", EN), ("UNSTOP", EN), ("INICIO", ES), ("comenzar", ES)])
def test_start_or_yes_without_an_opt_out_is_not_a_welcome_back(app, twilio, body, lang):
    # Twilio sends its own answer to START, YES and UNSTOP; the line gives what it has: the topics.
    assert twilio.text(body) == [lang.menus["main"].text]
    assert not opted_out(app)


def test_plain_words_opt_in_after_an_opt_out_and_only_then(app, twilio):
    assert twilio.text("start texting me again") == [EN.menus["main"].text]  # nothing to come back from
    twilio.text("stop texting me")
    assert twilio.text("I don't want texts again") == []  # not an opt-in (another opt-out, if anything)
    assert opted_out(app)
    assert twilio.text("please start texting me again") == [EN.sms["opted_in"]]
    assert not opted_out(app)
    assert twilio.text("side effects") == [EN.topics["side-effects"].text]


def test_start_after_a_plain_opt_out_is_a_welcome_back(twilio):
    twilio.text("ya no quiero mensajes")
    assert twilio.text("INICIO") == [ES.sms["opted_in"]]
    assert twilio.text("efectos secundarios") == [ES.topics["side-effects"].text]


# -- measured on the labeled set (tests/labeled/messages.tsv) --------------------------------------

def test_the_labeled_set_opt_out_recall_is_100_percent_and_false_opt_outs_0(tmp_path):
    """Every message, from its own number, through the real webhook: the store says who opted out."""
    app = create_app(make_settings(tmp_path))
    twilio = Twilio(app)
    missed, false = [], []
    for i, row in enumerate(labeled.read()):
        number = f"+1555556{i:04d}"
        twilio.text(row.message, number=number)
        if row.label == "opt_out" and not opted_out(app, number):
            missed.append(f"line {row.line}: {row.message}")
        if row.label != "opt_out" and opted_out(app, number):
            false.append(f"line {row.line} ({row.label}): {row.message}")
    assert missed == [], "opt-outs missed"
    assert false == [], "messages taken as opt-outs"
