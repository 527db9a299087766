"""The console's pages: content, drafts (edit, check, hear, try, review, publish), releases
(history, diff, rollback, edits made outside the console), the audit log and staff accounts."""
from __future__ import annotations

import difflib
import io
import re

import secrets

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, send_file, session, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import CSRFError

from ..runtime import runtime
from ..simulator import DIAL_OUTCOMES, PRESSABLE, PreviewError, Simulator, check_voice_url, new_call_sid
from ..store import NumberState
from . import accounts, audit, drafts, releases, yaml_edit
from .auth import expired, extend, idle_seconds, login, logout, needs, password, touch
from .console import Console, csrf, draft_view, items, languages
from .feedback import hear as hear_words, kind_of

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
bp.add_url_rule("/password", "password", password, methods=["GET", "POST"])
bp.add_url_rule("/session/extend", "extend", login_required(extend), methods=["POST"])
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "": "All languages"}
KIND_NAMES = {"sms": "text message", "speech": "spoken to callers", "label": "label", "words": "what people send",
              "other": "setting"}
MAX_TRY_TEXT = 1600
OPEN_VIEWS = {"staff.login", "staff.static"}


# -- every page -------------------------------------------------------------------------------
@bp.before_request
def signed_in_and_protected():
    g.staff_nonce = secrets.token_urlsafe(16)
    if request.method == "POST":
        csrf.protect()
    if request.endpoint in OPEN_VIEWS:
        return None
    if expired():
        name = current_user.name
        logout_user()
        session.clear()
        with Console.here().write() as conn:
            audit.append(conn, name, "session ended", f"idle {Console.here().settings.staff_idle_minutes} minutes")
        return redirect(url_for("staff.login", expired="1"))
    if current_user.is_authenticated and request.endpoint != "staff.hear":
        touch()
    _first_release(Console.here())
    return None


@bp.context_processor
def page_values():
    return {"nonce": g.get("staff_nonce", ""), "idle_seconds": idle_seconds(), "me": current_user,
            "line_name": line_name()}


@bp.after_request
def page_headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
    return response


@bp.errorhandler(CSRFError)
def stale_form(exc):
    return render_template("staff/refused.html", message="This form is out of date (the page was open a long "
                           "time, or you signed in again elsewhere): nothing was changed. Open the page again."), 400


@bp.errorhandler(403)
def forbidden(exc):
    return render_template("staff/refused.html", message=exc.description or "Your role cannot do this."), 403


@bp.errorhandler(404)
def not_found(exc):
    return render_template("staff/refused.html", message=exc.description or "There is no such page."), 404


@bp.errorhandler(400)
def bad(exc):
    return render_template("staff/refused.html", message=exc.description or "That request was not understood."), 400


def line_name() -> str:
    try:
        return runtime().library().language(None).line_name
    except Exception:
        return "the info line"


def _first_release(console: Console) -> None:
    """Release 1 is the content as the console first found it, made on the first page served."""
    if console.has_first:
        return
    with console.write() as conn:
        releases.first(conn, console.folder)
        console.has_first = releases.latest(conn) is not None


def _revision() -> int:
    try:
        return int(request.form.get("revision", ""))
    except ValueError:
        abort(400, "This form is missing its revision: open the page again.")


@bp.errorhandler(drafts.DraftError)
def draft_refused(exc: drafts.DraftError):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(error=str(exc)), exc.status
    return render_template("staff/refused.html", message=str(exc)), exc.status


@bp.errorhandler(yaml_edit.EditError)
def edit_refused(exc: yaml_edit.EditError):
    return render_template("staff/refused.html", message=str(exc)), 400


# -- home -------------------------------------------------------------------------------------
@bp.get("/")
@needs("edit")
def home():
    console = Console.here()
    with console.read() as conn:
        mine = [d for d in drafts.listing(conn) if d["author_id"] == current_user.id]
        waiting = [d for d in drafts.listing(conn, ("in_review",)) if d["author_id"] != current_user.id]
        approved = drafts.listing(conn, ("approved",))
        last = releases.latest(conn)
        outside = console.outside_changes(conn)
    return render_template("staff/home.html", mine=mine, waiting=waiting, approved=approved, last=last, outside=outside)


