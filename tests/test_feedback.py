"""The console's live checks of one field (line/staff/feedback.py): the numbers `line check`
finds, for words as they are typed, and the words as a caller hears them."""
import io
import shutil
import wave
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import CONTENT
from line import readability, sms_encoding
from line.content import fill, load
from line.content.checks import reading
from line.content.yaml_source import Problem, parse
from line.speech import MAX_SPOKEN_SECONDS, spoken_seconds
from line.staff.feedback import MAX_HEAR_CHARS, Measure, hear, kind_of, measure, problems_for, said


@pytest.fixture(scope="module")
def library():
    loaded = load(CONTENT)
    assert loaded.library is not None, loaded.errors
    return loaded.library


def by_name(measures: list[Measure]) -> dict[str, Measure]:
    named = {m.name: m for m in measures}
    assert len(named) == len(measures), "one measure of each name"
    return named


def field_lines(file: str, *path) -> int:
    body = (CONTENT / file).read_text(encoding="utf-8")
    return parse(body, file)[1].at(*path)


# -- text messages -----------------------------------------------------------------------------
def test_a_curly_quote_in_a_spanish_text_is_named_as_forcing_ucs2(library):
    plain = by_name(measure(library, "es/topics/results.yaml", ("text",), "Hola, es una prueba."))
    curly = by_name(measure(library, "es/topics/results.yaml", ("text",), "Hola, es la prueba’s."))
    assert "right single quotation mark" not in plain["encoding"].text
    assert curly["encoding"].text.startswith("UCS-2")
    assert "'’' (right single quotation mark)" in curly["encoding"].text
    # Spanish allows UCS-2 (its footer has accents already): a cost, not a fault.
    assert curly["encoding"].ok


def test_a_curly_quote_alone_is_worth_a_look(library):
    """Where only punctuation forces UCS-2, a plain character would keep the text GSM-7."""
    m = by_name(measure(library, "en/prompts.yaml", ("sms", "not_understood"), "Sorry, we didn’t understand."))
    assert m["encoding"].text.startswith("UCS-2 (1 segment of 70): forced by '’' (right single quotation mark)")
    assert not m["encoding"].ok  # English sends GSM-7 only
    fine = by_name(measure(library, "en/prompts.yaml", ("sms", "not_understood"), "Sorry, we didn't understand."))
    assert fine["encoding"] == Measure("encoding", "GSM-7 (plain text)", True)


def test_segments_and_characters_left_move_as_the_text_grows(library):
    lang = library.languages["en"]
    seen = []
    for n in (10, 30, 50):  # 70, 210 and 350 characters
        value = "Sorry. " * n
        m = by_name(measure(library, "en/prompts.yaml", ("sms", "not_understood"), value))
        count = sms_encoding.count(lang.as_written(value))
        assert m["segments"].text.startswith(f"{count.segments} of 2 segments (GSM-7)")
        left = lang.text_budget.limit("GSM-7") - count.units
        seen.append((count.segments, m["segments"].ok, left, m["characters left"].ok))
        assert (str(left) if left >= 0 else str(-left)) in m["characters left"].text
    assert seen == [(1, True, 306 - 70, True), (2, True, 306 - 210, True), (3, False, 306 - 350, False)]


def test_a_topic_text_is_counted_as_the_costlier_text_the_line_sends(library):
    """The loader checks a topic's text with its source line and as sent to a caller: the live
    count is of the costlier, so it fails when the loader would."""
    lang = library.languages["en"]
    topic = lang.topics["results"]
    m = by_name(measure(library, "en/topics/results.yaml", ("text",), topic.written["text"].text))
    to_caller = fill(lang.sms["from_call"], topic=topic.body, citation=topic.citation)
    texter, caller = sms_encoding.count(topic.text), sms_encoding.count(to_caller)  # the loader's texts
    worst, what = (texter, "with its source line") if texter.units >= caller.units else (caller, "as sent to a caller")
    assert m["segments"].text == f"{worst.segments} of 2 segments (GSM-7), {what}"
    assert f"{306 - worst.units} characters left" in m["characters left"].text


