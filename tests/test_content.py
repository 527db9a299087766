"""Staff's view of the content loader: every broken edit is refused with the file and line to fix."""
import re
from datetime import date
from pathlib import Path

import pytest

from conftest import CONTENT
from line.content import load_library
from line.match import Target
from line.content import ContentError

SIDE = "en/topics/side-effects.yaml"
TRIALS = "en/topics/trials.yaml"
MENU = "en/menu.yaml"
PROMPTS = "en/prompts.yaml"
LANGUAGE = "en/language.yaml"
SHARED = "shared.yaml"
TREATMENT_OPTIONS = "options: [how-given, where, side-effects, needle-site]"
SIDE_TEXT_END = "Ask your health care provider about any side effects."


# -- helpers -------------------------------------------------------------------------------
def edit(folder: Path, rel: str, old: str, new: str) -> None:
    path = folder / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {rel} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def set_field(folder: Path, rel: str, name: str, value: str) -> int:
    """Give a top-level one-line field a new value; the number of its line."""
    path = folder / rel
    text, found = re.subn(rf"^{name}: .*$", f"{name}: {value}", path.read_text(encoding="utf-8"), flags=re.M)
    assert found == 1, f"{name} is not a one-line field of {rel}"
    path.write_text(text, encoding="utf-8")
    return line_of(folder, rel, f"{name}: {value}")


def append(folder: Path, rel: str, lines: str) -> int:
    """Add lines at the end of a file; the number of the first added line."""
    path = folder / rel
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    path.write_text(text + lines, encoding="utf-8")
    return text.count("\n") + 1


