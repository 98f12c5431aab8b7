"""Planning GeoPackage from a planning consultant: VN-2000 / UTM zone 48N (EPSG:3405), UTF-8,
two layers (so the loader needs --source-layer):

- ``qh_sdd``: land-use plan zones covering the parcel areas; ``TenXa`` is written in NFD
  (decomposed Unicode, as text typed on macOS arrives);
- ``qh_phan_khu``: lots of the zoning plans (quy hoạch phân khu 1/2000) of the urban wards with
  their function and planning indicators.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio.raw import write as ogr_write

from gis.crs import from_wgs84, to_wgs84, transform_geometries
from gis.sample.layout import Blocks
from gis.sample.names import PARCEL_LAND_USE, PLAN_LAND_USE, weighted
from gis.sample.wards import WARDS

TARGET = "vn2000-utm48"  # EPSG:3405
FIXED_TIMESTAMP = "2024-09-30T08:00:00Z"  # GeoPackage last_change, so runs are reproducible
PROJECTS = ("Khu dân cư {w}", "Mở rộng đường giao thông {w}", "Trường THCS {w}", "Chợ {w}",
            "Công viên {w}", "Trạm y tế {w}", "Khu tái định cư {w}", "Nhà văn hóa {w}")
FUNCTIONS = (  # code, name, density %, FAR, min floors, max floors, weight
    ("OHT", "Đất ở hiện hữu chỉnh trang", (60, 90), (2.0, 5.0), 1, (3, 6), 34),
    ("ONM", "Đất ở mới", (50, 80), (2.5, 6.0), 2, (4, 8), 22),
    ("HH", "Đất hỗn hợp", (40, 60), (4.0, 10.0), 3, (9, 25), 9),
    ("TM", "Đất thương mại dịch vụ", (40, 60), (3.0, 8.0), 2, (5, 20), 8),
    ("CC", "Đất công trình công cộng", (30, 40), (1.0, 2.5), 1, (2, 5), 7),
    ("GD", "Đất giáo dục", (30, 40), (0.8, 1.6), 1, (2, 4), 6),
    ("YT", "Đất y tế", (30, 40), (1.0, 2.5), 1, (3, 7), 3),
    ("CX", "Đất cây xanh", (5, 5), (0.05, 0.05), 1, (1, 1), 11),
)


def _to_utm(plane_geoms: np.ndarray, zone: str) -> np.ndarray:
    """Plane -> WGS 84 -> UTM 48N, both steps through EPSG:6960 (edges densified first)."""
    dense = shapely.segmentize(plane_geoms, 25.0)
    wgs = transform_geometries(dense, to_wgs84(zone))
    utm = transform_geometries(wgs, from_wgs84(TARGET))
    return shapely.transform(utm, lambda c: np.round(c, 3))  # millimetres, as CAD exports


def _decision(rng: np.random.Generator, n: int, year_lo: int, year_hi: int
              ) -> tuple[np.ndarray, np.ndarray]:
    days = (dt.date(year_hi, 12, 31) - dt.date(year_lo, 1, 1)).days
    dates = np.datetime64(dt.date(year_lo, 1, 1), "D") + rng.integers(0, days, n)
    # distinct decisions get distinct numbers (a number is unique within the city)
    numbers = (100 + rng.choice(3900, n, replace=False)).astype(str).astype(object) + "/QĐ-UBND"
    return numbers, dates


def land_use_zones(rng: np.random.Generator, grid, blocks: Blocks, zone: str) -> tuple[
        np.ndarray, dict[str, np.ndarray]]:
    """Zones of 3 x 4 street cells (centre line to centre line) around the selected blocks."""
    key = (blocks.col // 3) * 100_000 + blocks.row // 4
    keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    c0 = np.full(len(keys), np.iinfo(np.int64).max)
    r0 = c0.copy()
    c1 = np.full(len(keys), -1)
    r1 = c1.copy()
    np.minimum.at(c0, inverse, blocks.col)
    np.minimum.at(r0, inverse, blocks.row)
    np.maximum.at(c1, inverse, blocks.col)
    np.maximum.at(r1, inverse, blocks.row)
    plane = shapely.box(grid.xs[c0], grid.ys[r0], grid.xs[c1 + 1], grid.ys[r1 + 1])
    geoms = _to_utm(plane, zone)
    n = len(geoms)
    ward = blocks.ward[first]
    rural = np.array([WARDS[w].type == "Xã" for w in ward])
    plan = weighted(PLAN_LAND_USE, rng, n)
    plan[rural & (plan == "ODT")] = "ONT"
    current = weighted(PARCEL_LAND_USE, rng, n)
    current[rural & (current == "ODT")] = "ONT"
    current[~rural & (current == "ONT")] = "ODT"
    project = np.full(n, "", dtype=object)
    has = plan != current
    tmpl = np.asarray(PROJECTS, dtype=object)[rng.integers(0, len(PROJECTS), n)]
    wnames = np.array([WARDS[w].name for w in ward], dtype=object)
    for i in np.flatnonzero(has):
        project[i] = tmpl[i].format(w=wnames[i])
    numbers, dates = _decision(rng, n, 2021, 2024)
    cols = {
        "MaQH": plan, "MaHT": current, "TenCongTrinh": project,
        "KyQH": np.where(rng.random(n) < 0.7, "2021-2030", "2025").astype(object),
        "MaXa": np.array([WARDS[w].code for w in ward], dtype=object),
        "TenXa": np.array([unicodedata.normalize("NFD", WARDS[w].full_name) for w in ward],
                          dtype=object),
        "DienTich": np.round(shapely.area(geoms), 1),
        "SoQD": numbers, "NgayQD": dates,
        "TinhTrang": np.where(has, "Chưa thực hiện", "Giữ nguyên hiện trạng").astype(object),
    }
    return shapely.multipolygons(np.asarray(geoms)[:, None]), cols


def zoning_lots(rng: np.random.Generator, blocks: Blocks, zone: str) -> tuple[
        np.ndarray, dict[str, np.ndarray]]:
    """One lot per block of the urban wards (phường), rotated with the block."""
    urban = np.flatnonzero([WARDS[w].type == "Phường" for w in blocks.ward])
    xs = np.stack([blocks.x0[urban], blocks.x1[urban], blocks.x1[urban], blocks.x0[urban]], 1)
    ys = np.stack([blocks.y0[urban], blocks.y0[urban], blocks.y1[urban], blocks.y1[urban]], 1)
    xs, ys = blocks.rotate(urban, xs, ys)
    plane = shapely.polygons(np.round(np.stack([xs, ys], axis=2), 3))
    geoms = _to_utm(plane, zone)
    n = len(geoms)
    ward = blocks.ward[urban]
    weights = np.array([f[-1] for f in FUNCTIONS], dtype=float)
    fi = rng.choice(len(FUNCTIONS), n, p=weights / weights.sum())
    f = [FUNCTIONS[i] for i in fi]
    density = np.array([rng.integers(a[2][0], a[2][1] + 1) for a in f], dtype=float)
    far = np.round(np.array([rng.uniform(*a[3]) for a in f]), 2)
    max_floors = np.array([rng.integers(a[5][0], a[5][1] + 1) for a in f])
    min_floors = np.array([a[4] for a in f])
    # one plan (decision) per ward; lot symbols numbered per function inside the plan
    wards_u, w_inv = np.unique(ward, return_inverse=True)
    numbers, dates = _decision(rng, len(wards_u), 2016, 2023)
    codes = np.array([a[0] for a in f], dtype=object)
    seq = np.zeros(n, dtype=np.int64)
    counters: dict[tuple[int, str], int] = {}
    for i in range(n):
        k = (int(w_inv[i]), codes[i])
        counters[k] = counters.get(k, 0) + 1
        seq[i] = counters[k]
    names = np.array([f"Quy hoạch phân khu tỷ lệ 1/2000 khu vực {WARDS[w].full_name.lower()}"
                      for w in wards_u], dtype=object)
    cols = {
        "CapQH": np.where(rng.random(n) < 0.85, "QHPK", "QHCT").astype(object),
        "TenDoAn": names[w_inv],
        "KyHieu": codes + "-" + np.char.zfill(seq.astype(str), 2).astype(object),
        "ChucNang": codes,
        "TenChucNang": np.array([a[1] for a in f], dtype=object),
        "DienTich": np.round(shapely.area(geoms), 1),
        "MDXD": density, "HSSDD": far, "TangCaoMin": min_floors, "TangCao": max_floors,
        "ChieuCao": np.round(max_floors * 3.6 + 4.5, 1),
        "KhoangLui": np.where(codes == "CX", 0.0, rng.choice([0.0, 3.0, 6.0], n)),
        "SoQD": numbers[w_inv], "NgayQD": dates[w_inv],
        "CoQuanPD": np.full(n, "UBND thành phố Cần Thơ", dtype=object),
        "TenXa": np.array([WARDS[w].full_name for w in ward], dtype=object),
    }
    return shapely.multipolygons(np.asarray(geoms)[:, None]), cols


def write_planning(path: Path, rng: np.random.Generator, grid, blocks: Blocks, zone: str
                   ) -> dict[str, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    counts = {}
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        for i, (layer, (geoms, cols)) in enumerate((
                ("qh_sdd", land_use_zones(rng, grid, blocks, zone)),
                ("qh_phan_khu", zoning_lots(rng, blocks, zone)))):
            ogr_write(str(path), shapely.to_wkb(geoms), list(cols.values()), list(cols),
                      layer=layer, driver="GPKG", geometry_type="MultiPolygon", crs="EPSG:3405",
                      append=i > 0)
            counts[layer] = len(geoms)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return counts