# -- spoken words ------------------------------------------------------------------------------
def test_a_spoken_summary_reports_seconds_and_fails_over_the_limit(library):
    lang = library.languages["en"]
    short = "The cancer went away. It was one patient."
    m = by_name(measure(library, "en/topics/results.yaml", ("speech",), short))
    normal, slow = spoken_seconds(said(lang, short)), spoken_seconds(said(lang, short), slow=True)
    assert m["seconds of speech"] == Measure(
        "seconds of speech", f"about {normal:.0f} s of speech (slow: {slow:.0f} s); under {MAX_SPOKEN_SECONDS} s", True)
    long = "It helps. " * 130  # 260 words, about 99 s
    over = by_name(measure(library, "en/topics/results.yaml", ("speech",), long))["seconds of speech"]
    assert not over.ok and f"keep it under {MAX_SPOKEN_SECONDS} s" in over.text
    assert f"about {spoken_seconds(long):.0f} s" in over.text


def test_a_long_spoken_sentence_is_flagged(library):
    sentence = " ".join(["word"] * 25) + "."
    m = by_name(measure(library, "en/prompts.yaml", ("voice", "greeting"), sentence))
    assert not m["sentences"].ok and "a sentence of 25 words (at most 20)" in m["sentences"].text
    assert by_name(measure(library, "en/prompts.yaml", ("voice", "greeting"), "Hello. Welcome."))["sentences"].ok


def test_what_a_caller_hears_is_what_the_loader_makes(library):
    """said() stands for the loader's voice_fill: the seconds and the audio depend on it."""
    for lang in library.languages.values():
        for topic in lang.topics.values():
            assert said(lang, topic.written["speech"].text) == topic.speech
        for w in lang.prompts_written:
            if w.spoken:
                assert said(lang, w.text) == lang.voice_prompts[w.name]
        for intent in lang.intents.items.values():
            if "speech" in intent.written:
                assert said(lang, intent.written["speech"].text) == intent.speech


def test_words_a_voice_would_misread_are_named(library):
    m = by_name(measure(library, "en/prompts.yaml", ("voice", "greeting"), "Ask Dr. Smith & call us."))
    assert not m["misread"].ok
    assert "an abbreviation: 'Dr.'" in m["misread"].text and "an '&' sign" in m["misread"].text
    ok = by_name(measure(library, "en/prompts.yaml", ("voice", "greeting"), "Ask Doctor Smith and call us."))
    assert ok["misread"].ok


def test_glossary_words_are_warned_of(library):
    m = by_name(measure(library, "en/prompts.yaml", ("sms", "error"), "Ask your care team."))
    assert not m["glossary"].ok and "'health care provider'" in m["glossary"].text
    es = by_name(measure(library, "es/menu.yaml", ("menus", "about", "label"), "tumores y más"))
    assert not es["glossary"].ok and "'cáncer'" in es["glossary"].text
    assert by_name(measure(library, "en/prompts.yaml", ("sms", "error"), "Ask your health care provider."))["glossary"].ok


# -- numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("file,path", [
    ("en/intents.yaml", ("intents", "emergency", "text")),
    ("en/intents.yaml", ("intents", "crisis", "speech")),
    ("en/topics/where.yaml", ("text",)),
    ("es/prompts.yaml", ("voice", "greeting")),
])
def test_only_911_988_and_the_referral_number_are_given(library, file, path):
    bad = by_name(measure(library, file, path, "Call 555-1234 today."))["numbers"]
    assert not bad.ok and "555-1234" in bad.text
    good = by_name(measure(library, file, path, "Call 911 or 988, or the office at 1-866-820-4505, or {phone}."))
    assert good["numbers"].ok, good["numbers"].text


def test_a_year_is_a_number_only_where_the_loader_counts_every_number(library):
    assert by_name(measure(library, "en/topics/results.yaml", ("text",), "In 2018, a trial."))["numbers"].ok
    intent = by_name(measure(library, "en/intents.yaml", ("intents", "thanks", "text"), "In 2018, a trial."))
    assert not intent["numbers"].ok and "2018" in intent["numbers"].text


# -- reading -----------------------------------------------------------------------------------
def test_a_summarys_grade_uses_its_languages_formula(library):
    en, es = library.languages["en"], library.languages["es"]
    for lang, words, formula, target in ((en, "grade", "Flesch-Kincaid", "8 or less"),
                                         (es, "ease", "Fernández-Huerta", "70 or more")):
        topic = lang.topics["results"]
        r = reading(lang, topic)  # what `line check` judges
        m = by_name(measure(library, f"{lang.code}/topics/results.yaml", ("speech",), topic.written["speech"].text))
        assert m["reading grade"].text.startswith(f"{words} {r.score:.1f} by {formula} (target {target})")
        assert m["reading grade"].ok == r.ok
    spanish = es.topics["results"].written["speech"].text
    fk = readability.measure(es.as_written(spanish), "flesch-kincaid-grade").score
    assert f"{fk:.1f} by" not in by_name(measure(library, "es/topics/results.yaml", ("speech",), spanish))["reading grade"].text


