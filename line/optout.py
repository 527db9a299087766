"""Opt-out (and opt-in) in plain words: whether a whole message asks the line to stop texting, or
to text again.

The FCC's order 24-18 (in force 11 April 2025) asks that a texter can revoke consent "by any
reasonable means": not only Twilio's single keywords (STOP, END ...: content/<lang>/language.yaml),
but "stop texting me", "unsubscribe me", "ya no me manden mensajes". The words live in
content/<lang>/opt-out.yaml (and, for "start texting me again", opt-in.yaml), where staff read and
extend them; this module turns them into `PlainWords` and judges a message against them. It is
pure: no store, no request, no Flask.

A message says it (`says`) when one of these holds:
1. the whole message, polite words aside, is made of `whole_message` phrases ("please stop",
   "stop stop stop");
2. it holds an `about_texts` phrase: one that names the texts ("stop ... {texts}": "stop sending
   me these texts"), so it counts whatever else the message says;
3. it holds an `unless_care` phrase ("unsubscribe", "remove me") and names nothing of the
   texter's care (`care`): "take me off this list" stops the texts, "take me off the trial" is a
   question for their health care provider.
A word like stop, end or cancel alone inside a sentence never counts: "should I stop my
treatment", "how do I stop the side effects" and "can I cancel my appointment" must be answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rapidfuzz.distance import Levenshtein

from .match import normalize

GAP = "..."  # in a phrase: up to MAX_GAP words of `between`
TEXTS = "{texts}"  # in a phrase: one word of `texts`
MAX_GAP = 4
MAX_WORDS = 400  # words judged: a whole 1,600-character text; beyond, only the start (the cost stays bounded)
TYPO_MIN_CHARS = 8  # words this long may have one typo ("unsubcribe", "mensages")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class PlainWords:
    """One language's plain words for "stop texting me" (opt-out.yaml) or "text me again"
    (opt-in.yaml, whole messages only), normalized."""

    whole_message: frozenset[Phrase] = frozenset()
    polite: tuple[Phrase, ...] = ()
    about_texts: tuple[Phrase, ...] = ()
    unless_care: tuple[Phrase, ...] = ()
    texts: frozenset[str] = frozenset()
    between: frozenset[str] = frozenset()
    care: frozenset[str] = frozenset()

    @cached_property
    def whole_message_words(self) -> frozenset[str]:
        """Every word of `polite` and `whole_message`: a message with any other word is not made of them."""
        return frozenset(w for p in (*self.polite, *self.whole_message) for w in p)

    @cached_property
    def named_words(self) -> dict[Phrase, tuple[frozenset[str], tuple[str, ...]]]:
        """The words each about_texts and unless_care phrase names: the short ones, said exactly,
        and the long ones, which may have a typo."""
        return {p: (frozenset(w for w in p if w not in (GAP, TEXTS) and len(w) < TYPO_MIN_CHARS),
                    tuple(w for w in p if w not in (GAP, TEXTS) and len(w) >= TYPO_MIN_CHARS))
                for p in (*self.about_texts, *self.unless_care)}

    @classmethod
    def build(cls, whole_message=(), polite=(), about_texts=(), unless_care=(), texts=(), between=(), care=()) -> "PlainWords":
        """From the words as staff write them (any case, accents and punctuation ignored)."""
        return cls(
            whole_message=frozenset(p for p in map(phrase, whole_message) if p),
            polite=tuple(sorted((p for p in map(phrase, polite) if p), key=len, reverse=True)),
            about_texts=tuple(p for p in map(phrase, about_texts) if p),
            unless_care=tuple(p for p in map(phrase, unless_care) if p),
            texts=frozenset(w for p in map(phrase, texts) for w in p),
            between=frozenset(w for p in map(phrase, between) for w in p),
            care=frozenset(w for p in map(phrase, care) for w in p),
        )


def phrase(text: str) -> Phrase:
    """A phrase as the judge compares it: normalized words, with "..." and "{texts}" kept."""
    out: list[str] = []
    for part in text.replace(TEXTS, f" {TEXTS} ").replace(GAP, f" {GAP} ").split():
        out.extend([part] if part in (TEXTS, GAP) else normalize(part).split())
    return tuple(out)


FIELDS = ("whole_message", "polite", "about_texts", "unless_care", "texts", "between", "care")


def problems(words: PlainWords) -> list[tuple[str, str]]:
    """What is wrong with a language's opt-out words: (field, what to do), in words staff can act on."""
    found = []
    for name in ("about_texts", "unless_care"):
        for p in getattr(words, name):
            shown = " ".join(p)
            if p[0] == GAP or p[-1] == GAP:
                found.append((name, f"'{shown}' begins or ends with '...'; put it between two words"))
            if name == "unless_care" and TEXTS in p:
                found.append((name, f"'{shown}' names {{texts}}; it belongs in about_texts"))
            if TEXTS in p and not words.texts:
                found.append((name, f"'{shown}' uses {{texts}} but no texts words are listed"))
    for p in sorted(words.whole_message):
        if GAP in p or TEXTS in p:
            found.append(("whole_message", f"'{' '.join(p)}' cannot hold '...' or {{texts}}; put it in about_texts"))
    return found


