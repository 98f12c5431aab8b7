"""Do a Shapefile's parts agree with each other? A copy cut short or a header that lies makes
GDAL read fewer (or garbage) records without an error, so the headers are checked first.

Layout (ESRI Shapefile Technical Description, 1998): .shp/.shx start with a 100-byte header,
file code 9994 (int32 BE at 0) and the file length in 16-bit words (int32 BE at 24); the .shx
holds one 8-byte record (offset, content length in words, both int32 BE) a feature. The .dbf
header gives the record count (uint32 LE at 4), header length (uint16 LE at 8) and record
length (uint16 LE at 10); a trailing 0x1A end-of-file byte is optional.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from gis.errors import SPPError

FIX = ("Nothing was changed. Ask the department for a fresh export of the whole Shapefile "
       "(.shp, .shx and .dbf written together, or a zip of them); a copy cut short or a part "
       "taken from another export is not loadable.")


class ShapefileDamaged(SPPError):
    exit_code = 2


Opener = Callable[[str], tuple[BinaryIO, int]]  # part suffix -> (open file, its size)


def _rows(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _main_header(name: str, fh: BinaryIO, size: int) -> int:
    """The file length its header declares, in bytes."""
    head = fh.read(100)
    if len(head) < 100 or struct.unpack(">i", head[:4])[0] != 9994:
        raise ShapefileDamaged(f"{name}: not a Shapefile part (no valid 100-byte header; the "
                               f"file is {size:,} bytes). {FIX}")
    return struct.unpack(">i", head[24:28])[0] * 2


def _length_lie(name: str, declared: int, size: int, rows: str = "") -> ShapefileDamaged:
    what = "cut short" if size < declared else "longer than its header says"
    return ShapefileDamaged(f"{name}: its header says {declared:,} bytes but the file has "
                            f"{size:,}: {what}{rows}. {FIX}")


def check_shapefile(stem: str, open_part: Opener) -> None:
    """Raise ShapefileDamaged naming the file, the rows and the fix when the parts disagree."""
    shx, shx_size = open_part(".shx")
    with shx:
        declared = _main_header(stem + ".shx", shx, shx_size)
        if declared == shx_size and (shx_size - 100) % 8:
            raise ShapefileDamaged(f"{stem}.shx: {shx_size:,} bytes is not a whole number of "
                                   f"8-byte index records after its header. {FIX}")
        if declared != shx_size:
            whole, listed = (shx_size - 100) // 8, (declared - 100) // 8
            rows = (f": {_rows(whole + 1, listed)} have no index record"
                    if 0 <= whole < listed else "")
            raise _length_lie(stem + ".shx", declared, shx_size, rows)
        n_index = (shx_size - 100) // 8
        index = shx.read(n_index * 8)
    shp, shp_size = open_part(".shp")
    with shp:
        declared = _main_header(stem + ".shp", shp, shp_size)
    # (offset, length) in 16-bit words a record: as numpy, not a tuple of Python ints (a
    # 4 M-feature index was 290 MiB of them and a second of CPU)
    pairs = np.frombuffer(index, dtype=">i4").astype(np.int64).reshape(-1, 2)
    beyond = (np.flatnonzero(pairs.sum(axis=1) * 2 + 8 > shp_size) + 1).tolist()
    if beyond:
        raise ShapefileDamaged(
            f"{stem}.shp: {_rows(beyond[0], beyond[-1])} of {n_index:,} (listed in "
            f"{stem}.shx) lie beyond the end of {stem}.shp ({shp_size:,} bytes"
            f"{', its header says ' + format(declared, ',') if declared != shp_size else ''}):"
            f" the file was cut short. {FIX}")
    if declared != shp_size:
        raise _length_lie(stem + ".shp", declared, shp_size)
    dbf, dbf_size = open_part(".dbf")
    with dbf:
        head = dbf.read(12)
    if len(head) < 12:
        raise ShapefileDamaged(f"{stem}.dbf: no dBASE header ({dbf_size} bytes). {FIX}")
    n_dbf = struct.unpack("<I", head[4:8])[0]
    header_len, record_len = struct.unpack("<HH", head[8:12])
    body = dbf_size - header_len
    complete = body // record_len if record_len and body > 0 else 0
    if complete < n_dbf:
        raise ShapefileDamaged(
            f"{stem}.dbf: its header says {n_dbf:,} records but the file holds only "
            f"{complete:,} whole ones: {_rows(complete + 1, n_dbf)} missing (cut short). "
            f"{FIX}")
    if complete > n_dbf:  # more whole records than declared (the 0x1A byte is not one)
        raise ShapefileDamaged(
            f"{stem}.dbf: its header says {n_dbf:,} records but the file holds {complete:,}: "
            f"the header's record count is wrong ({_rows(n_dbf + 1, complete)} would be "
            f"skipped). {FIX}")
    if n_dbf != n_index:
        raise ShapefileDamaged(
            f"{stem}: {stem}.shx indexes {n_index:,} shapes but {stem}.dbf holds {n_dbf:,} "
            f"records ({_rows(min(n_dbf, n_index) + 1, max(n_dbf, n_index))} have no "
            f"{'shape' if n_dbf > n_index else 'attributes'}). {FIX}")
