"""What people mean beyond the topics: the intents staff write in content/<lang>/intents.yaml, and
how the one matcher reads whole messages (safety first, then intents, then topics)."""
import re

import pytest

from conftest import CONTENT
from phone import Caller

from click.testing import CliRunner

from line.cli import main
from line.content import load_library
from line.content.model import INTENT_IDS, MIN_INTENT_EXAMPLES, MIN_TOPIC_EXAMPLES
from line.content.checks import route
from line.match import Entry, Matcher, Target, stem
from line.sms_encoding import count
from line.content import ContentError

LIB = load_library(CONTENT)
EN, ES = LIB.language("en"), LIB.language("es")


def meaning(lang, text, channel="sms"):
    found = lang.matcher.understand(text, channel)
    return (found.target.kind, found.target.id) if found else None


# -- the content -----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", [EN, ES], ids=["en", "es"])
def test_every_intent_is_written_in_every_language_with_its_examples(lang):
    assert tuple(lang.intents.items) == INTENT_IDS
    for intent in lang.intents.items.values():
        assert len(intent.examples) >= MIN_INTENT_EXAMPLES, intent.id
        assert intent.text and intent.cues
        assert bool(intent.speech) == (intent.id != "person")  # a caller asking for a person is put through
    for topic in lang.topics.values():
        assert len(topic.examples) >= MIN_TOPIC_EXAMPLES, topic.id


@pytest.mark.parametrize("lang, budget", [(EN, ("GSM-7", 306)), (ES, ("UCS-2", 268))], ids=["en", "es"])
def test_every_intent_text_fits_its_budget_with_what_follows_it(lang, budget):
    named = [*lang.topics.values(), *(m for m in lang.menus.values() if m.keyword)]
    for iid in INTENT_IDS:
        replies = {lang.intents.reply_text(iid, None)} | {lang.intents.reply_text(iid, n) for n in named}
        for reply in replies:
            c = count(reply)
            assert c.units <= budget[1], (iid, reply)
            if budget[0] == "GSM-7":
                assert c.encoding == "GSM-7", (iid, reply)


# The numbers and their order, and who to ask, word for word: tests/test_words.py.
def test_safety_words_say_what_the_issue_asks():
    for lang in (EN, ES):
        assert lang.intents["crisis"].then == "nothing"  # no topic content after the crisis words
    assert "Spanish" in EN.intents["crisis"].text
    # The 988 Lifeline answers in Spanish when a caller presses 2 (a key: written as a word, since
    # 911, 988 and the referral office's are the only numbers an intent may give).
    assert "oprima el dos para español" in ES.intents["crisis"].text


def test_a_voice_says_911_and_988_digit_by_digit():
    assert EN.intents["emergency"].speech.startswith("If this may be an emergency, like trouble breathing, chest pain or fainting, hang up and call nine one one now.")
    assert "nine eight eight" in EN.intents["crisis"].speech and "988" not in EN.intents["crisis"].speech
    assert "nueve uno uno" in ES.intents["emergency"].speech and "911" not in ES.intents["emergency"].speech
    assert "nueve ocho ocho" in ES.intents["crisis"].speech


def test_another_number_in_an_intent_is_refused(content_copy):
    path = content_copy / "en" / "intents.yaml"
    text = path.read_text()
    path.write_text(text.replace("call 911 now.", "call 911 now or 555-0100.", 1))
    with pytest.raises(ContentError) as err:
        load_library(content_copy)
    assert "content/en/intents.yaml:" in str(err.value) and "555-0100" in str(err.value)


def test_a_crisis_reply_that_would_add_a_topic_is_refused(content_copy):
    path = content_copy / "es" / "intents.yaml"
    text = path.read_text()
    start = text.index("  crisis:")
    path.write_text(text[:start] + text[start:].replace("then: nothing", "then: topic", 1))
    with pytest.raises(ContentError) as err:
        load_library(content_copy)
    assert "'then' of crisis must be nothing" in str(err.value)


def test_a_missing_intent_is_refused(content_copy):
    path = content_copy / "en" / "intents.yaml"
    text = path.read_text()
    start, end = text.index("  thanks:"), len(text)
    path.write_text(text[:start])
    with pytest.raises(ContentError) as err:
        load_library(content_copy)
    assert "intent 'thanks' is missing" in str(err.value)


# -- the matcher -----------------------------------------------------------------------------
@pytest.mark.parametrize("text, intent", [
    ("I have a fever after my treatment what should I do", "emergency"),
    ("chest pain", "emergency"),
    ("I'm having chest pain", "emergency"),
    ("my wife cant breth", "emergency"),  # typos forgiven
    ("911", "emergency"),
    ("I want to die", "crisis"),
    ("i keep thinking about hurting myself", "crisis"),
    ("I'm so scared", "feelings"),
    ("my dad has stage 4 breast cancer can immunotherapy cure him", "personal"),
    ("should I stop my treatment", "personal"),
    ("can I talk to someone", "person"),
    ("how much does it cost", "not_covered"),
    ("thank you so much", "thanks"),
])
def test_english_messages_mean_an_intent(text, intent):
    assert meaning(EN, text) == ("intent", intent)


