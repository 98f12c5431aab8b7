"""Utility networks along the synthetic streets, in the formats the utilities deliver:

- ``cap_nuoc.geojson``: water-supply pipes, LineStrings in WGS 84 lon/lat (CRS84), UTF-8;
- ``thoat_nuoc.dxf``: drainage lines from CAD, TM-3 105°00' coordinates, no CRS in the file,
  one DXF layer per drainage type (the only attribute a DXF keeps);
- ``den_duong.geojson``: street lights, ``tru_cuu_hoa.geojson``: fire hydrants (points, CRS84).
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import write as ogr_write

from gis.crs import to_wgs84, transform_geometries
from gis.sample.streets import Segments
from gis.sample.wards import WARDS

GEOJSON = {"COORDINATE_PRECISION": 8, "RFC7946": "NO", "WRITE_NAME": "NO"}
DRAINAGE_LAYERS = ("TN_CONG_TRON", "TN_CONG_HOP", "TN_MUONG_HO", "TN_RANH_XAY")


def _codes(prefix: str, ward: np.ndarray) -> np.ndarray:
    """prefix-WARDCODE-00001, numbered inside each ward in segment order."""
    order = np.argsort(ward, kind="stable")
    ws = ward[order]
    start = np.r_[0, np.flatnonzero(ws[1:] != ws[:-1]) + 1]
    seq = np.empty(len(ward), dtype=np.int64)
    seq[order] = np.arange(len(ward)) - np.repeat(start, np.diff(np.r_[start, len(ward)])) + 1
    wcode = np.array([w.code for w in WARDS], dtype=object)[ward]
    return f"{prefix}-" + wcode + "-" + np.char.zfill(seq.astype(str), 5).astype(object)


def _ward_names(ward: np.ndarray) -> np.ndarray:
    return np.array([w.full_name for w in WARDS], dtype=object)[ward]


def _write_geojson(path: Path, plane_geoms: np.ndarray, zone: str, cols: dict, gtype: str
                   ) -> int:
    path.unlink(missing_ok=True)
    wgs = transform_geometries(plane_geoms, to_wgs84(zone))
    ogr_write(str(path), shapely.to_wkb(wgs), list(cols.values()), list(cols),
              driver="GeoJSON", geometry_type=gtype, crs="OGC:CRS84", layer_options=GEOJSON)
    return len(wgs)


def _dates(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    days = (dt.date(hi, 12, 31) - dt.date(lo, 1, 1)).days
    return np.datetime64(dt.date(lo, 1, 1), "D") + rng.integers(0, days, n)


def write_water_pipes(path: Path, rng: np.random.Generator, seg: Segments, zone: str
                      ) -> tuple[int, np.ndarray]:
    n = len(seg)
    trunk = seg.width >= 20
    diameter = np.where(trunk, rng.choice([300, 400, 500, 600], n),
                        rng.choice([63, 90, 110, 160, 200], n, p=[.2, .25, .3, .15, .1]))
    material = np.where(trunk, rng.choice(["Gang dẻo", "Thép", "HDPE"], n, p=[.6, .2, .2]),
                        rng.choice(["uPVC", "HDPE", "PPR"], n, p=[.5, .45, .05])).astype(object)
    cls = np.where(trunk, "Ống truyền tải", np.where(diameter >= 110, "Ống phân phối",
                                                      "Ống dịch vụ")).astype(object)
    year = rng.integers(1995, 2025, n)
    cols = {
        "MaOng": _codes("CN", seg.ward), "LoaiOng": cls, "DuongKinh": diameter,
        "VatLieu": material, "ApLuc": np.where(trunk, "PN16", "PN10").astype(object),
        "DoSau": np.round(rng.uniform(0.6, 1.5, n), 2), "ChieuDai": np.round(seg.length, 1),
        "NamXD": year, "TenDuong": seg.name, "TenXa": _ward_names(seg.ward),
        "TinhTrang": rng.choice(["Đang sử dụng", "Đang sử dụng", "Đang sử dụng", "Cần thay thế",
                                 "Ngưng sử dụng"], n).astype(object),
    }
    lines = seg.offset_lines(0.3)
    return _write_geojson(path, lines, zone, cols, "LineString"), diameter


def write_drainage(path: Path, rng: np.random.Generator, seg: Segments) -> dict[str, int]:
    """DXF through GDAL: LINESTRINGs in plane coordinates, a layer name per drainage type."""
    n = len(seg)
    rural = np.array([WARDS[w].type == "Xã" for w in seg.ward])
    kind = np.where(rural, rng.choice([2, 3], n, p=[0.7, 0.3]),
                    np.where(seg.width >= 16, rng.choice([0, 1], n, p=[0.6, 0.4]),
                             rng.choice([0, 3], n, p=[0.7, 0.3])))
    layers = np.asarray(DRAINAGE_LAYERS, dtype=object)[kind]
    lines = seg.offset_lines(-0.3)
    path.unlink(missing_ok=True)
    with warnings.catch_warnings():  # a DXF has no CRS: that is the point of this file
        warnings.simplefilter("ignore", UserWarning)
        ogr_write(str(path), shapely.to_wkb(lines), [layers], ["Layer"], driver="DXF",
                  geometry_type="LineString")
    names, counts = np.unique(layers, return_counts=True)
    return {str(k): int(v) for k, v in zip(names, counts, strict=True)}


def write_street_lights(path: Path, rng: np.random.Generator, seg: Segments, zone: str) -> int:
    lit = np.flatnonzero((seg.width >= 12) | np.array([WARDS[w].type == "Phường"
                                                       for w in seg.ward]))
    sub = Segments(*(getattr(seg, f)[lit] for f in ("x0", "y0", "x1", "y1", "width",
                                                    "vertical", "ward", "name")))
    x, y, s = sub.points_along(33.0, 0.45, rng)
    n = len(x)
    ward = sub.ward[s]
    wide = sub.width[s] >= 20
    led = rng.random(n) < 0.75
    cols = {
        "MaDen": _codes("DCS", ward),
        "LoaiCot": np.where(wide, "Cột thép bát giác", rng.choice(
            ["Cột thép côn tròn", "Cột BTLT"], n)).astype(object),
        "ChieuCao": np.where(wide, 12.0, rng.choice([8.0, 10.0], n)),
        "LoaiDen": np.where(led, "LED", "Sodium cao áp").astype(object),
        "CongSuat": np.where(led, rng.choice([60, 100, 150], n), rng.choice([150, 250], n)),
        "SoDen": np.where(wide & (rng.random(n) < 0.5), 2, 1),
        "MaTu": "TDK-" + np.array([w.code for w in WARDS], dtype=object)[ward] + "-"
                + np.char.zfill((s // 12 + 1).astype(str), 3).astype(object),
        "TenDuong": sub.name[s], "TenXa": _ward_names(ward),
        "NamLD": rng.integers(2005, 2025, n),
        "TinhTrang": rng.choice(["Hoạt động", "Hoạt động", "Hoạt động", "Hư hỏng"], n
                                ).astype(object),
    }
    return _write_geojson(path, shapely.points(x, y), zone, cols, "Point")


def write_hydrants(path: Path, rng: np.random.Generator, seg: Segments, diameter: np.ndarray,
                   zone: str) -> int:
    """A hydrant on about every other pipe of at least D110, at the kerb."""
    ok = np.flatnonzero((diameter >= 110) & (rng.random(len(seg)) < 0.5))
    t = rng.uniform(0.3, 0.7, len(ok))
    side = 0.45 * seg.width[ok]
    x = seg.x0[ok] + t * (seg.x1[ok] - seg.x0[ok]) + np.where(seg.vertical[ok], -side, 0.0)
    y = seg.y0[ok] + t * (seg.y1[ok] - seg.y0[ok]) + np.where(seg.vertical[ok], 0.0, side)
    n = len(ok)
    ward = seg.ward[ok]
    above = rng.random(n) < 0.8
    house = 2 * rng.integers(1, 200, n)
    cols = {
        "MaTru": _codes("TCH", ward),
        "LoaiTru": np.where(above, "Trụ nổi", "Trụ âm").astype(object),
        "DuongKinh": np.where(above, rng.choice([100, 125], n), 100),
        "DKOng": diameter[ok],
        "LuuLuong": np.where(diameter[ok] >= 300, 15.0, 10.0),
        "ApLuc": np.round(rng.uniform(1.0, 2.5, n), 1),
        "ViTri": "Trước số " + house.astype(str).astype(object) + ", " + seg.name[ok],
        "TenDuong": seg.name[ok], "TenXa": _ward_names(ward),
        "TinhTrang": rng.choice(["Hoạt động tốt", "Hoạt động tốt", "Yếu nước", "Hư hỏng"], n
                                ).astype(object),
        "NgayKT": _dates(rng, n, 2023, 2024),
        "NamLD": rng.integers(2000, 2024, n),
    }
    points = shapely.points(np.round(x, 3), np.round(y, 3))
    return _write_geojson(path, points, zone, cols, "Point")
