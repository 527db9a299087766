"""How carriers count an SMS: GSM-7 when every character allows it, UCS-2 otherwise."""
from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: an escape septet plus the character, so each counts twice.
GSM7_EXTENDED = set("^{}\\[]~|€\f")

MAX_SEGMENTS = 2  # a language's budget unless its language.yaml sets sms_segments


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    offending: tuple[str, ...]  # characters that forced UCS-2, in order of first use

    @property
    def limit(self) -> int:
        """Characters (units) allowed in MAX_SEGMENTS segments in this encoding."""
        return self.limit_in(MAX_SEGMENTS)

    def limit_in(self, segments: int) -> int:
        """Characters (units) allowed in this many segments in this encoding."""
        if segments == 1:
            return 160 if self.encoding == "GSM-7" else 70
        return (153 if self.encoding == "GSM-7" else 67) * segments


def count(text: str) -> SmsCount:
    offending: list[str] = []
    septets = 0
    for ch in text:
        if ch in GSM7_BASIC:
            septets += 1
        elif ch in GSM7_EXTENDED:
            septets += 2
        elif ch not in offending:
            offending.append(ch)
    if not offending:
        segments = 1 if septets <= 160 else -(-septets // 153)
        return SmsCount("GSM-7", septets, segments if text else 1, ())
    units = len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= 70 else -(-units // 67)
    return SmsCount("UCS-2", units, segments, tuple(offending))


def describe(ch: str) -> str:
    """A readable name for a character, for messages to staff."""
    import unicodedata

    name = unicodedata.name(ch, f"U+{ord(ch):04X}")
    return f"'{ch}' ({name.lower()})" if ch.isprintable() and not ch.isspace() else name.lower()
