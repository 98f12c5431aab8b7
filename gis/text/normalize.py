"""Unicode normal form and search keys."""

from __future__ import annotations

import unicodedata

_D_STROKE = str.maketrans("đĐ", "dD")


def nfc(s: str) -> str:
    """Composed form (NFC): the one form we store; NFD input (e.g. from macOS) compares equal."""
    return unicodedata.normalize("NFC", s)


def fold_diacritics(s: str) -> str:
    """Search key: lower case, no diacritics, đ -> d, single spaces.

    "Phường Ninh Kiều" -> "phuong ninh kieu".
    """
    decomposed = unicodedata.normalize("NFD", s.translate(_D_STROKE))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())
