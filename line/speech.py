"""Written text -> what a voice should say.

Numbers are read digit by digit in groups, emails are spelled out, and short forms that a
voice misreads are replaced, using the words of the caller's language (content/<lang>/language.yaml).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Spoken as words, not spelled: the ends of web and email addresses (a language may say fewer:
# language.yaml's spoken.word_domains).
WORD_DOMAINS = ("gov", "com", "org", "net", "edu")

PHONE_PATTERN = re.compile(r"(?<![\w-])(?:\+?1[-. ])?\(?\d{3}\)?[-. ]\d{3}[-. ]\d{4}(?![\w-])")
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Three-digit service numbers (911, 988, 711): said digit by digit, "nine one one", never
# "nine hundred eleven".
SERVICE_NUMBER = re.compile(r"(?<![\w.,-])(?:[2-9]11|988)(?![\w-]|[.,]\d)")


@dataclass(frozen=True)
class Spoken:
    """The words a language uses to say digits, keys, emails and short forms."""

    digits: tuple[str, ...]
    star: str
    pound: str
    at: str
    dot: str
    dash: str
    spell: tuple[str, ...] = ()
    say_instead: tuple[tuple[str, str], ...] = ()
    word_domains: tuple[str, ...] = WORD_DOMAINS

    def key(self, key: str) -> str:
        """A phone key as said aloud: '0' -> 'zero', '*' -> 'star'."""
        if key == "*":
            return self.star
        if key == "#":
            return self.pound
        return " ".join(self.digits[int(d)] for d in key)

    def phone(self, number: str) -> str:
        """'1-866-820-4505' -> 'one. eight, six, six. eight, two, zero. four, five, zero, five':
        every digit apart (a comma) and a longer pause between groups (a full stop), in any voice.
        Read as a group ("eight six six"), a recognizer lost both eights."""
        groups = [g for g in re.split(r"\D+", number) if g]
        return ". ".join(", ".join(self.digits[int(d)] for d in group) for group in groups)

    def email(self, address: str) -> str:
        """'IRC@nih.gov' -> 'I R C, at, N I H, dot, gov'."""
        local, _, domain = address.partition("@")
        parts = [self._spell_part(local), self.at]
        for i, part in enumerate(domain.split(".")):
            if i:
                parts.append(self.dot)
            parts.append(part.lower() if part.lower() in self.word_domains else self._spell_part(part))
        return ", ".join(parts)

    def _spell_part(self, part: str) -> str:
        out = []
        for ch in part:
            if ch.isdigit():
                out.append(self.digits[int(ch)])
            elif ch == ".":
                out.append(self.dot)
            elif ch == "-":
                out.append(self.dash)
            elif ch.isalpha():
                out.append(ch.upper())
        return " ".join(out)

    def say(self, text: str) -> str:
        """Make written text safe to hand to any voice."""
        for written, spoken in self.say_instead:
            text = text.replace(written, spoken)
        text = EMAIL_PATTERN.sub(lambda m: self.email(m.group(0)), text)
        text = PHONE_PATTERN.sub(lambda m: self.phone(m.group(0)), text)
        text = SERVICE_NUMBER.sub(lambda m: self.key(m.group(0)), text)
        for short in self.spell:
            text = re.sub(rf"\b{re.escape(short)}\b", " ".join(short), text)
        return re.sub(r"\s+", " ", text).strip()


# The line's speaking rate: espeak-ng at pyttsx3's rate 175 says about 157 words a minute (Twilio's
# voices are close); at the slower pace, rate 150, about 134.
WORDS_PER_MINUTE = 157
SLOW_WORDS_PER_MINUTE = 134
MAX_SPOKEN_SECONDS = 90


def spoken_seconds(text: str, slow: bool = False) -> float:
    return len(text.split()) * 60 / (SLOW_WORDS_PER_MINUTE if slow else WORDS_PER_MINUTE)


# What a voice would misread if it were handed the text as written.
MISREAD = [
    (PHONE_PATTERN, "a phone number written as digits (write {phone} so it is read digit by digit)"),
    (EMAIL_PATTERN, "an email address (write {email} so it is spelled out)"),
    (re.compile(r"@"), "an '@' sign"),
    (re.compile(r"\b(?:M\.D\.|Ph\.D\.|Dr\.|Mr\.|Mrs\.|Ms\.|St\.|vs\.|etc\.|e\.g\.|i\.e\.)"), "an abbreviation"),
    (re.compile(r"&"), "an '&' sign"),
    (re.compile(r"\d+-\d+"), "numbers joined by a dash"),
    (re.compile(r"[<>]"), "markup"),
]


def misread(text: str) -> list[str]:
    """Why a voice would misread `text` as written (empty when it is safe)."""
    found = []
    for pattern, why in MISREAD:
        m = pattern.search(text)
        if m:
            found.append(f"{why}: '{m.group(0)}'")
    return found


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]