def test_a_hard_summary_fails_its_grade(library):
    hard = ("Immunotherapeutic interventions substantially potentiate endogenous antitumor immunological "
            "responsiveness. Administration necessitates comprehensive multidisciplinary evaluation.")
    m = by_name(measure(library, "en/topics/results.yaml", ("speech",), hard))
    assert not m["reading grade"].ok and "rough" in m["reading grade"].text
    assert "reading grade" not in by_name(measure(library, "en/prompts.yaml", ("voice", "greeting"), hard))


# -- what a field is ---------------------------------------------------------------------------
@pytest.mark.parametrize("file,path,kind", [
    ("en/topics/results.yaml", ("text",), "sms"),
    ("es/topics/results.yaml", ("speech",), "speech"),
    ("es/topics/who.yaml", ("label",), "label"),
    ("en/topics/who.yaml", ("keyword",), "words"),
    ("en/topics/who.yaml", ("synonyms", 2), "words"),
    ("en/topics/who.yaml", ("examples", 0), "words"),
    ("en/topics/who.yaml", ("sources",), "other"),
    ("en/topics/who.yaml", ("reviewed",), "other"),
    ("es/topics/who.yaml", ("review",), "other"),
    ("en/prompts.yaml", ("sms", "help"), "sms"),
    ("es/prompts.yaml", ("sms", "topic_footer"), "sms"),
    ("en/prompts.yaml", ("voice", "greeting"), "speech"),
    ("es/prompts.yaml", ("voice", "speech_hint"), "speech"),
    ("en/menu.yaml", ("menus", "about", "label"), "label"),
    ("en/menu.yaml", ("menus", "about", "keyword"), "words"),
    ("es/menu.yaml", ("menus", "research", "synonyms", 1), "words"),
    ("en/menu.yaml", ("menus", "about", "options"), "other"),
    ("en/menu.yaml", ("main", "options"), "other"),
    ("en/intents.yaml", ("intents", "emergency", "text"), "sms"),
    ("es/intents.yaml", ("intents", "crisis", "speech"), "speech"),
    ("en/intents.yaml", ("intents", "person", "cues", 3), "words"),
    ("en/intents.yaml", ("intents", "person", "pairs", 0, "one_of"), "words"),
    ("en/intents.yaml", ("intents", "thanks", "alone"), "words"),
    ("en/intents.yaml", ("intents", "thanks", "examples", 3), "words"),
    ("en/intents.yaml", ("intents", "thanks", "label"), "other"),
    ("en/intents.yaml", ("intents", "thanks", "then"), "other"),
    ("en/intents.yaml", ("then_topic",), "sms"),
    ("es/intents.yaml", ("then_menu",), "sms"),
    ("en/intents.yaml", ("small_words",), "words"),
    ("en/intents.yaml", ("then_never",), "other"),
    ("es/language.yaml", ("line_name",), "label"),
    ("es/language.yaml", ("office_name",), "label"),
    ("en/language.yaml", ("citations", "fighting-cancer-2018"), "label"),
    ("en/language.yaml", ("sms_words", "help"), "words"),
    ("es/language.yaml", ("voice_words", "referral", 0), "words"),
    ("en/language.yaml", ("menu_words",), "words"),
    ("en/language.yaml", ("help_phrases", 1), "words"),
    ("en/language.yaml", ("voice", "espeak_voice"), "other"),
    ("en/language.yaml", ("spoken", "digits"), "other"),
    ("es/language.yaml", ("plain_language", "target"), "other"),
    ("en/language.yaml", ("sms_segments",), "other"),
    ("en/glossary.yaml", ("avoid", 0, "words"), "other"),
    ("es/glossary.yaml", ("preferred", "cancer"), "other"),
    ("en/opt-out.yaml", ("whole_message", 0), "words"),
    ("es/opt-in.yaml", ("polite",), "words"),
    ("shared.yaml", ("referral_office", "name"), "label"),
    ("shared.yaml", ("referral_office", "phone"), "other"),
    ("shared.yaml", ("sources", "fighting-cancer-2018", "title"), "other"),
    ("shared.yaml", ("phone_keys", "referral"), "other"),
])
def test_kind_of_real_fields(file, path, kind):
    body = (CONTENT / file).read_text(encoding="utf-8")
    assert path in parse(body, file)[1] or path[:-1] in parse(body, file)[1], "a real field of the file"
    assert kind_of(file, path) == kind


