"""Text columns of a delivery to NFC Unicode (gis.text does the decoding).

Legacy formats (DBF, TAB, DGN, DXF, CSV) are read byte-preserving; the encoding of each column
is detected on the first batch that has non-ASCII text in it, whatever the .cpg says, and then
kept for every later batch so one file is never decoded two ways. Unicode formats (GeoJSON,
GeoPackage, FileGDB) are only normalised to NFC. --encoding forces one encoding everywhere.
Columns repeat values a lot, so each distinct value is decoded once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.text import canonical_encoding, nfc, normalize_frame

UNDECIDED = ("ascii",)  # all-ASCII so far: decide again when real text shows up


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series)


def _holds_text(series: pd.Series) -> bool:
    """Object columns may also hold dates or lists (DGN links): only text is decoded."""
    return all(isinstance(v, str) for v in series.dropna().head(1000))


class TextDecoder:
    def __init__(self, override: str | None, raw_text: bool):
        self.override = canonical_encoding(override) if override else None
        self.raw_text = raw_text
        self.chosen: dict[str, dict] = {}

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for col in frame.columns:
            if _is_text(frame[col]) and _holds_text(frame[col]):
                out[col] = self._column(str(col), frame[col])
        return out

    def _column(self, col: str, series: pd.Series) -> pd.Series:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        values = pd.Series(uniques, dtype=object)
        if not self.raw_text:
            fixed, encoding, confidence = values.map(
                lambda v: nfc(v) if isinstance(v, str) else v), "unicode", 1.0
        else:
            override = self.override
            seen = self.chosen.get(col)
            if override is None and seen and seen["encoding"] not in UNDECIDED:
                override = seen["encoding"]
            frame, reports = normalize_frame(pd.DataFrame({col: values}),
                                             {col: override} if override else None)
            fixed = frame[col]
            encoding, confidence = reports[col].encoding, reports[col].confidence
        changed_unique = (fixed.astype(object) != values.astype(object)).to_numpy()
        changed = int(changed_unique[codes[codes >= 0]].sum())
        self._remember(col, encoding, confidence, changed)
        out = np.asarray(fixed, dtype=object)[np.where(codes >= 0, codes, 0)] \
            if len(fixed) else np.full(len(series), None, dtype=object)
        out[codes < 0] = None
        return pd.Series(out, index=series.index, dtype=object)

    def _remember(self, col: str, encoding: str, confidence: float, changed: int) -> None:
        seen = self.chosen.get(col)
        total = changed + (seen["changed"] if seen else 0)
        if seen and seen["encoding"] not in UNDECIDED and encoding in UNDECIDED:
            seen["changed"] = total
            return
        self.chosen[col] = {"encoding": encoding, "confidence": round(float(confidence), 3),
                            "changed": total, "forced": bool(self.override)}

    def report(self) -> dict:
        return self.chosen
