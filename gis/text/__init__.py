"""Vietnamese text from legacy GIS files: TCVN3, VNI-Windows, Windows-1258, UTF-8 -> NFC.

Modules: tcvn3, vni, cp1258 (codecs); normalize (NFC, search keys); plausibility (how
Vietnamese a text looks, with lexicon); detect (per-column encoding detection); frame
(data frames).
"""

from gis.text.detect import (
    ENCODINGS,
    Detection,
    UnknownEncodingError,
    canonical_encoding,
    decode_column,
    decode_value,
)
from gis.text.frame import TextColumnError, normalize_frame
from gis.text.normalize import fold_diacritics, nfc

__all__ = [
    "ENCODINGS",
    "Detection",
    "TextColumnError",
    "UnknownEncodingError",
    "canonical_encoding",
    "decode_column",
    "decode_value",
    "fold_diacritics",
    "nfc",
    "normalize_frame",
]
