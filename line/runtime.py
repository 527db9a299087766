"""What every request handler shares: settings, the content in use, the store, the limits."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Callable

from flask import Blueprint, Response, current_app, g, has_request_context, request
from werkzeug.exceptions import HTTPException

from .config import Settings
from .content import Library
from .engine.changes import Answered, ChooseLanguage, OptOut, Unmatched, Usage
from .audio import AudioFiles
from .outbound import TextSender
from .preview_runtime import NoLimits, NoReplays, NoTexts, PreviewStore
from .reload import LiveLibrary
from .store import NumberState, Store

log = logging.getLogger(__name__)

# The WSGI environ entry that makes one request use a Runtime other than the app's: a preview's
# (Runtime.for_preview) or one that shows its answers (Runtime.showing). Set by code in this
# process through the test client's environ_overrides; no request from outside can set it (a
# header becomes HTTP_..., never this).
RUNTIME_KEY = "line.runtime"


def show(answer) -> None:
    """Let the simulator (or a test) see the answer a channel is about to encode."""
    shown = runtime().shown
    if shown is not None:
        shown.append(answer)


@dataclass
class Runtime:
    settings: Settings
    store: Store  # or, in a preview, a PreviewStore (line/preview_runtime.py)
    check_signature: Callable[[], object]  # a before_request hook for the webhooks
    texter: TextSender  # texts sent during a call
    content: LiveLibrary
    audio: AudioFiles
    replays: object  # replays.Replays: where texts' ids are remembered (Redis, or the store)
    limits: object  # limits.Limits: asked by create_app's hook before each webhook
    shown: list | None = None  # given: the channels add each answer they encode to it

    def for_preview(self, state: NumberState = NumberState()) -> "Runtime":
        """The line as staff try it (line/simulator.py): the same content, settings and signature
        check, but nothing recorded, counted, refused as a replay or sent; the preview texter's
        state (`state`: a new number's by default) is kept by the returned runtime's store alone."""
        return replace(self, store=PreviewStore(state, self.store.outage), texter=NoTexts(), replays=NoReplays(),
                       limits=NoLimits(), shown=None)

    def serving(self, library: Library) -> "Runtime":
        """This runtime with `library` in place of the published content: the staff console's
        drafts, tried through the real webhooks before callers get them."""
        return replace(self, content=FixedLibrary(library))

    def showing(self, shown: list) -> "Runtime":
        """This runtime, the channels adding each answer they encode to `shown`."""
        return replace(self, shown=shown)

    def environ(self) -> dict:
        """What a request made in this process (the test client's environ_overrides) carries to
        be served by this runtime."""
        return {RUNTIME_KEY: self}

    def library(self) -> Library:
        """The content for this request: one version from its start to its end."""
        if has_request_context():
            library = g.get("line_library")
            if library is None:
                library = g.line_library = self.content.get()
            return library
        return self.content.get()

    def failed(self, logger: logging.Logger, what: str, exc: BaseException) -> None:
        """A failure a handler answered around, logged with its traceback; but the database being
        away is logged by the store, once for the whole outage (store.outage), not per request."""
        if self.store.outage.covers(exc):
            logger.debug("%s: the database is away", what)
        else:
            logger.error(what, exc_info=exc)

    def record(self, channel: str, language: str, step: str, outcome: str, call: str | None = None) -> None:
        """Usage is worth keeping, but never worth failing an answer for.

        `call` is the call's id (Twilio's CallSid; the store keeps only its keyed hash, to tell
        where callers leave the menu)."""
        try:
            self.store.record(channel, language, step, outcome, call=call)
        except Exception:
            log.exception("could not record a usage event")
        log.debug("%s %s step=%s outcome=%s", channel, language, step, outcome)  # the store keeps them

    def state_of(self, number: str) -> NumberState:
        """What the store knows of `number`: opted out, its language, answered before."""
        return self.store.state_of(number)

    def apply(self, changes, number: str | None = None, call: str | None = None) -> None:
        """Record the engine's state changes (line/engine/changes.py) in order. An opt-out or a
        language is the `number`'s (written before the answer goes out: a failure raises, so the
        answer never claims what was not recorded); that the line answered it, usage (of the call
        `call`, Twilio's CallSid, on the phone) and unmatched words never fail an answer."""
        for change in changes:
            if isinstance(change, Usage):
                self.record(change.channel, change.language, change.step, change.outcome, call=call)
            elif isinstance(change, Unmatched):
                self.record_unmatched(change.channel, change.language, change.text)
            elif not number:
                continue  # nobody to record it for
            elif isinstance(change, OptOut):
                self.store.set_opted_out(number, change.opted_out)
            elif isinstance(change, ChooseLanguage):
                self.store.set_language(number, change.code)
            elif isinstance(change, Answered):
                self.remember_answered(number)

    def remember_answered(self, number: str) -> None:
        """The number's first answer (with the first_text notice) is going out: remembered, so the
        next one comes without it. If it cannot be, the next answer has the notice again."""
        try:
            self.store.set_answered(number)
        except Exception as exc:
            self.failed(log, "could not remember that a number was answered", exc)

    def record_unmatched(self, channel: str, language: str, text: str) -> None:
        try:
            self.store.record_unmatched(channel, language, text)
        except Exception:
            log.exception("could not record a text that was not understood")


class FixedLibrary:
    """A library that never reloads: what Runtime.serving gives the handlers for a draft."""

    last_problems: list = []

    def __init__(self, library: Library):
        self.current = library

    def get(self) -> Library:
        return self.current


def runtime() -> Runtime:
    """The runtime serving this request: the app's, or the one the request was made with (a
    preview's, one showing its answers: RUNTIME_KEY)."""
    if has_request_context():
        given = request.environ.get(RUNTIME_KEY)
        if given is not None:
            return given
    return current_app.extensions["line"]


def answer_failures(bp: Blueprint, logger: logging.Logger, what: str, answer: Callable[[], Response],
                    last_resort: Callable[[], Response]) -> None:
    """Whatever goes wrong in `bp`'s views, Twilio gets valid TwiML with a way forward: `answer()`,
    the engine's words for a failure (the referral number), or, when not even that can be had (the
    content unreachable), `last_resort()`, the words written in code (line/twiml.py)."""

    @bp.errorhandler(Exception)
    def failed(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        runtime().failed(logger, what, exc)
        try:
            return answer()
        except Exception:
            logger.exception("the fallback for a failure failed too; sent the last resort")
            return last_resort()