# -- content ----------------------------------------------------------------------------------
@bp.get("/content")
@needs("edit")
def content():
    console = Console.here()
    with console.read() as conn:
        published = console.published(conn)
        open_drafts = [d for d in drafts.listing(conn, drafts.EDITABLE) if d["author_id"] == current_user.id]
        status = _translation_status(conn, published)
    return render_template("staff/content.html", items=items(published), open_drafts=open_drafts, status=status)


def _translation_status(conn, tree) -> dict[str, dict[str, int]]:
    """Per item: how many fields are untranslated, and how many older than their English."""
    changed = releases.last_changed(conn)
    codes = languages(tree)
    result: dict[str, dict[str, int]] = {}
    for item in items(tree):
        counts = {"untranslated": 0, "older": 0}
        for row in _rows(tree, item, changed, codes):
            for cell in row["cells"][1:]:
                if cell.get("missing"):
                    counts["untranslated"] += 1
                elif cell.get("older"):
                    counts["older"] += 1
        result[item.id] = counts
    return result


def _rows(tree, item, changed, codes):
    """The item's fields, one row each: a cell per language (the field there, or missing)."""
    per_file = {}
    for code, file in item.files:
        per_file[code] = (file, {yaml_edit.key(f.path): f for f in yaml_edit.fields(tree[file])})
    order: list[str] = []
    for code, (file, found) in per_file.items():
        order.extend(k for k in found if k not in order)
    first = item.files[0][0]
    rows = []
    for key in order:
        cells = []
        for code, _ in item.files:
            file, found = per_file[code]
            field = found.get(key)
            cell = {"code": code, "file": file, "key": key, "field": field, "missing": field is None}
            if field is not None and code != first and first in per_file:
                source_file = per_file[first][0]
                en_at, here_at = changed.get((source_file, key)), changed.get((file, key))
                cell["older"] = bool(en_at and here_at and en_at > here_at)
                cell["english_release"], cell["here_release"] = en_at, here_at
            cells.append(cell)
        sample = next(c["field"] for c in cells if c["field"] is not None)
        rows.append({"key": key, "label": _label(sample.path), "kind": kind_of(cells[0]["file"], sample.path),
                     "cells": cells, "is_list": sample.is_list})
    return rows


def _label(path) -> str:
    return " › ".join(str(p + 1) if isinstance(p, int) else str(p).replace("_", " ") for p in path)


@bp.get("/content/<path:item_id>")
@needs("edit")
def item(item_id: str):
    return _item_page(item_id, None)


@bp.get("/drafts/<int:draft_id>/content/<path:item_id>")
@needs("edit")
def edit_item(draft_id: int, item_id: str):
    return _item_page(item_id, draft_id)


def _item_page(item_id: str, draft_id: int | None, conflicts=(), status=200):
    console = Console.here()
    with console.read() as conn:
        published = console.published(conn)
        draft = drafts.get(conn, draft_id) if draft_id is not None else None
        view = draft_view(conn, draft_id, published)
        found = [i for i in items(view.tree) if i.id == item_id]
        if not found:
            abort(404, "There is no such item in the content.")
        the_item = found[0]
        rows = _rows(view.tree, the_item, releases.last_changed(conn), languages(view.tree))
        edited = {(e["file"], e["path"]) for e in drafts.edits(conn, draft_id)} if draft_id else set()
        library = view.library or runtime().library()
        for row in rows:
            for cell in row["cells"]:
                if cell["field"] is None:
                    continue
                cell["measures"], cell["problems"] = view.field_feedback(library, cell["file"], cell["field"])
                cell["edited"] = (cell["file"], cell["key"]) in edited
                cell["others"] = drafts.others_editing(conn, draft_id or 0, cell["file"], cell["key"]) if draft_id else []
        file_problems = [p for _, f in the_item.files for p in view.problems(f)
                         if not any(p in c.get("problems", ()) for r in rows for c in r["cells"])]
    editable = draft is not None and draft["state"] in drafts.EDITABLE and (
        draft["author_id"] == current_user.id or current_user.role == "admin")
    return render_template("staff/item.html", item=the_item, rows=rows, draft=draft, editable=editable,
                           conflicts=list(conflicts), file_problems=file_problems, names=LANGUAGE_NAMES,
                           kinds=KIND_NAMES), status


