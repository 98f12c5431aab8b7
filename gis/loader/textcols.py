"""Text columns of a delivery to NFC Unicode (gis.text does the decoding).

Legacy formats (DBF, TAB, DGN, DXF, CSV) are read byte-preserving; the encoding of each column
is detected on the first batch that has non-ASCII text in it, whatever the .cpg says, and then
kept for every later batch so one file is never decoded two ways. Unicode formats (GeoJSON,
GeoPackage, FileGDB) are only normalised to NFC. --encoding forces one encoding everywhere.
"""

from __future__ import annotations

import pandas as pd

from gis.text import canonical_encoding, nfc, normalize_frame

UNDECIDED = ("ascii",)  # all-ASCII so far: decide again when real text shows up


class TextDecoder:
    def __init__(self, override: str | None, raw_text: bool):
        self.override = canonical_encoding(override) if override else None
        self.raw_text = raw_text
        self.chosen: dict[str, dict] = {}

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.raw_text:
            return self._nfc_only(frame)
        else:
            text_cols = [c for c in frame.columns if frame[c].dtype == object
                         or pd.api.types.is_string_dtype(frame[c])]
            overrides = {}
            for col in text_cols:
                if self.override:
                    overrides[col] = self.override
                elif col in self.chosen and self.chosen[col]["encoding"] not in UNDECIDED:
                    overrides[col] = self.chosen[col]["encoding"]
            out, reports = normalize_frame(frame, overrides)
        for col, det in reports.items():
            seen = self.chosen.get(col)
            changed = det.changed + (seen["changed"] if seen else 0)
            if seen and seen["encoding"] not in UNDECIDED and det.encoding in UNDECIDED:
                seen["changed"] = changed
                continue
            self.chosen[col] = {"encoding": det.encoding, "confidence": round(det.confidence, 3),
                                "changed": changed, "forced": bool(self.override)}
        return out

    def _nfc_only(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for col in frame.columns:
            if not (frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])):
                continue
            values = frame[col]
            fixed = values.map(lambda v: nfc(v) if isinstance(v, str) else v)
            entry = self.chosen.setdefault(col, {"encoding": "unicode", "confidence": 1.0,
                                                 "changed": 0, "forced": False})
            entry["changed"] += int((fixed != values).sum())
            out[col] = fixed
        return out

    def report(self) -> dict:
        return self.chosen
