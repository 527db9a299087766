"""State changes the engine asks a channel to record, in order, through the store."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OptOut:
    """The texter opted out (True) or back in (False). Written before the answer goes out: if it
    cannot be written, the answer must not claim it."""

    opted_out: bool


@dataclass(frozen=True)
class ChooseLanguage:
    """The texter chose the language of the line's texts."""

    code: str


@dataclass(frozen=True)
class Answered:
    """The line answered a number it had never answered (with the first_text notice, or HELP,
    which says the same): remembered so its next reply comes without it. Never worth failing an
    answer for: if it cannot be written, the next reply carries the notice again."""


@dataclass(frozen=True)
class Usage:
    """One step of a conversation, for the usage report (never worth failing an answer for)."""

    channel: str  # "sms", "whatsapp" or "voice"
    language: str
    step: str
    outcome: str


@dataclass(frozen=True)
class Unmatched:
    """Words nobody understood, kept (redacted by the store) so staff can add what people ask."""

    channel: str
    language: str
    text: str


Change = OptOut | ChooseLanguage | Answered | Usage | Unmatched
# Each of these, once recorded, leaves a row for the number in the store: from then on the line
# has answered it (its answers come without the first_text notice).
MAKES_KNOWN = (OptOut, ChooseLanguage, Answered)
