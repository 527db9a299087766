"""What every request handler shares: settings, the content in use, the store."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from flask import current_app

from .config import Settings
from .content import Library
from .store import Store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    check_signature: Callable[[], object]  # a before_request hook for the webhooks
    texter: object  # outbound.Texter: texts sent during a call
    _library: Library

    def library(self) -> Library:
        return self._library

    def record(self, channel: str, language: str, step: str, outcome: str) -> None:
        """Usage is worth keeping, but never worth failing an answer for."""
        try:
            self.store.record(channel, language, step, outcome)
        except Exception:
            log.exception("could not record a usage event")
        log.info("%s %s step=%s outcome=%s", channel, language, step, outcome)

    def record_unmatched(self, channel: str, language: str, text: str) -> None:
        try:
            self.store.record_unmatched(channel, language, text)
        except Exception:
            log.exception("could not record a text that was not understood")


def runtime() -> Runtime:
    return current_app.extensions["line"]
