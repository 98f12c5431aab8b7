"""Which encoding a text column was written in, judged from how Vietnamese each reading looks.

A .cpg or DBF language id is not trusted (legacy files say 1252 whatever they hold). Each
candidate decodes the column's distinct non-ASCII values; plausibility.score rates the result
and the best reading wins. Ties go to the reading that changes fewest values, so text that
reads equally well either way is left as it was read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gis.errors import SPPError
from gis.text import cp1258, tcvn3, vni
from gis.text.normalize import nfc
from gis.text.plausibility import score

# Canonical names, in tie-break order: the font encodings are far commoner in legacy GIS data
# than cp1258. "latin1" means unknown: keep the bytes as read.
ENCODINGS = ("ascii", "utf-8", "tcvn3", "vni", "cp1258", "latin1")
_ALIASES = {
    "utf8": "utf-8", "unicode": "utf-8", "abc": "tcvn3", "tcvn": "tcvn3", "vntime": "tcvn3",
    "vni-windows": "vni", "windows-1258": "cp1258", "1258": "cp1258",
    "latin-1": "latin1", "iso-8859-1": "latin1", "unknown": "latin1", "us-ascii": "ascii",
}
# How many distinct non-ASCII values are enough evidence; more only costs time.
SAMPLE = 2000


class UnknownEncodingError(SPPError, ValueError):
    """An encoding name this package cannot decode."""


def canonical_encoding(name: str) -> str:
    """The canonical name for an encoding name or alias (case-insensitive)."""
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in ENCODINGS:
        raise UnknownEncodingError(
            f"unknown text encoding {name!r}; use one of: {', '.join(ENCODINGS)}"
        )
    return key


def _vni(data: bytes) -> tuple[str, int]:
    return vni.decode_glyphs(vni.glyphs(data))


_DECODERS: dict[str, Callable[[bytes], tuple[str, int]]] = {
    "ascii": lambda b: (b.decode("ascii", errors="replace"), 0),
    "utf-8": lambda b: (nfc(b.decode("utf-8", errors="replace")), 0),
    "cp1258": lambda b: (cp1258.decode(b), 0),
    "tcvn3": lambda b: (tcvn3.decode(b), 0),
    "vni": _vni,  # also counts mark glyphs left without a base letter
    "latin1": lambda b: (b.decode("latin1"), 0),
}


def decode_value(data: bytes, encoding: str) -> str:
    """One value in a named encoding, as NFC Unicode."""
    return _DECODERS[canonical_encoding(encoding)](bytes(data))[0]


@dataclass(frozen=True)
class Detection:
    """What was decided for one column.

    changed counts values whose text differs from a byte-for-byte (latin1) reading;
    scores holds each candidate's plausibility (for logs, empty when forced or ASCII).
    """

    encoding: str
    confidence: float
    changed: int
    total: int
    forced: bool = False
    scores: dict[str, float] = field(default_factory=dict)


def _strict_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _choose(samples: list[bytes]) -> tuple[str, float, dict[str, float]]:
    readings: dict[str, list[str]] = {}
    scores: dict[str, float] = {}
    for name in ENCODINGS[1:]:
        decoded = [_DECODERS[name](b) for b in samples]
        readings[name] = [text for text, _ in decoded]
        scores[name] = sum(score(text) - 2.0 * leftover for text, leftover in decoded)
    # Legacy bytes almost never form valid multi-byte UTF-8 by chance, so a value that does
    # is strong evidence on its own ("Cà Mau" would otherwise tie with latin1 "CÃ\xa0 Mau").
    scores["utf-8"] += 2.0 * sum(_strict_utf8(b) for b in samples)
    as_read = readings["latin1"]

    def changes(name: str) -> int:
        return sum(a != b for a, b in zip(readings[name], as_read, strict=True))

    best_score = max(scores.values())
    tied = [n for n in scores if scores[n] >= best_score - 1e-9]
    best = min(tied, key=lambda n: (changes(n), ENCODINGS.index(n)))
    if best_score <= 0:
        return "latin1", 0.0, scores  # nothing reads as Vietnamese: leave the bytes as read
    rivals = [scores[n] for n in scores if readings[n] != readings[best]]
    runner = max(rivals, default=0.0)
    separation = min(1.0, (best_score - runner) / (best_score + abs(runner)))
    evidence = len(samples) / (len(samples) + 1.0)  # one value is weaker evidence than fifty
    return best, round(separation * evidence, 3), scores


def decode_column(
    values: Sequence[bytes | None], override: str | None = None
) -> tuple[list[str | None], Detection]:
    """Decode one text column's raw values to NFC strings and report the encoding used.

    values: the bytes of each value, None for null. override: an encoding name (see
    ENCODINGS) to use instead of detecting; raises UnknownEncodingError for an unknown one.
    Distinct values are decoded once, so repetitive columns are cheap.
    """
    counts = Counter(bytes(v) for v in values if v is not None)
    total = sum(counts.values())
    if override is not None:
        encoding, confidence, scores = canonical_encoding(override), 1.0, {}
    else:
        samples = [v for v in counts if not v.isascii()][:SAMPLE]
        if samples:
            encoding, confidence, scores = _choose(samples)
        else:
            encoding, confidence, scores = "ascii", 1.0, {}
    decoder = _DECODERS[encoding]
    text = {v: decoder(v)[0] for v in counts}
    changed = sum(n for v, n in counts.items() if text[v] != v.decode("latin1"))
    detection = Detection(encoding, confidence, changed, total, override is not None, scores)
    return [None if v is None else text[bytes(v)] for v in values], detection
