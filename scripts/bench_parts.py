"""The line with one of its parts switched off, for `scripts/bench --parts`: what each part costs.

Measurement only: the line never runs like this. Each part is switched off in the running app
object, after create_app(), so nothing in line/ knows about it.
"""
from __future__ import annotations

from line import create_app

PARTS = {
    "signature check": "the X-Twilio-Signature check (the form is still read)",
    "rate limit": "the per-number rate limits",
    "opt-out read": "reading a number's opt-out and language",
    "usage events": "queueing and writing usage events",
    "replay check": "remembering each text's MessageSid, so a replay changes nothing (a write per text)",
    "all four": "all four of them at once: what the rest of the line costs",
}


def make(part: str | None):
    """The line with `part` switched off (None: the line as it runs)."""
    if part is not None and part not in PARTS:
        raise SystemExit(f"unknown part {part!r}; one of {', '.join(PARTS)}")
    app = create_app()
    rt = app.extensions["line"]
    if part in ("signature check", "all four"):
        rt.check_signature.allow_unsigned = True
    if part in ("rate limit", "all four"):
        app.extensions["line_limits"].check = lambda channel: None
    if part in ("opt-out read", "all four"):
        rt.store.state_of = lambda number: (False, None, True)  # not opted out, no language, answered before
    if part in ("usage events", "all four"):
        rt.store.record = lambda *args, **kwargs: None
        rt.store.record_unmatched = lambda *args, **kwargs: None
    if part == "replay check":
        rt.replays.claim = lambda *ids: True
    return app
