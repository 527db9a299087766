"""`line`: the command staff and operators use."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .config import Settings
from .content import ContentError, load_library


@click.group()
def main() -> None:
    """The Cancer Immunotherapy Info Line."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--allow-unsigned", is_flag=True,
              help="Accept requests without a Twilio signature (local trials only; logged loudly).")
def serve(host: str, port: int, allow_unsigned: bool) -> None:
    """Run the line on this machine (for production use gunicorn, see docs/operations.md)."""
    if allow_unsigned:
        os.environ["LINE_ALLOW_UNSIGNED"] = "1"
    settings = Settings.from_env()
    if not settings.twilio_auth_token and not settings.allow_unsigned:
        raise click.UsageError(
            "TWILIO_AUTH_TOKEN is not set, so every request would be refused. Set it, or pass "
            "--allow-unsigned to try the line locally without Twilio."
        )
    from . import create_app

    app = _or_exit(create_app, settings)
    click.echo(f"The line is listening on http://{host}:{port}  (POST /sms, POST /voice, GET /healthz)")
    app.run(host=host, port=port)


@main.command("nginx")
@click.option("--server-name", default="_", help="The public host name Twilio calls (YOUR-HOST).")
@click.option("--certificate", help="The TLS certificate (full chain) nginx presents; without it, plain HTTP.")
@click.option("--certificate-key", help="The certificate's private key.")
@click.option("--listen", help="nginx's listen address or port [443 with a certificate, else 80].")
@click.option("--upstream", default="127.0.0.1:8000", show_default=True, help="Where gunicorn listens (its --bind).")
def nginx_site(server_name: str, certificate: str | None, certificate_key: str | None, listen: str | None,
               upstream: str) -> None:
    """Print the nginx site that serves the line: whole requests only, within LINE_MAX_BODY_BYTES
    and LINE_BODY_TIMEOUT, and the public URL passed on (docs/operations.md)."""
    from .nginx import site

    try:
        click.echo(site(Settings.from_env(), server_name, listen, upstream, certificate, certificate_key), nl=False)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


@main.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
def check(folder: Path | None) -> None:
    """Check a content folder (by default the one the line serves)."""
    from .content import check_folder

    report = check_folder(folder or Settings.from_env().content_dir)
    click.echo(report.render())
    sys.exit(1 if report.errors else 0)


@main.command()
@click.option("--prune", is_flag=True, help="Also delete clips that no prompt uses any more.")
def audio(prune: bool) -> None:
    """Render every spoken prompt and summary to phone-quality audio files.

    Each language, each pace. Files are named by a hash of their words and voice settings, so
    only what changed is rendered again. Set LINE_AUDIO=files for the line to play them.
    """
    from . import audio as clips
    from .engine.calls import phrases

    settings = Settings.from_env()
    library = _library_or_exit(settings)
    pieces = [(text, library.languages[code].voice.espeak_voice, slow)
              for code, text in sorted(phrases(library)) for slow in (False, True)]

    def progress(i: int, total: int, result) -> None:
        words = result.text if len(result.text) <= 60 else result.text[:57] + "..."
        retried = f" after {result.attempts} tries" if result.attempts > 1 else ""
        slower = f" ({result.slower:.2f}x its twin)" if result.slower else ""
        why = f": {result.why}" if result.status == "failed" and result.why else ""
        click.echo(f"[{i:>3}/{total}] {result.status:8} {result.seconds:5.1f} s  {words}{retried}{slower}{why}")

    click.echo(f"Rendering {len(pieces)} clips into {settings.audio_dir} ...")
    results = clips.render(pieces, settings.audio_dir, progress=progress)
    counts = {status: sum(r.status == status for r in results) for status in ("rendered", "cached", "failed")}
    total = sum(r.seconds for r in results)
    click.echo(f"{counts['rendered']} rendered, {counts['cached']} unchanged, {counts['failed']} failed; "
               f"{total / 60:.1f} minutes of audio.")
    slow = [r for r in results if r.slower]
    if slow:
        shortest = min(r.slower for r in slow)
        click.echo(f"Slow clips: {len(slow)} checked against their twins at the normal pace, each at least "
                   f"{clips.SLOWER_BY:.2f} times as long (the shortest {shortest:.2f}, the mean "
                   f"{sum(r.slower for r in slow) / len(slow):.2f}).")
    if prune:
        removed = clips.prune(settings.audio_dir, {r.name for r in results})
        click.echo(f"{removed} unused clips removed.")
    if counts["failed"]:
        click.echo("Prompts without a clip are spoken by Twilio's voice instead.", err=True)
        sys.exit(1)


