"""The road network as the Department of Construction delivers it: a Shapefile in VN-2000 TM-3
105°00' with a Windows-1258 .dbf and a .cpg saying so, one feature per managed segment.

Three parts: national and provincial roads and the main streets of Ninh Kiều on their rough
real courses (hand-placed lon/lat points, plausible, not surveyed), cut at ward boundaries;
the synthetic street grid around the sample parcels (the streets the parcels' addresses name);
and a commune road from each commune's centre to the nearest main road.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import shapely

from gis.sample.city import City, as_multi, numbered, plane_lines, ward_in_text, ward_names
from gis.sample.shp import write_shapefile
from gis.sample.streets import Segments
from gis.sample.wards import WARDS
from gis.text import cp1258

# name, road code, class, right-of-way (m), carriageway (m), lanes, lon/lat course
MAIN_ROADS: list[tuple[str, str, str, float, float, int, list[tuple[float, float]]]] = [
    ("Quốc lộ 1A", "QL1", "Quốc lộ", 42.0, 21.0, 4,
     [(105.845, 10.035), (105.80, 9.975), (105.785, 9.94), (105.80, 9.86), (105.82, 9.80),
      (105.88, 9.72), (105.95, 9.64), (105.97, 9.60), (105.90, 9.50), (105.80, 9.40),
      (105.74, 9.30)]),
    ("Quốc lộ 91", "QL91", "Quốc lộ", 32.0, 14.0, 4,
     [(105.775, 10.045), (105.745, 10.075), (105.70, 10.095), (105.64, 10.125),
      (105.60, 10.17), (105.55, 10.23), (105.51, 10.285), (105.47, 10.34)]),
    ("Quốc lộ 61C", "QL61C", "Quốc lộ", 32.0, 11.0, 2,
     [(105.745, 10.005), (105.70, 9.96), (105.62, 9.90), (105.55, 9.84), (105.47, 9.785)]),
    ("Quốc lộ 61", "QL61", "Quốc lộ", 30.0, 9.0, 2,
     [(105.785, 9.94), (105.72, 9.88), (105.62, 9.82), (105.52, 9.77), (105.46, 9.76),
      (105.40, 9.70)]),
    ("Quốc lộ 91B (Nguyễn Văn Linh)", "QL91B", "Quốc lộ", 42.0, 21.0, 4,
     [(105.745, 10.075), (105.755, 10.05), (105.76, 10.025), (105.765, 10.0),
      (105.775, 9.975)]),
    ("Quốc lộ Nam Sông Hậu", "QL91C", "Quốc lộ", 32.0, 11.0, 2,
     [(105.80, 9.975), (105.86, 9.92), (105.93, 9.86), (106.00, 9.80), (106.06, 9.72),
      (106.10, 9.63), (106.15, 9.55)]),
    ("Quốc lộ 80", "QL80", "Quốc lộ", 26.0, 9.0, 2,
     [(105.53, 10.29), (105.46, 10.23), (105.38, 10.20), (105.29, 10.18)]),
    ("Tỉnh lộ 923", "ĐT923", "Đường tỉnh", 24.0, 7.0, 2,
     [(105.745, 10.02), (105.70, 10.025), (105.665, 10.03), (105.60, 10.045), (105.55, 10.04)]),
    ("Tỉnh lộ 922", "ĐT922", "Đường tỉnh", 24.0, 7.0, 2,
     [(105.64, 10.125), (105.58, 10.08), (105.52, 10.05), (105.42, 10.07)]),
    ("Đường 3 Tháng 2", "D3T2", "Đường chính đô thị", 40.0, 21.0, 4,
     [(105.7735, 10.0067), (105.765, 10.018), (105.758, 10.03), (105.748, 10.045)]),
    ("Đường 30 Tháng 4", "D30T4", "Đường chính đô thị", 32.0, 14.0, 4,
     [(105.786, 10.032), (105.777, 10.025), (105.768, 10.017), (105.760, 10.010)]),
    ("Nguyễn Văn Cừ", "NVC", "Đường chính đô thị", 40.0, 21.0, 4,
     [(105.775, 10.045), (105.765, 10.04), (105.75, 10.03), (105.73, 10.02), (105.71, 10.01)]),
    ("Trần Hưng Đạo", "THD", "Đường khu vực", 24.0, 12.0, 4,
     [(105.782, 10.040), (105.775, 10.034), (105.768, 10.029)]),
    ("Mậu Thân", "MTH", "Đường chính đô thị", 30.0, 14.0, 4,
     [(105.778, 10.045), (105.771, 10.037), (105.766, 10.028), (105.762, 10.020)]),
    ("Cách Mạng Tháng 8", "CMT8", "Đường chính đô thị", 30.0, 14.0, 4,
     [(105.781, 10.046), (105.772, 10.055), (105.762, 10.065), (105.752, 10.074)]),
    ("Võ Văn Kiệt", "VVK", "Đường chính đô thị", 40.0, 21.0, 4,
     [(105.772, 10.052), (105.755, 10.058), (105.735, 10.066), (105.715, 10.075)]),
    ("Hai Bà Trưng", "HBT", "Đường khu vực", 16.0, 8.0, 2,
     [(105.7885, 10.0335), (105.7875, 10.0375), (105.786, 10.041)]),
    ("Hòa Bình", "HBI", "Đường khu vực", 30.0, 15.0, 4,
     [(105.785, 10.036), (105.780, 10.033), (105.775, 10.030)]),
    ("Lộ Vòng Cung", "LVC", "Đường tỉnh", 20.0, 7.0, 2,
     [(105.775, 10.0067), (105.74, 9.985), (105.70, 9.99), (105.665, 10.03)]),
]
PAVEMENTS = ("Bê tông nhựa", "Láng nhựa", "Bê tông xi măng", "Cấp phối")
MANAGERS = {"Quốc lộ": "Cục Đường bộ Việt Nam", "Đường tỉnh": "Sở Xây dựng"}


def grid_class(width: np.ndarray) -> np.ndarray:
    return np.select([width >= 24, width >= 16, width >= 10],
                     ["Đường chính đô thị", "Đường khu vực", "Đường phân khu vực"],
                     "Hẻm").astype(object)


def main_roads(city: City) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lines = np.array([plane_lines(course) for *_, course in MAIN_ROADS], dtype=object)
    return city.split_by_ward(lines)


def write_roads(path: Path, rng: np.random.Generator, city: City, seg: Segments) -> int:
    src, ward, pieces = main_roads(city)
    a = np.array([row[:6] for row in MAIN_ROADS], dtype=object)
    trunk = shapely.union_all(pieces)
    # commune roads: from each commune's centre to the nearest main road
    rural = np.flatnonzero([w.type == "Xã" for w in WARDS])
    cx, cy = city.random_points(rng, rural)
    links = shapely.shortest_line(shapely.points(cx, cy), trunk)
    links = shapely.intersection(links, city.wards[rural])
    ok = shapely.get_type_id(links) == 1
    links, lward = links[ok], rural[ok]
    # the parcels' street grid
    grid = shapely.linestrings(np.stack([np.stack([seg.x0, seg.y0], 1),
                                         np.stack([seg.x1, seg.y1], 1)], 1))
    n_main, n_link, n_grid = len(pieces), len(links), len(seg)
    geoms = np.r_[pieces, links, grid]
    w_all = np.r_[ward, lward, seg.ward]
    link_names = ("Đường trục xã " + np.array([WARDS[w].name for w in lward], dtype=object))
    gcls = grid_class(seg.width)
    cls = np.r_[a[src, 2], np.full(n_link, "Đường xã", dtype=object), gcls]
    row = np.r_[a[src, 3].astype(float), np.full(n_link, 9.0), np.round(seg.width, 1)]
    carriage = np.r_[a[src, 4].astype(float), np.full(n_link, 3.5),
                     np.round(np.maximum(3.0, seg.width * 0.5), 1)]
    lanes = np.r_[a[src, 5].astype(np.int64), np.ones(n_link, dtype=np.int64),
                  np.where(seg.width >= 24, 4, 2)]
    street = np.array([s[len("đường "):] if s.startswith("đường ") else s
                       for s in seg.name], dtype=object)
    names = np.r_[a[src, 0], link_names, street]
    codes = np.r_[a[src, 1], np.full(n_link, "", dtype=object),
                  np.full(n_grid, "", dtype=object)]
    n = len(geoms)
    pave = np.where(np.isin(cls, ["Quốc lộ", "Đường tỉnh", "Đường chính đô thị"]),
                    "Bê tông nhựa", np.asarray(PAVEMENTS, dtype=object)[
                        rng.choice(4, n, p=[0.35, 0.3, 0.3, 0.05])]).astype(object)
    manager = np.array([MANAGERS.get(c, "") for c in cls], dtype=object)
    local = manager == ""
    manager[local] = "UBND " + ward_in_text(w_all[local])
    first = np.r_[0, np.flatnonzero(src[1:] != src[:-1]) + 1]
    seq = np.arange(n_main) - np.repeat(first, np.diff(np.r_[first, n_main])) + 1
    from_pt = np.full(n, "", dtype=object)
    to_pt = np.full(n, "", dtype=object)
    from_pt[:n_main] = "Km " + ((seq - 1) * 3).astype(str).astype(object)
    to_pt[:n_main] = "Km " + (seq * 3).astype(str).astype(object)
    cols = {
        "MaDoan": numbered("GT", w_all, 5),
        "MaDuong": codes, "TenDuong": names, "CapDuong": cls, "DiemDau": from_pt,
        "DiemCuoi": to_pt, "LoGioi": row, "BeRong": carriage, "SoLan": lanes,
        "KetCau": pave, "ChieuDai": np.round(shapely.length(geoms), 1),
        "NamXD": rng.integers(1985, 2024, n), "DonViQL": manager, "TenXa": ward_names(w_all),
        "TinhTrang": np.asarray(["Tốt", "Tốt", "Trung bình", "Xuống cấp"], dtype=object)[
            rng.integers(0, 4, n)],
    }
    geoms, kept = as_multi(geoms, 1)
    cols = {k: np.asarray(v)[kept] for k, v in cols.items()}
    write_shapefile(path, geoms, cols, geometry_type="MultiLineString", encode=cp1258.encode,
                    cpg="1258", date=dt.date(2025, 3, 31))
    return len(geoms)

