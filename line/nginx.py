"""The nginx site the line ships (templates/nginx.conf), filled in for one host by `line nginx`:
its name, where it listens, its certificate, where gunicorn listens, and the line's own bounds
(LINE_MAX_BODY_BYTES, LINE_BODY_TIMEOUT) so that nginx refuses what the line would."""
from __future__ import annotations

import math
import re
from importlib import resources

import jinja2

from .config import Settings

# A word of nginx's configuration: nothing that would end a directive or open a block.
WORD = re.compile(r"[^\s;{}'\"#$\\]+")


def _word(name: str, value: str) -> str:
    if not WORD.fullmatch(value):
        raise ValueError(f"{name} {value!r}: one word, without spaces, quotes, ';', '{{', '}}', '#' or '$'")
    return value


def site(settings: Settings, server_name: str = "_", listen: str | None = None, upstream: str = "127.0.0.1:8000",
         certificate: str | None = None, certificate_key: str | None = None) -> str:
    """The nginx site for the line. With a certificate it listens with TLS (on 443 unless
    `listen` says otherwise); without one, plain HTTP (80 by default), for trials."""
    if bool(certificate) != bool(certificate_key):
        raise ValueError("a certificate and its key, both or neither")
    text = resources.files(__package__).joinpath("templates", "nginx.conf").read_text(encoding="utf-8")
    template = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                  undefined=jinja2.StrictUndefined).from_string(text)
    return template.render(
        server_name=_word("server name", server_name),
        listen=_word("listen", listen or ("443" if certificate else "80")),
        upstream=_word("upstream", upstream),
        certificate=certificate and _word("certificate", certificate),
        certificate_key=certificate_key and _word("certificate key", certificate_key),
        max_body_bytes=settings.max_body_bytes,
        seconds=max(1, math.ceil(settings.body_timeout)),  # nginx's times here are whole seconds
    )
