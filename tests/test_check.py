"""`line check`: each check fires on a bad example and stays quiet on the shipped content."""
from datetime import date

import pytest
from click.testing import CliRunner

from conftest import CONTENT
from line.content import check_folder
from line.cli import main


def check(folder):
    return CliRunner().invoke(main, ["check", str(folder)])


def test_the_shipped_content_has_no_errors_and_no_warnings():
    result = check(CONTENT)
    assert result.exit_code == 0, result.output
    assert "no errors, 0 warning(s)" in result.output
    for topic in (CONTENT / "en" / "topics").glob("*.yaml"):
        assert f"en/{topic.stem} " in result.output  # a table row per topic


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if new.splitlines()[0] in line)


@pytest.mark.parametrize("field, old, new, expected", [
    ("speech", "Doctor Steven Rosenberg was", "Steven Rosenberg, M.D., Ph.D., was", "an abbreviation"),
    ("speech", "Doctor Steven Rosenberg was", "Dr. Steven Rosenberg was", "an abbreviation"),
    ("speech", "He and his team were testing", "Call 1-866-820-4505. He and his team were testing", "writes the referral number out"),
    ("speech", "He and his team were testing", "Write to IRC@nih.gov. He and his team were testing", "writes the referral email out"),
    ("speech", "He and his team were testing", "Write to team@example.org. He and his team were testing", "an email address"),
    ("text", "NIH said it and its National Cancer Institute (NCI)", "NIH (866.820.4505)", "writes the referral number out"),
])
def test_words_a_voice_would_misread_or_facts_written_twice_are_errors(content_copy, field, old, new, expected):
    path = content_copy / "en" / "topics" / "nih-research.yaml"
    edit(path, old, new)
    result = check(content_copy)
    assert result.exit_code == 1
    assert "en/topics/nih-research.yaml:" in result.output and expected in result.output


def test_a_summary_over_90_seconds_is_an_error(content_copy):
    path = content_copy / "en" / "topics" / "where.yaml"
    edit(path, "This is from NIH", "You may get it at a clinic. " * 40 + "This is from NIH")
    result = check(content_copy)
    assert result.exit_code == 1
    assert "en/topics/where.yaml:" in result.output and "keep it under 90 s" in result.output


def test_hard_words_and_long_sentences_are_errors(content_copy):
    """Issue 12: every summary at grade 8 or below, counted on every word, its sentences at most 20
    words: line check enforces them (they used to be warnings)."""
    path = content_copy / "en" / "topics" / "where.yaml"
    edit(path, "Where do people get immunotherapy?",
                "Administration of pharmacological interventions necessitates institutional infrastructure, "
                "considerable organizational coordination, and comprehensive multidisciplinary evaluation "
                "by specialists working together over many weeks in several departments of the hospital. "
                "Where do people get immunotherapy?")
    line = next(n for n, row in enumerate(path.read_text().splitlines(), 1) if row.startswith("speech:"))
    result = check(content_copy)
    assert result.exit_code == 1
    assert f"content/en/topics/where.yaml:{line}: error: the spoken summary reads at" in result.output
    assert "counting every word (want grade 8 or below)" in result.output
    assert "a sentence of 27 words (at most 20)" in result.output


def test_the_grade_counts_every_word_and_the_table_shows_both():
    """The listed terms (immunotherapy, metastatic ...) count: a summary full of them is judged on
    them. The table shows the old count without them beside the judged one."""
    from dataclasses import replace

    from line.content import load_library
    from line.content.checks import reading, reading_without_terms

    lang = load_library(CONTENT).language("en")
    topic = lang.topics["who"]
    heavy = replace(topic.written["speech"], text=topic.written["speech"].text.replace(
        "Who may benefit from immunotherapy?",
        "Who may benefit from immunotherapy? Ask about immunotherapy, chemotherapy, and metastatic immunotherapies."))
    topic = replace(topic, written={**topic.written, "speech": heavy})
    assert reading(lang, topic).score > 8 >= reading_without_terms(lang, topic).score
    shipped = check_folder(CONTENT).render()
    assert "reading w/o terms   avg longest" in shipped
    assert "en/cancer                  261  2 of 2" in shipped and "4U of 4" in shipped


