"""Free text (an SMS body or a caller's SpeechResult) -> what it means: an intent, a topic, a
menu or a command.

One matcher per language serves both channels. It scores the whole message against every
target and takes the best, rather than the first phrase it meets:

- cues: a target's keyword, synonyms and (for an intent) the phrases that mean it wherever they
  appear ("chest pain"), and pairs of words that mean it together ("I have" + "fever"). A target's
  score from its cues is how much of the message they explain, so a sentence with several topic
  words goes to the one that says most ("who is recruiting patients" is about trials);
- examples: the messages staff listed for a target, compared with the whole message, words
  weighted by how few targets use them (a word every target uses tells nothing).

Typos are forgiven: a word of five letters or more one edit away from a known word (two for
long words) is read as that word, and a phrase of several words may differ a little. A cue is found
as people write it, too: with a word added inside ("how does it really work", "kill the cancer"),
and a topic's "it" said by name ("who is it for": "who is immunotherapy for"); "who is this" is
not in "who is this treatment for".

Safety first: when a message may be an emergency or a crisis, that wins, whatever else it names.
Other intents come before topics when they explain the message as well.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

MAX_TOKENS = 40  # only the start of a long message is read
JOINED_MIN_CHARS = 8  # two pieces joined into one word make at least this many letters
TYPO_MIN_CHARS = 5  # shorter words must be spelled right
PHRASE_TYPO_SCORE = 80  # rapidfuzz ratio for a phrase of several words with a typo, each
# word of 4 letters or more one edit away ("sied" for "side"), shorter ones the same (or, said
# on the phone, sounding the same)
SUGGEST_SCORE = 70  # ratio for "Try the word X" on a message that matched nothing
MATCH_SCORE = 0.5  # a target needs this to be the answer
CUE_BASE = 0.55  # a cue found scores this, plus how much of the message it explains
WEAK_CUE_BASE = 0.3  # the same for a cue of small words only
EXAMPLE_SCORE = 0.5  # an example this close is enough on its own
SUGGEST_EXAMPLE_SCORE = 0.3
SMALL_WORD_WEIGHT = 0.3  # the weight of a word that tells little ("the", "is", "my")
INTENT_EDGE = 0.05  # intents are checked before topics: they win a near tie
MENU_HANDICAP = 0.1  # a topic is more specific than its menu: a menu must do this much better
KIND_ORDER = {"intent": 0, "topic": 1, "menu": 2, "language": 3, "command": 4}


@dataclass(frozen=True)
class Target:
    kind: str  # "intent", "topic", "menu", "command" or "language" (id: its code)
    id: str


@dataclass(frozen=True)
class Match:
    target: Target
    how: str  # "exact", "phrase", "typo" or "example"
    phrase: str  # the cue or example that decided
    score: float = 1.0
    also: Target | None = None  # the topic or menu the message also names, if any
    safety: bool = False  # an emergency or a crisis (its entry's `safety`): its answer comes first


@dataclass(frozen=True)
class Entry:
    """What the matcher knows of one target: its cues and its examples (as written)."""

    target: Target
    cues: tuple[str, ...] = ()
    together: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # (these, those): one of each
    examples: tuple[str, ...] = ()
    alone: tuple[str, ...] = ()  # words that mean it only as the whole message ("ok")
    # What wins when a message could be more than one thing; the content model says which
    # targets (line/content/model.py: SAFETY_INTENTS, SUBJECT_INTENTS):
    safety: int = 0  # > 0: checked before everything, whatever else the message names; the
    #                  higher wins a tie
    subject: bool = False  # its own words beat another intent's frame ("should I eat sushi")
    courtesy: bool = False  # yields to anything else the message says ("thanks. what are the side effects")


class Normalized(str):
    """Words already normalized: a text is matched against each language, so it is normalized
    once and passed on as this."""


_APOSTROPHES = re.compile(r"['\u2019\u02bc`\u00b4]")
_NOT_A_WORD = re.compile(r"[^\w]+|_")


def normalize(text: str) -> Normalized:
    """Lower case, no accents, no punctuation, single spaces; "can't" is "cant"."""
    if isinstance(text, Normalized):
        return text
    return _normalized(text)


@functools.lru_cache(maxsize=8192)
def _normalized(text: str) -> Normalized:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text.lower())
    text = _NOT_A_WORD.sub(" ", text)
    return Normalized(" ".join(text.split()))


# Endings taken off a word so that its forms meet ("worried", "worrying", "worries"; "recibe",
# "recibir"): English and Spanish, longest first; a stem keeps at least STEM_MIN letters.
ENDINGS = sorted({
    "ations", "ation", "nesses", "ness", "ments", "ment", "ings", "ing", "ied", "ies", "ers", "er", "ed",
    "es", "ly", "s", "aciones", "acion", "amientos", "amiento", "imientos", "imiento", "ando", "iendo",
    "ados", "adas", "idos", "idas", "ado", "ada", "ido", "ida", "ar", "ir", "as", "os", "a", "o", "e",
}, key=len, reverse=True)
STEM_MIN = 4
VOWELS = "aeiou"
PRONOUN = "it"  # in an English cue, it may stand for the line's subject (intents.yaml subject_words)
SUBJECT_MAX_WORDS = 2  # "it" said by name: "immunotherapy", "this immune therapy"
# Words that may come before a noun in a cue's place ("kill the cancer", "this treatment").
DETERMINERS = frozenset({"the", "this", "that", "these", "those", "my", "your", "his", "her", "our", "their", "a",
                         "an", "el", "la", "los", "las", "un", "una", "mi", "mis", "su", "sus", "tu", "tus"})
ADDED_WORD_MIN_WORDS = 3  # a cue this long is found with one word added inside ("how does it really work")
# Words that turn a phrase's meaning: never taken for a word added inside it ("want to not die").
NEGATIONS = frozenset({"not", "no", "dont", "doesnt", "didnt", "never", "cant", "cannot", "wont", "isnt",
                       "arent", "nunca", "jamas", "ni", "tampoco", "sin"})
# "this" and its kin end a cue as a pronoun ("who is this"); followed by a word that tells
# something, they are a determiner and the cue is not what the message says ("who is this
# treatment for"). English and Spanish, normalized.
DEMONSTRATIVES = frozenset({"this", "that", "these", "those", "este", "esta", "estos", "estas", "ese", "esa",
                            "esos", "esas", "aquel", "aquella"})


@functools.lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """A normalized word without its ending; a final y is an i ("worry", "worried" -> "worri").
    A short English word keeps its e ("living", "taking" -> "live", "take"; "eating" -> "eat")."""
    if len(word) > STEM_MIN and not word.isdigit():
        for ending in ENDINGS:
            if not word.endswith(ending):
                continue
            rest = word[: -len(ending)]
            if len(rest) >= STEM_MIN:
                word = rest
                break
            if ending == "ing" and len(rest) == STEM_MIN - 1 and rest[-1] not in VOWELS + "y":
                short_vowel = rest[0] not in VOWELS and rest[1] in VOWELS and rest[2] not in "wx"
                word = rest + "e" if short_vowel else rest
                break
    return word[:-1] + "i" if word.endswith("y") and len(word) > STEM_MIN else word


@functools.lru_cache(maxsize=16384)
def sound(word: str) -> str:
    """How a word sounds, roughly: its consonants, as a speech recognizer may mishear them
    ("sell" and "cell", "trails" and "trials" sound alike)."""
    w = word
    for written, said in (("ph", "f"), ("ck", "k"), ("wh", "w"), ("qu", "kw"), ("x", "ks")):
        w = w.replace(written, said)
    w = re.sub(r"c(?=[eiy])", "s", w).replace("c", "k").replace("z", "s").replace("q", "k")
    if not w:
        return w
    first = "a" if w[0] in "aeiouy" else w[0]
    rest = re.sub(r"[wy](?![aeiou])", "", w[1:])  # w and y are heard before a vowel only
    return re.sub(r"(.)\1+", r"\1", first + re.sub(r"[aeiouh]", "", rest))


def stems(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in normalize(text).split())


@dataclass
class _Score:
    score: float = 0.0
    how: str = ""
    phrase: str = ""
    cue: bool = False  # found by a cue (not only by resemblance to an example)
    strong: bool = False  # ...by a cue with a word that is not a small word
    covered: set = field(default_factory=set)  # positions of the message its cues explain
    named: set = field(default_factory=set)  # ...of them, those its cues say (not standing for "it")


class Matcher:
    """Built once per language when the content loads; read-only afterwards."""

    def __init__(self, entries: list[Entry], voice_phrases: dict[str, Target] | None = None,
                 keywords: dict[Target, str] | None = None, small_words=(), subject_words=(), own_words=()):
        """`own_words`: every word the language's content writes, beyond what the targets use: words
        of the language, never read as a typo of a target's word."""
        self._keywords = dict(keywords or {})
        self._own_words = frozenset(own_words)
        self._safety = {e.target: e.safety for e in entries if e.safety}
        self._subjects = {e.target for e in entries if e.subject}
        self._courtesies = {e.target for e in entries if e.courtesy}
        # Cues as written (for the whole message, and phrases with a typo) and as stems.
        self._phrases: dict[str, dict[str, set[Target]]] = {"sms": {}, "voice": {}}
        for entry in entries:
            for cue in entry.cues:
                self._phrases["sms"].setdefault(normalize(cue), set()).add(entry.target)
        self._phrases["voice"] = {k: set(v) for k, v in self._phrases["sms"].items()}
        for phrase, target in (voice_phrases or {}).items():
            self._phrases["voice"].setdefault(normalize(phrase), set()).add(target)
        self._alone: dict[str, set[Target]] = {}
        for entry in entries:
            for word in entry.alone:
                self._alone.setdefault(normalize(word), set()).add(entry.target)
        self._cues = {ch: {} for ch in self._phrases}
        for ch, table in self._phrases.items():
            for phrase, targets in table.items():
                self._cues[ch].setdefault(" ".join(stem(t) for t in phrase.split()), set()).update(targets)
        self._longest = {ch: max((len(c.split()) for c in table), default=1) for ch, table in self._cues.items()}
        self._by_length = {ch: self._group(table) for ch, table in self._phrases.items()}
        self._together = [(e.target, tuple(map(stems, these)), tuple(map(stems, those)))
                          for e in entries for these, those in e.together]

        # How much a word tells: few targets use it -> it weighs much.
        uses: dict[str, set[Target]] = {}
        written: dict[str, str] = {}  # words as written (5 letters or more) -> stem, for typos
        for entry in entries:
            texts = [*entry.cues, *entry.examples, *(w for pair in entry.together for ws in pair for w in ws)]
            for text in texts:
                for token in normalize(text).split():
                    uses.setdefault(stem(token), set()).add(entry.target)
                    if len(token) >= TYPO_MIN_CHARS and not token.isdigit():
                        written[token] = stem(token)
        n = max(1, len({e.target for e in entries}))
        self._weight = {token: math.log(1 + n / len(targets)) for token, targets in uses.items()}
        self._small = {stem(token) for word in small_words for token in normalize(word).split()}
        for token in self._small:
            self._weight[token] = SMALL_WORD_WEIGHT
        self._subject = {stem(token) for word in subject_words for token in normalize(word).split()} - self._small
        self._negations = {stem(word) for word in NEGATIONS}
        self._determiners = {stem(word) for word in DETERMINERS}
        self._demonstratives = {stem(word) for word in DEMONSTRATIVES}
        # Cues of several words, by their first: found with a word added or "it" said by name (_loose).
        self._loose_cues: dict[str, dict[str, list[tuple[tuple[str, ...], tuple[Target, ...]]]]] = {}
        for ch, table in self._cues.items():
            by_first = self._loose_cues.setdefault(ch, {})
            for cue, targets in table.items():
                words = tuple(cue.split())
                if len(words) > 1:
                    by_first.setdefault(words[0], []).append((words, tuple(targets)))
        self._unknown = math.log(1 + n / 2)  # a word no target uses: it matters, but says nothing
        self._written: dict[str, list[tuple[str, str]]] = {}
        for token, its_stem in written.items():
            self._written.setdefault(token[0], []).append((token, its_stem))


        # A memo on a pure function of this read-only matcher, keyed by the word.
        self._correct = functools.lru_cache(maxsize=8192)(self._correct_word)

        self._examples: list[tuple[Target, str, float]] = []
        self._index: dict[str, list[int]] = {}
        for entry in entries:
            for example in entry.examples:
                tokens = set(self._canonical(tuple(normalize(example).split()[:MAX_TOKENS])))
                if not tokens:
                    continue
                norm = math.sqrt(sum(self._w(t) ** 2 for t in tokens))
                for t in tokens:
                    self._index.setdefault(t, []).append(len(self._examples))
                self._examples.append((entry.target, normalize(example), norm))

    @staticmethod
    def _group(table: dict) -> dict[int, list[str]]:
        groups: dict[int, list[str]] = {}
        for phrase in table:
            n = len(phrase.split())
            if n > 1 and len(phrase) >= TYPO_MIN_CHARS:
                groups.setdefault(n, []).append(phrase)
        return groups

    def _w(self, token: str) -> float:
        return self._weight.get(token, self._unknown)

    # -- reading the message --------------------------------------------------------------
    def _canonical(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self._correct(t) for t in tokens)

    def _joined(self, raw: tuple[str, ...]) -> tuple[str, ...]:
        """Two unknown pieces that make a known word together: a speech recognizer sometimes
        splits a word it does not know ("inter luken" for "interleukin")."""
        out, i = [], 0
        while i < len(raw):
            if i + 1 < len(raw) and not self._known(raw[i]) and not self._known(raw[i + 1]):
                whole = raw[i] + raw[i + 1]
                if len(whole) >= JOINED_MIN_CHARS and self._correct(whole) in self._weight:
                    out.append(whole)
                    i += 2
                    continue
            out.append(raw[i])
            i += 1
        return tuple(out)

    def _known(self, token: str) -> bool:
        return stem(token) in self._weight

    def _loose(self, words: tuple[str, ...], tokens: tuple[str, ...], start: int):
        """Where the cue `words` (its stems) is in the message from `start`, or None. One word may
        be added inside: "the", "my" or the like in any cue ("kill the cancer"), any word in a cue
        of ADDED_WORD_MIN_WORDS or more but "not" and its kin, which turn the meaning ("how does
        it really work"). The cue's "it" may be said as up to SUBJECT_MAX_WORDS words that name the
        line's subject, after "the", "this" or the like ("who is this treatment for"). Found: (end,
        positions of the cue's words, positions that stand for "it")."""
        any_word = len(words) >= ADDED_WORD_MIN_WORDS

        def walk(w: int, j: int, added: bool, at: tuple[int, ...], pronoun: tuple[int, ...]):
            if w == len(words):
                return j, at, pronoun
            if j >= len(tokens):
                return None
            if tokens[j] == words[w]:
                hit = walk(w + 1, j + 1, added, at + (j,), pronoun)
                if hit:
                    return hit
            if words[w] == PRONOUN:
                first = j + 1 if tokens[j] in self._determiners else j  # "this treatment", "the immune therapy"
                last = first
                while last < len(tokens) and last - first < SUBJECT_MAX_WORDS and tokens[last] in self._subject:
                    last += 1
                    span = tuple(range(j, last))
                    hit = walk(w + 1, last, added, at + span, pronoun + span)
                    if hit:
                        return hit
            if w > 0 and not added and (tokens[j] in self._determiners if not any_word
                                        else tokens[j] not in self._negations):
                return walk(w, j + 1, True, at, pronoun)
            return None

        return walk(0, start, False, (), ())

    def _determiner(self, cue: str, tokens: tuple[str, ...], end: int) -> bool:
        """Whether `cue`, found in the message up to `end`, ends in "this" (or its kin) followed by
        a word that tells something: then "this" is not the pronoun the cue means."""
        last = stem(cue.rsplit(" ", 1)[-1])
        return last in self._demonstratives and end < len(tokens) and tokens[end] not in self._small

    def _correct_word(self, token: str) -> str:
        """The stem of a known word as written, or of the known word it is a typo of."""
        own = stem(token)
        if own in self._weight or token in self._own_words or len(token) < TYPO_MIN_CHARS or token.isdigit():
            return own
        allowed = 1 if len(token) < 8 else 2
        best = None
        # A first vowel may be wrong too ("affects" for "effects"), a first consonant not.
        firsts = VOWELS if token[0] in VOWELS else token[0]
        for known, its_stem in (pair for first in firsts for pair in self._written.get(first, ())):
            if abs(len(known) - len(token)) > allowed:
                continue
            d = OSA.distance(token, known, score_cutoff=allowed)
            if d <= allowed and (best is None or (d, -self._w(its_stem)) < best[:2]):
                best = (d, -self._w(its_stem), its_stem)
        return best[2] if best else own

    def _scores(self, raw: tuple[str, ...], tokens: tuple[str, ...], channel: str, typos: bool,
                leave_out: str = "") -> dict[Target, _Score]:
        table = self._cues[channel] if typos else self._phrases[channel]
        weights = [self._w(t) for t in tokens]
        total = sum(weights) or 1.0
        scores: dict[Target, _Score] = {}

        def get(target: Target) -> _Score:
            return scores.setdefault(target, _Score())

        def found(targets, start: int, end: int, phrase: str, how: str, positions=None, pronoun=()) -> None:
            positions = range(start, end) if positions is None else positions
            named = [p for p in positions if p not in pronoun]
            for target in targets:
                s = get(target)
                s.covered.update(positions)
                s.named.update(named)
                s.cue = True
                if not s.phrase or len(phrase) > len(s.phrase):
                    s.how, s.phrase = how, phrase

        hit_positions: set[int] = set()
        for n in range(min(self._longest[channel], len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                gram = " ".join(tokens[i:i + n])
                if gram in table and not self._determiner(raw[i + n - 1], tokens, i + n):
                    found(table[gram], i, i + n, " ".join(raw[i:i + n]), "phrase")
                    hit_positions.update(range(i, i + n))
        if typos:
            # A phrase with a word added inside ("how does it really work"), or with its "it" said
            # by name ("who is immunotherapy for", "how is this treatment given").
            loose = self._loose_cues[channel]
            for i, token in enumerate(tokens):
                for words, targets in loose.get(token, ()):
                    hit = self._loose(words, tokens, i)
                    if hit and not self._determiner(words[-1], tokens, hit[0]):
                        end, positions, pronoun = hit
                        # A topic's "it" is the line's subject; an intent's may be anything ("end it").
                        named = [t for t in targets if not (pronoun and t.kind == "intent")]
                        found(named, i, end, " ".join(raw[i:end]), "phrase", positions, pronoun)
            # A phrase of several words with a small typo ("sied effects").
            phrases = self._phrases[channel]
            for n, candidates in self._by_length[channel].items():
                for i in range(len(raw) - n + 1):
                    if set(range(i, i + n)) <= hit_positions:
                        continue
                    window = " ".join(raw[i:i + n])
                    if len(window) < TYPO_MIN_CHARS:
                        continue
                    hit = process.extractOne(window, candidates, scorer=fuzz.ratio, score_cutoff=PHRASE_TYPO_SCORE)
                    # On the phone a word may be heard as one that sounds the same ("sell therapy").
                    if hit and all(a == b or _typo_of(a, b) or (channel == "voice" and sound(a) == sound(b))
                                   for a, b in zip(raw[i:i + n], hit[0].split())) \
                            and not self._determiner(hit[0], tokens, i + n):
                        found(phrases[hit[0]], i, i + n, hit[0], "typo")
        for target, these, those in self._together:
            a = _find_any(tokens, these)
            b = _find_any(tokens, those)
            if a and b:
                found([target], 0, 0, f"{' '.join(raw[a[0]:a[1]])} + {' '.join(raw[b[0]:b[1]])}", "phrase",
                      [*range(a[0], a[1]), *range(b[0], b[1])])
        for s in scores.values():
            explained = sum(weights[i] for i in s.covered) / total
            # Cues made only of small words ("about", "where") count only for what they explain; the
            # words that stand for a cue's "it" are as small as "it".
            s.strong = any(tokens[i] not in self._small for i in s.named)
            base = CUE_BASE if s.strong else WEAK_CUE_BASE
            s.score = base + (1 - base) * min(1.0, explained)

        # Resemblance to the examples: cosine of the words, each weighed by what it tells.
        present = set(tokens) if typos else set()
        if present:
            size = math.sqrt(sum(self._w(t) ** 2 for t in present))
            dots: dict[int, float] = {}
            for t in present:
                for i in self._index.get(t, ()):
                    dots[i] = dots.get(i, 0.0) + self._w(t) ** 2
            for i, dot in dots.items():
                target, example, norm = self._examples[i]
                if example == leave_out:
                    continue
                similarity = dot / (size * norm)
                s = get(target)
                if similarity > s.score:
                    s.score, s.how, s.phrase = similarity, "example", example
        return scores

    # -- deciding -------------------------------------------------------------------------
    def understand(self, text: str, channel: str = "sms", typos: bool = True, as_new: bool = False) -> Match | None:
        """What `text` means, or None; with typos=False, only cues as written count (no typos,
        no other forms of a word, no resemblance to examples). With
        as_new, as if `text` were not one of the examples (how `line check` tries them)."""
        norm = normalize(text)
        if not norm:
            return None
        raw = tuple(norm.split()[:MAX_TOKENS])
        if typos:
            raw = self._joined(raw)
        tokens = self._canonical(raw) if typos else raw

        scores = self._scores(raw, tokens, channel, typos, norm if as_new else "")
        whole = [(t, "exact") for t in self._phrases[channel].get(norm, set()) | self._alone.get(norm, set())]
        if typos:
            whole += [(t, "typo") for t in self._cues[channel].get(" ".join(tokens), ())]
        for target, how in reversed(whole):  # the whole message is a keyword or synonym
            s = scores.setdefault(target, _Score())
            s.score, s.how, s.phrase, s.cue, s.strong = 1.0, how, norm, True, True
        if not scores:
            return None

        def rank(item):
            """Intents are checked before topics: the whole message as a keyword or synonym
            first, then an intent's own words, then the best score, where a specific topic
            beats its broad menu; on a tie, what the message says first. A courtesy comes last."""
            target, s = item
            whole_message = s.score >= 1.0 and s.how in ("exact", "typo")
            tier = 2 if whole_message else 1 if target.kind == "intent" and s.strong else 0
            if tier == 1 and target in self._subjects:
                tier = 1.5  # a subject the articles lack, however the question is framed
            if target in self._courtesies and not whole_message:
                tier = -1  # a courtesy is the answer only when nothing else is
            value = s.score + (INTENT_EDGE if target.kind == "intent" else 0.0)
            if target.kind == "menu" and not whole_message:
                value -= MENU_HANDICAP
            return (tier, round(value, 3), -min(s.covered, default=MAX_TOKENS), -KIND_ORDER[target.kind])

        # Danger must be said, not resembled: an emergency or a crisis is the answer only where the
        # message holds one of its cues (as written, or a typo of one). A message that only looks
        # like one of their examples ("is immunotherapy a pill you take" beside "i want to take all
        # my pills") is not alarmed: it is answered as what else it says, or not at all.
        scores = {t: s for t, s in scores.items() if t not in self._safety or s.cue}
        if not scores:
            return None
        safety = [(t, s) for t, s in scores.items() if t in self._safety]
        if safety:
            target, s = max(safety, key=lambda item: (item[1].score, self._safety[item[0]]))
        else:
            enough = [(t, x) for t, x in scores.items() if x.score >= (MATCH_SCORE if x.cue else EXAMPLE_SCORE)]
            if not enough:
                return None
            target, s = max(enough, key=rank)
        also = None
        if target.kind == "intent":
            named = [(t, x) for t, x in scores.items() if t.kind in ("topic", "menu")
                     and x.score >= (MATCH_SCORE if x.cue else EXAMPLE_SCORE)]
            if named:
                also = max(named, key=rank)[0]
        return Match(target, s.how, s.phrase, round(s.score, 3), also, target in self._safety)

    def known_words(self, text: str) -> float:
        """How many words of `text` this language's content uses (half for a typo of one): a
        guess at the message's language."""
        tokens = normalize(text).split()[:MAX_TOKENS]
        return sum(1.0 if stem(t) in self._weight else 0.5 if self._correct(t) in self._weight else 0.0 for t in tokens)

    def suggest(self, text: str) -> str | None:
        """The keyword of a likely meaning of a message that matched nothing, if any."""
        norm = normalize(text)
        if not norm:
            return None
        raw = tuple(norm.split()[:MAX_TOKENS])
        tokens = self._canonical(raw)
        candidates = {}
        for target, s in self._scores(raw, tokens, "sms", True).items():
            if s.score >= SUGGEST_EXAMPLE_SCORE and target in self._keywords:
                candidates[target] = s.score
        table: dict[str, set[Target]] = {}
        for source in (self._phrases["sms"], self._alone):
            for phrase, targets in source.items():
                with_keyword = {t for t in targets if t in self._keywords}
                if with_keyword:
                    table[phrase] = table.get(phrase, set()) | with_keyword
        phrases = list(table)
        for query in [norm, *raw]:
            hit = process.extractOne(query, phrases, scorer=fuzz.ratio, score_cutoff=SUGGEST_SCORE)
            if hit:
                for target in table[hit[0]]:
                    if target in self._keywords:
                        candidates[target] = max(candidates.get(target, 0), hit[1] / 100)
        if not candidates:
            return None
        return self._keywords[max(candidates, key=lambda t: (candidates[t], -KIND_ORDER[t.kind]))]


def _typo_of(word: str, known: str) -> bool:
    """One slip of the finger (two in a long word): a letter wrong, missing, extra or swapped; a
    word starts with the right letter, or with a vowel for a vowel ("affects" for "effects"). A
    short word is forgiven one slip only: a doubled letter written once ("kil" for "kill").

    >>> _typo_of("kil", "kill"), _typo_of("sied", "side"), _typo_of("kit", "kill"), _typo_of("ki", "kii")
    (True, True, False, False)
    """
    if len(word) >= 3 and len(known) == len(word) + 1 and any(
            known[i] == known[i + 1] and known[:i] + known[i + 1:] == word for i in range(len(known) - 1)):
        return True
    if min(len(word), len(known)) < 4 or (word[0] != known[0] and not {word[0], known[0]} <= set(VOWELS)):
        return False
    allowed = 1 if len(known) < 10 else 2
    return OSA.distance(word, known, score_cutoff=allowed) <= allowed


def _find_any(tokens: tuple[str, ...], phrases: tuple[tuple[str, ...], ...]):
    """The first place one of `phrases` appears in `tokens`: (start, end, phrase), or None."""
    present = set(tokens)
    phrases = [p for p in phrases if p and p[0] in present]
    for i in range(len(tokens)):
        for phrase in phrases:
            if phrase and tokens[i:i + len(phrase)] == phrase:
                return i, i + len(phrase), phrase
    return None
