"""A dBASE III table written byte for byte, as ArcMap writes a shapefile's .dbf.

GDAL writes doubles as N(24,15) ("123.400000000000006") and stamps today's date in the header;
deliveries from ArcGIS carry N(19,11)/N(12,1) widths and their own date. Writing the table here
keeps widths realistic, text as raw legacy bytes, the language id chosen and the file
reproducible. Records are built with numpy, one fixed-width column at a time.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LDID_NONE = 0x00  # no language id: what ArcGIS writes next to a .cpg
LDID_ANSI = 0x57  # "ANSI" = Windows code page 1252


@dataclass(frozen=True)
class Column:
    name: str  # at most 10 ASCII characters
    type: str  # "C" text, "N" number, "D" date (YYYYMMDD), "L" logical
    width: int
    decimals: int = 0


def _encode_column(col: Column, values) -> np.ndarray:
    if col.type == "C":
        raw = [v if isinstance(v, bytes) else ("" if v is None else str(v)).encode("ascii")
               for v in values]
        arr = np.array(raw, dtype=f"S{col.width}") if raw else np.zeros(0, f"S{col.width}")
        too_long = [r for r in raw if len(r) > col.width]
        if too_long:
            raise ValueError(f"{col.name}: {too_long[0]!r} is longer than {col.width} bytes")
        return np.char.ljust(arr, col.width)
    if col.type == "D":
        days = np.asarray(values, dtype="datetime64[D]")
        text = np.char.replace(days.astype(str), "-", "").astype("S8")
        text[np.isnat(days)] = b" " * 8
        return text
    if col.type == "L":
        return np.where(np.asarray(values, dtype=bool), b"T", b"F").astype("S1")
    nums = np.asarray(values, dtype=np.float64)
    fmt = f"%{col.width}.{col.decimals}f"
    text = np.char.mod(fmt, nums).astype(f"S{col.width}")
    text[np.isnan(nums)] = b" " * col.width
    if (np.char.str_len(np.char.mod(fmt, nums[~np.isnan(nums)])) > col.width).any():
        raise ValueError(f"{col.name}: a number does not fit N({col.width},{col.decimals})")
    return np.char.rjust(text, col.width)


def write_dbf(path: Path, columns: list[Column], data: dict[str, object], date: dt.date,
              ldid: int = LDID_NONE) -> None:
    """Write ``data`` (column name -> sequence of bytes/str/numbers, NaN = empty) to ``path``."""
    long = [c.name for c in columns if len(c.name.encode("ascii")) > 10]
    if long:
        raise ValueError(f"dBASE field names have at most 10 characters: {long}")
    n = len(next(iter(data.values()))) if data else 0
    dtype = np.dtype([("_deleted", "S1")] + [(c.name, f"S{c.width}") for c in columns])
    records = np.zeros(n, dtype=dtype)
    records["_deleted"] = b" "
    for col in columns:
        records[col.name] = _encode_column(col, data[col.name])
    header_len = 32 + 32 * len(columns) + 1
    header = struct.pack("<B3BIHH20x", 0x03, date.year - 1900, date.month, date.day, n,
                         header_len, dtype.itemsize)
    header = header[:29] + bytes([ldid]) + header[30:]
    fields = b"".join(struct.pack("<11sc4xBB14x", c.name.encode("ascii"),
                                  c.type.encode("ascii"), c.width, c.decimals)
                      for c in columns)
    with open(path, "wb") as fh:
        fh.write(header + fields + b"\r")
        fh.write(records.tobytes())
        fh.write(b"\x1a")
