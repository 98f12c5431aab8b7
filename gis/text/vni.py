"""VNI-Windows font text: a base letter followed by a mark glyph, bytes read as Windows-1252.

The table gives, for each of the 134 letters, the cp1252 glyphs the VNI fonts draw it with:
"Caàn Thô" = Cần Thơ. Decoding is longest-match: a two-glyph sequence (base + mark) wins over
the single glyph. A mark with no base in front of it stays as its cp1252 glyph (and counts as
a leftover, which the encoding detector treats as evidence against VNI).
"""

from __future__ import annotations

import unicodedata

# Rows: plain vowel then grave, acute, hook, tilde, dot below (i and the horn vowels ơ = ô,
# ư = ö and đ = ñ are single glyphs; the other marks follow the base letter).
LOWER: dict[str, str] = {
    "à": "aø", "á": "aù", "ả": "aû", "ã": "aõ", "ạ": "aï",
    "ă": "aê", "ằ": "aè", "ắ": "aé", "ẳ": "aú", "ẵ": "aü", "ặ": "aë",
    "â": "aâ", "ầ": "aà", "ấ": "aá", "ẩ": "aå", "ẫ": "aã", "ậ": "aä",
    "è": "eø", "é": "eù", "ẻ": "eû", "ẽ": "eõ", "ẹ": "eï",
    "ê": "eâ", "ề": "eà", "ế": "eá", "ể": "eå", "ễ": "eã", "ệ": "eä",
    "ì": "ì", "í": "í", "ỉ": "æ", "ĩ": "ó", "ị": "ò",
    "ò": "oø", "ó": "où", "ỏ": "oû", "õ": "oõ", "ọ": "oï",
    "ô": "oâ", "ồ": "oà", "ố": "oá", "ổ": "oå", "ỗ": "oã", "ộ": "oä",
    "ơ": "ô", "ờ": "ôø", "ớ": "ôù", "ở": "ôû", "ỡ": "ôõ", "ợ": "ôï",
    "ù": "uø", "ú": "uù", "ủ": "uû", "ũ": "uõ", "ụ": "uï",
    "ư": "ö", "ừ": "öø", "ứ": "öù", "ử": "öû", "ữ": "öõ", "ự": "öï",
    "ỳ": "yø", "ý": "yù", "ỷ": "yû", "ỹ": "yõ", "ỵ": "yî",
    "đ": "ñ",
}
# capitals: each letter of the pair in capitals (VNI's capital glyphs are the Latin-1 capitals)
UPPER: dict[str, str] = {k.upper(): v.upper() for k, v in LOWER.items()}
ENCODE: dict[str, str] = {**LOWER, **UPPER}


def _decode_table() -> tuple[dict[str, str], dict[str, str]]:
    pairs: dict[str, str] = {}
    singles: dict[str, str] = {}
    for letter, glyphs in ENCODE.items():
        if len(glyphs) == 1:
            singles[glyphs] = letter
            continue
        base, mark = glyphs
        pairs[glyphs] = letter
        # Sloppy data mixes case ("Aáp"); the base letter decides the case of the result.
        other = mark.lower() if mark.isupper() else mark.upper()
        pairs.setdefault(base + other, letter)
    return pairs, singles


PAIRS, SINGLES = _decode_table()
# Glyphs that only ever follow a base letter; seen alone they are leftovers.
MARKS = frozenset(g[1] for g in PAIRS)


def _glyph(b: int) -> str:
    try:
        return bytes([b]).decode("cp1252")
    except UnicodeDecodeError:  # five bytes are undefined in cp1252: keep them as latin1
        return chr(b)


# Applied to the latin1 reading of the bytes (one char per byte): str.translate is fast.
_GLYPHS = {b: _glyph(b) for b in range(0x80, 0x100)}


def glyphs(data: bytes) -> str:
    """The cp1252 glyphs of VNI bytes, what a non-VNI font shows ("Caàn Thô")."""
    return data.decode("latin1").translate(_GLYPHS)


def decode_glyphs(text: str) -> tuple[str, int]:
    """VNI glyph string -> (Unicode NFC, number of leftover mark glyphs)."""
    out: list[str] = []
    leftovers = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c < "\x80" and (i + 1 == n or text[i + 1] < "\x80"):
            out.append(c)  # fast path: ASCII not followed by a mark
            i += 1
            continue
        letter = PAIRS.get(text[i : i + 2])
        if letter is not None:
            out.append(letter)
            i += 2
            continue
        if c in SINGLES:
            out.append(SINGLES[c])
        else:
            leftovers += c in MARKS
            out.append(c)
        i += 1
    return "".join(out), leftovers


def decode(data: bytes) -> str:
    """VNI-Windows bytes -> Unicode (NFC)."""
    return decode_glyphs(glyphs(data))[0]


def encode(text: str, errors: str = "strict") -> bytes:
    """Unicode -> VNI-Windows bytes.

    errors: "strict" raises UnicodeEncodeError for a character cp1252 glyphs cannot hold,
    "replace" writes "?" instead.
    """
    text = unicodedata.normalize("NFC", text)
    out = bytearray()
    for i, c in enumerate(text):
        glyphs = ENCODE.get(c, c)
        try:
            out += glyphs.encode("cp1252")
        except UnicodeEncodeError:
            if errors != "replace":
                raise UnicodeEncodeError("vni", text, i, i + 1, "not in VNI-Windows") from None
            out.append(0x3F)
    return bytes(out)
