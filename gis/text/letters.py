"""The Vietnamese alphabet as Unicode: tone marks and the 134 letters outside ASCII."""

from __future__ import annotations

import unicodedata

# The five tone marks as combining characters (the sixth tone, ngang, has no mark).
GRAVE, ACUTE, HOOK, TILDE, DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
TONE_MARKS = frozenset((GRAVE, ACUTE, HOOK, TILDE, DOT))

BASE_VOWELS = "aăâeêioôơuưy"


def _build() -> tuple[str, ...]:
    lower = []
    for vowel in BASE_VOWELS:
        for tone in ("", GRAVE, ACUTE, HOOK, TILDE, DOT):
            letter = unicodedata.normalize("NFC", vowel + tone)
            if not letter.isascii():
                lower.append(letter)
    lower.append("đ")
    return tuple(lower) + tuple(c.upper() for c in lower)


# 67 lower-case letters then their 67 capitals, each one precomposed (NFC) code point.
LETTERS: tuple[str, ...] = _build()