@pytest.mark.parametrize("text, intent", [
    ("tengo fiebre después del tratamiento", "emergency"),
    ("me duele el pecho", "emergency"),
    ("quiero morirme", "crisis"),
    ("tengo mucho miedo", "feelings"),
    ("mi mamá tiene cáncer de pulmón, la inmunoterapia la puede curar", "personal"),
    ("quiero hablar con alguien", "person"),
    ("cuánto cuesta el tratamiento", "not_covered"),
    ("muchas gracias", "thanks"),
])
def test_spanish_messages_mean_an_intent(text, intent):
    assert meaning(ES, text) == ("intent", intent)


def test_safety_comes_first_and_still_names_the_topic():
    found = EN.matcher.understand("I have a fever after my treatment what should I do")
    assert found.target == Target("intent", "emergency") and found.safety
    assert found.also == Target("topic", "side-effects")
    # A crisis outranks everything, even a request for a person in the same message.
    assert meaning(EN, "can I talk to someone, I want to kill myself") == ("intent", "crisis")
    # A plain question about a side effect is a topic, not an emergency.
    assert meaning(EN, "is fever a side effect") == ("topic", "side-effects")


@pytest.mark.parametrize("text, target", [
    ("research results", ("topic", "results")),
    ("who is recruiting patients", ("topic", "trials")),
    ("side efects", ("topic", "side-effects")),
    ("sied effects", ("topic", "side-effects")),
    ("what is immunotherpy", ("topic", "immunotherapy")),
    ("SIDE", ("topic", "side-effects")),
    ("treatment", ("menu", "treatment")),
])
def test_a_sentence_goes_where_it_means(text, target):
    assert meaning(EN, text) == target


def test_a_word_that_is_only_a_small_word_does_not_drag_a_sentence_to_a_menu():
    assert meaning(EN, "about") == ("menu", "about")  # the keyword alone still works
    assert meaning(EN, "I keep worrying about my husband") == ("intent", "feelings")


def test_suggestions_only_for_a_likely_meaning():
    assert EN.matcher.suggest("sdie") == "SIDE"
    assert EN.matcher.suggest("qqqq zzzz") is None


def test_the_language_of_free_text_is_guessed_from_its_words():
    text = "quiero hablar con alguien"
    assert ES.matcher.known_words(text) > EN.matcher.known_words(text)
    text = "should I cancel my next infusion"
    assert EN.matcher.known_words(text) > ES.matcher.known_words(text)


# -- examples are tests ------------------------------------------------------------------------
def test_every_shipped_example_reaches_where_it_is_written_even_as_a_new_message():
    routed = route(LIB)
    assert len(routed) >= 2 * (len(INTENT_IDS) * MIN_INTENT_EXAMPLES + len(EN.topics) * MIN_TOPIC_EXAMPLES)
    assert [(r.example.file, r.example.line, r.example.text, r.reached) for r in routed if not r.ok] == []


def test_an_example_under_the_wrong_topic_fails_line_check_naming_its_file_and_line(content_copy):
    path = content_copy / "en" / "topics" / "where.yaml"
    path.write_text(path.read_text().replace("examples:\n", "examples:\n  - what are the side effects of immunotherapy\n", 1))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "what are the side effects" in text)
    result = CliRunner().invoke(main, ["check", str(content_copy)])
    assert result.exit_code == 1
    assert (f"content/en/topics/where.yaml:{line}: error: example \"what are the side effects of immunotherapy\" "
            "reaches side-effects, not where") in result.output
    # ...and it prints what every example reached.
    assert f"MISS content/en/topics/where.yaml:{line}  \"what are the side effects of immunotherapy\" -> side-effects" in result.output
    assert re.search(r"ok   content/es/intents.yaml:\d+  \"quiero morir\" -> crisis", result.output)


def test_a_topic_with_too_few_examples_is_a_warning(content_copy):
    path = content_copy / "en" / "topics" / "who.yaml"
    text = path.read_text()
    start = text.index("examples:\n")
    end = text.index("synonyms:")
    path.write_text(text[:start] + "examples:\n  - who can get immunotherapy\n" + text[end:])
    result = CliRunner().invoke(main, ["check", str(content_copy)])
    assert "content/en/topics/who.yaml: warning: who has 1 examples; write at least 5" in result.output


# -- both channels: the TwiML a texter and a caller get --------------------------------------------
@pytest.fixture
def caller(app):
    c = Caller(app)
    c.call()
    return c


@pytest.mark.parametrize("body, starts, then", [
    ("I have a fever after my treatment what should I do", "If this may be an emergency (trouble breathing, chest pain, fainting, too much medicine or poison), call 911 now.",
     "Reply MENU for topics."),
    ("chest pain", "If this may be an emergency (trouble breathing, chest pain, fainting, too much medicine or poison), call 911 now.", "Reply MENU for topics."),
    ("I want to die", "You matter, and you do not have to face this alone. Please call or text 988",
     "If you are in danger now, call 911."),
    ("I'm so scared", "It is normal to feel scared, worried or sad", "Reply MENU for topics."),
    ("should I stop my treatment", "This line cannot give medical advice.", ""),
    # Content review findings 22 and 23: never "what cancer is" after a question about a cure, and
    # never the IL-2 story (first approved for melanoma) as a "no" for another cancer.
    ("can immunotherapy cure my cancer", "This line cannot give medical advice.", "Reply MENU for topics."),
    ("is immunotherapy fda approved for lung cancer", "This line cannot give medical advice.", ""),
    ("can I talk to someone", "For NCI immunotherapy clinical trials, call the NCI referral office at 1-866-820-4505",
     "For your own care, call your health care provider."),
    ("how much does it cost", "Sorry, this line does not have information on that.", "Reply MENU for topics."),
    ("thank you!", "You are welcome.", "Reply MENU any time for topics."),
])
def test_a_texter_gets_each_intent(twilio, body, starts, then):
    [reply] = twilio.text(body)
    assert reply.startswith(starts) and reply.endswith(then)
    c = count(reply)
    assert c.encoding == "GSM-7" and c.segments <= 2