def line_of(folder: Path, rel: str, needle: str) -> int:
    """The number of the one line of a file that contains `needle`."""
    found = [n for n, line in enumerate((folder / rel).read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    assert len(found) == 1, (rel, needle, found)
    return found[0]


def refused(folder: Path) -> ContentError:
    with pytest.raises(ContentError) as caught:
        load_library(folder)
    return caught.value


def problem(error: ContentError, rel: str, line: int | None, *words: str) -> str:
    """The one problem reported at rel:line whose message has all `words`; its text as staff read it."""
    where = f"{rel}:{line}:" if line else f"{rel}: "
    hits = [str(p) for p in error.problems if where in str(p) and all(w in str(p) for w in words)]
    assert len(hits) == 1, f"wanted {where} {words}, got:\n{error}"
    assert hits[0] in str(error)  # and the exception's own message carries it
    return hits[0]


def only_problem(error: ContentError, rel: str, line: int | None, *words: str) -> str:
    """As `problem`, and nothing else was reported (no follow-on noise)."""
    text = problem(error, rel, line, *words)
    assert len(error.problems) == 1, f"expected one problem, got:\n{error}"
    return text


# -- what ships -----------------------------------------------------------------------------
def test_the_shipped_content_loads_without_problems(content_copy):
    library = load_library(CONTENT)
    assert library.warnings == ()
    en = library.language("en")
    assert set(en.topics) == {p.stem for p in (CONTENT / "en" / "topics").glob("*.yaml")}
    assert en.topics["side-effects"].keyword == "SIDE"
    assert all(isinstance(t.reviewed, date) and t.reviewed <= date.today() for t in en.topics.values())
    assert library.sources["own-immune-system-2019"].date == date(2019, 1, 9)
    # The copy the other tests break starts out identical.
    assert load_library(content_copy).version == library.version


# -- YAML itself ------------------------------------------------------------------------------
def test_invalid_yaml_names_the_line(content_copy):
    edit(content_copy, SIDE, "label: side effects", "label: side: effects")
    only_problem(refused(content_copy), SIDE, line_of(content_copy, SIDE, "label: side: effects"), "is not valid YAML")


def test_a_duplicate_key_is_an_error_not_an_overwrite(content_copy):
    line = append(content_copy, SIDE, "keyword: SIDES\n")
    only_problem(refused(content_copy), SIDE, line, "'keyword' is given twice")


def test_a_file_that_is_not_a_mapping(content_copy):
    (content_copy / SIDE).write_text("- just\n- a list\n")
    only_problem(refused(content_copy), SIDE, 1, "must be a set of 'name: value' lines")


def test_yaml_booleans_stay_words(content_copy):
    edit(content_copy, SIDE, "synonyms: [side effects,", "synonyms: [NO, on, off, side effects,")
    en = load_library(content_copy).language("en")
    synonyms = en.topics["side-effects"].synonyms
    assert synonyms[:3] == ("NO", "on", "off")
    assert all(type(s) is str for s in synonyms)
    for word in ["off", "on", "no", "NO"]:
        assert en.matcher.understand(word).target == Target("topic", "side-effects"), word


# -- fields -----------------------------------------------------------------------------------
def test_a_missing_field_in_a_topic(content_copy):
    edit(content_copy, SIDE, "label: side effects\n", "")
    only_problem(refused(content_copy), SIDE, 1, "missing field 'label'")


def test_an_unknown_field_lists_the_known_ones(content_copy):
    line = append(content_copy, SIDE, "colour: blue\n")
    text = only_problem(refused(content_copy), SIDE, line, "unknown field 'colour'")
    assert "keyword, label, review, reviewed, sources, speech, synonyms, text" in text


def test_an_empty_text(content_copy):
    edit(content_copy, SIDE, "label: side effects", 'label: "  "')
    only_problem(refused(content_copy), SIDE, line_of(content_copy, SIDE, "label:"), "'label' is empty")


def test_a_missing_prompt(content_copy):
    edit(content_copy, PROMPTS, '  not_understood: >-\n    Sorry, we did not understand. If you feel unwell, call your health care\n'
                                '    provider. In an emergency, call 911. If you are thinking of hurting\n'
                                '    yourself, call or text 988.\n', "")
    only_problem(refused(content_copy), PROMPTS, line_of(content_copy, PROMPTS, "sms:"), "missing field 'not_understood'")


@pytest.mark.parametrize("prompt", ["topic_footer", "main_menu", "submenu", "from_call", "help"])
def test_a_missing_prompt_the_topics_and_menus_need(content_copy, prompt):
    path = content_copy / PROMPTS
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {prompt}:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    path.write_text("".join(lines[:start] + lines[end:]))
    only_problem(refused(content_copy), PROMPTS, line_of(content_copy, PROMPTS, "sms:"), f"missing field '{prompt}'")


# -- words a texter sends ----------------------------------------------------------------------
def test_a_keyword_that_is_another_topics_synonym(content_copy):
    # side-effects loads first, so trials' synonym 'study' is the one refused, naming both.
    edit(content_copy, SIDE, "keyword: SIDE", "keyword: STUDY")
    text = only_problem(refused(content_copy), TRIALS, line_of(content_copy, TRIALS, "synonyms:"),
                        "'study' is also a keyword or synonym of topic 'side-effects'")
    assert f"{SIDE}:1)" in text


def test_a_synonym_that_is_another_topics_synonym(content_copy):
    edit(content_copy, SIDE, "synonyms: [side effects,", "synonyms: [Clinical Trial, side effects,")
    text = only_problem(refused(content_copy), TRIALS, line_of(content_copy, TRIALS, "synonyms:"),
                        "'clinical trial'", "topic 'side-effects'")
    assert f"{SIDE}:{line_of(content_copy, SIDE, 'synonyms:')})" in text


def test_a_synonym_that_is_a_menu_word(content_copy):
    edit(content_copy, SIDE, "synonyms: [side effects,", "synonyms: [topics, side effects,")
    only_problem(refused(content_copy), LANGUAGE, line_of(content_copy, LANGUAGE, "menu_words:"),
                 "'topics' is also a keyword or synonym of topic 'side-effects'")


@pytest.mark.parametrize("rel, old, new, needle, word", [
    (SIDE, "synonyms: [side effects,", "synonyms: [yes, side effects,", "synonyms:", "YES"),
    (SIDE, "synonyms: [side effects,", "synonyms: [side effects, End,", "synonyms:", "END"),
    (SIDE, "keyword: SIDE", "keyword: HELP", "keyword:", "HELP"),
    (SIDE, "keyword: SIDE", "keyword: STOP", "keyword:", "STOP"),
    (MENU, "synonyms: [treatment,", "synonyms: [treatment, stop!,", "synonyms: [treatment,", "STOP"),
])
def test_a_keyword_or_synonym_that_hides_a_compliance_word(content_copy, rel, old, new, needle, word):
    edit(content_copy, rel, old, new)
    only_problem(refused(content_copy), rel, line_of(content_copy, rel, needle),
                 f"is the text word {word} (an opt-out, opt-in, help or language word)")


# -- texts that would cost more or read wrong ------------------------------------------------
@pytest.mark.parametrize("new, named", [
    ("Ask your doctor\u2019s team. Text NEEDLE for more.", "'\u2019' (right single quotation mark)"),
    ("Ask your health care provider \u2013 today. Text NEEDLE for more.", "'\u2013' (en dash)"),
    ("Ask your health care provider. \U0001F600 Text NEEDLE for more.", "'\U0001F600' (grinning face)"),
])
def test_a_character_outside_gsm7_is_named(content_copy, new, named):
    edit(content_copy, SIDE, SIDE_TEXT_END, new)
    error = refused(content_copy)
    text = problem(error, SIDE, line_of(content_copy, SIDE, "text:"), "the text (with its source line)", named)
    assert "it would be sent as UCS-2" in text
    assert all(named in str(p) for p in error.problems)


def test_a_plain_apostrophe_and_dash_are_fine(content_copy):
    edit(content_copy, SIDE, SIDE_TEXT_END, "Ask your doctor's team - today. Text NEEDLE for more.")
    assert "doctor's team - today" in load_library(content_copy).language("en").topics["side-effects"].text


def test_a_text_too_long_for_two_segments(content_copy):
    edit(content_copy, SIDE, SIDE_TEXT_END, "Ask your health care provider about it. " * 3 + "Text NEEDLE for more.")
    text = problem(refused(content_copy), SIDE, line_of(content_copy, SIDE, "text:"), "the text (with its source line)")
    assert "3 text segments; the most is 306 characters (2 segments)" in text


def test_an_unknown_placeholder(content_copy):
    edit(content_copy, SIDE, SIDE_TEXT_END, "Ask {doctor}. Text NEEDLE for more.")
    only_problem(refused(content_copy), SIDE, line_of(content_copy, SIDE, "text:"),
                 "'text' uses {doctor}, which is not known here", "{phone}")


def test_a_known_placeholder_is_filled_in(content_copy):
    edit(content_copy, SIDE, SIDE_TEXT_END, "Ask your health care provider or call {phone}.")
    text = load_library(content_copy).language("en").topics["side-effects"].text
    assert "or call 1-866-820-4505." in text and "{phone}" not in text


# -- sources and dates ---------------------------------------------------------------------------
def test_a_topic_naming_an_unknown_source(content_copy):
    line = set_field(content_copy, SIDE, "sources", "[fighting-cancer-2018, blog-2024]")
    only_problem(refused(content_copy), SIDE, line, "unknown source 'blog-2024' (sources are listed in shared.yaml)")


@pytest.mark.parametrize("bad, words", [
    ("2026-13-01", "'2026-13-01' is not a date written as YYYY-MM-DD"),
    ("21/11/2026", "'21/11/2026' is not a date written as YYYY-MM-DD"),
    ("2999-01-01", "reviewed date 2999-01-01 is in the future"),
])
def test_a_bad_reviewed_date(content_copy, bad, words):
    line = set_field(content_copy, SIDE, "reviewed", bad)
    only_problem(refused(content_copy), SIDE, line, words)


# -- menus and phone keys ------------------------------------------------------------------------
def test_a_menu_with_six_options(content_copy):
    edit(content_copy, MENU, TREATMENT_OPTIONS,
         "options: [how-given, where, side-effects, needle-site, nih-research, interleukin]")
    edit(content_copy, MENU, "options: [nih-research, interleukin, cell-therapy, results]",
         "options: [cell-therapy, results]")
    only_problem(refused(content_copy), MENU, line_of(content_copy, MENU, "nih-research, interleukin]"),
                 "menu 'treatment' has 6 options; callers can follow 5 at most")


def test_a_topic_that_no_menu_lists(content_copy):
    edit(content_copy, MENU, TREATMENT_OPTIONS, "options: [how-given, where, needle-site]")
    only_problem(refused(content_copy), SIDE, None, "this topic is in no menu, so callers cannot reach it")


def test_a_menu_option_naming_nothing(content_copy):
    edit(content_copy, MENU, TREATMENT_OPTIONS, "options: [how-given, where, side-effects, needle-site, sied-effects]")
    only_problem(refused(content_copy), MENU, line_of(content_copy, MENU, "sied-effects"),
                 "menu 'treatment' lists 'sied-effects', which is neither a topic nor a menu")


@pytest.mark.parametrize("key", ["1", "3", "5"])
def test_a_reserved_phone_key_needed_by_the_menus(content_copy, key):
    edit(content_copy, SHARED, 'slower: "#"', f'slower: "{key}"')
    only_problem(refused(content_copy), SHARED, line_of(content_copy, SHARED, "slower:"),
                 f"phone key {key} for slower is needed for menu options 1 to 5")


def test_two_reserved_names_on_one_phone_key(content_copy):
    edit(content_copy, SHARED, 'slower: "#"', 'slower: "8"')
    only_problem(refused(content_copy), SHARED, line_of(content_copy, SHARED, "slower:"),
                 "phone key 8 is used for both back and slower")


# -- several problems at once -----------------------------------------------------------------------
def test_every_problem_is_reported_sorted_by_file_and_line(content_copy):
    set_field(content_copy, SIDE, "sources", "[nope]")
    set_field(content_copy, TRIALS, "reviewed", "soon")
    line = append(content_copy, TRIALS, "colour: blue\n")
    edit(content_copy, SHARED, 'slower: "#"', 'slower: "3"')
    edit(content_copy, MENU, "options: [nih-research, interleukin, cell-therapy, results]",
         "options: [nih-research, interleukin, cell-therapy, results, ghost]")
    error = refused(content_copy)
    expected = [
        (MENU, line_of(content_copy, MENU, "ghost"), "lists 'ghost'"),
        (SIDE, line_of(content_copy, SIDE, "sources:"), "unknown source 'nope'"),
        (TRIALS, line_of(content_copy, TRIALS, "reviewed:"), "'soon' is not a date"),
        (TRIALS, line, "unknown field 'colour'"),
        (SHARED, line_of(content_copy, SHARED, "slower:"), "phone key 3 for slower"),
    ]
    for rel, n, words in expected:
        problem(error, rel, n, words)
    assert len(error.problems) == len(expected), str(error)
    assert [(p.file, p.line) for p in error.problems] == sorted((p.file, p.line) for p in error.problems)
    reported = str(error).splitlines()
    assert [r.split(": error:")[0] for r in reported] == [f"{p.file}:{p.line}" for p in error.problems]
    # The order staff read them in: by file, then by line within a file.
    assert reported[2].endswith("'soon' is not a date written as YYYY-MM-DD")
    assert "unknown field 'colour'" in reported[3]


def test_each_load_gets_its_own_copy_of_a_file_and_an_edit_is_read(tmp_path):
    """Parsing is a memo keyed by the text: loading the same file twice gives equal values that do
    not share anything, and a changed file is parsed again."""
    from line.content.yaml_source import load

    path = tmp_path / "x.yaml"
    path.write_text("a: [one, two]\nb:\n  c: three\n")
    first, lines = load(path, "x.yaml")
    second, _ = load(path, "x.yaml")
    assert first == second == {"a": ["one", "two"], "b": {"c": "three"}} and lines.at("b", "c") == 3
    first["a"].append("changed")
    first["b"]["c"] = "changed"
    assert load(path, "x.yaml")[0] == {"a": ["one", "two"], "b": {"c": "three"}}
    path.write_text("a: [one]\n")
    assert load(path, "x.yaml")[0] == {"a": ["one"]}
    path.write_text("a: [one\n")
    with pytest.raises(ContentError) as caught:
        load(path, "x.yaml")
    assert "x.yaml:2: error: is not valid YAML" in str(caught.value)
