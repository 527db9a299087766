"""The engine's answers, remembered: the same few hundred steps and texts come again and again.

A memo on the engine's pure functions, keyed by all of their inputs (the library object itself,
one version of the content; the caller's or texter's state; the event or the words), so an answer
can never be given for inputs it was not made for. Bounded (least recently used go first).
"""
from __future__ import annotations

from functools import lru_cache

from . import calls, compliance, texts

SIZE = 4096

step = lru_cache(maxsize=SIZE)(calls.step)
answer = lru_cache(maxsize=SIZE)(texts.answer)
judge = compliance.judge  # remembered where it is defined, so texts.answer and the rate limits share it