def test_a_texter_in_a_crisis_gets_no_topic_and_safety_comes_before_topics(twilio):
    [reply] = twilio.text("I want to end my life, what are the side effects of stopping")
    assert "988" in reply and "SIDE" not in reply and "Source:" not in reply
    [reply] = twilio.text("my mom has a fever and chills after her infusion, is that a side effect")
    assert reply.startswith("If this may be an emergency (trouble breathing, chest pain, fainting, too much medicine or poison), call 911 now.") and reply.endswith("Reply MENU for topics.")


@pytest.mark.parametrize("body, starts", [
    ("tengo fiebre alta después del tratamiento", "Si puede ser una emergencia (falta de aire, dolor de pecho, desmayo, sobredosis o veneno), llame ya al 911."),
    ("quiero morirme", "Usted es importante y no tiene que pasar por esto a solas."),
    ("tengo mucho miedo", "Es normal sentir miedo, preocupación o tristeza"),
    ("mi mamá tiene cáncer, le sirve la inmunoterapia", "Esta línea no puede dar consejos médicos."),
    ("quiero hablar con alguien", "Para los ensayos clínicos de inmunoterapia del NCI, llame a la Oficina de Referencia de "
     "Pacientes del NCI al 1-866-820-4505"),
    ("cuánto cuesta", "Lo sentimos, esta línea no tiene información sobre eso."),
    ("muchas gracias", "De nada."),
])
def test_a_new_texter_writing_spanish_gets_each_intent_in_spanish(twilio, body, starts):
    [reply] = twilio.text(body, number="+15555550177")
    assert reply.startswith(starts)
    assert count(reply).units <= 268


def test_plain_words_asking_what_the_line_is_or_for_a_language(twilio):
    [reply] = twilio.text("who is this?")
    assert reply == EN.sms["help"]
    [reply] = twilio.text("en español por favor")
    assert reply == ES.sms["language_set"]


def test_a_caller_with_chest_pain_hears_911_first_then_the_menu(caller):
    step = caller.say("I'm having chest pain")
    said = " ".join(step.gather.itertext())
    assert said.startswith("If this may be an emergency, like trouble breathing, chest pain or fainting, hang up and call nine one one now.")
    assert "911" not in step.said  # (the hints may hold "911": they are not said)
    assert step.state()["at"] == "main" and "For clinical trials, press four." in said
    assert step.redirect  # a silence is still answered


def test_a_caller_in_a_crisis_hears_988_twice_and_no_topic(caller):
    caller.press("2")
    step = caller.say("i want to kill myself")
    said = " ".join(step.gather.itertext())
    assert said.startswith("You matter")
    assert said.count("nine eight eight") == 2 and "nine one one" in said
    assert "988" not in step.said and "press one" not in said  # no topics offered
    assert "For the main menu, press nine." in said and "To talk to the N C I referral office, press zero." in said


def test_a_caller_asking_for_a_person_is_put_through(caller):
    step = caller.say("can I talk to someone")
    assert "Putting you through to the N C I referral office" in step.said
    assert step.root.find("Dial").find("Number").text == "+18668204505"


def test_a_caller_with_a_personal_question_hears_no_advice_first_then_the_topic(caller):
    step = caller.say("should I keep getting immunotherapy for my side effects")
    said = " ".join(step.gather.itertext())
    assert said.startswith("This line cannot give medical advice.")
    assert step.state()["at"] == "side-effects" and EN.topics["side-effects"].speech in said


@pytest.mark.parametrize("words, starts, at", [
    ("I feel so alone and scared", "It is normal to feel scared, worried or sad", "main"),
    ("will my insurance pay for it", "Sorry, this line does not have information on that.", "main"),
])
def test_a_caller_with_feelings_or_a_question_not_covered_then_hears_the_menu(caller, words, starts, at):
    step = caller.say(words)
    said = " ".join(step.gather.itertext())
    assert said.startswith(starts) and step.state()["at"] == at
    assert "For cancer and immunotherapy basics, press one." in said


def test_a_caller_who_says_thanks_hears_a_kind_word_and_stays_where_they_were(caller):
    caller.press("2")
    step = caller.say("thank you")
    said = " ".join(step.gather.itertext())
    assert said.startswith("You are welcome.") and step.state()["at"] == "treatment"


def test_a_spanish_caller_hears_911_in_spanish_words(app):
    c = Caller(app)
    c.call()
    c.press("6")
    step = c.say("me duele el pecho")
    said = " ".join(step.gather.itertext())
    assert said.startswith("Si puede ser una emergencia, como falta de aire, dolor de pecho o desmayo, cuelgue y llame ya al nueve uno uno.")
    assert step.state()["lang"] == "es"


