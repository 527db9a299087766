"""Measured, not hoped: the labeled set (tests/labeled/messages.tsv) through the engine's own
judgement, held to the thresholds of issue 11."""
import pytest
from click.testing import CliRunner

from conftest import CONTENT
from line import labeled
from line.cli import main
from line.content import load_library
from line.measure import ALL_THRESHOLD, SAFE_RECALL, THRESHOLD, measure

LIB = load_library(CONTENT)
RESULT = measure(LIB, labeled.read())
COUNTS = RESULT.counts()


@pytest.mark.parametrize("label", SAFE_RECALL)
def test_every_emergency_crisis_and_opt_out_is_found(label):
    n, right = COUNTS[label]
    misses = [(row.line, row.message, got) for row, got in RESULT.rows if row.label == label and got != label]
    assert right == n, misses


def test_nothing_else_is_taken_for_an_opt_out():
    assert [(row.line, row.message, row.label) for row, _ in RESULT.false_opt_outs] == []


@pytest.mark.parametrize("label", [label for label in labeled.LABELS if label not in SAFE_RECALL])
def test_every_other_label_is_right_as_often_as_last_measured(label):
    n, right = COUNTS[label]
    misses = [(row.line, row.message, got) for row, got in RESULT.rows if row.label == label and got != label]
    assert right / n >= THRESHOLD, misses


def test_all_the_messages_together_are_right_as_often_as_last_measured():
    misses = [(row.line, row.message, got) for row, got in RESULT.rows if got != row.label]
    assert RESULT.right / len(RESULT.rows) >= ALL_THRESHOLD, misses


def test_line_measure_prints_accuracy_per_label_and_fails_below_the_thresholds(tmp_path):
    result = CliRunner().invoke(main, ["measure"], env={"LINE_CONTENT_DIR": str(CONTENT)})
    assert "label          right   of  accuracy  threshold" in result.output
    assert "emergency" in result.output and "100% (recall)" in result.output
    assert result.exit_code == (1 if RESULT.failing() else 0), result.output
    # A set where the line misses: the command says which and exits 1.
    bad = tmp_path / "bad.tsv"
    bad.write_text("message\tlanguage\tlabel\nchest pain\ten\tthanks\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["measure", str(bad), "--misses"], env={"LINE_CONTENT_DIR": str(CONTENT)})
    assert result.exit_code == 1
    assert "line 2 [en sms] thanks -> emergency: chest pain" in result.output
    assert "BELOW THRESHOLD: thanks: 0/1 (0.0%), below 80%; all: 0/1 (0.0%), below 99%" in result.output


def test_line_measure_fails_on_a_message_that_is_an_example_and_names_both(tmp_path):
    # "Chest pain!" is the example "chest pain" of the emergency intent: the line was taught it.
    examples = (CONTENT / "en" / "intents.yaml").read_text().splitlines()
    at = next(i for i, text in enumerate(examples, 1) if text.strip() == "- chest pain")
    bad = tmp_path / "taught.tsv"
    bad.write_text("message\tlanguage\tlabel\nChest pain!\ten\temergency\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["measure", str(bad)], env={"LINE_CONTENT_DIR": str(CONTENT)})
    assert result.exit_code == 1
    assert f"line 2 \"Chest pain!\" is the example at content/en/intents.yaml:{at}" in result.output
    assert "BELOW THRESHOLD: examples in the set: 1, want 0" in result.output


@pytest.mark.parametrize("label", ["crisis", "emergency"])
def test_nothing_else_gets_the_crisis_or_the_emergency_answer(label):
    """Issue 21: those answers come alone; given to a question ("is immunotherapy a pill you
    take") they frighten the texter and hide what was asked."""
    assert [(row.line, row.message, row.label) for row, _ in RESULT.false_alarms()[label]] == []


def test_line_measure_prints_false_crisis_and_false_emergency_as_their_own_figures_and_fails_on_one(tmp_path):
    result = CliRunner().invoke(main, ["measure"], env={"LINE_CONTENT_DIR": str(CONTENT)})
    assert "false crisis: 0 (want 0)" in result.output and "false emergency: 0 (want 0)" in result.output
    bad = tmp_path / "alarm.tsv"
    bad.write_text("message\tlanguage\tlabel\nI want to die\ten\tfeelings\nchest pain\ten\tpersonal\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["measure", str(bad)], env={"LINE_CONTENT_DIR": str(CONTENT)})
    assert result.exit_code == 1
    assert "false crisis: 1 (want 0)\n  line 2 [en sms] feelings -> crisis: I want to die" in result.output
    assert "false emergency: 1 (want 0)\n  line 3 [en sms] personal -> emergency: chest pain" in result.output
    assert "false crisis: 1, want 0; false emergency: 1, want 0" in result.output
