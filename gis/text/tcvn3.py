"""TCVN3 (TCVN 5712:1993 "ABC", the .VnTime fonts): one byte per letter.

The ABC set has the 67 lower-case letters and only seven capitals (Ă Â Ê Ô Ơ Ư Đ at 0xA1-0xA7);
other capitals were typed with the lower-case bytes in a ".VnTimeH" font, so case is lost.
We also decode the 16 VN1 capitals that sit in 0xA0-0xFF (unassigned in ABC, so harmless) to
match glibc's TCVN5712-1. We do NOT take VN1's capitals in 0x00-0x1F (they are control codes in
every DBF) or 0x80-0x9F: in ABC fonts those bytes keep their Windows-1252 punctuation (smart
quotes, dashes typed in Word), which is how we decode them. Any other byte reads as cp1252.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache

from gis.text.letters import LETTERS

# Checked against `iconv -f TCVN5712-1` (tests/test_text_tcvn3.py).
ABC: dict[int, str] = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ", 0xA8: "ă",
    0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ", 0xB5: "à", 0xB6: "ả",
    0xB7: "ã", 0xB8: "á", 0xB9: "ạ", 0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ", 0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ",
    0xD0: "é", 0xD1: "ẹ", 0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ", 0xD7: "ì",
    0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị", 0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó",
    0xE4: "ọ", 0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ", 0xEA: "ờ", 0xEB: "ở",
    0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ", 0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự", 0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ",
    0xFD: "ý", 0xFE: "ỵ",
}
VN1_HIGH_CAPITALS: dict[int, str] = {
    0xAF: "Ằ", 0xBA: "Ẳ", 0xBF: "Ẵ", 0xC0: "Ắ", 0xC1: "Ầ", 0xC2: "Ẩ", 0xC3: "Ẫ", 0xC4: "Ấ",
    0xC5: "Ề", 0xCD: "Ể", 0xD9: "Ễ", 0xDA: "Ế", 0xDB: "Ồ", 0xE0: "Ổ", 0xF0: "Ỗ", 0xFF: "Ố",
}
DECODE: dict[int, str] = {**ABC, **VN1_HIGH_CAPITALS}


def _cp1252_glyph(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81 0x8D 0x8F 0x90 0x9D: undefined in cp1252
        return chr(byte)


# Each byte above 0x7F as its character (one char per byte).
_DECODE_TABLE = {b: DECODE.get(b) or _cp1252_glyph(b) for b in range(0x80, 0x100)}

# the same table as a charmap of all 256 bytes: codecs.charmap_decode reads it in C, ~7x
# faster than latin1 then str.translate on a loader's hundreds of thousands of values
_DECODE_CHARMAP = "".join(chr(b) if b < 0x80 else _DECODE_TABLE[b] for b in range(0x100))
assert len(_DECODE_CHARMAP) == 0x100

_ENCODE: dict[str, int] = {c: b for b, c in ABC.items()}
for _c in LETTERS:  # capitals without an ABC byte are written with the lower-case byte
    _ENCODE.setdefault(_c, _ENCODE[_c.lower()])
for _b, _g in _DECODE_TABLE.items():  # punctuation and other unmapped cp1252 glyphs
    if _b not in DECODE:
        _ENCODE.setdefault(_g, _b)

# Upper-cases only ASCII and Vietnamese letters (str.upper would turn a stray µ into Greek Μ).
_UPPER = str.maketrans({c: c.upper() for c in (*LETTERS, *"abcdefghijklmnopqrstuvwxyz")})
# Letters whose byte says nothing about case: the toned lower-case letters of ABC.
CASE_LOST = frozenset(c for c in ABC.values() if c.islower()) - frozenset("ăâêôơưđ")
_WORDS = re.compile(r"([^\W\d_]+)")  # split() keeps the words


def _known_case(letters: str) -> list[bool]:
    """isupper() of each letter whose case the bytes record."""
    return [c.isupper() for c in letters if c not in CASE_LOST]


@lru_cache(maxsize=1 << 16)
def _word(word: str) -> tuple[bool, bool, bool | None, str, str]:
    """What restore_capitals needs of one word, cached (a file's words repeat): whether its
    tail (letters after the first) shows a known case, whether every known one is a capital,
    its first letter's case (None: lost), its capitals form and its capital-initial form."""
    tail = _known_case(word[1:])
    first = None if word[0] in CASE_LOST else word[0].isupper()
    return (bool(tail), all(tail), first, word.translate(_UPPER),
            word[0].upper() + word[1:] if word[0] in CASE_LOST else word)


def restore_capitals(text: str) -> str:
    """Undo the ABC case loss where the letters whose case is known show it.

    Capitals: when every known-case letter after the first letter of a word is a capital, the
    value ("CầN THƠ" -> "CẦN THƠ") or at least that word ("ủY" -> "ỦY") was typed in capitals.
    Title case: a value's first letter is capitalised ("ấp 1" -> "Ấp 1"), and so is each word's
    when at least two words show a known capital initial and none a small one
    ("Xã Nhơn ái" -> "Xã Nhơn Ái"). "Cờ Đỏ" stays as it is: it could also be "CỜ ĐỎ".
    """
    parts = _WORDS.split(text)  # separators at even positions, words at odd ones
    if len(parts) == 1:
        return text
    words = _restored(tuple(parts[1::2]))
    if words is None:
        return text.translate(_UPPER)
    parts[1::2] = words
    return "".join(parts)


@lru_cache(maxsize=1 << 16)
def _restored(words: tuple[str, ...]) -> tuple[str, ...] | None:
    """``restore_capitals`` of a value's words (None: the value was typed in capitals), kept
    by the words alone: a delivery's values are unique by their numbers ("Số 184, đường ..."),
    which are separators, while their words repeat (300 000 addresses, 15 000 word runs)."""
    facts = [_word(w) for w in words]
    shown = [f for f in facts if f[0]]
    if shown and all(f[1] for f in shown):
        return None
    initials = [f[2] for f in facts if f[2] is not None]
    title = len(initials) >= 2 and all(initials)
    return tuple(capitals if tail_known and tail_capitals else
                 initial if i == 0 or title else word
                 for i, (word, (tail_known, tail_capitals, _first, capitals, initial))
                 in enumerate(zip(words, facts, strict=True)))


def decode(data: bytes, restore_case: bool = True) -> str:
    """TCVN3 bytes -> Unicode (NFC: every table entry is precomposed).

    restore_case: apply restore_capitals, so text typed in capitals comes back in capitals.
    """
    text = codecs.charmap_decode(data, "strict", _DECODE_CHARMAP)[0]
    return restore_capitals(text) if restore_case and not text.isascii() else text


def encode(text: str, errors: str = "strict") -> bytes:
    """Unicode -> TCVN3 bytes as an ABC user would have typed them (most capitals lose case).

    errors: "strict" raises UnicodeEncodeError for a character TCVN3 cannot hold, "replace"
    writes "?" instead.
    """
    text = unicodedata.normalize("NFC", text)
    out = bytearray()
    for i, c in enumerate(text):
        if c < "\x80":
            out.append(ord(c))
        elif c in _ENCODE:
            out.append(_ENCODE[c])
        elif errors == "replace":
            out.append(0x3F)
        else:
            raise UnicodeEncodeError("tcvn3", text, i, i + 1, "not in TCVN3")
    return bytes(out)