def test_plain_words_asking_for_the_texts_again(twilio):
    [menu] = twilio.text("start texting me again", number="+15555550178")
    assert menu == EN.menus["main"].text  # never opted out: nothing to come back from
    twilio.text("stop texting me", number="+15555550179")
    assert twilio.text("what are the side effects", number="+15555550179") == []
    [back] = twilio.text("please start texting me again", number="+15555550179")
    assert back == EN.sms["opted_in"]
    assert twilio.text("what are the side effects", number="+15555550179") == [EN.topics["side-effects"].text]


def test_the_speech_recognizer_is_told_the_words_of_an_emergency_first():
    hints = EN.speech_hints.split(", ")
    assert hints[0] == "emergency" and "chest pain" in hints and "suicide" in hints
    assert "side effects" in hints and len(hints) <= 500
    assert "dolor de pecho" in ES.speech_hints.split(", ")


@pytest.mark.parametrize("lang, text", [
    ("en", "pain in chest since this morning"), ("en", "my chest feels tight and heavy"),
    ("en", "pressure on my chest after the infusion"), ("en", "chest is hurting bad"),
    ("es", "siento presión en el pecho"), ("es", "el pecho me duele desde anoche"),
])
def test_chest_and_pain_anywhere_in_a_message_is_an_emergency(lang, text):
    """Chest pain in whatever order people put it: a word for the chest and one for pain."""
    assert meaning(LIB.language(lang), text) == ("intent", "emergency")


@pytest.mark.parametrize("lang, text", [
    ("en", "what foods should I avoid while on immunotherapy"), ("en", "should I cancel my appointment on monday"),
    ("es", "qué comida debo evitar durante el tratamiento"),
])
def test_a_subject_the_articles_lack_is_not_covered_however_the_question_is_framed(lang, text):
    assert meaning(LIB.language(lang), text) == ("intent", "not_covered")


# -- questions as people write them -----------------------------------------------------------
@pytest.mark.parametrize("text, topic", [
    ("who is immunotherapy for", "who"),  # "who is it for": who weighs, as in the question
    ("who is this treatment for", "who"),  # ...not "who is this" (the line's help)
    ("how is the immune therapy given", "how-given"),  # "how is it given"
    ("where can i get this treatment", "where"),  # "where can i get it"
])
def test_a_topic_cue_s_it_may_be_said_by_name(text, topic):
    found = EN.matcher.understand(text, as_new=True)  # as if no example said it
    assert (found.target.kind, found.target.id) == ("topic", topic)


def test_the_words_it_may_stand_for_are_the_subject_words_staff_list(content_copy):
    path = content_copy / "en" / "intents.yaml"
    text = path.read_text()
    start = text.index("subject_words:")
    path.write_text(text[:start] + text[text.index("\n\n", start):])
    matcher = load_library(content_copy).language("en").matcher
    assert matcher.understand("how is the immune therapy given").target == Target("topic", "immunotherapy")
    assert EN.matcher.understand("how is the immune therapy given").target == Target("topic", "how-given")


def test_an_intent_s_it_is_not_the_line_s_subject():
    """A crisis's "end it" is not "end my treatment": that is a question for the care team."""
    assert meaning(EN, "i want to end it") == ("intent", "crisis")
    assert meaning(EN, "i want to end my treatment") == ("intent", "personal")


def test_this_followed_by_a_word_that_tells_something_is_not_the_pronoun_of_a_cue():
    assert meaning(EN, "who is this?") == ("command", "help")
    assert meaning(EN, "who is this please") == ("command", "help")  # "please" is a small word
    assert meaning(EN, "who is this treatment for") == ("topic", "who")


TOY = Matcher([Entry(Target("topic", "home"), cues=("want to go home",)),
               Entry(Target("topic", "fight"), cues=("kill cancer",)),
               Entry(Target("topic", "effects"), cues=("side effects",))],
              small_words=["i", "to", "the", "all", "my", "not", "back", "and"])


@pytest.mark.parametrize("text, found", [
    ("i want to go back home", "home"),  # a word added inside a cue of 3 words or more
    ("i want to not go home", None),  # ...never "not" or its kin: it turns the meaning
    ("i want to go back to my home", None),  # ...and one word only
    ("kill the cancer", "fight"),  # "the", "my" ... added inside a shorter cue
    ("kill all cancer", None),  # ...but no other word
    ("side affects", "effects"),  # a first vowel for another ("affects" for "effects")
    ("side iffects", "effects"),
    ("side deffects", None),  # ...a first consonant is never forgiven
])
def test_a_cue_is_found_with_a_word_added_or_a_first_vowel_wrong_within_limits(text, found):
    match = TOY.understand(text)
    assert (match.target.id if match else None) == found


def test_a_short_english_word_keeps_its_forms_together():
    assert stem("living") == stem("live") and stem("lives") == stem("live")
    assert stem("taking") == stem("take") and stem("eating") == stem("eat")
    assert stem("bleeding") == stem("bleed") and stem("seeing") != stem("see") + "e"


