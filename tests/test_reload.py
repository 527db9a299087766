"""Publishing: a good edit reaches texters and callers without a restart; a broken one never does."""
import logging

from conftest import Twilio, make_settings
from line import create_app
from line.content import check_folder
from line.runtime import runtime
from phone import Caller

OLD = "Sometimes this process goes wrong."
NEW = "Sometimes this process breaks down."


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_good_edit_is_published_without_a_restart(tmp_path, content_copy):
    app = create_app(make_settings(tmp_path, content_dir=content_copy, reload_seconds=0))
    texter, caller = Twilio(app), Caller(app)
    caller.call()
    assert OLD in caller.say("what is cancer").said
    topic = content_copy / "en" / "topics" / "cancer.yaml"
    edit(topic, "new cells grow when you don't need them", "new cells grow when your body does not need them")
    edit(topic, OLD, NEW)
    [reply] = texter.text("CANCER")
    assert "when your body does not need them" in reply
    assert NEW in caller.say("repeat").said


def test_a_broken_edit_never_reaches_callers_and_is_logged_as_line_check_says(tmp_path, content_copy, caplog):
    app = create_app(make_settings(tmp_path, content_dir=content_copy, reload_seconds=0))
    texter = Twilio(app)
    before = texter.text("SIDE")
    topic = content_copy / "en" / "topics" / "side-effects.yaml"
    edit(topic, "keyword: SIDE", "keyword: SIDE\nkeyword: AGAIN")  # a duplicate key
    edit(topic, "Ask your health care provider about any side effects.", "Ask your nurse about any side effects.")
    caplog.set_level(logging.ERROR)
    assert texter.text("SIDE") == before
    assert "Welcome to the Cancer Immunotherapy Info Line" in Caller(app).call().said
    expected = [str(p) for p in check_folder(content_copy).errors]
    assert expected and all(message in caplog.text for message in expected)
    assert "NOT published" in caplog.text
    edit(topic, "keyword: SIDE\nkeyword: AGAIN", "keyword: SIDE")
    [fixed] = texter.text("SIDE")
    assert "Ask your nurse" in fixed


def test_one_request_hears_one_version(tmp_path, content_copy):
    app = create_app(make_settings(tmp_path, content_dir=content_copy, reload_seconds=0))
    with app.test_request_context("/sms", method="POST"):
        first = runtime().library()
        edit(content_copy / "en" / "topics" / "cancer.yaml", OLD, NEW)
        assert runtime().library() is first
    with app.test_request_context("/sms", method="POST"):
        assert runtime().library() is not first
        assert NEW in runtime().library().language("en").topics["cancer"].speech


def test_changes_are_looked_for_at_most_once_an_interval(tmp_path, content_copy):
    app = create_app(make_settings(tmp_path, content_dir=content_copy, reload_seconds=3600))
    texter = Twilio(app)
    before = texter.text("CANCER")
    edit(content_copy / "en" / "topics" / "cancer.yaml", "mass called a tumor", "lump called a tumor")
    assert texter.text("CANCER") == before
    assert app.extensions["line"].content.refresh() is True
    assert "lump called a tumor" in texter.text("CANCER")[0]


def test_a_worker_starting_during_a_broken_edit_serves_the_last_published_version(tmp_path, content_copy, caplog):
    first = create_app(make_settings(tmp_path, content_dir=content_copy))  # publishes, and keeps a copy
    good = Twilio(first).text("CANCER")
    topic = content_copy / "en" / "topics" / "cancer.yaml"
    edit(topic, "keyword: CANCER", "keyword: CANCER\nkeyword: TWICE")
    caplog.set_level(logging.ERROR)
    restarted = create_app(make_settings(tmp_path, content_dir=content_copy))  # e.g. after a crash
    assert Twilio(restarted).text("CANCER") == good
    assert "serves the last published version" in caplog.text and "en/topics/cancer.yaml" in caplog.text


def test_broken_content_with_nothing_published_before_refuses_to_start(tmp_path, content_copy):
    import pytest
    from line.content import ContentError

    edit(content_copy / "en" / "topics" / "cancer.yaml", "keyword: CANCER", "keyword: CANCER\nkeyword: TWICE")
    with pytest.raises(ContentError):
        create_app(make_settings(tmp_path, content_dir=content_copy))


def test_an_edit_saved_while_a_version_is_copied_is_not_kept_as_that_version(tmp_path, content_copy, monkeypatch):
    """Each published version is kept in the data folder under its own name, for a worker that
    starts during a broken edit. A copy made while staff saved again holds the new edit, not the
    version just published: it is thrown away, and the next check publishes (and keeps) the edit."""
    import shutil

    from line import reload
    from line.reload import LiveLibrary

    topic = content_copy / "en" / "topics" / "cancer.yaml"
    copy = shutil.copytree

    def copy_while_staff_save(src, dst, *args, **kwargs):
        if src == content_copy:  # (copytree calls itself for each folder within)
            edit(topic, OLD, NEW)  # saved after the version was read, as it is being copied
        return copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(reload.shutil, "copytree", copy_while_staff_save)
    live = LiveLibrary(content_copy, interval=0, snapshots=tmp_path / "published")
    monkeypatch.setattr(reload.shutil, "copytree", copy)
    published = live.current.version
    assert not (tmp_path / "published" / published).exists()
    assert live.refresh() and live.current.version != published
    kept = tmp_path / "published" / "current"
    assert NEW in (kept / "en" / "topics" / "cancer.yaml").read_text()
    assert kept.resolve().name == live.current.version
