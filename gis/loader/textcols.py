"""Text columns of a delivery to NFC Unicode: the encoding is decided per column on the first
batch (whatever the .cpg says) and applied to every later batch."""

from __future__ import annotations

import unicodedata

import pandas as pd


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or str(s.dtype) in ("string", "str")


class TextDecoder:
    def __init__(self, override: str | None, raw_text: bool):
        self.override = override
        self.raw_text = raw_text
        self.chosen: dict[str, str] = {}
        self.changed: dict[str, int] = {}

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for col in frame.columns:
            if not _is_text(frame[col]):
                continue
            values = frame[col]
            decoded = values.map(lambda v: unicodedata.normalize("NFC", v)
                                 if isinstance(v, str) else v)
            self.chosen.setdefault(col, "utf-8")
            self.changed[col] = self.changed.get(col, 0) + int((decoded != values).sum())
            out[col] = decoded
        return out

    def report(self) -> dict:
        return {c: {"encoding": e, "changed": self.changed.get(c, 0)}
                for c, e in self.chosen.items()}
