"""A text message (SMS, or WhatsApp through the same webhook) -> the line's answer.

In order: compliance words (opt-out, opt-in, help; opt-out in plain words too) first, whatever
else the texter's state (an opt-out that also says the texter may be in danger gets the emergency
or crisis answer before its confirmation); then what the words mean (understand.py): a language's name; an
opted-out texter hears nothing more (but the emergency or crisis words, to a message that says
they may be in danger, as does a texter whose state the store cannot tell); an intent (an emergency or a crisis first, then a person,
feelings, a personal question, something not covered, thanks: content/<lang>/intents.yaml), a
topic, a menu; words nobody understood get the menu and, if one is likely, a keyword.

WhatsApp gets the same words with its own differences: the line confirms every opt-out itself
(Twilio's STOP handling covers SMS only), help carries no "Msg&data rates" notice (the
whatsapp_help prompt), and no SMS segment budget applies (a WhatsApp message may be 1,600
characters; every reply is within the stricter SMS budget content/ is checked against, so it
fits). Opt-outs are the address's: whatsapp:+1... is not +1..., so STOP on one is not STOP on
the other.

A number's first answer leads with the first_text notice (content/<lang>/prompts.yaml: general
information, not medical advice, 911 in an emergency), in the answer's language; the line then
remembers the number (the Answered change) and its later answers come without it. Where it goes:
- On SMS, a text of its own before the answer: each is a whole text within the budget, and the
  answer (a menu, "not understood" and a keyword) leaves no room for it inside.
- On WhatsApp (no segment budget), one message: the notice, a blank line, the answer. One
  message cannot arrive in the wrong order, and the texter gets one notification, not two.
Where it does not go:
- Before an opt-out's confirmation, or when the line keeps quiet (opted out): the texter asked
  for no more texts. The opt-out's own record makes the number answered.
- With HELP (and "who is this?"): it says the same, first; the number counts as answered.
- With an emergency or a crisis answer: those words come first and alone, and already say 911.
  On SMS a second text could even reach the phone before them (separate texts are not
  delivered in a guaranteed order). The number stays new, so its next answer has the notice.
- When the store could not be read (Texter.unknown()): as before, only where help is.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..content import Library
from ..match import normalize
from .changes import MAKES_KNOWN, Answered, ChooseLanguage, OptOut, Unmatched, Usage
from .compliance import judge
from .understand import understand

CHANNELS = ("sms", "whatsapp")


@dataclass(frozen=True)
class Texter:
    """What the line knows of a texter, read from the store before the engine is asked."""

    opted_out: bool = False
    language: str | None = None  # the language they chose, if any
    known: bool = True  # False when the store could not be read: compliance words still work
    first: bool = False  # the line has never answered this number: its answer leads with the first_text notice

    @classmethod
    def unknown(cls) -> "Texter":
        return cls(known=False)


@dataclass(frozen=True)
class TextAnswer:
    texts: tuple[str, ...]  # the replies, in order (none: the line keeps quiet)
    lang: str  # the language answered in
    step: str  # for the usage report: "stop", "start", "help", "language", "blocked", a topic or menu id ...
    outcome: str  # "answered", "opted_out", "opted_in", "not_understood" or "failed"
    changes: tuple = ()  # changes.py: to record, in order, before the answer goes out


def channel_of(address: str) -> str:
    """Twilio's Messaging webhook serves both: WhatsApp senders are written whatsapp:+1..."""
    return "whatsapp" if address.startswith("whatsapp:") else "sms"


def failed(library: Library) -> TextAnswer:
    """After a failure: sorry, and where help is (the referral office), in the default language."""
    lang = library.language(None)
    return TextAnswer((lang.sms["error"],), lang.code, "error", "failed")


def _safe_answer_first(library: Library, texter: Texter, body: str, channel: str, stop: TextAnswer) -> TextAnswer:
    """An opt-out that also says the texter may be in danger ("stop texting me, I want to die"):
    the emergency or crisis answer comes first, then the confirmation. The opt-out is recorded as
    asked; the safe words are the last the line sends, not something it keeps sending."""
    safe = _safe_words(library, texter, body, channel)
    if safe is None:
        return stop
    texts = (*safe.texts, *stop.texts)
    if channel == "whatsapp":  # one message, so the safe words cannot arrive after the goodbye
        texts = ("\n\n".join(texts),)
    return replace(stop, texts=texts, changes=(*stop.changes, *safe.changes))


def _safe_words(library: Library, texter: Texter, body: str, channel: str) -> TextAnswer | None:
    """The emergency or crisis answer alone, when `body` says one in so many words (a cue, typos
    forgiven), for a message the line would otherwise not answer with it: an opt-out, a texter
    who opted out, a texter whose state the store cannot tell. Resemblance to an example does not
    count here (Twilio's END looks like "ending it")."""
    meaning = understand(library, library.language(texter.language), normalize(body), "sms",
                         chosen=texter.language is not None)  # an emergency or a crisis in any language first
    if meaning.kind != "intent" or not meaning.safety or meaning.how == "example":
        return None
    return TextAnswer((library.languages[meaning.lang].intents[meaning.id].text,), meaning.lang, meaning.id, "answered",
                      (Usage(channel, meaning.lang, meaning.id, "answered"),))