@pytest.mark.parametrize("lang, text", [
    ("en", "some nights i hope i dont wake up"),  # a wish not to wake up
    ("en", "i dont see any reason to live like this"),
    ("en", "honestly i feel im a burden to everyone now"),
    ("en", "i cant take this anymore i want it all to be over"),
    ("es", "quisiera dormirme y no despertar"),
    ("es", "ya no le veo sentido a vivir"),
    ("es", "siento que soy una carga para mis hijos"),
    ("es", "mejor me muero que seguir así"),
])
def test_the_quieter_words_of_a_crisis_are_a_crisis(lang, text):
    assert meaning(LIB.language(lang), text) == ("intent", "crisis")


@pytest.mark.parametrize("lang, text, intent", [
    ("en", "feeling better, can i quit my meds", "personal"),
    ("en", "how many pills do i take a day", "personal"),
    ("es", "cuántas tabletas me tomo", "personal"),
    ("es", "le serviría a mi papá la inmunoterapia", "personal"),
    ("en", "is there anybody i can talk to", "person"),
    ("es", "puedo platicar con alguien", "person"),
    ("en", "is there a shuttle from the parking lot", "not_covered"),
    ("es", "cuánto cobran", "not_covered"),
])
def test_everyday_words_for_an_intent(lang, text, intent):
    assert meaning(LIB.language(lang), text) == ("intent", intent)


@pytest.mark.parametrize("lang, text", [
    (ES, "pueden mandarme información"),  # "mandarme" was read as a typo of "matarme" (kill myself)
    (ES, "me pueden mandarme los efectos secundarios"),
])
def test_a_word_the_line_itself_writes_is_never_taken_for_a_typo_of_a_crisis_word(lang, text):
    """Typos are forgiven against the words the targets use; but a word the language's own
    content writes (here the opt-out words' "dejen de mandarme") is a word of the language,
    not a misspelt one. Misspellings of the crisis words themselves are still caught."""
    assert meaning(lang, text) != ("intent", "crisis")


@pytest.mark.parametrize("lang, text", [(ES, "quiero matrme"), (ES, "me quiero matr"), (EN, "i want to kil myself"),
                                        (EN, "im suicdal")])
def test_a_misspelt_crisis_word_is_still_a_crisis(lang, text):
    assert meaning(lang, text) == ("intent", "crisis")


def test_what_comes_first_is_said_by_each_entry_not_by_intent_names_in_the_matcher():
    """The matcher knows no intent by name: the content model marks the safety intents and the
    subject intents on their entries (SAFETY_INTENTS, SUBJECT_INTENTS), and any entry so marked
    is ranked so."""
    danger, topic = Target("topic", "dizzy"), Target("topic", "side")
    plain = Matcher([Entry(danger, cues=("dizzy",)), Entry(topic, cues=("side effects of the treatment",))])
    marked = Matcher([Entry(danger, cues=("dizzy",), safety=1), Entry(topic, cues=("side effects of the treatment",))])
    message = "side effects of the treatment make me dizzy"
    assert plain.understand(message).target == topic and not plain.understand(message).safety
    assert marked.understand(message).target == danger and marked.understand(message).safety
    frame, subject = Target("intent", "frame"), Target("intent", "subject")
    entries = [Entry(frame, cues=("should i eat",)), Entry(subject, cues=("sushi",))]
    assert Matcher(entries).understand("should i eat sushi").target == frame
    entries[1] = Entry(subject, cues=("sushi",), subject=True)
    assert Matcher(entries).understand("should i eat sushi").target == subject


@pytest.mark.parametrize("text", ["who is this sending me texts", "who is this line for", "who is this"])
def test_asking_who_the_line_is_gets_help(text):
    """"who is this" followed by a word that tells something is not always a topic question: asked
    of the line itself, it is help (what the line is), never "we did not understand"."""
    assert meaning(EN, text) == ("command", "help")


# -- the second reading (issue 20): overdoses in plain words, and what else it found -------------------
EMERGENCY_FIRST = {"en": "If this may be an emergency (trouble breathing, chest pain, fainting, too much medicine or poison), call 911 now.",
                   "es": "Si puede ser una emergencia (falta de aire, dolor de pecho, desmayo, sobredosis o veneno), llame ya al 911."}
HEARD_FIRST = {"en": "If this may be an emergency, like trouble breathing", "es": "Si puede ser una emergencia, como falta de aire"}


@pytest.mark.parametrize("lang, words", [
    ("en", "I took too much tylenol"), ("en", "my son swallowed my pills"), ("en", "I think I overdosed"),
    ("en", "my husband took all his pills"), ("en", "my lips feel numb"),
    ("es", "mi hijo se tragó mis pastillas"), ("es", "me tomé un frasco de tylenol"), ("es", "mi papá se cayó al piso"),
])
def test_an_overdose_said_in_plain_words_gets_911_first_by_text_and_by_phone(app, twilio, lang, words):
    [reply] = twilio.text(words, number="+15555550177")
    assert reply.startswith(EMERGENCY_FIRST[lang]), reply
    caller = Caller(app, number="+15555550178")
    caller.call()
    if lang == "es":
        caller.press("6")
    assert caller.say(words).said.startswith(HEARD_FIRST[lang])


