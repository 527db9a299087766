"""Measured, not hoped: the labeled set (tests/labeled/messages.tsv) through the engine's own
judgement, held to the thresholds of issue 11."""
import pytest
from click.testing import CliRunner

from conftest import CONTENT
from line import labeled
from line.cli import main
from line.content import load_library
from line.measure import SAFE_RECALL, THRESHOLD, measure

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
def test_every_other_label_is_right_95_percent_of_the_time(label):
    n, right = COUNTS[label]
    misses = [(row.line, row.message, got) for row, got in RESULT.rows if row.label == label and got != label]
    assert right / n >= THRESHOLD, misses


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
    assert "BELOW THRESHOLD: thanks: 0/1 (0.0%), below 95%" in result.output
