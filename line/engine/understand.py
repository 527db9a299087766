"""Free words (a text, or what a caller said) -> what they mean to the line.

One seam: every message and every spoken answer is understood here, before the engine decides
what to say. A language's name switches languages; then the one matcher (line/match.py) scores
the whole message against every intent, topic, menu and command of the language and takes the
best, safety first: an emergency or a crisis wins whatever else the message names, and is
heard in any language (on the phone too, whatever the menu's language).

A text is read in the language its words are in: a texter who has not chosen a language is
answered in the language they wrote ("quiero hablar con alguien" gets Spanish). A caller is
heard in the call's language (the speech recognizer listens for that one).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..content import Language, Library
from ..match import normalize


@dataclass(frozen=True)
class Meaning:
    kind: str  # "intent", "topic", "menu", "command" (a spoken command, MENU, help), "language", or "nothing"
    id: str = ""  # the intent's, topic's or menu's id, the command's name, the language's code
    lang: str = ""  # the language whose words these are (a text is answered in it)
    how: str = ""  # for a match: "exact", "phrase", "typo" or "example"
    also: str = ""  # for an intent: the topic or menu the message also names ("" if none)
    safety: bool = False  # an emergency or a crisis (the matcher's mark): its answer comes first


def understand(library: Library, lang: Language, words: str, channel: str, chosen: bool = True) -> Meaning:
    """What `words` mean, for a texter or caller whose language is `lang` (`chosen`: a texter
    who chose it; otherwise the words' own language decides)."""
    words = normalize(words)
    named = library.language_named(words)
    if named is not None:
        return Meaning("language", named.code, named.code)
    if channel == "voice":
        # Heard in the call's language; but danger is heard in any language, at any menu
        # ("tengo dolor en el pecho" at the English menu): its answer comes first, in the words'
        # own language.
        heard = lang.matcher.understand(words, "voice")
        if heard is None or not heard.safety:
            for other in library.languages.values():
                found = other.matcher.understand(words, "voice") if other is not lang else None
                if found is not None and found.safety:
                    return _meaning(other, found)
        return _meaning(lang, heard)
    # Texts: every language reads the message. A possible emergency or crisis in any language
    # comes first, in the words' own language; then the texter's chosen language, if it
    # understands the words; otherwise the language whose words they are (the texter's own on a
    # tie), answered in that language whichever reading understood them: "el doctor dice que
    # tengo stage 4" is understood by the English words and answered in Spanish.
    readings = sorted(((candidate.matcher.known_words(words), candidate is lang, candidate,
                        candidate.matcher.understand(words, "sms")) for candidate in library.languages.values()),
                      key=lambda r: r[:2], reverse=True)
    understood = [r for r in readings if r[3] is not None]
    safe = [r for r in understood if r[3].safety]
    if safe:
        return _meaning(safe[0][2], safe[0][3])
    own = [r for r in understood if r[1]]
    if chosen and own:
        return _meaning(lang, own[0][3])
    words_language = readings[0][2]
    if understood:
        return _meaning(understood[0][2], understood[0][3], words_language)
    return Meaning("nothing", lang=(lang if chosen else words_language).code)


def _meaning(lang: Language, found, answer_in: Language | None = None) -> Meaning:
    """What `lang`'s matcher found, answered in `answer_in` (by default `lang`) when it has the
    same topic, menu or intent."""
    if found is None:
        return Meaning("nothing", lang=lang.code)
    target = found.target
    if target.kind == "language":
        return Meaning("language", target.id, target.id, found.how)
    also = found.also.id if found.also is not None else ""
    if answer_in is not None and answer_in is not lang and _has(answer_in, target.kind, target.id) \
            and (not also or _has(answer_in, "topic", also) or _has(answer_in, "menu", also)):
        lang = answer_in
    return Meaning(target.kind, target.id, lang.code, found.how, also, found.safety)


def _has(lang: Language, kind: str, id: str) -> bool:
    if kind == "topic":
        return id in lang.topics
    if kind == "menu":
        return id in lang.menus
    if kind == "intent":
        return lang.intents is not None and id in lang.intents.items
    return True  # the spoken and written commands (MENU, help ...): every language has them