def test_the_emergency_words_say_a_fever_chills_or_any_other_symptom_in_both_languages_and_channels():
    """Third reading H2: yellow eyes, a bad cough, not eating are new problems after treatment
    too; the provider's sentence names any symptom, not only a fever or chills."""
    en, es = LIB.language("en").intents["emergency"], LIB.language("es").intents["emergency"]
    for words in (en.text, en.speech):
        assert "If you have a fever, chills or any other symptom after treatment, call your health care provider right away" \
            in " ".join(words.split())
    for words in (es.text, es.speech):
        assert "Si tras el tratamiento tiene fiebre, escalofríos u otro síntoma, llame enseguida a su proveedor de atención médica" \
            in " ".join(words.split())


@pytest.mark.parametrize("words, starts", [
    ("I need to talk to someone, I'm so scared", "It is normal to feel scared, worried or sad"),
    ("me salió un sarpullido en la cara", "Si recibió inmunoterapia por la vena"),
    ("I dont want to continue my treatment", "This line cannot give medical advice."),
])
def test_what_a_reader_found_answered_wrongly_gets_its_answer(twilio, words, starts):
    [reply] = twilio.text(words, number="+15555550179")
    assert reply.startswith(starts), reply


# -- the third reading (issue 20): what a fresh reader still found ----------------------------------
def _text(twilio, words, number="+15555550181", spanish=False):
    if spanish:
        twilio.text("ESPANOL", number=number)
    return twilio.text(words, number=number)[-1]


def _heard(app, words, lang, number="+15555550182"):
    caller = Caller(app, number=number)
    caller.call()
    if lang == "es":
        caller.press("6")
    return caller.say(words).said


def _words(lang, intent, field="text"):
    return " ".join(getattr(LIB.language(lang).intents[intent], field).split())


@pytest.mark.parametrize("lang, words, starts", [
    ("en", "thanks. what are the side effects", "Side effects are different for each patient"),
    ("en", "god bless. where can i find a clinical trial", None),
    ("en", "good night, my mom is so scared about her infusion tomorrow", "It is normal to feel scared"),
    ("es", "buenas noches mi mamá está muy asustada", "Es normal sentir miedo"),
    ("es", "gracias. y cuáles son los efectos secundarios", "Los efectos varían"),
])
def test_a_courtesy_first_never_swallows_the_message(app, twilio, lang, words, starts):
    """H1: "thanks" or "buenas noches" opening a message is a courtesy; what follows is what the
    message asks, by text and on the phone. Alone, the courtesy is still thanked."""
    reply = _text(twilio, words, spanish=lang == "es")
    thanks = LIB.language(lang).intents["thanks"]
    assert not reply.startswith(thanks.text[:8]), reply
    if starts:
        assert reply.startswith(starts), reply
    assert not _heard(app, words, lang).startswith(thanks.speech[:8])
    assert meaning(LIB.language(lang), "thank you so much" if lang == "en" else "muchas gracias") == ("intent", "thanks")


def test_a_courtesy_is_marked_on_its_entry_and_yields_to_anything_else_understood():
    polite, topic = Target("intent", "polite"), Target("topic", "side")
    entries = [Entry(polite, cues=("thanks",), courtesy=True), Entry(topic, cues=("side effects",))]
    assert Matcher(entries).understand("thanks. what are the side effects").target == topic
    assert Matcher(entries).understand("thanks so much").target == polite
    plain = [Entry(polite, cues=("thanks",)), Entry(topic, cues=("side effects",))]
    assert Matcher(plain).understand("thanks. what are the side effects").target == polite


@pytest.mark.parametrize("lang, words", [
    ("en", "my stomach hurts really bad since the infusion"), ("en", "his eyes look yellow"),
    ("en", "i have a bad cough since my immunotherapy"), ("en", "my skin is peeling and blistering"),
    ("en", "ive had a fever for 5 hours"), ("en", "i cant eat anything since my treatment"),
    ("en", "my fingers are numb since treatment"), ("en", "should i call poison control"),
    ("en", "my daughter took extra of my pain pills"),
    ("es", "veo todo borroso desde ayer"), ("es", "tengo mucha tos desde el tratamiento"),
    ("es", "me duele mucho la barriga"), ("es", "se tomó unas pastillas mías"),
    ("es", "creo que mi hijo tomó una sobredosis"), ("es", "mi hijo tomó veneno"),
])
def test_a_symptom_said_in_plain_words_gets_911_and_the_provider_first(app, twilio, lang, words):
    """H2, H3 and H5: symptoms after treatment (before: not understood, a topic, the cost words
    for "5 hours", the referral number for "numb"), and medicine or poison someone else took
    (Spanish "sobredosis" was a crisis: an overdose is 911 first, as in English)."""
    reply = _text(twilio, words, spanish=lang == "es")
    assert reply.startswith(EMERGENCY_FIRST[lang]), reply
    assert ("right away" if lang == "en" else "enseguida") in reply
    assert _heard(app, words, lang).startswith(HEARD_FIRST[lang])


@pytest.mark.parametrize("lang, words", [
    ("en", "does the shot hurt really bad"), ("en", "what cant i eat during treatment"),
    ("en", "the waiting is unbearable"), ("es", "me duele mucho ver a mi mamá así"),
    ("es", "la quimio es un veneno"), ("es", "con mucho dolor les cuento que mi mamá falleció"),
    ("es", "la inmunoterapia da mucha tos"),
])
def test_the_new_danger_words_raise_no_alarm_where_there_is_none(lang, words):
    assert meaning(LIB.language(lang), words) not in (("intent", "emergency"), ("intent", "crisis"))


