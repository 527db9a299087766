"""What a preview's Runtime has in place of the line's own store, limits, replay ids and texts.

Staff trying the line (line/simulator.py: the /preview page and `line try`) walk the real
webhooks, but nothing they do is recorded, counted or sent: a preview is not usage; its STOP or
ESPANOL is not any number's and must not reach the next session; it is never rate-limited or
refused as a replay; and it never texts anyone. `Runtime.for_preview(state)` hands the handlers
these parts instead of the line's own, so no handler asks whether it is serving a preview:

- PreviewStore: the preview texter's state (opted out, language, answered before) kept for its
  session alone, written as the store writes a number's; usage and unmatched words go nowhere.
- NoLimits: never over a limit, nothing counted.
- NoReplays: every text is new (the simulator gives each its own MessageSid); no id is kept.
- NoTexts: texting is never offered and nothing is sent (the preview's number is nobody's phone).
"""
from __future__ import annotations

from .outbound import Sent
from .store import NumberState


class PreviewStore:
    """One preview session's texter, as the store would know a number (line/store/optouts.py):
    any row makes it answered before, so a STOP, a START or a language does too."""

    def __init__(self, state: NumberState, outage):
        self.state = state
        self.outage = outage  # the line's own store's: how Runtime.failed tells a database outage

    def state_of(self, number: str) -> NumberState:
        return self.state

    def set_opted_out(self, number: str, opted_out: bool) -> None:
        self.state = self.state._replace(opted_out=opted_out, answered=True)

    def set_language(self, number: str, language: str) -> None:
        self.state = self.state._replace(language=language, answered=True)

    def set_answered(self, number: str) -> None:
        self.state = self.state._replace(answered=True)

    def record(self, channel: str, language: str, step: str, outcome: str, call: str | None = None) -> None:
        """Staff trying the line is not usage."""

    def record_unmatched(self, channel: str, language: str, text: str) -> None:
        """Nor are the words they try."""


class NoLimits:
    def check(self, channel: str) -> bool:
        return False  # never over a limit, and nothing counted


class NoReplays:
    def claim(self, *ids: str) -> bool:
        return True  # every preview text is new; no id is kept


class NoTexts:
    def answers(self, caller: str) -> bool:
        return False

    def can_text(self, caller: str) -> bool:
        return False

    def send(self, caller: str, line_number: str, call_sid: str, body: str, step_ids: tuple[str, ...] = ()) -> Sent:
        return Sent("refused")
