"""The engine's answers to texts, as a table: (what the line knows of the texter, what they
sent, the channel) -> (the replies, the usage step and outcome, the changes to record).

Replies are named by where their words live in content/: "en.topic:side-effects" is the English
side-effects topic's text, "es.sms:opted_out" the Spanish opted_out prompt, "en.menu:main" the
English main menu, "en.not_understood:sdie" the English "not understood" reply to "sdie",
"en.intent:emergency" the English emergency reply (naming no topic).
"""
import pytest

from line.content import load_library
from line.engine.changes import Answered, ChooseLanguage, OptOut, Unmatched, Usage
from line.engine.compliance import compliance_word, judge
from line.engine.texts import Texter, answer, channel_of

LIB = load_library("content")
ANSWERED = Texter()  # a number the line has answered before: no opt-out, no language chosen
FIRST = Texter(first=True)  # a number the line has never answered
CHOSE_ES = Texter(language="es")
OUT = Texter(opted_out=True)
OUT_ES = Texter(opted_out=True, language="es")
UNKNOWN = Texter.unknown()


def words(name: str) -> str:
    code, _, rest = name.partition(".")
    lang = LIB.language(code)
    kind, _, key = rest.partition(":")
    if kind == "topic":
        return lang.topics[key].text
    if kind == "menu":
        return lang.menus[key].text
    if kind == "not_understood":
        return lang.not_understood_text(key)
    if kind == "intent":
        return lang.intents.reply_text(key, None)
    return lang.sms[key]