def test_words_not_understood_say_who_to_call_by_text_and_on_the_phone(app, twilio):
    """H2: "we did not understand" is never the whole answer: it may have been about how someone
    feels. On the phone, the main menu's reprompt offers the other language again."""
    for lang, unwell in (("en", "If you feel unwell, call your health care provider. In an emergency, call 911."),
                         ("es", "Si se siente mal, llame a su proveedor de atención médica. En una emergencia, llame al 911.")):
        reply = _text(twilio, "xq zzv plof", number=f"+1555555019{lang == 'es':d}", spanish=lang == "es")
        assert unwell in reply, reply
    caller = Caller(app, number="+15555550183")
    caller.call()
    heard = caller.say("xq zzv plof").said
    assert "call your health care provider" in heard and "emergency" in heard
    assert "Para español, oprima seis" in heard
    assert "Para español, oprima seis" in caller.wait().said  # after a silence too


@pytest.mark.parametrize("lang, words", [
    ("en", "i give up"), ("en", "im losing hope"), ("en", "i have no hope left"),
    ("es", "ya no aguanto"), ("es", "me doy por vencida"), ("es", "ya no puedo con esto"),
])
def test_losing_hope_gets_the_kind_words_with_988(app, twilio, lang, words):
    """H4: before, not understood. The feelings words now end with 988 for someone who feels they
    cannot go on, in both languages and on both channels."""
    reply = _text(twilio, words, spanish=lang == "es")
    assert reply.startswith(_words(lang, "feelings")[:20]) and "988" in reply, reply
    spoken_988 = "nine eight eight" if lang == "en" else "nueve ocho ocho"
    assert "988" in _words(lang, "feelings") and spoken_988 in _words(lang, "feelings", "speech")
    heard = _heard(app, words, lang)
    assert heard.startswith(_words(lang, "feelings", "speech")[:20]) and spoken_988 in heard


@pytest.mark.parametrize("lang, text, found", [
    ("es", "ya no quiero seguir", ("intent", "crisis")),
    ("es", "no quiero seguir así", ("intent", "crisis")),
    ("es", "no quiero seguir con la quimio", ("intent", "personal")),
    ("es", "no quiero seguir con el tratamiento", ("intent", "personal")),
    ("es", "quiero tomarme una sobredosis", ("intent", "crisis")),
    ("en", "whats the point of immunotherapy", ("topic", "immunotherapy")),
    ("en", "can i give up smoking first", ("intent", "personal")),
    ("en", "should i give up chemo for immunotherapy", ("intent", "personal")),
    ("es", "estoy triste y necesito hablar con alguien", ("intent", "feelings")),
    ("en", "my husband is in the hospital since yesterday", ("intent", "feelings")),
    ("es", "mi mamá está en el hospital", ("intent", "feelings")),
    ("en", "please help me", ("command", "help")),
    ("es", "necesito ayuda", ("command", "help")),
    ("es", "es segura la inmunoterapia", ("topic", "side-effects")),
])
def test_what_the_third_reader_found_reaches_what_it_means(lang, text, found):
    assert meaning(LIB.language(lang), text) == found


def test_asking_for_help_in_so_many_words_gets_the_help_reply_with_911(twilio):
    for words, number in (("please help me", "+15555550184"), ("necesito ayuda", "+15555550185")):
        reply = _text(twilio, words, number=number)
        assert "911" in reply and "1-866-820-4505" in reply, reply


def test_the_cancer_back_on_the_phone_is_met_kindly_not_taken_for_back(app):
    caller = Caller(app, number="+15555550186")
    caller.call()
    caller.press("2")  # a menu where "back" is a command
    heard = caller.say("my cancer is back").said
    assert heard.startswith("It is normal to feel scared"), heard


@pytest.mark.parametrize("chosen", [True, False])
def test_spanish_words_understood_by_an_english_term_are_answered_in_spanish(twilio, chosen):
    """H6: "el doctor dice que tengo stage 4" is understood by the English words ("stage 4") and
    was answered in English, even to a texter who chose Spanish."""
    reply = _text(twilio, "el doctor dice que tengo stage 4", number=f"+1555555018{7 + chosen}", spanish=chosen)
    assert reply.startswith("Esta línea no puede dar consejos médicos."), reply


# -- the fourth reading (issue 20): danger, crisis and help in everyday words ----------------------
CRISIS_FIRST = {"en": "You matter, and you do not have to face this alone.",
                "es": "Usted es importante y no tiene que pasar por esto a solas."}