def says(words: PlainWords, text: str) -> bool:
    """Whether the message `text` says what `words` stand for (stop texting, or text again),
    judged on the whole message."""
    tokens = tuple(normalize(text).split()[:MAX_WORDS])
    if not tokens:
        return False
    if _only_whole_phrases(words, tokens):
        return True
    present = frozenset(tokens)
    if any(_found(words, p, tokens) for p in words.about_texts if _may_hold(words, p, present)):
        return True
    if any(_found(words, p, tokens) for p in words.unless_care if _may_hold(words, p, present)):
        return not any(_same(words, token, care) for token in tokens for care in words.care)
    return False


def _may_hold(words: PlainWords, pattern: Phrase, present: frozenset[str]) -> bool:
    """Whether every word the pattern names is in the message (for long words, but for one typo):
    without that no place in the message can match, so most patterns are passed over at once
    instead of being tried at every word (the judge runs on every text)."""
    short, long = words.named_words[pattern]
    return short <= present and all(w in present or any(_same(words, t, w) for t in present) for w in long)


def _only_whole_phrases(words: PlainWords, tokens: Phrase) -> bool:
    """The message, once polite words are set aside, is one or more `whole_message` phrases."""
    if not words.whole_message_words.issuperset(tokens):
        return False  # a word of neither kind: most messages, passed over at once
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        polite = next((p for p in words.polite if tokens[i:i + len(p)] == p), None)
        if polite:
            i += len(polite)
        else:
            rest.append(tokens[i])
            i += 1
    if not rest:
        return False
    # Can `rest` be cut into whole-message phrases? (reach[i]: its first i words can.)
    longest = max(map(len, words.whole_message), default=0)
    reach = [True] + [False] * len(rest)
    for start in range(len(rest)):
        if reach[start]:
            for size in range(1, min(longest, len(rest) - start) + 1):
                if tuple(rest[start:start + size]) in words.whole_message:
                    reach[start + size] = True
    return reach[-1]


def _found(words: PlainWords, pattern: Phrase, tokens: Phrase) -> bool:
    return any(_matches_at(words, pattern, tokens, start) for start in range(len(tokens)))


def _matches_at(words: PlainWords, pattern: Phrase, tokens: Phrase, at: int) -> bool:
    if not pattern:
        return True
    head, rest = pattern[0], pattern[1:]
    if head == GAP:
        # Zero to MAX_GAP small words, then the rest of the pattern.
        for skipped in range(MAX_GAP + 1):
            if _matches_at(words, rest, tokens, at + skipped):
                return True
            if at + skipped >= len(tokens) or tokens[at + skipped] not in words.between:
                return False
        return False
    if at >= len(tokens):
        return False
    if head == TEXTS:
        ok = any(_same(words, tokens[at], w) for w in words.texts)
    else:
        ok = _same(words, tokens[at], head)
    return ok and _matches_at(words, rest, tokens, at + 1)


def _same(words: PlainWords, token: str, word: str) -> bool:
    """The same word, or for long words the same but for one typo."""
    if token == word:
        return True
    return len(word) >= TYPO_MIN_CHARS and Levenshtein.distance(token, word, score_cutoff=1) <= 1