TABLE = [
    # texter, body, channel -> replies, language, step, outcome, changes before the usage event
    # -- compliance words: whatever the texter's state, before anything else
    (ANSWERED, "STOP", "sms", [], "en", "stop", "opted_out", [OptOut(True)]),  # Twilio confirms it on SMS
    (ANSWERED, "stop!", "sms", [], "en", "stop", "opted_out", [OptOut(True)]),
    (ANSWERED, "  Unsubscribe ", "sms", [], "en", "stop", "opted_out", [OptOut(True)]),
    (OUT, "STOP", "sms", [], "en", "stop", "opted_out", [OptOut(True)]),
    (OUT_ES, "ALTO", "sms", [], "es", "stop", "opted_out", [OptOut(True)]),  # confirmed once, the first time
    # -- opt-out in plain words: the line confirms it (Twilio does not), once
    (ANSWERED, "stop texting me", "sms", ["en.sms:opted_out"], "en", "stop", "opted_out", [OptOut(True)]),
    (ANSWERED, "ya no me manden mensajes", "sms", ["es.sms:opted_out"], "es", "stop", "opted_out", [OptOut(True)]),
    (OUT, "please stop", "sms", [], "en", "stop", "opted_out", [OptOut(True)]),
    (UNKNOWN, "no more texts", "sms", ["en.sms:opted_out"], "en", "stop", "opted_out", [OptOut(True)]),
    (ANSWERED, "unsubscribe me", "whatsapp", ["en.sms:opted_out"], "en", "stop", "opted_out", [OptOut(True)]),
    # -- opt-in in plain words: whole messages only
    (OUT, "Please start texting me again", "sms", ["en.sms:opted_in"], "en", "start", "opted_in", [OptOut(False)]),
    (OUT_ES, "quiero volver a recibir los mensajes", "sms", ["es.sms:opted_in"], "es", "start", "opted_in", [OptOut(False)]),
    (ANSWERED, "start texting me again", "sms", ["en.menu:main"], "en", "main", "answered", []),
    (OUT, "should I start treatment again", "sms", [], "en", "blocked", "opted_out", []),
    (ANSWERED, "CANCELAR", "sms", ["es.sms:opted_out"], "es", "stop", "opted_out", [OptOut(True)]),  # not Twilio's word
    (UNKNOWN, "STOP", "sms", [], "en", "stop", "opted_out", [OptOut(True)]),  # the store could not say: still honoured
    (ANSWERED, "STOP", "whatsapp", ["en.sms:opted_out"], "en", "stop", "opted_out", [OptOut(True)]),  # nobody else confirms
    (ANSWERED, "START", "sms", ["en.menu:main"], "en", "main", "answered", []),  # never opted out: not a welcome back
    (ANSWERED, "yes", "sms", ["en.menu:main"], "en", "main", "answered", []),
    (CHOSE_ES, "INICIO", "sms", ["es.menu:main"], "es", "main", "answered", []),
    (UNKNOWN, "START", "sms", ["en.sms:opted_in"], "en", "start", "opted_in", [OptOut(False)]),  # could not say: as asked
    (OUT, "yes", "sms", ["en.sms:opted_in"], "en", "start", "opted_in", [OptOut(False)]),
    (OUT_ES, "INICIO", "sms", ["es.sms:opted_in"], "es", "start", "opted_in", [OptOut(False)]),
    (ANSWERED, "HELP", "sms", ["en.sms:help"], "en", "help", "answered", []),
    (OUT, "info.", "sms", ["en.sms:help"], "en", "help", "answered", []),  # help even after opting out
    (ANSWERED, "AYUDA", "sms", ["es.sms:help"], "es", "help", "answered", []),
    (ANSWERED, "HELP", "whatsapp", ["en.sms:whatsapp_help"], "en", "help", "answered", []),  # no rates notice
    (ANSWERED, "AYUDA", "whatsapp", ["es.sms:whatsapp_help"], "es", "help", "answered", []),
    (ANSWERED, "ALTO", "whatsapp", ["es.sms:opted_out"], "es", "stop", "opted_out", [OptOut(True)]),
    (OUT, "side effects", "whatsapp", [], "en", "blocked", "opted_out", []),
    # -- a language's name: chosen even when opted out, but then not answered
    (ANSWERED, "ESPANOL", "sms", ["es.sms:language_set"], "es", "language", "answered", [ChooseLanguage("es")]),
    (CHOSE_ES, "english", "sms", ["en.sms:language_set"], "en", "language", "answered", [ChooseLanguage("en")]),
    (OUT, "español", "sms", [], "es", "language", "opted_out", [ChooseLanguage("es")]),
    # -- opted out: silence
    (OUT, "side effects", "sms", [], "en", "blocked", "opted_out", []),
    (OUT_ES, "MENU", "sms", [], "en", "blocked", "opted_out", []),
    # -- topics and menus, in the language whose words they are
    (ANSWERED, "side effects", "sms", ["en.topic:side-effects"], "en", "side-effects", "answered", []),
    (ANSWERED, "sied effects", "sms", ["en.topic:side-effects"], "en", "side-effects", "answered", []),
    (ANSWERED, "how do I stop the side effects", "sms", ["en.topic:side-effects"], "en", "side-effects", "answered", []),
    (CHOSE_ES, "EFECTOS", "sms", ["es.topic:side-effects"], "es", "side-effects", "answered", []),
    (ANSWERED, "efectos secundarios", "sms", ["es.topic:side-effects"], "es", "side-effects", "answered", []),
    (CHOSE_ES, "side effects", "sms", ["en.topic:side-effects"], "en", "side-effects", "answered", []),
    (ANSWERED, "treatment", "sms", ["en.menu:treatment"], "en", "treatment", "answered", []),
    (ANSWERED, "MENU", "sms", ["en.menu:main"], "en", "main", "answered", []),
    (CHOSE_ES, "MENU", "sms", ["es.menu:main"], "es", "main", "answered", []),
    (ANSWERED, "side effects", "whatsapp", ["en.topic:side-effects"], "en", "side-effects", "answered", []),
    # -- not understood: the menu, a keyword if one is close; the words are kept for staff
    (ANSWERED, "sdie", "sms", ["en.not_understood:sdie"], "en", "not_understood", "not_understood",
     [Unmatched("sms", "en", "sdie")]),
    (ANSWERED, "", "sms", ["en.not_understood:"], "en", "not_understood", "not_understood", [Unmatched("sms", "en", "")]),
    (CHOSE_ES, "qqqq zzzz", "sms", ["es.not_understood:qqqq zzzz"], "es", "not_understood", "not_understood",
     [Unmatched("sms", "es", "qqqq zzzz")]),
    # -- the store could not say whether they opted out: only where help is, and nothing recorded
    (UNKNOWN, "side effects", "sms", ["en.sms:error"], "en", "error", "failed", None),
    # -- a number's first answer: the first_text notice, in the answer's language, then the answer,
    #    each a text of its own; remembered (Answered) so the next answer comes without it
    (FIRST, "side effects", "sms", ["en.sms:first_text", "en.topic:side-effects"], "en", "side-effects", "answered",
     [Answered()]),
    (FIRST, "efectos secundarios", "sms", ["es.sms:first_text", "es.topic:side-effects"], "es", "side-effects",
     "answered", [Answered()]),
    (FIRST, "MENU", "sms", ["en.sms:first_text", "en.menu:main"], "en", "main", "answered", [Answered()]),
    (FIRST, "treatment", "sms", ["en.sms:first_text", "en.menu:treatment"], "en", "treatment", "answered", [Answered()]),
    (FIRST, "START", "sms", ["en.sms:first_text", "en.menu:main"], "en", "main", "answered", [Answered()]),
    (FIRST, "sdie", "sms", ["en.sms:first_text", "en.not_understood:sdie"], "en", "not_understood", "not_understood",
     [Answered(), Unmatched("sms", "en", "sdie")]),
    (FIRST, "qqqq zzzz", "sms", ["en.sms:first_text", "en.not_understood:qqqq zzzz"], "en", "not_understood",
     "not_understood", [Answered(), Unmatched("sms", "en", "qqqq zzzz")]),
    (FIRST, "im scared", "sms", ["en.sms:first_text", "en.intent:feelings"], "en", "feelings", "answered", [Answered()]),
    (FIRST, "thanks", "sms", ["en.sms:first_text", "en.intent:thanks"], "en", "thanks", "answered", [Answered()]),
    (FIRST, "quiero hablar con alguien", "sms", ["es.sms:first_text", "es.intent:person"], "es", "person", "answered",
     [Answered()]),
    # a language's name: the notice in the language chosen; the choice itself makes the number known
    (FIRST, "ESPANOL", "sms", ["es.sms:first_text", "es.sms:language_set"], "es", "language", "answered",
     [ChooseLanguage("es")]),
    # HELP says what the notice says, first: no notice, but the number counts as answered
    (FIRST, "HELP", "sms", ["en.sms:help"], "en", "help", "answered", [Answered()]),
    (FIRST, "AYUDA", "sms", ["es.sms:help"], "es", "help", "answered", [Answered()]),
    (FIRST, "who is this", "sms", ["en.sms:help"], "en", "help", "answered", [Answered()]),
    (ANSWERED, "who is this", "whatsapp", ["en.sms:whatsapp_help"], "en", "help", "answered", []),  # no rates notice on WhatsApp
    (FIRST, "HELP", "whatsapp", ["en.sms:whatsapp_help"], "en", "help", "answered", [Answered()]),
    # an opt-out: no notice before its confirmation (or Twilio's); the opt-out makes the number known
    (FIRST, "STOP", "sms", [], "en", "stop", "opted_out", [OptOut(True)]),
    (FIRST, "stop texting me", "sms", ["en.sms:opted_out"], "en", "stop", "opted_out", [OptOut(True)]),
    (FIRST, "ya no me manden mensajes", "sms", ["es.sms:opted_out"], "es", "stop", "opted_out", [OptOut(True)]),
    (FIRST, "STOP", "whatsapp", ["en.sms:opted_out"], "en", "stop", "opted_out", [OptOut(True)]),
    # an emergency or a crisis: the safe words alone, and the number stays new (its next answer has the notice)
    (FIRST, "I cant breathe", "sms", ["en.intent:emergency"], "en", "emergency", "answered", []),
    (FIRST, "tengo dolor en el pecho", "sms", ["es.intent:emergency"], "es", "emergency", "answered", []),
    (FIRST, "I want to kill myself", "sms", ["en.intent:crisis"], "en", "crisis", "answered", []),
    (FIRST, "I cant breathe", "whatsapp", ["en.intent:emergency"], "en", "emergency", "answered", []),
]


