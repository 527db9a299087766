"""The staff console through Flask's test client: accounts, roles, drafts, review, publish,
history, rollback, edits made outside the console, the audit log (the browser test walks the
same change in Chromium: tests/test_staff_browser.py)."""
from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner

from conftest import make_settings
from line import create_app
from line.cli import main as cli
from line.simulator import Session, Simulator
from line.staff import audit, yaml_edit
from line.store.schema import audit as audit_table
from staff_helpers import PASSWORD, add_staff, console_app, post, revision, sign_in, token

RESULTS = "es/topics/results.yaml"
TEXT = yaml_edit.key(("text",))
NEW_WORDS = ("En 2018, en un ensayo clínico del NCI, con una inmunoterapia experimental desapareció el cáncer "
             "de mama avanzado de una paciente; no se habla de cura. Pregunte a su equipo de salud.")


@pytest.fixture
def app(tmp_path):
    app = console_app(tmp_path)
    add_staff(app, "ana", "editor")
    add_staff(app, "rosa", "reviewer")
    add_staff(app, "sam", "admin")
    return app


def start_draft(client, title="Shorter Spanish results", item="topics/results.yaml") -> int:
    response = post(client, "/staff/drafts", {"title": title, "item": item})
    assert response.status_code == 302
    return int(re.search(r"/drafts/(\d+)/", response.headers["Location"]).group(1))


def save(client, draft_id, file, key, words, item="topics/results.yaml", shown=None):
    page = f"/staff/drafts/{draft_id}/content/{item}"
    html = client.get(page).get_data(as_text=True)
    rev = re.search(r'name="revision" value="(\d+)"', html).group(1)
    if shown is None:
        shown = yaml_edit.value_at((client.application.extensions["line_staff"].folder / file).read_text(), yaml_edit.parse_key(key))
    return post(client, page, {"revision": rev, f"f|{file}|{key}": words, f"shown|{file}|{key}": shown}, page=page)


def spanish_results(app) -> list[str]:
    session = Session(Simulator(app))
    session.text("ESPANOL")
    return session.text("RESULTADOS")


def published_text(app, file=RESULTS, key=TEXT) -> str:
    return yaml_edit.value_at((app.extensions["line_staff"].folder / file).read_text(), yaml_edit.parse_key(key))


# -- off unless set ---------------------------------------------------------------------------
def test_the_console_is_off_without_its_secret_even_with_unsigned_requests_allowed(tmp_path):
    app = create_app(make_settings(tmp_path, allow_unsigned=True))
    client = app.test_client()
    assert client.get("/staff/login").status_code == 404
    assert client.get("/staff/").status_code == 404


def test_a_short_secret_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="LINE_STAFF_SECRET must be at least 32"):
        make_settings(tmp_path, ).from_env({"LINE_STAFF_SECRET": "short", "LINE_DATA_DIR": str(tmp_path)})


# -- accounts ---------------------------------------------------------------------------------
def test_a_one_time_password_must_be_replaced_at_first_sign_in(app):
    once = add_staff(app, "lee", "editor", password=None)
    client = app.test_client()
    response = client.post("/staff/login", data={"name": "lee", "password": once, "csrf_token": token(client)})
    assert response.headers["Location"].endswith("/staff/password")
    assert client.get("/staff/content").headers["Location"].endswith("/staff/password")  # nothing else first
    short = post(client, "/staff/password", {"password": "short", "again": "short"}, page="/staff/password")
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    done = post(client, "/staff/password", {"password": "my own long words", "again": "my own long words"},
                page="/staff/password")
    assert done.status_code == 302
    assert client.get("/staff/content").status_code == 200
    again = app.test_client()
    refused = again.post("/staff/login", data={"name": "lee", "password": once, "csrf_token": token(again)})
    assert refused.status_code == 401  # the one-time password worked once


