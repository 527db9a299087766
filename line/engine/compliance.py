"""Opt-out, opt-in and help: the one place where a message is judged to be one of them.

First Twilio's keyword rules: the whole message is one word, any case; stray punctuation around
it ("stop!") is ignored. Each language lists its own words (content/<lang>/language.yaml). Then
opt-out in plain words ("stop texting me", "ya no me manden mensajes"), judged on the whole
message (line/optout.py, with the words of content/<lang>/opt-out.yaml): the law asks that any
reasonable way of saying it is honoured, and never a question about care ("should I stop my
treatment"); then opt-in in plain words, whole messages only ("start texting me again":
opt-in.yaml). All run before anything else is made of a message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..content import Library

_AROUND_A_WORD = re.compile(r"^[\s\W_]+|[\s\W_]+$")
KINDS = ("opt_out", "opt_in", "help")


def compliance_word(body: str) -> str:
    """The message as Twilio's keyword rules see it: one word, any case, stray punctuation ignored."""
    return _AROUND_A_WORD.sub("", body).upper()


@dataclass(frozen=True)
class Compliance:
    kind: str  # "opt_out", "opt_in" or "help"
    languages: tuple[str, ...]  # the languages whose word it is, in the library's order
    confirmed_by_twilio: bool = False  # on SMS, Twilio itself confirms this opt-out word (never plain words)


@lru_cache(maxsize=4096)  # a memo keyed by both inputs: the texts' answer and the rate limits share it
def judge(library: Library, body: str) -> Compliance | None:
    """Whether `body` is an opt-out, an opt-in or a request for help (None: none of them)."""
    word = compliance_word(body)
    if not word:
        return None
    for kind in KINDS:
        owners = tuple(lang.code for lang in library.languages.values() if word in getattr(lang, f"{kind}_words"))
        if owners:
            confirmed = kind == "opt_out" and any(word in lang.confirmed_by_twilio for lang in library.languages.values())
            return Compliance(kind, owners, confirmed)
    owners = library.asks_to_stop(body)  # before an opt-in: if both, the texts stop
    if owners:
        return Compliance("opt_out", owners)
    owners = library.asks_to_start(body)
    return Compliance("opt_in", owners) if owners else None