@pytest.mark.parametrize("texter, body, channel, replies, lang, step, outcome, changes", TABLE)
def test_texts(texter, body, channel, replies, lang, step, outcome, changes):
    got = answer(LIB, texter, body, channel)
    assert list(got.texts) == [words(r) for r in replies]
    assert (got.lang, got.step, got.outcome) == (lang, step, outcome)
    expected = [] if changes is None else [*changes, Usage(channel, lang, step, outcome)]
    assert list(got.changes) == expected


@pytest.mark.parametrize("texter, body, channel, safe, lang", [
    (Texter(), "stop texting me i want to kill myself", "sms", "crisis", "en"),
    (Texter(), "unsubscribe. im going to end it all", "whatsapp", "crisis", "en"),
    (Texter(), "no more texts, im having chest pain and cant breathe", "sms", "emergency", "en"),
    (Texter(), "ya no me manden mensajes, me quiero morir", "sms", "crisis", "es"),
    (OUT, "stop texting me i want to kill myself", "sms", "crisis", "en"),  # opted out already: no second confirmation
    (Texter(), "ya no me manden mensajes, me quiero suicidar", "sms", "crisis", "es"),  # a typo-forgiven cue counts
    (Texter(), "no me escriban más, me voy a quitar la vida", "sms", "crisis", "es"),
    (Texter(), "stop texting me im going to overdose", "sms", "crisis", "en"),
])
def test_an_opt_out_that_says_the_texter_may_be_in_danger_gets_the_safe_answer_first(texter, body, channel, safe, lang):
    """Safety before anything else, even in a goodbye: the emergency or crisis words first, then the
    confirmation (once), and the opt-out recorded as asked."""
    got = answer(LIB, texter, body, channel)
    confirmation = [] if texter.opted_out else [LIB.language(lang).sms["opted_out"]]
    replies = [LIB.language(lang).intents[safe].text, *confirmation]
    if channel == "whatsapp":  # one message: the safe words cannot arrive after the goodbye
        replies = ["\n\n".join(replies)]
    assert list(got.texts) == replies
    assert (got.step, got.outcome) == ("stop", "opted_out")
    assert list(got.changes) == [OptOut(True), Usage(channel, lang, "stop", "opted_out"), Usage(channel, lang, safe, "answered")]


