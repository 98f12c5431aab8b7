"""Cadastral parcel shapefiles as district land offices deliver them: VN-2000 TM-3 plane, an
ArcGIS .prj with TOWGS84, Vietnamese field names, legacy font text and a .cpg that lies.

Defects on purpose: about 0.5 % invalid rings (bow-ties, duplicate-point spikes), one null and
one empty geometry, two rows repeating an earlier natural key (commune + sheet + parcel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import write as ogr_write

from gis.sample.dbf import LDID_ANSI, LDID_NONE, Column, write_dbf
from gis.sample.layout import Parcels
from gis.sample.names import PARCEL_LAND_USE, id_numbers, person_names, weighted
from gis.sample.prj import tm3_prj
from gis.sample.streets import street_name
from gis.sample.wards import WARDS

SHEET_M = 500.0  # a 1:1000 cadastral sheet covers 500 m x 500 m
NOTES = ("Đã cấp GCN", "Chưa cấp GCN", "Đang tranh chấp", "Chỉnh lý biến động 2019",
         "Đo đạc lại năm 2021", "Tách thửa", "Hợp thửa", "Đất công do UBND quản lý")
PUBLIC_USES = {"DGD", "TSC", "DGT", "TON", "NTD"}


@dataclass
class ParcelTable:
    geometry: np.ndarray  # shapely geometries in the plane (None / empty allowed)
    columns: dict[str, np.ndarray]  # source field -> values (Unicode text or numbers)
    invalid: np.ndarray  # row numbers made invalid on purpose
    duplicates: np.ndarray  # row numbers repeating an earlier natural key
    nulls: np.ndarray  # row numbers without geometry


def _group_rank(keys: np.ndarray, order_within: list[np.ndarray]) -> np.ndarray:
    """1-based rank of each row inside its group (rows sorted by order_within, then row)."""
    order = np.lexsort((*order_within[::-1], keys))
    sorted_keys = keys[order]
    start = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(keys)]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - first + 1
    return rank


def _dense_rank(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """1-based dense rank of ``key`` inside ``group`` (both int arrays)."""
    pairs = np.unique(np.stack([group, key], axis=1), axis=0)
    pos = np.searchsorted(pairs[:, 0] * (1 << 32) + pairs[:, 1], group * (1 << 32) + key)
    first = np.searchsorted(pairs[:, 0], group)
    return pos - first + 1


def parcel_table(rng: np.random.Generator, parcels: Parcels) -> ParcelTable:
    n = len(parcels.corners)
    geoms = shapely.orient_polygons(shapely.polygons(parcels.corners), exterior_cw=True)
    area = np.round(shapely.area(geoms), 1)
    cx = parcels.corners[:, :, 0].mean(axis=1)
    cy = parcels.corners[:, :, 1].mean(axis=1)
    ward = parcels.ward
    # sheet numbers per ward: 500 m sheets, numbered north to south, west to east
    sx = np.floor(cx / SHEET_M).astype(np.int64)
    sy = np.floor(cy / SHEET_M).astype(np.int64)
    sheet_key = (sy.max() - sy) * 100_000 + (sx - sx.min())
    sheet = _dense_rank(ward, sheet_key)
    band = np.floor((sy * SHEET_M + SHEET_M - cy) / 25.0)  # parcel numbers run in 25 m bands
    parcel_no = _group_rank(ward * 1_000_000 + sheet, [band, cx])

    codes = np.array([w.code for w in WARDS], dtype=object)
    ward_types = np.array([w.type for w in WARDS], dtype=object)
    full = np.array([w.full_name for w in WARDS], dtype=object)
    lower = np.array([f"{w.type.lower()} {w.name}" for w in WARDS], dtype=object)
    rural = ward_types[ward] == "Xã"

    use = weighted(PARCEL_LAND_USE, rng, n)
    use[rural & (use == "ODT")] = "ONT"
    use[~rural & (use == "ONT")] = "ODT"

    streets = street_name(parcels.street_line, ward)
    key = ward.astype(np.int64) * 100_000 + parcels.street_line
    base = np.zeros(n)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    start = np.r_[0, np.flatnonzero(ks[1:] != ks[:-1]) + 1]
    mins = np.minimum.reduceat(parcels.front_x[order], start)
    base[order] = np.repeat(mins, np.diff(np.r_[start, n]))
    house = 2 * np.floor((parcels.front_x - base) / 10.0).astype(np.int64) + np.where(
        parcels.north_side, 2, 1)
    address = ("Số " + house.astype(str).astype(object) + ", " + streets + ", " + lower[ward])

    owner = person_names(rng, n)
    cccd = id_numbers(rng, n)
    public = np.isin(use, list(PUBLIC_USES))
    owner[public] = "UBND " + lower[ward][public]
    cccd[public] = ""
    note = np.full(n, "", dtype=object)
    noted = rng.random(n) < 0.08
    note[noted] = np.asarray(NOTES, dtype=object)[rng.integers(0, len(NOTES), noted.sum())]

    columns = {
        "MaXa": codes[ward], "SoTo": sheet, "SoThua": parcel_no, "DienTich": area,
        "MucDich": use, "DiaChi": address, "TenXa": full[ward], "TenChu": owner,
        "CCCD": cccd, "GhiChu": note,
    }
    geoms = geoms.astype(object)
    invalid, duplicates, nulls = _defects(rng, parcels, geoms, columns)
    return ParcelTable(geoms, columns, invalid, duplicates, nulls)


def _defects(rng: np.random.Generator, parcels: Parcels, geoms: np.ndarray,
             columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(geoms)
    if n < 20:
        return (np.zeros(0, dtype=np.int64),) * 3
    n_bad = max(2, round(0.005 * n))
    picked = rng.choice(np.arange(1, n), size=n_bad + 4, replace=False)
    bad, nulls, dup = picked[:n_bad], picked[n_bad:n_bad + 2], picked[n_bad + 2:]
    bow, spike = bad[: n_bad // 2], bad[n_bad // 2:]
    c = parcels.corners
    # bow-tie: the two back corners swapped, the ring crosses itself
    geoms[bow] = shapely.polygons(c[bow][:, [0, 1, 3, 2]])
    # spike: a duplicated corner and a 3 m excursion out and back along the same line
    p1, p2 = c[spike, 1], c[spike, 2]
    out = p1 + 3.0 * (p1 - p2) / np.linalg.norm(p1 - p2, axis=1)[:, None]
    ring = np.stack([c[spike, 0], p1, p1, np.round(out, 3), p1, p2, c[spike, 3]], axis=1)
    geoms[spike] = shapely.polygons(ring)
    geoms[nulls[0]] = None
    geoms[nulls[1]] = shapely.from_wkt("POLYGON EMPTY")
    # duplicates: repeat the natural key of an earlier row of the same ward
    for row in dup:
        same = np.flatnonzero(columns["MaXa"][:row] == columns["MaXa"][row])
        src = same[rng.integers(0, len(same))] if len(same) else 0
        for name in ("MaXa", "SoTo", "SoThua", "TenXa"):
            columns[name][row] = columns[name][src]
    return np.sort(bad), np.sort(dup), np.sort(nulls)


def _encoded(values: np.ndarray, encode: Callable[[str], bytes]) -> list[bytes]:
    cache: dict[str, bytes] = {}
    out = []
    for v in values:
        b = cache.get(v)
        if b is None:
            b = cache[v] = encode(v)
        out.append(b)
    return out


def _encode_address(values: np.ndarray, encode: Callable[[str], bytes]) -> list[bytes]:
    """'Số 12, đường ..., phường ...': the number is ASCII, encode the rest once per street."""
    prefix = encode("Số ")
    out, cache = [], {}
    for v in values:
        number, rest = v[3:].split(",", 1)
        b = cache.get(rest)
        if b is None:
            b = cache[rest] = encode("," + rest)
        out.append(prefix + number.encode("ascii") + b)
    return out


TEXT_FIELDS = ("MucDich", "TenXa", "TenChu", "GhiChu")  # CCCD is digits only


def write_parcels(path: Path, table: ParcelTable, *, central_meridian: float,
                  encode: Callable[[str], bytes], text_width: int, cpg: str,
                  date: dt.date) -> list[Path]:
    """Shapefile set: geometry through GDAL (pyogrio, one call), then the .dbf, .prj and .cpg
    written as the delivering office's software leaves them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    ogr_write(str(path), shapely.to_wkb(table.geometry), [np.zeros(len(table.geometry),
              dtype=np.int32)], ["Id"], driver="ESRI Shapefile", geometry_type="Polygon",
              crs="EPSG:5897")
    cols = table.columns
    data: dict[str, object] = {name: _encoded(cols[name], encode) for name in TEXT_FIELDS}
    data["DiaChi"] = _encode_address(cols["DiaChi"], encode)
    data.update({k: cols[k] for k in ("MaXa", "CCCD", "SoTo", "SoThua", "DienTich")})
    columns = [Column("MaXa", "C", 5), Column("SoTo", "N", 4), Column("SoThua", "N", 5),
               Column("DienTich", "N", 12, 1), Column("MucDich", "C", 10),
               Column("DiaChi", "C", 2 * text_width), Column("TenXa", "C", text_width),
               Column("TenChu", "C", text_width), Column("CCCD", "C", 12),
               Column("GhiChu", "C", text_width)]
    dbf = path.with_suffix(".dbf")
    write_dbf(dbf, columns, data, date, LDID_NONE if cpg.upper() == "UTF-8" else LDID_ANSI)
    prj = path.with_suffix(".prj")
    prj.write_text(tm3_prj(central_meridian), encoding="ascii")
    cpg_path = path.with_suffix(".cpg")
    cpg_path.write_text(cpg, encoding="ascii")
    return [path, path.with_suffix(".shx"), dbf, prj, cpg_path]
