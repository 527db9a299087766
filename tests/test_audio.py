"""`line audio` and playing the clips: rendered once, verified, played instead of Twilio's voice."""
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import make_settings
from line import audio as clips
from line import create_app
from line.cli import main
from phone import Caller, walk_every_key


def run_audio(content: Path, data: Path, *args):
    env = {"LINE_CONTENT_DIR": str(content), "LINE_DATA_DIR": str(data)}
    return CliRunner().invoke(main, ["audio", *args], env=env)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The shipped content rendered once for this module (a few seconds)."""
    import shutil
    from conftest import CONTENT

    root = tmp_path_factory.mktemp("audio")
    content = root / "content"
    shutil.copytree(CONTENT, content)
    result = run_audio(content, root / "data")
    assert result.exit_code == 0, result.output
    return root, content, result.output


def test_every_clip_is_phone_quality_and_has_a_duration(rendered):
    root, _, output = rendered
    files = sorted((root / "data" / "audio").glob("*.wav"))
    assert files
    for path in files:
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            assert w.getnframes() > 0
    assert " 0 failed" in output
    assert "rendered" in output and " s  " in output  # a duration printed for each clip


def test_only_what_changed_is_rendered_again(rendered):
    root, content, _ = rendered
    again = run_audio(content, root / "data")
    assert again.exit_code == 0
    assert "0 rendered" in again.output
    topic = content / "en" / "topics" / "where.yaml"
    topic.write_text(topic.read_text().replace("This is from NIH", "Thank you. This is from NIH"))
    changed = run_audio(content, root / "data")
    assert "2 rendered" in changed.output  # the one summary, at each pace
    assert changed.output.count("rendered ") == 2


def test_an_empty_file_from_pyttsx3_is_retried(tmp_path, monkeypatch):
    calls = []
    real_save = clips.Speaker.save

    def flaky(self, text, voice, rate, path):
        calls.append(text)
        if len(calls) == 1:
            Path(path).write_bytes(b"")  # what pyttsx3 sometimes leaves
            return
        real_save(self, text, voice, rate, path)

    monkeypatch.setattr(clips.Speaker, "save", flaky)
    [result] = clips.render([("Hello there.", "en-us", False)], tmp_path)
    assert result.status == "rendered" and result.attempts == 2 and result.seconds > 0


def test_an_empty_clip_left_in_the_folder_is_rendered_again(tmp_path):
    name = clips.clip_name("Hello there.", "en-us", False)
    (tmp_path / name).write_bytes(b"")
    [result] = clips.render([("Hello there.", "en-us", False)], tmp_path)
    assert result.status == "rendered"
    assert clips.duration(tmp_path / name) > 0


def test_the_line_plays_the_clips_everywhere_once_rendered(rendered, tmp_path):
    root, content, _ = rendered
    run_audio(content, root / "data")
    app = create_app(make_settings(tmp_path, content_dir=content, audio_mode="files", audio_dir=root / "data" / "audio"))

    def no_say(place, key, step):
        assert step.root.find(".//Say") is None, (place, key, step.xml)

    for lang in ("en", "es"):
        walk_every_key(app, lang, dial_status="busy", check=no_say)
    c = Caller(app)
    c.call()
    slow = c.press("#")
    assert slow.root.find(".//Say") is None and slow.root.find(".//Play") is not None
    played = c.client.get(slow.root.find(".//Play").text)
    assert played.status_code == 200 and played.mimetype == "audio/wav"
    assert "immutable" in played.headers["Cache-Control"]


def test_a_prompt_without_a_clip_falls_back_to_say(rendered, tmp_path):
    root, content, _ = rendered
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    app = create_app(make_settings(tmp_path, content_dir=content, audio_mode="files", audio_dir=audio_dir))
    step = Caller(app).call()
    assert step.root.find(".//Play") is None
    assert "Welcome to the Cancer Immunotherapy Info Line" in step.said


def test_clips_rendered_while_the_line_runs_are_played_from_the_next_look(rendered, tmp_path):
    """Answers are built once and kept, but never past a change in the clips they could play."""
    import shutil

    root, content, _ = rendered
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    app = create_app(make_settings(tmp_path, content_dir=content, audio_mode="files", audio_dir=audio_dir))
    app.extensions["line"].audio.rescan_seconds = 0  # look at the folder on every answer
    before = Caller(app).call()
    assert before.root.find(".//Play") is None
    for clip in (root / "data" / "audio").glob("*.wav"):
        shutil.copy(clip, audio_dir)
    after = Caller(app).call()
    assert after.root.find(".//Say") is None and after.root.find(".//Play") is not None


def test_no_path_outside_the_audio_folder_is_served(app, tmp_path):
    client = app.test_client()
    for path in ["/audio/../secret.key", "/audio/..%2fsecret.key", "/audio/%2e%2e%2fline.db",
                 "/audio/secret.key", "/audio/" + "0" * 32 + ".wav"]:
        assert client.get(path).status_code == 404, path


def test_every_slow_clip_is_at_least_ten_percent_longer_than_its_twin(rendered):
    """The slower voice really is slower: `line audio` checks each slow clip against its twin."""
    from conftest import CONTENT
    from line.content import load_library
    from line.engine.calls import phrases

    root, _, output = rendered
    library = load_library(CONTENT)
    ratios = []
    for code, text in sorted(phrases(library)):
        voice = library.languages[code].voice.espeak_voice
        normal = clips.duration(root / "data" / "audio" / clips.clip_name(text, voice, False))
        slow = clips.duration(root / "data" / "audio" / clips.clip_name(text, voice, True))
        assert normal > 0 and slow >= clips.SLOWER_BY * normal, (text, normal, slow)
        ratios.append(slow / normal)
    assert f"Slow clips: {len(ratios)} checked against their twins" in output
    assert f"the shortest {min(ratios):.2f}" in output


class OneRateSpeaker(clips.Speaker):
    """A worker that speaks every clip at the normal rate, as pyttsx3 did when the rate did not take."""

    def __init__(self, rate):
        super().__init__(clips.RATES[False])

    def save(self, text, voice, rate, path):
        super().save(text, voice, clips.RATES[False], path)


def test_a_slow_clip_as_long_as_its_twin_fails_and_is_not_kept(tmp_path):
    pieces = [("To hear this again, press star.", "en-us", False), ("To hear this again, press star.", "en-us", True)]
    normal, slow = clips.render(pieces, tmp_path, speaker_factory=OneRateSpeaker)
    assert normal.status == "rendered"
    assert slow.status == "failed" and slow.attempts == clips.ATTEMPTS
    assert "times as long as its twin" in slow.why
    assert not (tmp_path / slow.name).exists()  # Twilio's slower voice says it instead
    [again] = clips.render(pieces[1:], tmp_path)  # a worker at the slower rate
    assert again.status == "rendered" and again.slower >= clips.SLOWER_BY


def test_a_cached_slow_clip_no_slower_than_its_twin_is_rendered_again(tmp_path):
    import shutil

    pieces = [("To go back, press eight.", "en-us", False), ("To go back, press eight.", "en-us", True)]
    normal, _ = clips.render(pieces, tmp_path)
    shutil.copy(tmp_path / normal.name, tmp_path / clips.clip_name(*pieces[1]))  # an old clip at the wrong rate
    [slow] = clips.render(pieces[1:], tmp_path)
    assert slow.status == "rendered" and slow.slower >= clips.SLOWER_BY