@pytest.mark.parametrize("texter, body, safe, lang", [
    (UNKNOWN, "I want to kill myself", "crisis", "en"),
    (UNKNOWN, "me quiero morir", "crisis", "es"),
    (OUT, "i cant breathe", "emergency", "en"),
    (OUT_ES, "me quiero morir", "crisis", "es"),
])
def test_danger_gets_the_safe_words_even_when_the_line_would_say_nothing_else(texter, body, safe, lang):
    """A texter who opted out, or whose state the store cannot tell, still gets the emergency or
    crisis words (alone) when the message says they may be in danger; nothing else is recorded."""
    got = answer(LIB, texter, body, "sms")
    assert list(got.texts) == [LIB.language(lang).intents[safe].text]
    assert list(got.changes) == [Usage("sms", lang, safe, "answered")]


@pytest.mark.parametrize("body", ["STOP", "END", "stop texting me", "please stop sending these", "cancel my texts",
                                  "dejen de mandarme mensajes"])
def test_an_opt_out_alone_gets_only_its_confirmation(body):
    """Danger counts beside an opt-out only when it is said in so many words: END, or "mandarme"
    read as a typo of "matarme", is not a crisis."""
    got = answer(LIB, Texter(), body, "whatsapp")
    assert len(got.texts) == 1 and got.step == "stop"


@pytest.mark.parametrize("body, kind, languages, confirmed", [
    ("STOP", "opt_out", ("en",), True),
    ("Stop.", "opt_out", ("en",), True),
    ("ALTO", "opt_out", ("es",), False),
    ("START", "opt_in", ("en",), False),
    ("comenzar", "opt_in", ("es",), False),
    ("HELP", "help", ("en",), False),
    ("stop the side effects", None, None, None),
    ("stop texting me", "opt_out", ("en",), False),  # plain words: the line confirms them
    ("no quiero recibir más mensajes", "opt_out", ("es",), False),
    ("should I stop my treatment", None, None, None),
    ("resubscribe me please", "opt_in", ("en",), False),
    ("should I start my treatment again", None, None, None),
    ("", None, None, None),
    ("!!!", None, None, None),
])
def test_compliance_words_are_judged_in_one_place(body, kind, languages, confirmed):
    said = judge(LIB, body)
    if kind is None:
        assert said is None
    else:
        assert (said.kind, said.languages, said.confirmed_by_twilio) == (kind, languages, confirmed)


@pytest.mark.parametrize("address, channel", [
    ("+15555550123", "sms"), ("whatsapp:+15555550123", "whatsapp"), ("", "sms"), ("WhatsApp:+1555", "sms")])