@bp.post("/drafts/<int:draft_id>/content/<path:item_id>")
@needs("edit")
def save_item(draft_id: int, item_id: str):
    console = Console.here()
    changes = []
    for name, words in request.form.items():
        if not name.startswith("f|"):
            continue
        _, file, key = name.split("|", 2)
        shown = request.form.get(f"shown|{file}|{key}")
        if shown is None:
            abort(400, "The form is missing what it showed: open the page again.")
        changes.append((file, key, shown, words))
    with console.write() as conn:
        draft = drafts.get(conn, draft_id)
        saved, conflicts = drafts.save(conn, draft, current_user, console.published(conn), _revision(), changes)
    if saved:
        flash(f"Saved {len(saved)} field(s). The checks below are for the draft as saved.")
    elif not conflicts:
        flash("Nothing had changed.")
    if conflicts:
        return _item_page(item_id, draft_id, conflicts=conflicts, status=409)
    return redirect(url_for("staff.edit_item", draft_id=draft_id, item_id=item_id))


@bp.post("/drafts/<int:draft_id>/check")
@needs("edit")
def check_field(draft_id: int):
    """The live checks of one field as it is being typed: the draft with these words, checked."""
    file, key, words = request.form.get("file", ""), request.form.get("key", ""), request.form.get("words", "")
    if len(words) > drafts.MAX_FIELD:
        return jsonify(error=f"A field is at most {drafts.MAX_FIELD} characters."), 400
    console = Console.here()
    with console.read() as conn:
        drafts.get(conn, draft_id)
        view = draft_view(conn, draft_id, console.published(conn))
    if file not in view.tree:
        abort(400, "No such file.")
    path = yaml_edit.parse_key(key)
    tree = dict(view.tree)
    try:
        tree[file] = yaml_edit.replace(tree[file], {path: words})
    except yaml_edit.EditError as exc:
        return jsonify(html=render_template("staff/_feedback.html", measures=[], problems=[], error=str(exc)))
    changed = type(view)(tree, view.published)
    field = next((f for f in yaml_edit.fields(tree[file]) if f.path == path), None)
    if field is None:
        abort(400, "No such field.")
    measures, problems = changed.field_feedback(changed.library or runtime().library(), file, field)
    return jsonify(html=render_template("staff/_feedback.html", measures=measures, problems=problems, error=None))


@bp.get("/hear")
@needs("edit")
def hear():
    """A field's words (a draft's, or the published ones) in the line's own voice, as a WAV."""
    console = Console.here()
    file, key, slow = request.args.get("file", ""), request.args.get("key", ""), request.args.get("slow") == "1"
    draft_id = request.args.get("draft", type=int)
    with console.read() as conn:
        if draft_id is not None:
            drafts.get(conn, draft_id)
        view = draft_view(conn, draft_id, console.published(conn))
    if file not in view.tree:
        abort(404)
    words = yaml_edit.value_at(view.tree[file], yaml_edit.parse_key(key))
    if not words:
        abort(404)
    code = file.split("/")[0] if "/" in file else "en"
    wav = hear_words(view.library or runtime().library(), code, words, slow)
    return send_file(io.BytesIO(wav), mimetype="audio/wav", max_age=0)


# -- drafts -----------------------------------------------------------------------------------
@bp.post("/drafts")
@needs("edit")
def new_draft():
    with Console.here().write() as conn:
        draft_id = drafts.create(conn, current_user, request.form.get("title", ""))
    target = request.form.get("item")
    if target:
        return redirect(url_for("staff.edit_item", draft_id=draft_id, item_id=target))
    return redirect(url_for("staff.draft", draft_id=draft_id))


