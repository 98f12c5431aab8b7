"""A department's Shapefile: geometry in a VN-2000 TM-3 plane through GDAL, then the .dbf
written byte for byte in the office's legacy encoding (TCVN3 or Windows-1258), an ESRI .prj
with TOWGS84 and, when the office's software writes one, a .cpg.

Column types follow the numpy arrays: object -> C (width = longest encoded value), integer ->
N(10,0), float -> N(16,3), bool -> L, datetime64 -> D.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import write as ogr_write

from gis.sample.dbf import LDID_ANSI, LDID_NONE, Column, write_dbf
from gis.sample.prj import tm3_prj


def encode_column(values: np.ndarray, encode: Callable[[str], bytes]) -> list[bytes]:
    """Each distinct value encoded once; ASCII text (codes, numbers) is the same bytes in
    every legacy encoding, so it skips the encoder."""
    text = np.array(["" if v is None else str(v) for v in values], dtype=object)
    uniq, inverse = np.unique(text, return_inverse=True)
    coded = [u.encode("ascii") if u.isascii() else encode(u) for u in uniq]
    return [coded[i] for i in inverse]


def _column(name: str, values: np.ndarray, encoded: list[bytes] | None) -> Column:
    kind = values.dtype.kind
    if encoded is not None:
        return Column(name, "C", max(1, min(254, max((len(b) for b in encoded), default=1))))
    if kind == "b":
        return Column(name, "L", 1)
    if kind == "M":
        return Column(name, "D", 8)
    if kind in "iu":
        return Column(name, "N", 10)
    return Column(name, "N", 16, 3)


def write_shapefile(path: Path, geoms: np.ndarray, columns: dict[str, np.ndarray], *,
                    geometry_type: str, encode: Callable[[str], bytes], cpg: str | None,
                    date: dt.date, central_meridian: float = 105.0) -> Path:
    """Write plane geometries and their attribute columns as a Shapefile set."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    ogr_write(str(path), shapely.to_wkb(geoms), [np.zeros(len(geoms), dtype=np.int32)],
              ["Id"], driver="ESRI Shapefile", geometry_type=geometry_type, crs="EPSG:5897")
    data: dict[str, object] = {}
    cols = []
    for name, values in columns.items():
        values = np.asarray(values)
        encoded = encode_column(values, encode) if values.dtype.kind in "OU" else None
        cols.append(_column(name, values, encoded))
        data[name] = encoded if encoded is not None else values
    ldid = LDID_NONE if cpg is None or cpg.upper().replace("-", "") == "UTF8" else LDID_ANSI
    write_dbf(path.with_suffix(".dbf"), cols, data, date, ldid)
    path.with_suffix(".prj").write_text(tm3_prj(central_meridian), encoding="ascii")
    path.with_suffix(".cpg").unlink(missing_ok=True)  # GDAL writes one of its own
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    return path
