"""Text columns of a data frame to NFC Unicode, each column's encoding detected on its own.

The loader reads DBF/TAB/DGN text with pyogrio `encoding="latin1"`, so each character of such
a string is one original byte and the bytes come back losslessly with str.encode("latin1").
GeoJSON/GPKG text arrives as real Unicode; a column holding any character above U+00FF is
taken to be Unicode already and is only normalised to NFC.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from gis.errors import SPPError
from gis.text.detect import Detection, decode_column
from gis.text.normalize import nfc


class TextColumnError(SPPError, ValueError):
    """An override that cannot apply to the frame (unknown column, column already Unicode)."""


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _unicode_column(values: list) -> tuple[list, Detection]:
    out, changed, total = [], 0, 0
    for v in values:
        if isinstance(v, str):
            total += 1
            n = nfc(v)
            changed += n != v
            out.append(n)
        else:
            out.append(v)
    return out, Detection("unicode", 1.0, changed, total)


def _byte_column(values: list, override: str | None, codec: str) -> tuple[list, Detection]:
    raw = [
        v.encode(codec) if isinstance(v, str) else bytes(v) if isinstance(v, bytes) else None
        for v in values
    ]
    decoded, detection = decode_column(raw, override=override)
    # Values that were neither str nor bytes (None, NaN, numbers) go back untouched.
    kept = [d if r is not None else v for d, r, v in zip(decoded, raw, values, strict=True)]
    return kept, detection


def _beyond_latin1(texts: list[str]) -> bool:
    """Whether any text has a character above U+00FF: one C-speed encode of them all instead
    of a max() per value (CPython stores text of such characters only in wider strings)."""
    try:
        "".join(texts).encode("latin1")
    except UnicodeEncodeError:
        return True
    return False


def normalize_frame(
    df: pd.DataFrame, overrides: Mapping[str, str] | None = None, byte_codec: str = "latin1"
) -> tuple[pd.DataFrame, dict[str, Detection]]:
    """A copy of df with every text column as NFC Unicode, and a report per text column.

    overrides: column -> encoding name, to force an encoding instead of detecting it.
    byte_codec: the 1:1 codec the file was read with (each char is one original byte).
    A report's encoding is "unicode" for a column that was Unicode already.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(map(str, df.columns)))
    if unknown:
        raise TextColumnError(
            f"encoding override for unknown column(s) {', '.join(unknown)}; "
            f"columns are: {', '.join(map(str, df.columns))}"
        )
    out = df.copy()
    reports: dict[str, Detection] = {}
    for column in df.columns:
        series = df[column]
        if not _is_text(series):
            continue
        values = series.tolist()
        is_unicode = _beyond_latin1([v for v in values if isinstance(v, str)])
        override = overrides.get(str(column))
        if is_unicode and override is not None:
            raise TextColumnError(
                f"column {column} already holds Unicode text (characters above U+00FF), so "
                f"its bytes are gone and the override {override!r} cannot apply; read the "
                f'file with encoding="{byte_codec}" to decode it'
            )
        if is_unicode:
            fixed, report = _unicode_column(values)
        else:
            fixed, report = _byte_column(values, override, byte_codec)
        out[column] = pd.Series(fixed, index=series.index, dtype=series.dtype, name=column)
        reports[str(column)] = report
    return out, reports
