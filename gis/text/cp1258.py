"""Windows-1258: precomposed ă â ê ô ơ ư đ, tones as separate combining-mark bytes.

Python's cp1258 codec yields the combining marks as they are, so decoding normalises to NFC.
"""

from __future__ import annotations

import unicodedata

from gis.text.letters import TONE_MARKS


def decode(data: bytes) -> str:
    """Windows-1258 bytes -> Unicode NFC (undefined bytes become U+FFFD)."""
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))


def encode(text: str, errors: str = "strict") -> bytes:
    """Unicode -> Windows-1258 the way the Windows Vietnamese keyboard writes it: every toned
    letter as its base letter (ă â ê ô ơ ư included) followed by the tone's combining byte."""
    out = bytearray()
    for c in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", c)
        tones = "".join(m for m in parts if m in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in TONE_MARKS))
        out += (base + tones).encode("cp1258", errors=errors)
    return bytes(out)
