"""Free words (a text, or what a caller said) -> what they mean to the line.

One seam: every message and every spoken answer is understood here, before the engine decides
what to say. A language's name switches languages; then the content's keywords, synonyms and
spoken commands are matched (line/match.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..content import Language, Library
from ..match import normalize


@dataclass(frozen=True)
class Meaning:
    kind: str  # "topic", "menu", "command" (a spoken command, or MENU), "language", or "nothing"
    id: str = ""  # the topic's or menu's id, the command's name, the language's code
    lang: str = ""  # the language whose words these are (a text is answered in it)
    how: str = ""  # for a match: "exact", "phrase" or "typo"


def understand(library: Library, lang: Language, words: str, channel: str) -> Meaning:
    """What `words` mean, for a texter or caller whose language is `lang`.

    Texts ("sms"): the texter's language first; words of another language get that language's
    answer ("efectos secundarios"), and exact words in any language beat a guess at a typo.
    Speech ("voice"): the caller's language, spoken commands ("repeat", "go back") included.
    """
    words = normalize(words)
    named = library.language_named(words)
    if named is not None:
        return Meaning("language", named.code, named.code)
    if channel == "voice":
        found = lang.matcher.match(words, "voice")
        if found is None:
            return Meaning("nothing", lang=lang.code)
        return Meaning(found.target.kind, found.target.id, lang.code, found.how)
    order = [lang, *(other for other in library.languages.values() if other is not lang)]
    for typos in (False, True):
        for candidate in order:
            found = candidate.matcher.match(words, "sms", typos=typos)
            if found is not None:
                return Meaning(found.target.kind, found.target.id, candidate.code, found.how)
    return Meaning("nothing", lang=lang.code)
