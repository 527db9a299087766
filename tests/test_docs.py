"""The docs tell the truth: every setting the code reads is in the operators' table (and nothing
else is), every `line` command they show exists as written, every script they name is there, and
every link between them leads somewhere."""
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from line.cli import main as line_command

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SETTING = re.compile(r"""["'`]((?:LINE|TWILIO)_[A-Z0-9_]+|DATABASE_URL)["'`]""")


def settings_the_code_reads() -> set[str]:
    found = set()
    for path in (ROOT / "line").rglob("*.py"):
        found |= set(SETTING.findall(path.read_text()))
    return found


def settings_table() -> set[str]:
    """The variables named in the first column of docs/operations.md's settings table."""
    rows = set()
    for line in (ROOT / "docs" / "operations.md").read_text().splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            rows |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
    return rows


def test_every_setting_the_code_reads_is_in_the_operators_table_and_no_other():
    read, documented = settings_the_code_reads(), settings_table()
    assert read, "no settings found in line/: the pattern is wrong"
    assert sorted(read - documented) == [], "read by the code but missing from docs/operations.md"
    assert sorted(documented - read) == [], "in docs/operations.md but read nowhere in line/"


def shown_line_commands() -> list[tuple[str, list[str]]]:
    """(file, words) for every `.venv/bin/line ...` a doc shows."""
    shown = []
    for path in DOCS:
        for match in re.finditer(r"\.venv/bin/line((?: [a-z][a-z-]*)*)", path.read_text()):
            shown.append((path.name, match.group(1).split()))
    return shown


def test_the_docs_show_line_commands():
    assert len(shown_line_commands()) >= 8


@pytest.mark.parametrize("where, words", shown_line_commands())
def test_every_line_command_the_docs_show_exists(where, words):
    command, path = line_command, []
    for word in words:
        if not isinstance(command, click.Group):
            break  # the rest are the command's arguments
        assert word in command.commands, f"{where}: `.venv/bin/line {' '.join(words)}`: no command {word!r}"
        command = command.commands[word]
        path.append(word)
    result = CliRunner().invoke(line_command, [*path, "--help"])
    assert result.exit_code == 0, result.output


def test_every_script_the_docs_name_is_there():
    named = set()
    for path in DOCS:
        named |= set(re.findall(r"(?<![\w-])(scripts/[\w.]+)", path.read_text()))
    assert "scripts/setup" in named and "scripts/bench" in named
    for script in named:
        file = ROOT / script
        assert file.is_file(), script
        if file.suffix != ".py":
            assert file.stat().st_mode & 0o111, f"{script} is not executable"


def test_every_link_between_the_docs_leads_somewhere():
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
            assert (path.parent / target).exists(), f"{path.name} links to {target}, which is not there"
