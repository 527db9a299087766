"""`line`: the command staff and operators use."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .config import Settings
from .content import load_library
from .yaml_source import ContentError


@click.group()
def main() -> None:
    """The Cancer Immunotherapy Info Line."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--allow-unsigned", is_flag=True,
              help="Accept requests without a Twilio signature (local trials only; logged loudly).")
def serve(host: str, port: int, allow_unsigned: bool) -> None:
    """Run the line on this machine (for production use gunicorn, see the README)."""
    if allow_unsigned:
        os.environ["LINE_ALLOW_UNSIGNED"] = "1"
    settings = Settings.from_env()
    if not settings.twilio_auth_token and not settings.allow_unsigned:
        raise click.UsageError(
            "TWILIO_AUTH_TOKEN is not set, so every request would be refused. Set it, or pass "
            "--allow-unsigned to try the line locally without Twilio."
        )
    from . import create_app

    try:
        app = create_app(settings)
    except ContentError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    click.echo(f"The line is listening on http://{host}:{port}  (POST /sms, POST /voice, GET /healthz)")
    app.run(host=host, port=port)


@main.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
def check(folder: Path | None) -> None:
    """Check a content folder (by default the one the line serves)."""
    folder = folder or Settings.from_env().content_dir
    try:
        library = load_library(folder)
    except ContentError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    for warning in library.warnings:
        click.echo(str(warning))
    click.echo(f"{folder}: no errors ({len(library.warnings)} warnings).")


def _print_problems(problems) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} error(s): callers keep hearing the last good version.", err=True)
