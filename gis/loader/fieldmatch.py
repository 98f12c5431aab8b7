"""Which layer field a source field most likely is, when its name is not a name or alias of
one: fuzzy matching (difflib) of the accent-folded words of the source name against each
field's name, aliases and labels, weighed by whether sample values fit the field.

`PHUONG` -> `ward_name`: "phuong" is a whole word of the alias `TenPhuong` and of the label
"Tên phường/xã"; `old_ward_name` has it too but also "cũ" (old), a qualifier the source name
does not carry, and `commune_code` wants 5-character codes where the samples are names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from gis.layerdef import FieldDef, LayerDef

THRESHOLD = 0.7
# words that make a field a different one: the old ward is not the ward
QUALIFIERS = {"cu", "old", "truoc", "former", "moi", "new"}
_D_STROKE = str.maketrans("đĐ", "dD")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def words(name: str) -> list[str]:
    """Accent-folded lower-case words of a field name or label (camelCase split too)."""
    decomposed = unicodedata.normalize("NFD", str(name).translate(_D_STROKE))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    out: list[str] = []
    for part in re.split(r"[^0-9A-Za-z]+", plain):
        out += [w.lower() for w in _CAMEL.findall(part)]
    return out


@dataclass(frozen=True)
class Match:
    field: str
    score: float
    why: str  # e.g. "alias TenPhuong", "label 'Tên phường/xã'"


def _fits(f: FieldDef, samples: list[str]) -> float:
    """A penalty when sample values cannot be values of the field."""
    if not samples:
        return 0.0
    if f.max_length and sum(len(s) > f.max_length for s in samples) > len(samples) / 2:
        return 0.3
    if f.type in ("integer", "number"):
        def numeric(s: str) -> bool:
            try:
                float(s.replace(",", "."))
            except ValueError:
                return False
            return True
        if sum(not numeric(s) for s in samples) > len(samples) / 2:
            return 0.3
    return 0.0


def _score(src_words: list[str], src_key: str, candidate: str) -> float:
    cand_words = words(candidate)
    if not cand_words or not src_words:
        return 0.0
    score = SequenceMatcher(None, src_key, "".join(cand_words)).ratio()
    if set(src_words) <= set(cand_words):  # every word of the source name is in it
        score = max(score, 0.75 + 0.25 * len(set(src_words)) / len(set(cand_words)))
    if (set(src_words) & QUALIFIERS) != (set(cand_words) & QUALIFIERS):
        score -= 0.2
    return score


def best_matches(source_name: str, layer: LayerDef, samples: list[str] | None = None,
                 exclude: set[str] = frozenset(), limit: int = 2) -> list[Match]:
    """Layer fields the source field may be, best first (score >= THRESHOLD)."""
    src_words = words(source_name)
    src_key = "".join(src_words)
    found = []
    for f in layer.fields:
        if f.name in exclude:
            continue
        tries = [(f.name, "name " + f.name), *((a, "alias " + a) for a in f.aliases),
                 (f.label.vi, f"label '{f.label.vi}'"), (f.label.en, f"label '{f.label.en}'")]
        scored = [(_score(src_words, src_key, text), why) for text, why in tries]
        best, why = max(scored, key=lambda t: t[0])
        hits = sum(s >= THRESHOLD for s, _ in scored)
        score = best + 0.01 * min(hits, 5) - _fits(f, samples or [])
        if score >= THRESHOLD:
            found.append((score, Match(f.name, round(min(score, 1.0), 3), why)))
    found.sort(key=lambda t: -t[0])
    return [m for _, m in found[:limit]]


def suggest_for_extras(layer: LayerDef, mapping, samples: dict[str, list]) -> dict[str, dict]:
    """For each source field kept in `extra`: the layer field it may be (not yet filled)."""
    filled = set(mapping.to_layer.values()) | set(mapping.derived) | set(mapping.constants)
    out = {}
    for src in mapping.extra:
        matches = best_matches(src, layer, samples.get(src), exclude=filled, limit=1)
        if matches:
            m = matches[0]
            f = layer.field[m.field]
            out[src] = {"field": m.field, "score": m.score, "why": m.why,
                        "label_vi": f.label.vi, "label_en": f.label.en}
    return out
