"""Land-use status, flood-risk zones and the investment project list.

- land_use_current: the 2024 inventory's land plots, cells of a grid (1 km in the wards,
  3 km in the communes) cut to each ward, rivers left out; Shapefile, VN-2000 TM-3 105°00',
  Windows-1258 text with no .cpg (the loader has to detect it).
- flood_risk_zones: depth-class bands along the Hậu and Cần Thơ rivers and the Xà No canal
  for the 10- and 100-year floods, per ward; Shapefile, UTF-8 with a .cpg (a consultant's
  model output).
- investment_projects: sites over blocks of the sample parcels (so each site covers parcels)
  and four large sites outside; GeoPackage in VN-2000 TM-3 105°00' (EPSG:5897), UTF-8.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio.raw import write as ogr_write

from gis.codelists import LAND_USE
from gis.sample.city import City, as_multi, ward_codes, ward_names
from gis.sample.layout import Blocks
from gis.sample.names import weighted
from gis.sample.planning import FIXED_TIMESTAMP
from gis.sample.shp import write_shapefile
from gis.sample.utilities import _write_geojson as write_geojson
from gis.sample.wards import WARDS
from gis.text import cp1258

URBAN_USE = (("ODT", 40), ("TMD", 8), ("CLN", 12), ("DGT", 10), ("DGD", 4), ("TSC", 3),
             ("SKC", 6), ("LUC", 6), ("NTS", 3), ("DKV", 2), ("TON", 1), ("DYT", 1))
RURAL_USE = (("LUC", 40), ("CLN", 28), ("NTS", 8), ("ONT", 12), ("HNK", 4), ("DGT", 3),
             ("DTL", 3), ("TON", 1), ("NTD", 1))
# depth class, depth range (m), distance band from the bank (m) for the 100- and 10-year floods
BANDS = (("D4", 1.0, 2.0, (0, 300), None), ("D3", 0.5, 1.0, (300, 1000), (0, 300)),
         ("D2", 0.3, 0.5, (1000, 2500), (300, 1000)), ("D1", 0.0, 0.3, (2500, 5000),
                                                       (1000, 2500)))
SCENARIOS = {100: "Lũ tần suất 1% kết hợp triều cường", 10: "Lũ tần suất 10%"}
PROJECTS = [  # name, English name, sector, planned use, form
    ("Trung tâm thương mại dịch vụ {w}", "{w} commercial centre", "Thương mại - dịch vụ",
     "TMD", "Đấu thầu lựa chọn nhà đầu tư"),
    ("Khu nhà ở xã hội {w}", "{w} social housing", "Nhà ở xã hội", "ODT",
     "Đấu thầu lựa chọn nhà đầu tư"),
    ("Bệnh viện đa khoa tư nhân {w}", "{w} private general hospital", "Y tế", "DYT",
     "Xã hội hóa"),
    ("Trường phổ thông liên cấp {w}", "{w} K-12 school", "Giáo dục - đào tạo", "DGD",
     "Xã hội hóa"),
    ("Bãi đỗ xe thông minh {w}", "{w} smart car park", "Giao thông", "DGT", "PPP"),
    ("Khu dân cư thương mại {w}", "{w} residential and commercial area", "Đô thị", "ODT",
     "Đấu giá quyền sử dụng đất"),
    ("Khách sạn ven sông {w}", "{w} riverside hotel", "Du lịch", "TMD",
     "Đấu giá quyền sử dụng đất"),
    ("Trung tâm văn hóa thể thao {w}", "{w} culture and sports centre", "Văn hóa - thể thao",
     "DVH", "PPP"),
]
LARGE = [  # name, English, sector, use, form, lon, lat, half size (m)
    ("Khu công nghiệp Vĩnh Thạnh", "Vĩnh Thạnh industrial park", "Công nghiệp", "SKK",
     "Đấu thầu lựa chọn nhà đầu tư", 105.43, 10.215, 900.0),
    ("Trung tâm logistics Cái Cui", "Cái Cui logistics centre", "Logistics", "TMD", "PPP",
     105.815, 9.985, 500.0),
    ("Khu du lịch sinh thái Cồn Sơn", "Cồn Sơn eco-tourism area", "Du lịch", "TMD",
     "Đấu thầu lựa chọn nhà đầu tư", 105.74, 10.07, 350.0),
    ("Nhà máy xử lý chất thải rắn Long Mỹ", "Long Mỹ solid waste plant", "Môi trường", "DRA",
     "PPP", 105.609, 9.686, 300.0),
]
STATUS = ("Đang kêu gọi đầu tư", "Đang kêu gọi đầu tư", "Đã có nhà đầu tư quan tâm",
          "Đã lựa chọn nhà đầu tư")
AGENCY = "Trung tâm Xúc tiến Đầu tư, Thương mại và Hội chợ Triển lãm thành phố Cần Thơ"


def write_land_use(path: Path, rng: np.random.Generator, city: City, water) -> int:
    urban = np.array([w.type == "Phường" for w in WARDS])
    xmin, ymin, xmax, ymax = shapely.bounds(city.outline)
    cells = []
    owners = []
    for size, which in ((1000.0, urban), (3000.0, ~urban)):
        xs = np.arange(np.floor(xmin / size) * size, xmax, size)
        ys = np.arange(np.floor(ymin / size) * size, ymax, size)
        gx, gy = np.meshgrid(xs, ys)
        boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size, gy.ravel() + size)
        areas = shapely.union_all(city.wards[which])
        boxes = boxes[shapely.intersects(boxes, areas)]
        cells.append(boxes)
        owners.append(which)
    src_all, ward_all, piece_all = [], [], []
    for boxes, which in zip(cells, owners, strict=True):
        src, ward, pieces = city.split_by_ward(boxes)
        ok = which[ward]
        src_all.append(src[ok])
        ward_all.append(ward[ok])
        piece_all.append(pieces[ok])
    ward = np.concatenate(ward_all)
    pieces = shapely.difference(np.concatenate(piece_all), water)
    pieces, kept = as_multi(shapely.make_valid(pieces), 3)
    ward = ward[kept]
    big = shapely.area(pieces) > 100
    pieces, ward = pieces[big], ward[big]
    n = len(pieces)
    rural = ~urban[ward]
    use = np.where(rural, weighted(RURAL_USE, rng, n), weighted(URBAN_USE, rng, n))
    order = np.lexsort((shapely.get_x(shapely.centroid(pieces)),
                        -shapely.get_y(shapely.centroid(pieces)), ward))
    pieces, ward, use = pieces[order], ward[order], use[order]
    plot = np.empty(n, dtype=np.int64)
    first = np.r_[0, np.flatnonzero(ward[1:] != ward[:-1]) + 1]
    plot[:] = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n])) + 1
    group = np.where(np.isin(use, ["DGT", "DTL", "TSC", "DGD", "DYT", "DKV", "NTD"]), "UBQ",
                     np.where(np.isin(use, ["TMD", "SKC"]), "TCC", "GDC")).astype(object)
    cols = {
        "MaXa": ward_codes(ward), "SoKhoanh": plot, "MucDich": use.astype(object),
        "TenLoaiDat": np.array([LAND_USE[c].vi for c in use], dtype=object),
        "DoiTuong": group, "TenXa": ward_names(ward),
        "DienTich": np.round(shapely.area(pieces), 1),
        "NamKK": np.full(n, 2024), "ThoiDiemKK": np.full(n, np.datetime64("2024-12-31")),
    }
    write_shapefile(path, pieces, cols, geometry_type="MultiPolygon", encode=cp1258.encode,
                    cpg=None, date=dt.date(2025, 6, 20))
    return n


def write_flood_zones(path: Path, city: City, rivers: np.ndarray, widths: np.ndarray,
                      water) -> int:
    banks = shapely.union_all(shapely.buffer(rivers, widths / 2, cap_style="flat"))
    geoms, cls, dmin, dmax, period = [], [], [], [], []
    for years, col in ((100, 3), (10, 4)):
        for band in BANDS:
            rng_m = band[col]
            if rng_m is None:
                continue
            outer = shapely.buffer(banks, rng_m[1], quad_segs=4)
            inner = shapely.buffer(banks, rng_m[0], quad_segs=4) if rng_m[0] else banks
            geoms.append(shapely.difference(outer, inner))
            cls.append(band[0])
            dmin.append(band[1])
            dmax.append(band[2])
            period.append(years)
    src, ward, pieces = city.split_by_ward(np.array(geoms, dtype=object))
    pieces = shapely.difference(pieces, water)
    pieces, kept = as_multi(shapely.make_valid(pieces), 3)
    src, ward = src[kept], ward[kept]
    n = len(pieces)
    period_a = np.array(period)[src]
    cols = {
        "CapNgap": np.array(cls, dtype=object)[src],
        "DoSauMin": np.array(dmin)[src], "DoSauMax": np.array(dmax)[src],
        "KichBan": np.array([SCENARIOS[p] for p in period_a], dtype=object),
        "ChuKy": period_a, "MoHinh": np.full(n, "MIKE FLOOD (MIKE 11 + MIKE 21)", dtype=object),
        "TenXa": ward_names(ward), "NgayCongBo": np.full(n, np.datetime64("2024-06-15")),
    }
    write_shapefile(path, pieces, cols, geometry_type="MultiPolygon",
                    encode=lambda s: s.encode("utf-8"), cpg="UTF-8", date=dt.date(2024, 6, 15))
    return n


def write_projects(path: Path, rng: np.random.Generator, city: City, blocks: Blocks,
                   built: np.ndarray, plane_xy) -> int:
    """About 2 % of the wards' blocks that hold parcels (``built``: block indices; at least
    8, at most 40), plus LARGE."""
    built = np.unique(built)
    urban = built[[WARDS[w].type == "Phường" for w in blocks.ward[built]]]
    k = int(np.clip(round(0.02 * len(urban)), 8, 40))
    pick = np.sort(rng.choice(urban, min(k, len(urban)), replace=False))
    xs = np.stack([blocks.x0[pick], blocks.x1[pick], blocks.x1[pick], blocks.x0[pick]], 1)
    ys = np.stack([blocks.y0[pick], blocks.y0[pick], blocks.y1[pick], blocks.y1[pick]], 1)
    xs, ys = blocks.rotate(pick, xs, ys)
    sites = shapely.polygons(np.round(np.stack([xs, ys], axis=2), 3))
    tmpl = rng.integers(0, len(PROJECTS), len(pick))
    wname = np.array([WARDS[w].name for w in blocks.ward[pick]], dtype=object)
    lx, ly = plane_xy([p[5] for p in LARGE], [p[6] for p in LARGE])
    half = np.array([p[7] for p in LARGE])
    large = shapely.box(lx - half, ly - half, lx + half, ly + half)
    geoms = np.r_[sites, large]
    ward = np.r_[blocks.ward[pick], city.ward_of(np.asarray(lx), np.asarray(ly))]
    n = len(geoms)
    names = np.r_[[PROJECTS[t][0].format(w=w) for t, w in zip(tmpl, wname, strict=True)],
                  [p[0] for p in LARGE]].astype(object)
    en = np.r_[[PROJECTS[t][1].format(w=w) for t, w in zip(tmpl, wname, strict=True)],
               [p[1] for p in LARGE]].astype(object)
    col = np.array([p[2:5] for p in PROJECTS] + [p[2:5] for p in LARGE], dtype=object)
    rows = np.r_[tmpl, len(PROJECTS) + np.arange(len(LARGE))]
    area_ha = np.round(shapely.area(geoms) / 1e4, 2)
    per_ha = np.where(col[rows, 1] == "SKK", 8.0, rng.uniform(25, 120, n))
    cols = {
        "MaDA": np.array([f"DA-2025-{i + 1:03d}" for i in range(n)], dtype=object),
        "TenDA": names, "TenTiengAnh": en, "LinhVuc": col[rows, 0],
        "DiaDiem": ward_names(ward) + ", thành phố Cần Thơ", "TenXa": ward_names(ward),
        "DienTich": area_ha, "TongVon": np.round(area_ha * per_ha, 1),
        "HinhThuc": col[rows, 2], "LoaiDat": col[rows, 1],
        "TinhTrang": np.asarray(STATUS, dtype=object)[rng.integers(0, len(STATUS), n)],
        "DauMoi": np.full(n, AGENCY, dtype=object),
        "SoQD": np.full(n, "1523/QĐ-UBND", dtype=object),
        "NgayQD": np.full(n, np.datetime64("2025-08-20"), dtype="datetime64[D]"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        ogr_write(str(path), shapely.to_wkb(shapely.multipolygons(geoms[:, None])),
                  list(cols.values()), list(cols), layer="du_an_keu_goi_dau_tu",
                  driver="GPKG", geometry_type="MultiPolygon", crs="EPSG:5897")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return n


def write_flood_observations(path: Path, rng: np.random.Generator, seg) -> int:
    """Street flooding seen during the October 2024 spring tides, as a ward's field app
    exports it: GeoJSON points in CRS84 on the streets, depth in cm, local date-time."""
    urban = np.flatnonzero([WARDS[w].type == "Phường" for w in seg.ward])
    n = min(80, len(urban))
    pick = rng.choice(urban, n, replace=False)
    t = rng.uniform(0.2, 0.8, n)
    x = seg.x0[pick] + t * (seg.x1[pick] - seg.x0[pick])
    y = seg.y0[pick] + t * (seg.y1[pick] - seg.y0[pick])
    depth = rng.integers(5, 75, n)
    start = np.datetime64("2024-10-16T17:00:00")
    when = start + rng.integers(0, 4, n) * np.timedelta64(1, "D") + rng.integers(
        0, 5 * 60, n) * np.timedelta64(1, "m")
    cols = {
        "DoSau": depth, "ThoiGian": when.astype("datetime64[s]"),
        "CapNgap": np.select([depth < 30, depth < 50], ["D1", "D2"], "D3").astype(object),
        "TenDuong": np.array([s.removeprefix("đường ") for s in seg.name[pick]], dtype=object),
        "TenXa": ward_names(seg.ward[pick]),
        "Nguon": np.asarray(("Người dân", "UBND phường", "Trạm đo triều"), dtype=object)[
            rng.choice(3, n, p=[0.6, 0.35, 0.05])],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_geojson(path, shapely.points(np.round(x, 3), np.round(y, 3)),
                          "vn2000-cantho", cols, "Point")