def test_sentences_that_average_more_than_15_words_are_an_error(content_copy):
    path = content_copy / "en" / "topics" / "needle-site.yaml"
    text = path.read_text()
    speech = text[text.index("speech: >-"):]
    path.write_text(text.replace(speech, "speech: >-\n"
                                 "  If you got it in a vein, you may have side effects where the needle went in. It may\n"
                                 "  hurt, or be swollen or sore, and it may itch, or you may get a rash there. Ask your\n"
                                 "  health care provider about any side effects, from NIH MedlinePlus magazine, July\n"
                                 "  2018.\n"))
    report = check_folder(content_copy)
    assert any("content/en/topics/needle-site.yaml:" in str(p) and "sentences average 17.0 words (at most 15)" in str(p)
               for p in report.errors), report.render()


def test_an_old_review_is_a_warning(content_copy):
    report = check_folder(content_copy, today=date(2028, 1, 1))
    warnings = [str(p) for p in report.warnings]
    line = next(i for i, text in enumerate((content_copy / "en/topics/cancer.yaml").read_text().splitlines(), 1)
                if text.startswith("reviewed:"))
    assert any("more than a year ago" in w and f"en/topics/cancer.yaml:{line}:" in w for w in warnings), warnings
    assert not check_folder(content_copy).warnings


def test_a_word_broken_at_a_dash_is_a_warning(content_copy):
    path = content_copy / "en" / "topics" / "side-effects.yaml"
    edit(path, "tiredness, and other flu-like", "tiredness, and other flu-\n  like")
    result = check(content_copy)
    assert "broken at a dash ('flu- like')" in result.output


def test_texts_outside_gsm7_name_the_characters_and_the_encoding(content_copy):
    path = content_copy / "en" / "topics" / "where.yaml"
    edit(path, "You may get immunotherapy at a doctor's office", "You may get immunotherapy at a doctor’s office — or")
    result = check(content_copy)
    assert result.exit_code == 1
    assert "right single quotation mark" in result.output and "em dash" in result.output
    assert "UCS-2" in result.output


def test_errors_come_before_warnings(content_copy):
    edit(content_copy / "en" / "topics" / "side-effects.yaml", "tiredness, and other flu-like", "tiredness, and other flu-\n  like")
    edit(content_copy / "en" / "topics" / "where.yaml", "keyword: WHERE", "keyword: where is")
    lines = check(content_copy).output.splitlines()
    kinds = [("error" if ": error:" in l else "warning") for l in lines if ": error:" in l or ": warning:" in l]
    assert kinds and kinds == sorted(kinds)  # "error" sorts before "warning"


def test_a_number_said_only_once_on_the_phone_is_an_error(content_copy):
    path = content_copy / "en" / "topics" / "trials.yaml"
    edit(path, " Again, the number is {phone}.", " Please call.")
    result = check(content_copy)
    assert result.exit_code == 1
    assert "content/en/topics/trials.yaml:" in result.output and "says {phone} once" in result.output


def test_line_check_reads_each_content_file_once(monkeypatch):
    """One pass: the loader's reading gives the library and every problem; no check reads the YAML again."""
    import line.content.reader as reader

    reads = []
    real = reader.load
    monkeypatch.setattr(reader, "load", lambda path, label: reads.append(label) or real(path, label))
    report = check_folder(CONTENT)
    assert not report.errors and report.rows
    assert len(reads) == len(set(reads)) == len(list(CONTENT.rglob("*.yaml")))


def test_a_check_is_a_function_over_the_library(content_copy):
    """Checks read what the loader kept (each text as written, with its file and line)."""
    from line.content import checks, load

    edit(content_copy / "en" / "topics" / "side-effects.yaml", "tiredness, and other flu-like", "tiredness, and other flu-\n  like")
    library = load(content_copy).library
    found = list(checks.words_broken_at_a_dash(library, date.today()))
    assert [(p.file, p.severity) for p in found] == [("content/en/topics/side-effects.yaml", "warning")]
    assert library.warnings == tuple(found)


def test_a_then_never_that_names_no_topic_is_an_error(content_copy):
    path = content_copy / "es" / "intents.yaml"
    line = edit(path, "then_never: [cancer, immunotherapy]", "then_never: [cancer, inmunoterapia]")
    result = check(content_copy)
    assert result.exit_code == 1
    assert f"es/intents.yaml:{line}:" in result.output and "'inmunoterapia' is not a topic or menu" in result.output
