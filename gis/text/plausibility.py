"""How Vietnamese a decoded text looks: the evidence the encoding detector weighs.

Only what differs between candidate decodings counts: words with a non-ASCII letter and
non-ASCII symbols. ASCII words (codes such as "ODT", "K1") read the same in every encoding.
"""

from __future__ import annotations

import re
import unicodedata

from gis.text.letters import ACUTE, DOT, TONE_MARKS
from gis.text.lexicon import COMMON

_ONSET = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx]"
# Vowel groups that end the syllable (their last letter is a glide) ...
_OPEN = "iêu|yêu|oai|oay|oao|oeo|uây|uôi|ươi|ươu|uya|uyu|ai|ao|au|ay|âu|ây|eo|êu|ia|iu|oi|ôi|ơi|ua|ui|ưa|ưi|ưu"  # noqa: E501
# ... groups that need a final consonant, and groups that take one or not.
_CLOSED = "uyê|iê|yê|uô|ươ|oă|uâ|oo|ă|â"
_EITHER = "oa|oe|uê|uy|uơ|a|e|ê|i|o|ô|ơ|u|ư|y"
_CODA = "ng|nh|ch|[cmnpt]"
_SYLLABLE = re.compile(
    rf"(?P<onset>{_ONSET})?"
    rf"(?:(?P<open>{_OPEN})|(?P<closed>{_CLOSED})(?P<c1>{_CODA})|(?P<either>{_EITHER})(?P<c2>{_CODA})?)"
)
_FRONT = frozenset("ieêy")

# Symbols a legitimate attribute value may hold; anything else non-ASCII and not a letter
# (µ § ¬ ¦ € ‚ „ soft hyphen ...) is typical mojibake.
NEUTRAL = frozenset("\u00a0–—‘’“”…•°²³±×÷·«»")
_WORD = re.compile(r"[^\W\d_]+")


def _split_tone(word: str) -> tuple[str, list[int], str]:
    """(letters without tone, positions of toned letters, the tone mark or "")."""
    bare, toned, tone = [], [], ""
    for i, c in enumerate(word):
        parts = unicodedata.normalize("NFD", c)
        marks = [m for m in parts if m in TONE_MARKS]
        if marks:
            toned.append(i)
            tone = marks[0]
            parts = "".join(m for m in parts if m not in TONE_MARKS)
        bare.append(unicodedata.normalize("NFC", parts))
    return "".join(bare), toned, tone


def _tone_places(vowels: str, group: str, has_coda: bool) -> tuple[int, ...]:
    """Where in the vowel group the tone mark may sit (old and new styles both accepted)."""
    if group == "open":
        return (1,) if len(vowels) == 3 else (0,)
    if group == "closed" or (has_coda and len(vowels) > 1):
        return (len(vowels) - 1,)  # tiền, muốn, hoàng, quyết
    if vowels in ("oa", "oe", "uy"):
        return (0, 1)  # hòa / hoà, thủy / thuỷ
    return (len(vowels) - 1,)  # a, thuế, thuở


def is_syllable(word: str) -> bool:
    """True for one well-formed Vietnamese syllable (any case, NFC or NFD)."""
    word = unicodedata.normalize("NFC", word)
    if not (word.islower() or word.isupper() or word.istitle()):
        return False  # "BƠn" is how a wrong reading looks, not how anyone writes
    bare, toned, tone = _split_tone(word.lower())
    if len(toned) > 1 or len(bare) != len(word):
        return False
    m = _SYLLABLE.fullmatch(bare)
    if m is None:
        return False
    group = next(g for g in ("open", "closed", "either") if m.group(g))
    vowels, start = m.group(group), m.start(group)
    coda = m.group("c1") or m.group("c2") or ""
    onset = m.group("onset") or ""
    if toned and toned[0] - start not in _tone_places(vowels, group, bool(coda)):
        return False
    front = vowels[0] in _FRONT
    if (onset in ("ngh", "gh", "k") and not front) or (onset in ("c", "ng") and front):
        return False  # spelling: nghe, ghế, kê but ca, nga
    if onset == "g" and vowels[0] in "eê":
        return False
    if coda in ("nh", "ch") and vowels[-1] not in "aêiy":
        return False  # anh ênh inh uynh, never ônh
    # A syllable closed by a stop (c ch p t) carries the acute or the dot-below tone.
    return coda not in ("c", "ch", "p", "t") or tone in (ACUTE, DOT)


def score(text: str) -> float:
    """+1 per Vietnamese word with a non-ASCII letter (+2 for a common one), -1 per other such
    word, -2 per mojibake symbol, -3 per control character, U+FFFD or stray combining mark."""
    if text.isascii():
        return 0.0
    total = 0.0
    for word in _WORD.findall(text):
        if not word.isascii():
            if is_syllable(word):
                total += 2.0 if word.lower() in COMMON else 1.0
            else:
                total -= 1.0
    for c in text:
        if c.isascii() or c.isalpha() or c in NEUTRAL:
            continue
        if unicodedata.category(c) in ("Cc", "Mn") or c == "\ufffd":
            total -= 3.0
        elif not c.isspace():
            total -= 2.0
    return total