def test_kind_of_agrees_with_what_the_loader_says_is_spoken(library):
    """Every piece the loader keeps as written is sms or speech here, as its `spoken` says."""
    for lang in library.languages.values():
        for w in lang.prompts_written:
            file = w.file.removeprefix("content/")
            assert kind_of(file, ("voice" if w.spoken else "sms", w.name)) == ("speech" if w.spoken else "sms")
        for topic in lang.topics.values():
            file = topic.file.removeprefix("content/")
            assert [kind_of(file, (n,)) for n in ("text", "speech", "label")] == ["sms", "speech", "label"]
        for intent in lang.intents.items.values():
            for name, w in intent.written.items():
                assert kind_of(w.file, ("intents", intent.id, name)) == ("speech" if w.spoken else "sms")


# -- the loader's problems ---------------------------------------------------------------------
def test_problems_for_picks_only_the_problems_in_range():
    problems = [Problem("content/en/prompts.yaml", 4, "before"), Problem("content/en/prompts.yaml", 5, "first"),
                Problem("content/en/prompts.yaml", 7, "last", "warning"), Problem("content/en/prompts.yaml", 8, "after"),
                Problem("content/es/prompts.yaml", 6, "other language"), Problem("content/en/prompts.yaml", 0, "whole file"),
                Problem("content/en/topics/prompts.yaml", 6, "other file")]
    for file in ("en/prompts.yaml", "content/en/prompts.yaml"):
        assert [p.message for p in problems_for(problems, file, 5, 7)] == ["first", "last"]
    assert problems_for(problems, "en/prompts.yaml", 9, 20) == []


def test_problems_for_finds_the_loaders_error_in_a_field(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    intents = content / "en" / "intents.yaml"
    body = intents.read_text(encoding="utf-8")
    assert body.count("poison), call 911 now.") == 1
    intents.write_text(body.replace("poison), call 911 now.", "poison), call 911 now or 555-1234."),
                       encoding="utf-8")
    loaded = load(content)
    first = field_lines("en/intents.yaml", "intents", "emergency", "text")
    last = field_lines("en/intents.yaml", "intents", "emergency", "speech") - 1
    found = problems_for(loaded.problems, "en/intents.yaml", first, last)
    assert found and all("555-1234" in p.message for p in found)
    assert problems_for(loaded.problems, "en/intents.yaml", last + 1, last + 40) == []


# -- hearing it --------------------------------------------------------------------------------
def wav_seconds(data: bytes) -> tuple[float, int]:
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        return w.getnframes() / w.getframerate(), w.getnframes()


@pytest.fixture(scope="module")
def heard(library):
    words = "For help, call the {office} at {phone}."
    return words, hear(library, "en", words, False), hear(library, "en", words, True)


def test_hear_returns_a_phone_quality_wav_slower_when_slow(library, heard):
    words, normal, slow = heard
    seconds, frames = wav_seconds(normal)
    slow_seconds, _ = wav_seconds(slow)
    assert frames > 0
    expected = spoken_seconds(said(library.languages["en"], words))  # the digits said one by one
    assert 0.4 * expected < seconds < 3 * expected
    assert slow_seconds > 1.05 * seconds


def test_hear_speaks_spanish_and_is_bounded(library):
    seconds, frames = wav_seconds(hear(library, "es", "Llame al {phone}.", False))
    assert frames > 0 and seconds > 1.0
    with pytest.raises(ValueError):
        hear(library, "en", "a" * (MAX_HEAR_CHARS + 1), False)
    with pytest.raises(ValueError):
        hear(library, "fr", "Bonjour.", False)


def test_hear_is_safe_from_several_threads(library):
    texts = ["One two three.", "Reply MENU for topics.", "The number is {phone}.", "Thank you for calling."]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: hear(library, "en", t, False), texts))
    lengths = [wav_seconds(r)[0] for r in results]
    assert all(s > 0.3 for s in lengths)
    assert lengths[2] > lengths[0]  # each thread got its own words, not another's
