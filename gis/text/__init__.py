"""Vietnamese text from legacy GIS files: TCVN3, VNI-Windows, Windows-1258, UTF-8 -> NFC.

Modules: tcvn3, vni, cp1258 (codecs); normalize (NFC, search keys).
"""

from gis.text.normalize import fold_diacritics, nfc

__all__ = ["fold_diacritics", "nfc"]