def _library_or_exit(settings: Settings):
    """The content as published, or its problems on stderr and exit status 1."""
    return _or_exit(load_library, settings.content_dir)


def _or_exit(make, *args):
    """`make(*args)` (the content, or the line made with it), or the content's problems on stderr
    and exit status 1."""
    try:
        return make(*args)
    except ContentError as exc:
        _print_problems(exc.problems)
        sys.exit(1)


def _print_problems(problems) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} error(s): callers keep hearing the last good version.", err=True)


# -- the store: schema, retention, usage report ------------------------------------------------
def _open_store():
    """The line's store, for upkeep and reports: no key for hashing numbers is needed or made."""
    from .store import Store

    settings = Settings.from_env()
    return settings, Store(settings.database_url, None, retention_days=settings.retention_days)


def _store_failed(store, exc: Exception) -> click.ClickException:
    from .store import reason
    from .store.outage import category

    return click.ClickException(f"the database at {store.safe_url} cannot be used ({category(exc)}): {reason(exc)}")


@main.group()
def db() -> None:
    """The line's database (DATABASE_URL): schema and retention."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the schema, or upgrade it to this version of the line (safe to run any time)."""
    _, store = _open_store()
    try:
        found, now = store.upgrade()
    except Exception as exc:
        raise _store_failed(store, exc) from None
    if found == now:
        click.echo(f"{store.safe_url}: schema already at version {now}.")
    else:
        click.echo(f"{store.safe_url}: schema {'created at' if found is None else f'upgraded from version {found} to'} version {now}.")


@db.command("purge")
def db_purge() -> None:
    """Delete what is past keeping now (the line also does it on start and every hour)."""
    settings, store = _open_store()
    try:
        done = store.purge()
    except Exception as exc:
        raise _store_failed(store, exc) from None
    click.echo(f"{store.safe_url} (keeping {settings.retention_days} days): "
               + ", ".join(f"{n} {what}" for what, n in done.items()) + ".")


@db.command("status")
def db_status() -> None:
    """Say where the database is, its schema version, and what is wrong with it, if anything."""
    from .store import SCHEMA_VERSION

    _, store = _open_store()
    problems = store.problems()
    for problem in problems:
        click.echo(f"{store.safe_url}: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{store.safe_url}: schema version {store.version()} (this line's is {SCHEMA_VERSION}).")


@main.command("report")
@click.option("--days", type=int, help="The last N days, today included (30 by default).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="The first day (YYYY-MM-DD, UTC).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="The last day, included (today by default).")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the report as a picture (PNG) to paste into a slide.")
def report_command(days: int | None, since, until, png: Path | None) -> None:
    """Print what callers and texters asked for: per day, topics, not-understood words, exits."""
    from . import report

    try:
        first, last = report.period(days, since.date() if since else None, until.date() if until else None)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    settings, store = _open_store()
    try:
        library = load_library(settings.content_dir)
    except ContentError:
        library = None  # the report still counts, with topic ids for names
    try:
        usage = report.build(store, first, last, library)
    except Exception as exc:
        raise _store_failed(store, exc) from None
    click.echo(report.render_text(usage), nl=False)
    if png:
        report.render_png(usage, png)
        click.echo(f"\nChart written to {png}")


@main.command("try")
def try_line() -> None:
    """Try the line in this terminal: texts, calls, key presses, words, silence.

    Walks the real handlers with the content in use now (see line/simulator.py). Reads
    commands from the keyboard or from piped input; type help for the list.
    """
    import secrets

    from .simulator import keyboard_reader, run_terminal

    overrides = {}
    if "LINE_LOG_LEVEL" not in os.environ:
        overrides["log_level"] = "WARNING"
    settings = Settings.from_env(**overrides)
    if not settings.twilio_auth_token:
        # Nothing here is reachable from outside: a one-off token lets the line check the
        # simulator's signatures as it checks Twilio's (and no "unsigned" warning is logged).
        settings = Settings.from_env(twilio_auth_token=secrets.token_hex(16), allow_unsigned=False, **overrides)
    from . import create_app

    app = _or_exit(create_app, settings)
    interactive = sys.stdin.isatty()
    run_terminal(app, keyboard_reader() if interactive else sys.stdin.readline, click.echo, interactive)


