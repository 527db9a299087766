"""Free text (an SMS body or a caller's SpeechResult) -> a topic, a menu or a command.

One matcher per language serves both channels. It tries, in order: the whole message as a
keyword or phrase; the longest known phrase inside the message; then the closest phrase
allowing small typos ("side efects", "trails").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

MAX_TOKENS = 24  # only the start of a long message is searched
TYPO_SCORE = 80  # rapidfuzz ratio needed to accept a phrase with typos
TYPO_MIN_CHARS = 5  # shorter phrases must match exactly
SUGGEST_SCORE = 60


@dataclass(frozen=True)
class Target:
    kind: str  # "topic", "menu" or "command"
    id: str


@dataclass(frozen=True)
class Match:
    target: Target
    how: str  # "exact", "phrase" or "typo"
    phrase: str


class Normalized(str):
    """Words already normalized: a text is matched against each language, exactly and then
    allowing typos, so it is normalized once and passed on as this."""


_NOT_A_WORD = re.compile(r"[^\w]+|_")


def normalize(text: str) -> Normalized:
    """Lower case, no accents, no punctuation, single spaces."""
    if isinstance(text, Normalized):
        return text
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _NOT_A_WORD.sub(" ", text.lower())
    return Normalized(" ".join(text.split()))


class Matcher:
    """Built once per language when the content loads; read-only afterwards."""

    def __init__(self, phrases: dict[str, Target], voice_phrases: dict[str, Target], keywords: dict[Target, str]):
        self._tables = {
            "sms": dict(phrases),
            # Spoken commands ("repeat", "go back") come first on the phone.
            "voice": {**phrases, **voice_phrases},
        }
        self._keywords = keywords
        self._by_length = {
            channel: self._group(table) for channel, table in self._tables.items()
        }

    @staticmethod
    def _group(table: dict[str, Target]) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = {}
        for phrase in table:
            if len(phrase) >= TYPO_MIN_CHARS:
                groups.setdefault(len(phrase.split()), []).append(phrase)
        return groups

    def match(self, text: str, channel: str = "sms", typos: bool = True) -> Match | None:
        """The best target for `text`; with typos=False only whole words and phrases count."""
        table = self._tables[channel]
        norm = normalize(text)
        if not norm:
            return None
        if norm in table:
            return Match(table[norm], "exact", norm)
        tokens = norm.split()[:MAX_TOKENS]
        for n in range(len(tokens), 0, -1):
            found = [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
            hits = [g for g in found if g in table]
            if hits:
                # Longest phrase first; on a tie, content over a spoken command, then the
                # phrase said first (people put the main thing first).
                best = min(hits, key=lambda g: table[g].kind == "command")
                return Match(table[best], "phrase", best)
        if not typos:
            return None
        best: tuple[float, str] | None = None
        for n, candidates in self._by_length[channel].items():
            for i in range(len(tokens) - n + 1):
                window = " ".join(tokens[i : i + n])
                if len(window) < TYPO_MIN_CHARS - 1:
                    continue
                hit = process.extractOne(window, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
                if hit and (best is None or (hit[1], len(hit[0])) > (best[0], len(best[1]))):
                    best = (hit[1], hit[0])
        if best:
            return Match(table[best[1]], "typo", best[1])
        return None

    def suggest(self, text: str) -> str | None:
        """The keyword closest to a message that matched nothing, if any is close."""
        norm = normalize(text)
        if not norm:
            return None
        table = self._tables["sms"]
        words = norm.split()[:MAX_TOKENS]
        best = None
        for query in [norm, *words]:
            hit = process.extractOne(query, list(table), scorer=fuzz.ratio, score_cutoff=SUGGEST_SCORE)
            if hit and (best is None or hit[1] > best[1]):
                best = hit
        if best is None:
            return None
        return self._keywords.get(table[best[0]])