@bp.get("/drafts")
@needs("edit")
def all_drafts():
    with Console.here().read() as conn:
        rows = drafts.listing(conn, drafts.OPEN + ("published", "withdrawn"))
    return render_template("staff/drafts.html", drafts=rows)


@bp.get("/drafts/<int:draft_id>")
@needs("edit")
def draft(draft_id: int):
    console = Console.here()
    with console.read() as conn:
        row = drafts.get(conn, draft_id)
        published = console.published(conn)
        view = draft_view(conn, draft_id, published)
        edit_rows = drafts.edits(conn, draft_id)
        steps = drafts.history(conn, draft_id)
        stale = drafts.conflicts_with_published(conn, draft_id, published) if row["state"] in drafts.OPEN else []
    changes = [{"file": e["file"], "label": _label(yaml_edit.parse_key(e["path"])), "key": e["path"],
                "item": e["file"].split("/", 1)[1] if "/" in e["file"] else e["file"],
                "pieces": word_diff(e["base_text"], e["new_text"])} for e in edit_rows]
    return render_template("staff/draft.html", draft=row, changes=changes, problems=view.loaded.errors,
                           warnings=view.loaded.warnings, steps=steps, stale=stale)


@bp.post("/drafts/<int:draft_id>/submit")
@needs("submit")
def submit(draft_id: int):
    console = Console.here()
    with console.write() as conn:
        row = drafts.get(conn, draft_id)
        view = draft_view(conn, draft_id, console.published(conn))
        drafts.submit(conn, row, current_user, _revision(), tuple(view.loaded.errors))
    flash("Submitted for review. A reviewer other than you approves it or sends it back.")
    return redirect(url_for("staff.draft", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/withdraw")
@needs("edit")
def withdraw(draft_id: int):
    with Console.here().write() as conn:
        drafts.withdraw(conn, drafts.get(conn, draft_id), current_user, _revision())
    flash("The draft is withdrawn. Its edits stay in the history of the draft.")
    return redirect(url_for("staff.draft", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/review")
@needs("review")
def review(draft_id: int):
    console = Console.here()
    verdict = request.form.get("verdict", "")
    with console.write() as conn:
        row = drafts.get(conn, draft_id)
        view = draft_view(conn, draft_id, console.published(conn))
        drafts.review(conn, row, current_user, _revision(), verdict, request.form.get("note", ""),
                      tuple(view.loaded.errors))
    if verdict != "approved":
        flash("Sent back to its author with your note.")
        return redirect(url_for("staff.draft", draft_id=draft_id))
    return _publish(draft_id, "Approved. ")


@bp.post("/drafts/<int:draft_id>/publish")
@needs("publish")
def publish(draft_id: int):
    return _publish(draft_id, "")


def _publish(draft_id: int, said: str):
    console = Console.here()
    try:
        with console.write() as conn:
            row = drafts.get(conn, draft_id)
            number = drafts.publish(conn, row, current_user, console.folder, console.published(conn))
    except releases.ReleaseRefused as exc:
        flash(said + "Not published: " + str(exc) + " " + " ".join(str(p) for p in exc.problems), "error")
        return redirect(url_for("staff.draft", draft_id=draft_id))
    except drafts.DraftError as exc:
        flash(said + "Not published: " + str(exc), "error")
        return redirect(url_for("staff.draft", draft_id=draft_id))
    flash(f"{said}Published as release {number}. The line uses it within {console.settings.reload_seconds:g} s.")
    return redirect(url_for("staff.release", number=number))


# -- try --------------------------------------------------------------------------------------
@bp.route("/drafts/<int:draft_id>/try", methods=["GET", "POST"])
@needs("edit")
def try_draft(draft_id: int):
    """Text the draft, or walk its phone menu, through the real webhooks; nothing is recorded."""
    console = Console.here()
    with console.read() as conn:
        row = drafts.get(conn, draft_id)
        view = draft_view(conn, draft_id, console.published(conn))
    if view.library is None:
        return render_template("staff/try.html", draft=row, broken=view.loaded.errors, texts=[], step=None, state=None)
    from flask import current_app

    line = runtime().serving(view.library)
    form = request.form
    texts, step, state, call = [], None, NumberState(), None
    if request.method == "POST":
        state = NumberState(opted_out=form.get("opted_out") == "1", language=form.get("language") or None,
                            answered=form.get("answered") == "1")
        if state.language is not None and state.language not in view.library.languages:
            abort(400)
        simulator = Simulator(current_app._get_current_object(), state, runtime=line)
        try:
            if form.get("action") == "text":
                body = (form.get("body") or "")[:MAX_TRY_TEXT]
                texts = [(body, simulator.text(body))]
                state = simulator.state
            else:
                step, call = _call_step(simulator, form)
        except PreviewError as exc:
            flash(str(exc), "error")
    return render_template("staff/try.html", draft=row, broken=None, texts=texts, step=step, state=state,
                           call_sid=call, dial_outcomes=DIAL_OUTCOMES)


def _call_step(simulator, form):
    """One step of a call to the draft, and the call's id (the page sends it back with the next)."""
    action = form.get("action")
    if action == "call":
        call = new_call_sid()
        return simulator.voice("/voice", call_sid=call), call
    call = form.get("call") or ""
    if not call.startswith("CApreview") or len(call) > 64:
        abort(400, "Not a preview call.")
    try:
        url = check_voice_url(form.get("url") or "/voice")
    except PreviewError as exc:
        abort(400, str(exc))
    if action == "press":
        key = form.get("key") or ""
        if len(key) != 1 or key not in PRESSABLE:
            abort(400, "A key is one of 0-9, * and #.")
        return simulator.voice(url, digits=key, call_sid=call), call
    if action == "say":
        return simulator.voice(url, speech=(form.get("speech") or "")[:300], call_sid=call), call
    if action == "wait":
        return simulator.voice(url, call_sid=call), call
    if action == "dial":
        outcome = form.get("outcome")
        if outcome not in DIAL_OUTCOMES:
            abort(400)
        return simulator.voice(url, dial_status=outcome, call_sid=call), call
    abort(400, "Text, call, press, say or wait.")


# -- releases ---------------------------------------------------------------------------------
@bp.get("/releases")
@needs("edit")
def all_releases():
    console = Console.here()
    with console.read() as conn:
        rows = releases.every(conn)
        outside = console.outside_changes(conn)
    return render_template("staff/releases.html", releases=rows, outside=outside)


@bp.get("/releases/<int:number>")
@needs("edit")
def release(number: int):
    console = Console.here()
    with console.read() as conn:
        row = releases.get(conn, number)
        if row is None:
            abort(404, "There is no such release.")
        tree = releases.tree_of(conn, number)
        before = releases.tree_of(conn, number - 1) if number > 1 else {}
        last = releases.latest(conn)
    return render_template("staff/release.html", release=row, files=tree_diff(before, tree), last=last)


@bp.post("/releases/<int:number>/rollback")
@needs("rollback")
def rollback(number: int):
    console = Console.here()
    why = " ".join((request.form.get("why") or "").split())
    if not why:
        flash("Say why you roll back, so the history says it.", "error")
        return redirect(url_for("staff.release", number=number))
    try:
        with console.write() as conn:
            row = releases.get(conn, number)
            if row is None:
                abort(404)
            last = releases.latest(conn)
            if str(last["id"]) != request.form.get("latest"):
                flash("Another release was made since this page was opened: nothing was changed. Look again.", "error")
                return redirect(url_for("staff.release", number=number))
            if last["tree_hash"] == row["tree_hash"]:
                flash(f"Release {last['id']} already has exactly these words: nothing was changed.", "error")
                return redirect(url_for("staff.release", number=number))
            new = releases.make(conn, console.folder, releases.tree_of(conn, number), "rollback", why, current_user.name,
                                equal_to=number)
    except releases.ReleaseRefused as exc:
        flash("Not rolled back: " + str(exc), "error")
        return redirect(url_for("staff.release", number=number))
    flash(f"Rolled back: release {new} has the words of release {number}.")
    return redirect(url_for("staff.release", number=new))


@bp.get("/outside")
@needs("edit")
def outside():
    console = Console.here()
    with console.read() as conn:
        last = releases.latest(conn)
        published = console.published(conn)
    now = console.folder_tree()
    loaded = releases.check(now)
    return render_template("staff/outside.html", last=last, files=tree_diff(published, now), problems=loaded.errors,
                           tree_hash=releases.tree_hash(now))


@bp.post("/outside/adopt")
@needs("adopt")
def adopt():
    console = Console.here()
    why = " ".join((request.form.get("why") or "").split())
    if not why:
        flash("Say what these changes are, so the history says it.", "error")
        return redirect(url_for("staff.outside"))
    try:
        with console.write() as conn:
            tree = console.folder_tree()
            if releases.tree_hash(tree) != request.form.get("tree"):
                flash("content/ changed again since this page was opened: nothing was adopted. Look again.", "error")
                return redirect(url_for("staff.outside"))
            number = releases.make(conn, console.folder, tree, "adopt", why, current_user.name)
    except releases.ReleaseRefused as exc:
        flash("Not adopted: " + str(exc), "error")
        return redirect(url_for("staff.outside"))
    flash(f"Adopted as release {number}.")
    return redirect(url_for("staff.release", number=number))


# -- audit and people -------------------------------------------------------------------------
@bp.get("/audit")
@needs("audit")
def audit_log():
    with Console.here().read() as conn:
        rows = audit.rows(conn, before=request.args.get("before", type=int))
        broken = audit.verify(conn)
    return render_template("staff/audit.html", rows=rows, broken=broken)


@bp.route("/people", methods=["GET", "POST"])
@needs("people")
def people():
    console = Console.here()
    shown_password = None
    if request.method == "POST":
        action, name = request.form.get("action"), (request.form.get("name") or "").strip()
        try:
            with console.write() as conn:
                if action == "add":
                    shown_password = (name, accounts.add(conn, name, request.form.get("role", ""), current_user.name))
                elif action == "reset":
                    shown_password = (name, accounts.reset(conn, name, current_user.name))
                elif action in ("disable", "enable"):
                    if name == current_user.name:
                        raise accounts.AccountError("You cannot disable your own account.")
                    accounts.set_active(conn, name, action == "enable", current_user.name)
                else:
                    abort(400)
        except accounts.AccountError as exc:
            flash(str(exc), "error")
    with console.read() as conn:
        everyone = accounts.everyone(conn)
    return render_template("staff/people.html", people=everyone, roles=accounts.ROLES, shown_password=shown_password)


# -- diffs ------------------------------------------------------------------------------------
WORD = re.compile(r"\S+\s*|\s+")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(kind, words) pieces: 'same', 'removed' or 'added', word by word, for <del> and <ins>."""
    a, b = WORD.findall(old or ""), WORD.findall(new or "")
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("added", "".join(b[j1:j2])))
    return pieces


def tree_diff(old: releases.Tree, new: releases.Tree) -> list[dict]:
    """Per changed file: its changed fields word by word, and the other lines that changed."""
    files = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        entry = {"path": path, "state": "added" if before is None else "removed" if after is None else "changed",
                 "fields": [], "lines": []}
        try:
            was = {yaml_edit.key(f.path): f for f in yaml_edit.fields(before)} if before else {}
            now = {yaml_edit.key(f.path): f for f in yaml_edit.fields(after)} if after else {}
            for key in list(was) + [k for k in now if k not in was]:
                o, n = was.get(key), now.get(key)
                if (o.value if o else None) != (n.value if n else None):
                    path_ = (n or o).path
                    entry["fields"].append({"label": _label(path_), "pieces": word_diff(o.value if o else "",
                                                                                         n.value if n else "")})
        except yaml_edit.EditError:
            pass
        if not entry["fields"]:
            entry["lines"] = list(difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(),
                                                       "before", "after", lineterm="", n=1))[2:]
        files.append(entry)
    return files


@bp.get("/help")
@needs("edit")
def help():  # noqa: A001 - the page's name
    return render_template("staff/help.html")