@db.command("copy")
@click.argument("source_url")
def db_copy(source_url: str) -> None:
    """Copy the opt-outs and usage of the database at SOURCE_URL into DATABASE_URL.

    To move from SQLite to PostgreSQL: DATABASE_URL=postgresql://... line db copy sqlite:///data/line.db
    """
    from .store import Store

    settings, target = _open_store()
    source = Store(source_url, None, retention_days=settings.retention_days)
    try:
        copied = target.copy_from(source)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        from .store import reason

        raise click.ClickException(f"the copy from {source.safe_url} to {target.safe_url} failed: {reason(exc)}") from None
    click.echo(f"Copied from {source.safe_url} to {target.safe_url}: "
               + ", ".join(f"{n} {name}" for name, n in copied.items()) + ".")


@main.command("measure")
@click.argument("labeled_set", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--misses", is_flag=True, help="Also list each message that reached something else.")
def measure_command(labeled_set: Path | None, misses: bool) -> None:
    """How well the line understands people: accuracy per label over the labeled set
    (tests/labeled/messages.tsv by default). Exits 1 below the thresholds."""
    from . import labeled
    from .measure import measure

    settings = Settings.from_env()
    library = _library_or_exit(settings)
    try:
        rows = labeled.read(labeled_set or labeled.DEFAULT_PATH)
    except (OSError, labeled.LabeledSetError) as exc:
        raise click.ClickException(str(exc)) from None
    result = measure(library, rows)
    click.echo(result.render(misses))
    sys.exit(1 if result.failing() else 0)


# -- the staff console's accounts ---------------------------------------------------------------
@main.group()
def staff() -> None:
    """Accounts for the staff console at /staff (docs/staff.md)."""


def _staff_write(action):
    settings, store = _open_store()
    try:
        store.db.ensure()
        with store.db.write() as conn:
            return action(conn)
    except click.ClickException:
        raise
    except Exception as exc:
        from .staff.accounts import AccountError

        if isinstance(exc, AccountError):
            raise click.ClickException(str(exc)) from None
        raise _store_failed(store, exc) from None


def _hand_over(name: str, password: str) -> None:
    click.echo(f"One-time password for {name}: {password}")
    click.echo("Give it to them in person or by phone (it is not shown again). At first sign-in at /staff they "
               "choose their own password.")
    if not Settings.from_env().staff_secret:
        click.echo("The console is off: set LINE_STAFF_SECRET on the line to serve /staff (docs/operations.md).",
                   err=True)


@staff.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["editor", "reviewer", "admin"]), required=True,
              help="editor: edits and submits drafts; reviewer: also approves others', publishes, rolls back; "
                   "admin: also manages staff.")
def staff_add(name: str, role: str) -> None:
    """Add a staff member, with a one-time password to hand over."""
    from .staff import accounts

    _hand_over(name, _staff_write(lambda conn: accounts.add(conn, name, role, "line staff add")))


@staff.command("reset")
@click.argument("name")
def staff_reset(name: str) -> None:
    """A new one-time password for NAME (a forgotten password); the old one stops working."""
    from .staff import accounts

    _hand_over(name, _staff_write(lambda conn: accounts.reset(conn, name, "line staff reset")))


@staff.command("disable")
@click.argument("name")
def staff_disable(name: str) -> None:
    """NAME can no longer sign in (their drafts and history stay)."""
    from .staff import accounts

    _staff_write(lambda conn: accounts.set_active(conn, name, False, "line staff disable"))
    click.echo(f"{name} can no longer sign in.")


@staff.command("list")
def staff_list() -> None:
    """Every staff member, their role, and whether they can sign in."""
    from .staff import accounts

    rows = _staff_write(accounts.everyone)
    for row in rows:
        click.echo(f"{row['name']}\t{row['role']}\t{'active' if row['active'] else 'disabled'}"
                   f"{' (one-time password not yet replaced)' if row['one_time'] else ''}")
    if not rows:
        click.echo("No staff yet: line staff add NAME --role admin")