@pytest.mark.parametrize("lang, words", [
    ("en", "I think my dad took a bunch of his oxycodone"), ("en", "my son drank some of my morphine"),
    ("en", "my dad OD'd"), ("en", "my neighbor overdosed on something, what do i do"),
    ("en", "I can't feel my legs"), ("en", "my face is drooping"), ("en", "my husband is not making sense"),
    ("en", "my heart feels weird and I'm sweating"), ("en", "I feel like im dying"), ("en", "my poop is black"),
    ("es", "creo que mi papá se tomó un montón de sus pastillas para el dolor"),
    ("es", "mi mamá tomó pastillas de más sin querer"), ("es", "no siento las piernas"),
    ("es", "se me nubló la vista"), ("es", "mi mamá está rara y no dice cosas con sentido"),
    ("es", "tengo ronchas en todo el cuerpo"),
])
def test_danger_in_everyday_words_gets_911_first_by_text_and_by_phone(app, twilio, lang, words):
    """Fourth reading H1, H2, H5-H7: someone else's overdose (before: not understood, the pill topic,
    or the 988 words for a neighbour), stroke and confusion signs, a heart that feels odd with
    sweating ("sweating" was read as a typo of the needle site's "swelling")."""
    reply = _text(twilio, words, number="+15555550191", spanish=lang == "es")
    assert reply.startswith(EMERGENCY_FIRST[lang]), reply
    assert _heard(app, words, lang, number="+15555550192").startswith(HEARD_FIRST[lang])


@pytest.mark.parametrize("lang, words", [
    ("en", "i just want this to be over"), ("en", "I don't see a way out"), ("en", "I feel like a burden"),
    ("en", "whats the point of any of this anymore"), ("en", "I have been saving up my pills"),
    ("es", "ya no quiero seguir con esto"), ("es", "ya no le veo salida"), ("es", "me siento una carga"),
    ("es", "para qué sigo"), ("es", "he estado guardando mis pastillas"),
])
def test_thoughts_of_ending_it_in_everyday_words_get_988_first_by_text_and_by_phone(app, twilio, lang, words):
    """Fourth reading H3, H4: before, "we did not understand" or the no-advice words."""
    reply = _text(twilio, words, number="+15555550193", spanish=lang == "es")
    assert reply.startswith(CRISIS_FIRST[lang]), reply
    assert _heard(app, words, lang, number="+15555550194").startswith(CRISIS_FIRST[lang])


@pytest.mark.parametrize("lang, words", [
    ("en", "what is the point of any of these treatments"), ("en", "whats the point of immunotherapy"),
    ("en", "this is odd"), ("en", "is immunotherapy a burden on the budget"),
    ("es", "pueden darme más información"),
])
def test_the_fourth_reading_s_words_raise_no_alarm_where_there_is_none(lang, words):
    assert meaning(LIB.language(lang), words) not in (("intent", "emergency"), ("intent", "crisis"))


def test_words_not_understood_name_988_too_and_a_sentence_gets_no_guessed_keyword(app, twilio):
    """Fourth reading H3, M10: the not-understood words name 988 as well as 911, by text and on the
    phone; "Try the word ..." follows a few words only (a mistyped keyword), never a sentence the
    line could not read, and never MENU (the menu line follows anyway)."""
    for lang, line in (("en", "If you are thinking of hurting yourself, call or text 988."),
                       ("es", "Si piensa en hacerse daño, llame o escriba al 988.")):
        reply = _text(twilio, "xq zzv plof", number=f"+1555555017{lang == 'es':d}", spanish=lang == "es")
        assert line in reply, reply
    sentence = _text(twilio, "my cousin brought a llama to the needle party", number="+15555550172")
    assert "Try the word" not in sentence, sentence
    assert "Try the word SIDE." in _text(twilio, "sdie", number="+15555550173")
    assert "Try the word MENU" not in _text(twilio, "menuu plz", number="+15555550174")
    caller = Caller(app, number="+15555550175")
    caller.call()
    assert "nine eight eight" in caller.say("xq zzv plof").said


@pytest.mark.parametrize("lang, words", [("en", "help"), ("es", "ayuda")])
def test_a_caller_who_says_help_hears_the_greeting_again_911_first(app, lang, words):
    """Fourth reading M5: before, the no-advice words and a topic read out."""
    heard = _heard(app, words, lang, number="+15555550176")
    assert ("In an emergency, hang up and call nine one one" if lang == "en" else "emergencia") in heard
    assert "cannot give medical advice" not in heard and "no puede dar consejos" not in heard


# -- the fifth reading (issue 20) --------------------------------------------------------------------
@pytest.mark.parametrize("body, first, then", [
    ("my son ate some pills", "too much medicine or poison), call 911 now.", "Reply MENU for topics."),
    ("my daughter drank the cough syrup", "too much medicine or poison), call 911 now.", "Reply MENU for topics."),
    ("my son swallowed my pills", "too much medicine or poison), call 911 now.", "Reply MENU for topics."),
])
def test_a_swallowed_medicine_is_911_named_in_so_many_words_then_the_menu_never_a_topic_on_pills(twilio, body, first, then):
    [reply] = twilio.text(body)
    assert first in reply and reply.endswith(then) and "GIVEN" not in reply


def test_spanish_swallowed_syrup_and_a_racing_heart_are_911_with_poison_named_then_the_menu(twilio):
    twilio.text("ESPANOL", number="+15555550177")
    for body in ("mi bebé se tomó el jarabe", "me late muy rápido el corazón"):
        [reply] = twilio.text(body, number="+15555550177")
        assert "(falta de aire, dolor de pecho, desmayo, sobredosis o veneno), llame ya al 911." in reply, reply
        assert reply.endswith("Escriba MENU para ver los temas.") and "COMO" not in reply, reply


def test_a_caller_hears_911_for_too_much_medicine(caller):
    said = caller.say("my son ate some pills").said
    assert "hang up and call nine one one now. Call nine one one too if someone took too much medicine or poison." in said
