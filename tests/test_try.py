"""`line try`: the preview in a terminal, driven through piped input."""
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from conftest import CONTENT, TOKEN
from line import create_app
from line.cli import main
from line.config import Settings
from line.content import load_library

LIB = load_library(CONTENT)
EN, ES = LIB.language("en"), LIB.language("es")
CLEARED = ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "LINE_ALLOW_UNSIGNED", "DATABASE_URL", "LINE_PUBLIC_URL",
           "LINE_PROXY_COUNT", "LINE_CONTENT_DIR", "LINE_AUDIO", "LINE_AUDIO_DIR", "LINE_STAFF_PASSWORD",
           "LINE_LOG_LEVEL")


def env_for(tmp_path, **extra) -> dict:
    env = {name: None for name in CLEARED}
    env.update(LINE_DATA_DIR=str(tmp_path / "data"), LINE_SECRET="test-secret", **extra)
    return env


def run(tmp_path, lines: list[str], **extra):
    result = CliRunner(env=env_for(tmp_path, **extra)).invoke(main, ["try"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output, " ".join(result.output.split())  # as printed; and with the wrapping undone


def test_a_text_shows_the_reply(tmp_path):
    _, flat = run(tmp_path, ["text side effects", "quit"], LINE_ALLOW_UNSIGNED="1")
    assert "> text side effects" in flat
    assert "Line replies: " + EN.topics["side-effects"].text in flat


def test_each_session_texts_as_a_new_number_the_notice_first_once(tmp_path):
    notice, topic = EN.sms["first_text"], EN.topics["side-effects"].text
    for _ in range(2):  # a second `line try` is a new texter again: nothing was recorded
        _, flat = run(tmp_path, ["text side effects", "text side effects", "quit"], LINE_ALLOW_UNSIGNED="1")
        assert f"> text side effects Line replies: {notice} Line replies: {topic} > text side effects " \
               f"Line replies: {topic} > quit" in flat
        assert flat.count(notice) == 1


def test_each_session_starts_in_english_whatever_the_last_one_chose(tmp_path):
    """docs/staff.md: a `line try` is a new number, in English. The last session's ESPANOL and STOP
    were its own (the line and its store are the same: the same data folder)."""
    flat_text = lambda text: " ".join(text.split())  # noqa: E731
    _, flat = run(tmp_path, ["text ESPANOL", "text menu", "text STOP", "quit"], LINE_ALLOW_UNSIGNED="1")
    assert f"> text menu Line replies: {flat_text(ES.menus['main'].text)} > text STOP No reply" in flat
    _, flat = run(tmp_path, ["text menu", "quit"], LINE_ALLOW_UNSIGNED="1")
    notice, menu = flat_text(EN.sms["first_text"]), flat_text(EN.menus["main"].text)
    assert f"> text menu Line replies: {notice} Line replies: {menu} > quit" in flat


def test_a_call_says_the_words_the_place_and_the_keys(tmp_path):
    output, flat = run(tmp_path, ["call", "2", "3", "quit"], TWILIO_AUTH_TOKEN=TOKEN)
    assert "Line says: Welcome to the Cancer Immunotherapy Info Line." in flat
    assert "Place: Main menu > Getting treatment and side effects > Side effects" in output
    assert EN.topics["side-effects"].speech in flat
    assert "Keys: 1 Cancer and immunotherapy basics; 2 Getting treatment and side effects;" in flat
    assert "Keys: * repeat; 8 back one level; 9 main menu; 0 the referral office (transfer)" in flat
    assert "Press a key (0-9 * #), say <words>, or wait." in output


def test_words_silence_and_the_transfer(tmp_path):
    output, flat = run(tmp_path, ["call", "say clinical trials", "wait", "wait", "0", "busy", "*", "0", "completed",
                                  "2", "call", "quit"])
    assert EN.topics["trials"].speech in flat
    assert "Line says: We did not hear anything." in output
    assert "Line says: Take your time." in output
    assert "The line would transfer the caller to +18668204505." in output
    assert "How does the transfer end? Type: completed, busy, no-answer, failed" in output
    assert "Sorry, we could not put you through." in flat
    assert "Place: Main menu > The referral office's number" in output
    assert flat.count("one. eight, six, six. eight, two, zero. four, five, zero, five") >= 4
    assert "The line hung up: the call ended. Type call to call again." in output
    assert "The call ended: type call to call again." in output  # the key pressed after the goodbye
    assert output.count("Line says: Welcome") == 2


def test_mistakes_are_explained_and_the_loop_goes_on(tmp_path):
    output, _ = run(tmp_path, ["5", "busy", "wait", "bogus", "text", "say", "call", "busy", "hang up", "#"])
    assert output.count("There is no call: type call first.") == 3  # 5, wait, and # after hanging up
    assert "The line is not putting the caller through right now." in output
    assert "Not a command: bogus. Type help for the list." in output
    assert "Type text and the words, like: text side effects" in output
    assert "Type say and the words, like: say side effects" in output
    assert "You hung up. Type call to call again." in output
    assert "Line says: Welcome" in output  # the input ran out without quit: it ends cleanly


def test_it_counts_no_usage_and_needs_no_twilio_settings(tmp_path):
    run(tmp_path, ["text side effects", "text purple elephants", "call", "2", "say purple elephants", "0",
                   "no-answer", "quit"])
    app = create_app(Settings.from_env({"LINE_DATA_DIR": str(tmp_path / "data"), "LINE_SECRET": "test-secret",
                                        "TWILIO_AUTH_TOKEN": TOKEN}))
    store = app.extensions["line"].store
    since = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert store.events_since(since) == [] and store.unmatched_since(since) == []


@pytest.mark.parametrize("words", ["help", "?"])
def test_help_lists_the_commands(tmp_path, words):
    output, _ = run(tmp_path, [words, "quit"])
    assert output.count("say <words>") == 2


@pytest.mark.parametrize("command", [["try"], ["serve", "--allow-unsigned"]])
def test_content_with_errors_is_named_on_stderr_and_nothing_starts(tmp_path, content_copy, command, monkeypatch):
    from flask import Flask

    monkeypatch.setattr(Flask, "run", lambda *a, **k: pytest.fail("the line started with broken content"))
    (content_copy / "en" / "menu.yaml").write_text("main: [unclosed\n", encoding="utf-8")
    result = CliRunner(env=env_for(tmp_path, LINE_CONTENT_DIR=str(content_copy))).invoke(main, command, input="quit\n")
    assert result.exit_code == 1, (result.output, result.exception)
    assert "content/en/menu.yaml" in result.stderr
    assert "error(s): callers keep hearing the last good version." in result.stderr
    assert "Trying the" not in result.output and "listening" not in result.output