def answer(library: Library, texter: Texter, body: str, channel: str = "sms") -> TextAnswer:
    """The answer to `body` from `texter` on `channel` ("sms" or "whatsapp")."""
    said = judge(library, body)
    if said is not None:
        owners = [library.languages[code] for code in said.languages]
        lang = next((lg for lg in owners if lg.code == texter.language), owners[0])

        def done(step: str, outcome: str, text: str | None, *changes) -> TextAnswer:
            return TextAnswer((text,) if text else (), lang.code, step, outcome,
                              (*changes, Usage(channel, lang.code, step, outcome)))

        if said.kind == "opt_out":
            # One confirmation, once: Twilio sends it for its own words on SMS; the line sends it for
            # every other way of saying it, and on WhatsApp, unless the texter had already opted out.
            confirm = (channel != "sms" or not said.confirmed_by_twilio) and not texter.opted_out
            stop = done("stop", "opted_out", lang.sms["opted_out"] if confirm else None, OptOut(True))
            return _safe_answer_first(library, texter, body, channel, stop)
        if said.kind == "opt_in":
            if texter.known and not texter.opted_out:
                # Nothing to come back from (on SMS Twilio answers START, YES and UNSTOP itself): the topics.
                return _first(library, texter, channel, done("main", "answered", lang.menus["main"].text))
            return done("start", "opted_in", lang.sms["opted_in"], OptOut(False))
        help_text = lang.sms["whatsapp_help" if channel == "whatsapp" else "help"]
        return _told(texter, done("help", "answered", help_text))

    default = library.language(None)
    if not texter.known:  # whether they opted out cannot be told: only where help is, or the safe words
        return _safe_words(library, texter, body, channel) or failed(library)
    words = normalize(body)  # once, for every language and both passes of the matcher
    lang = library.language(texter.language)
    meaning = understand(library, lang, words, "sms", chosen=texter.language is not None)
    if meaning.kind == "language":
        named = library.languages[meaning.id]
        outcome = "opted_out" if texter.opted_out else "answered"
        text = () if texter.opted_out else (named.sms["language_set"],)
        chosen = TextAnswer(text, named.code, "language", outcome,
                            (ChooseLanguage(named.code), Usage(channel, named.code, "language", outcome)))
        return chosen if texter.opted_out else _first(library, texter, channel, chosen)
    if texter.opted_out:
        # The line keeps quiet as promised (on SMS Twilio would refuse to deliver its words anyway),
        # except for the safe words to a message that says the texter is in danger.
        return _safe_words(library, texter, body, channel) or TextAnswer(
            (), default.code, "blocked", "opted_out", (Usage(channel, default.code, "blocked", "opted_out"),))
    lang = library.languages[meaning.lang]
    if meaning.kind == "nothing":
        return _first(library, texter, channel, TextAnswer(
            (lang.not_understood_text(words),), lang.code, "not_understood", "not_understood",
            (Unmatched(channel, lang.code, body), Usage(channel, lang.code, "not_understood", "not_understood"))))
    if meaning.kind == "intent":
        named = lang.item(meaning.also) if meaning.also else None
        step, text = meaning.id, lang.intents.reply_text(meaning.id, named)
    elif meaning.kind == "command" and meaning.id == "help":  # "who is this?"
        help_text = lang.sms["whatsapp_help" if channel == "whatsapp" else "help"]
        return _told(texter, TextAnswer((help_text,), lang.code, "help", "answered",
                                        (Usage(channel, lang.code, "help", "answered"),)))
    elif meaning.kind == "topic":
        step, text = meaning.id, lang.topics[meaning.id].text
    elif meaning.kind == "menu":
        step, text = meaning.id, lang.menus[meaning.id].text
    else:  # MENU and its synonyms
        step, text = "main", lang.menus["main"].text
    reply = TextAnswer((text,), lang.code, step, "answered", (Usage(channel, lang.code, step, "answered"),))
    if meaning.safety:
        return reply  # the safe words alone, first (the module's docstring says why)
    return _first(library, texter, channel, reply)


def _first(library: Library, texter: Texter, channel: str, reply: TextAnswer) -> TextAnswer:
    """`reply`, led by the first_text notice when it is the number's first answer, and remembered."""
    if not texter.first:
        return reply
    notice = library.languages[reply.lang].sms["first_text"]
    texts = ("\n\n".join((notice, *reply.texts)),) if channel == "whatsapp" else (notice, *reply.texts)
    return replace(reply, texts=texts, changes=_remembered(reply.changes))


def _told(texter: Texter, reply: TextAnswer) -> TextAnswer:
    """HELP, which says what the notice says: a new number counts as answered."""
    return replace(reply, changes=_remembered(reply.changes)) if texter.first else reply


def _remembered(changes: tuple) -> tuple:
    # An opt-out or a language choice writes the number's row itself, which is all "answered" is.
    return changes if any(isinstance(c, MAKES_KNOWN) for c in changes) else (Answered(), *changes)