def test_the_channel_is_told_by_the_address(address, channel):
    assert channel_of(address) == channel


def test_a_compliance_word_is_the_whole_message_without_stray_punctuation():
    assert compliance_word("  stop!! ") == "STOP"
    assert compliance_word("opt out") == "OPT OUT"


@pytest.mark.parametrize("texter, body, channel", [row[:3] for row in TABLE])
def test_the_memo_gives_what_the_engine_gives(texter, body, channel):
    from line.engine import memo

    assert memo.answer(LIB, texter, body, channel) == answer(LIB, texter, body, channel)
    assert memo.judge(LIB, body) == judge(LIB, body)


# -- the first answer --------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["side effects", "MENU", "sdie", "efectos secundarios", "ESPANOL", "im scared",
                                  "START"])
def test_on_whatsapp_the_notice_leads_the_answer_in_one_message(body):
    """No segment budget on WhatsApp: one message, the notice, a blank line, the answer (it
    cannot arrive after the answer, and the texter is notified once)."""
    later = answer(LIB, ANSWERED, body, "whatsapp")
    first = answer(LIB, FIRST, body, "whatsapp")
    [text] = first.texts
    assert text == LIB.language(first.lang).sms["first_text"] + "\n\n" + later.texts[0]
    assert len(text) <= 1600  # WhatsApp's longest message
    assert (first.lang, first.step, first.outcome) == (later.lang, later.step, later.outcome)


BODIES = sorted({row[1] for row in TABLE})


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
@pytest.mark.parametrize("body", BODIES)
def test_a_first_answer_is_the_later_one_with_the_notice_before_it_or_the_same(body, channel):
    """Whatever was sent: the first answer is the answer the number would get later, led by the
    notice, and remembered; or exactly it (nothing said, an opt-out, HELP, a safety answer)."""
    later = answer(LIB, ANSWERED, body, channel)
    first = answer(LIB, FIRST, body, channel)
    assert (first.lang, first.step, first.outcome) == (later.lang, later.step, later.outcome)
    notice = LIB.language(first.lang).sms["first_text"]
    if first.texts != later.texts:
        expected = (notice + "\n\n" + later.texts[0],) if channel == "whatsapp" else (notice, *later.texts)
        assert first.texts == expected
        assert first.step not in ("stop", "help", "emergency", "crisis", "blocked")
    else:
        assert first.step in ("stop", "help", "emergency", "crisis") or not first.texts
    new_changes = [c for c in first.changes if c not in later.changes]
    remembered = any(isinstance(c, (OptOut, ChooseLanguage)) for c in later.changes)
    if first.step in ("emergency", "crisis") or remembered:
        assert new_changes == []  # stays new; or the opt-out or language makes it known
    else:
        assert new_changes == [Answered()] and first.changes[0] == Answered()


def test_the_safe_words_come_first_and_alone_to_a_new_number():
    for body, intent in [("I cant breathe", "emergency"), ("chest pain and side effects", "emergency"),
                         ("I want to kill myself", "crisis"), ("quiero morir", "crisis")]:
        for channel in ("sms", "whatsapp"):
            got = answer(LIB, FIRST, body, channel)
            assert got.step == intent, body
            assert len(got.texts) == 1 and ("911" in got.texts[0] or "988" in got.texts[0])
            assert LIB.language(got.lang).sms["first_text"] not in got.texts[0]
            assert not any(isinstance(c, Answered) for c in got.changes)  # the notice comes with the next answer
        assert answer(LIB, FIRST, "MENU").texts[0] == LIB.language("en").sms["first_text"]


def test_the_notice_says_what_the_line_is_not_and_where_to_call():
    for code, words in [("en", ["general information", "not medical advice", "emergency", "911"]),
                        ("es", ["información general", "no ofrece consejos médicos", "emergencia", "911"])]:
        notice = LIB.language(code).sms["first_text"]
        assert all(w in notice.lower() for w in words), (code, notice)
        assert LIB.language(code).line_name in notice


def test_a_store_that_cannot_say_keeps_todays_answer():
    assert Texter.unknown().first is False
    assert answer(LIB, Texter.unknown(), "side effects").texts == (LIB.language("en").sms["error"],)