def test_wrong_passwords_are_limited_and_told_plainly(app):
    client = app.test_client()
    for _ in range(5):
        wrong = client.post("/staff/login", data={"name": "ana", "password": "not it", "csrf_token": token(client)})
        assert wrong.status_code == 401
        assert "do not match an active account" in wrong.get_data(as_text=True)
    limited = client.post("/staff/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token(client)})
    assert limited.status_code == 429 and "Wait 15 minutes" in limited.get_data(as_text=True)


def test_every_form_needs_its_csrf_token(app):
    client = sign_in(app, "ana")
    response = client.post("/staff/drafts", data={"title": "No token"})
    assert response.status_code == 400 and "out of date" in response.get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.post("/staff/login", data={"name": "ana", "password": PASSWORD}).status_code == 400


def test_a_person_without_the_role_gets_403_not_the_page(app):
    editor = sign_in(app, "ana")
    for url in ("/staff/people", "/staff/audit"):
        response = editor.get(url)
        assert response.status_code == 403 and "Your role (editor) cannot" in response.get_data(as_text=True)
    draft_id = start_draft(editor)
    assert post(editor, f"/staff/drafts/{draft_id}/review", {"verdict": "approved", "revision": "0"}).status_code == 403
    assert post(editor, "/staff/releases/1/rollback", {"why": "x", "latest": "1"}).status_code == 403
    assert app.test_client().get("/staff/content").status_code == 302  # not signed in: to the sign-in page


def test_a_session_ends_after_its_idle_time_and_says_so(app):
    client = sign_in(app, "ana")
    assert client.get("/staff/").status_code == 200
    with client.session_transaction("/staff/") as session:
        session["seen"] = int(time.time()) - 31 * 60
    response = client.get("/staff/content")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out after a while without activity" in page and "saved edits are kept" in page
    assert client.get("/staff/").status_code == 302


def test_staying_signed_in_starts_the_idle_time_again(app):
    client = sign_in(app, "ana")
    with client.session_transaction("/staff/") as session:
        session["seen"] = int(time.time()) - 29 * 60
    extended = client.post("/staff/session/extend", headers={"X-CSRFToken": token(client, "/staff/")})
    assert extended.status_code == 200 and extended.json["idle_seconds"] == 30 * 60
    with client.session_transaction("/staff/") as session:
        assert time.time() - session["seen"] < 5


def test_line_staff_add_prints_a_one_time_password_that_signs_in(tmp_path, monkeypatch):
    app = console_app(tmp_path)
    monkeypatch.setenv("LINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LINE_STAFF_SECRET", "s" * 40)
    result = CliRunner().invoke(cli, ["staff", "add", "maria", "--role", "reviewer"])
    assert result.exit_code == 0, result.output
    once = re.search(r"One-time password for maria: (\S+)", result.output).group(1)
    client = app.test_client()
    assert client.post("/staff/login", data={"name": "maria", "password": once,
                                             "csrf_token": token(client)}).status_code == 302
    again = CliRunner().invoke(cli, ["staff", "add", "maria", "--role", "editor"])
    assert again.exit_code != 0 and "already a staff member called maria" in again.output
    listed = CliRunner().invoke(cli, ["staff", "list"])
    assert "maria\treviewer\tactive (one-time password not yet replaced)" in listed.output


# -- the whole change ---------------------------------------------------------------------------
def test_edit_check_submit_approve_publish_and_roll_back(app):
    before = published_text(app)
    assert any(before.split()[-1] in t for t in spanish_results(app))
    editor = sign_in(app, "ana")
    draft_id = start_draft(editor)
    page = editor.get(f"/staff/drafts/{draft_id}/content/topics/results.yaml").get_data(as_text=True)
    assert "English" in page and "Spanish" in page and before.split()[0] in page

    # Live checks, from the same code as line check: segments move as the text grows.
    short = editor.post(f"/staff/drafts/{draft_id}/check", data={"file": RESULTS, "key": TEXT, "words": "Hola."},
                        headers={"X-CSRFToken": token(editor, "/staff/")}).json["html"]
    long = editor.post(f"/staff/drafts/{draft_id}/check", data={"file": RESULTS, "key": TEXT, "words": NEW_WORDS * 3},
                       headers={"X-CSRFToken": token(editor, "/staff/")}).json["html"]
    assert re.search(r"\b1 of \d+ segment", short), short
    assert not re.search(r"\b1 of \d+ segment", long), long

    assert save(editor, draft_id, RESULTS, TEXT, NEW_WORDS).status_code == 302
    assert published_text(app) == before  # a draft changes nothing callers get
    draft_page = editor.get(f"/staff/drafts/{draft_id}").get_data(as_text=True)
    assert "[+Pregunte a su equipo +]" in draft_page and "<ins>" in draft_page and "added: " in draft_page
    assert "<del>" in draft_page and "removed: </span>[-hígado o colon.-]" in draft_page

    # Tried through the real line, with the draft's words; nothing recorded.
    tried = post(editor, f"/staff/drafts/{draft_id}/try", {"action": "text", "body": "RESULTADOS", "language": "es",
                                                           "answered": "1", "opted_out": "0"},
                 page=f"/staff/drafts/{draft_id}/try").get_data(as_text=True)
    assert "Pregunte a su equipo de salud." in tried
    called = post(editor, f"/staff/drafts/{draft_id}/try", {"action": "call"}, page=f"/staff/drafts/{draft_id}/try")
    assert called.status_code == 200 and "Press a key" in called.get_data(as_text=True)

    assert post(editor, f"/staff/drafts/{draft_id}/submit", {"revision": revision(editor, draft_id)}).status_code == 302
    own = post(editor, f"/staff/drafts/{draft_id}/review", {"verdict": "approved", "revision": revision(editor, draft_id)})
    assert own.status_code == 403  # editors do not review; nor does an author (next test)

    reviewer = sign_in(app, "rosa")
    approved = post(reviewer, f"/staff/drafts/{draft_id}/review", {"verdict": "approved",
                                                                   "revision": revision(reviewer, draft_id)})
    assert approved.status_code == 302 and approved.headers["Location"].endswith("/staff/releases/2")
    assert published_text(app) == NEW_WORDS
    assert any("Pregunte a su equipo de salud." in t for t in spanish_results(app))
    history = reviewer.get("/staff/releases/2").get_data(as_text=True)
    assert "approved by rosa" in history and "Shorter Spanish results" in history and "by ana" in history

    rolled = post(reviewer, "/staff/releases/1/rollback", {"why": "Put the longer text back", "latest": "2"},
                  page="/staff/releases/1")
    assert rolled.status_code == 302 and rolled.headers["Location"].endswith("/staff/releases/3")
    assert published_text(app) == before
    assert not any("Pregunte a su equipo de salud." in t for t in spanish_results(app))
    listing = reviewer.get("/staff/releases").get_data(as_text=True)
    assert "rolled back to release 1" in listing and "Put the longer text back" in listing
    again = post(reviewer, "/staff/releases/1/rollback", {"why": "twice", "latest": "2"}, page="/staff/releases/1")
    assert "Another release was made since" in reviewer.get(again.headers["Location"]).get_data(as_text=True)


def test_publishing_changes_only_that_fields_lines(app):
    folder = app.extensions["line_staff"].folder
    before = (folder / RESULTS).read_text()
    editor, reviewer = sign_in(app, "ana"), sign_in(app, "rosa")
    draft_id = start_draft(editor)
    save(editor, draft_id, RESULTS, TEXT, NEW_WORDS)
    post(editor, f"/staff/drafts/{draft_id}/submit", {"revision": revision(editor, draft_id)})
    post(reviewer, f"/staff/drafts/{draft_id}/review", {"verdict": "approved", "revision": revision(reviewer, draft_id)})
    after = (folder / RESULTS).read_text()
    old_lines, new_lines = before.splitlines(), after.splitlines()
    start = next(i for i, line in enumerate(old_lines) if line.startswith("text:"))
    assert old_lines[:start] == new_lines[:start]  # comments, keys, order: untouched
    speech = next(i for i, line in enumerate(old_lines) if line.startswith("speech:"))
    assert old_lines[speech:] == new_lines[len(new_lines) - (len(old_lines) - speech):]


def test_an_author_never_approves_their_own_draft(app):
    reviewer = sign_in(app, "rosa")
    draft_id = start_draft(reviewer)
    save(reviewer, draft_id, RESULTS, TEXT, NEW_WORDS)
    post(reviewer, f"/staff/drafts/{draft_id}/submit", {"revision": revision(reviewer, draft_id)})
    own = post(reviewer, f"/staff/drafts/{draft_id}/review", {"verdict": "approved", "revision": revision(reviewer, draft_id)})
    assert own.status_code == 403 and "someone other than its author" in own.get_data(as_text=True)
    assert published_text(app) != NEW_WORDS


def test_a_broken_draft_names_the_field_is_kept_and_cannot_be_submitted(app):
    editor = sign_in(app, "ana")
    draft_id = start_draft(editor)
    broken = NEW_WORDS + " Una frase más, que ya no cabe en los mensajes que el texto puede ocupar en un teléfono."
    assert save(editor, draft_id, RESULTS, TEXT, broken).status_code == 302
    page = editor.get(f"/staff/drafts/{draft_id}").get_data(as_text=True)
    assert "problem(s)</strong> must be fixed" in page
    assert "content/es/topics/results.yaml:31: error: the text (with its source line) is" in page  # file, line, why
    edit_page = editor.get(f"/staff/drafts/{draft_id}/content/topics/results.yaml").get_data(as_text=True)
    assert "que ya no cabe en los mensajes" in edit_page  # kept, not lost
    assert "text segments in UCS-2" in edit_page  # and said at the field
    refused = post(editor, f"/staff/drafts/{draft_id}/submit", {"revision": revision(editor, draft_id)})
    assert refused.status_code == 400 and "your edits are kept" in refused.get_data(as_text=True)
    assert "que ya no cabe" not in published_text(app)


def test_a_stale_form_or_a_second_click_changes_nothing_twice(app):
    editor = sign_in(app, "ana")
    draft_id = start_draft(editor)
    save(editor, draft_id, RESULTS, TEXT, NEW_WORDS)
    rev = revision(editor, draft_id)
    assert post(editor, f"/staff/drafts/{draft_id}/submit", {"revision": rev}).status_code == 302
    second = post(editor, f"/staff/drafts/{draft_id}/submit", {"revision": rev})
    assert second.status_code == 409 and "nothing was changed" in second.get_data(as_text=True)
    with app.extensions["line"].store.engine.connect() as conn:
        submitted = [r for r in audit.rows(conn) if r["action"] == "submitted"]
    assert len(submitted) == 1


def test_two_people_editing_one_field_the_second_is_told_and_never_overwrites(app):
    ana, lee = sign_in(app, "ana"), None
    add_staff(app, "lee", "editor")
    lee = sign_in(app, "lee")
    reviewer = sign_in(app, "rosa")
    first = start_draft(ana, "Ana's results")
    save(ana, first, RESULTS, TEXT, NEW_WORDS)
    second = start_draft(lee, "Lee's results")
    page = lee.get(f"/staff/drafts/{second}/content/topics/results.yaml").get_data(as_text=True)
    assert f"Also changed in draft" in page and "Ana&#39;s results" in page and "by ana" in page
    save(lee, second, RESULTS, TEXT, "Lee's own words about the results, which nobody may lose.")
    for who, draft_id in ((ana, first), (lee, second)):
        post(who, f"/staff/drafts/{draft_id}/submit", {"revision": revision(who, draft_id)})
    post(reviewer, f"/staff/drafts/{first}/review", {"verdict": "approved", "revision": revision(reviewer, first)})
    assert published_text(app) == NEW_WORDS
    response = post(reviewer, f"/staff/drafts/{second}/review", {"verdict": "approved", "revision": revision(reviewer, second)})
    told = reviewer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not published" in told and "were changed by another release" in told and RESULTS in told
    assert published_text(app) == NEW_WORDS  # Ana's words stand; Lee's wait in the draft


def test_the_same_draft_in_two_tabs_keeps_both_words(app):
    editor = sign_in(app, "ana")
    draft_id = start_draft(editor)
    original = published_text(app)
    save(editor, draft_id, RESULTS, TEXT, NEW_WORDS)
    stale = save(editor, draft_id, RESULTS, TEXT, "Words typed in an older tab.", shown=original)
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Not saved: changed since you opened the page" in page
    assert "Words typed in an older tab." in page  # yours, to use again


def test_edits_outside_the_console_are_shown_and_can_be_adopted(app):
    folder = app.extensions["line_staff"].folder
    reviewer = sign_in(app, "rosa")
    reviewer.get("/staff/")  # release 1 is made from the folder as first found
    path = folder / "en/topics/results.yaml"
    path.write_text(path.read_text().replace("label:", "# edited on the server\nlabel:", 1))
    home = reviewer.get("/staff/").get_data(as_text=True)
    assert "Changed outside the console" in home
    outside = reviewer.get("/staff/outside").get_data(as_text=True)
    assert "en/topics/results.yaml" in outside and "# edited on the server" in outside
    tree = re.search(r'name="tree" value="([0-9a-f]+)"', outside).group(1)
    editor = sign_in(app, "ana")
    draft_id = start_draft(editor)
    save(editor, draft_id, RESULTS, TEXT, NEW_WORDS)
    post(editor, f"/staff/drafts/{draft_id}/submit", {"revision": revision(editor, draft_id)})
    response = post(reviewer, f"/staff/drafts/{draft_id}/review", {"verdict": "approved", "revision": revision(reviewer, draft_id)})
    assert "changed outside the console" in reviewer.get(response.headers["Location"]).get_data(as_text=True)
    adopted = post(reviewer, "/staff/outside/adopt", {"why": "A comment made on the server", "tree": tree}, page="/staff/outside")
    assert adopted.headers["Location"].endswith("/staff/releases/2")
    assert "Changed outside the console" not in reviewer.get("/staff/").get_data(as_text=True)
    assert post(reviewer, f"/staff/drafts/{draft_id}/publish").headers["Location"].endswith("/staff/releases/3")
    assert published_text(app) == NEW_WORDS and "# edited on the server" in path.read_text()


def test_the_audit_log_has_every_step_chained_and_nothing_of_texters(app):
    editor, reviewer = sign_in(app, "ana"), sign_in(app, "rosa")
    draft_id = start_draft(editor)
    save(editor, draft_id, RESULTS, TEXT, NEW_WORDS)
    post(editor, f"/staff/drafts/{draft_id}/try", {"action": "text", "body": "call me at +15555550123 i am scared"},
         page=f"/staff/drafts/{draft_id}/try")
    post(editor, f"/staff/drafts/{draft_id}/submit", {"revision": revision(editor, draft_id)})
    post(reviewer, f"/staff/drafts/{draft_id}/review", {"verdict": "approved", "revision": revision(reviewer, draft_id)})
    post(reviewer, "/staff/releases/1/rollback", {"why": "back", "latest": "2"}, page="/staff/releases/1")
    store = app.extensions["line"].store
    with store.engine.connect() as conn:
        rows = audit.rows(conn)
        assert audit.verify(conn) is None
    actions = [r["action"] for r in reversed(rows)]
    for step in ("staff added", "signed in", "first release", "draft started", "edited", "submitted", "approved",
                 "published", "rolled back"):
        assert step in actions, actions
    dump = repr(rows)
    assert "5555550123" not in dump and "scared" not in dump and "Pregunte" not in dump
    page = sign_in(app, "sam").get("/staff/audit").get_data(as_text=True)
    assert "Every entry follows from the one before it" in page
    with store.db.write() as conn:
        conn.execute(audit_table.update().where(audit_table.c.action == "approved").values(actor="mallory"))
    assert "The log was changed" in sign_in(app, "sam").get("/staff/audit").get_data(as_text=True)


def test_hear_gives_the_drafts_words_in_the_lines_voice(app):
    editor = sign_in(app, "ana")
    draft_id = start_draft(editor)
    speech = yaml_edit.key(("speech",))
    save(editor, draft_id, RESULTS, speech, "Hola. Esto es una prueba corta.")
    normal = editor.get(f"/staff/hear?draft={draft_id}&file={RESULTS}&key={speech}")
    slow = editor.get(f"/staff/hear?draft={draft_id}&file={RESULTS}&key={speech}&slow=1")
    assert normal.status_code == 200 and normal.mimetype == "audio/wav" and normal.data[:4] == b"RIFF"
    assert len(slow.data) > len(normal.data)


def test_staff_pages_send_strict_headers(app):
    client = sign_in(app, "ana")
    response = client.get("/staff/content")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    signed = app.test_client()
    login = signed.post("/staff/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token(signed)})
    cookie = login.headers["Set-Cookie"]
    assert "line_staff=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
