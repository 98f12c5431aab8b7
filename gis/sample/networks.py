"""Networks and street furniture along the streets, each as its owner delivers it (Shapefiles in
VN-2000 TM-3 105°00'): telecom cables and poles (operators' survey, Windows-1258 with a .cpg),
power lines (the power company, TCVN3 without a .cpg), street trees (the greenery contractor,
TCVN3 behind a .cpg that says UTF-8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import shapely

from gis.sample.city import City, as_multi, numbered, plane_lines, ward_names
from gis.sample.shp import write_shapefile
from gis.sample.streets import Segments
from gis.sample.wards import WARDS
from gis.text import cp1258, tcvn3

OPERATORS = ("VNPT Cần Thơ", "Viettel Cần Thơ", "FPT Telecom", "MobiFone", "SCTV")
TREES = (  # common name, scientific name, max height (m)
    ("Sao đen", "Hopea odorata", 30), ("Dầu rái", "Dipterocarpus alatus", 30),
    ("Me tây", "Samanea saman", 20), ("Bằng lăng", "Lagerstroemia speciosa", 15),
    ("Phượng vĩ", "Delonix regia", 15), ("Lim xẹt", "Peltophorum pterocarpum", 18),
    ("Giáng hương", "Pterocarpus macrocarpus", 20), ("Xà cừ", "Khaya senegalensis", 25),
    ("Dừa", "Cocos nucifera", 15), ("Osaka hoa vàng", "Cassia splendida", 6),
    ("Viết", "Mimusops elengi", 12), ("Muồng hoàng yến", "Cassia fistula", 12),
)
# 110 kV lines between substations (lon/lat of the substations, rough)
HV_LINES = [
    ("Đường dây 110 kV Ô Môn - Trà Nóc", "Trạm 220 kV Ô Môn",
     [(105.64, 10.13), (105.70, 10.10), (105.745, 10.09)]),
    ("Đường dây 110 kV Trà Nóc - Ninh Kiều", "Trạm 110 kV Trà Nóc",
     [(105.745, 10.09), (105.76, 10.06), (105.775, 10.035)]),
    ("Đường dây 110 kV Ninh Kiều - Cái Răng", "Trạm 110 kV Ninh Kiều",
     [(105.775, 10.035), (105.77, 10.01), (105.765, 9.985)]),
    ("Đường dây 110 kV Cái Răng - Châu Thành", "Trạm 110 kV Cái Răng",
     [(105.765, 9.985), (105.80, 9.96), (105.86, 9.94)]),
    ("Đường dây 110 kV Châu Thành - Ngã Bảy", "Trạm 110 kV Châu Thành",
     [(105.86, 9.94), (105.84, 9.87), (105.82, 9.80)]),
    ("Đường dây 110 kV Ngã Bảy - Sóc Trăng", "Trạm 110 kV Ngã Bảy",
     [(105.82, 9.80), (105.90, 9.70), (105.985, 9.62)]),
    ("Đường dây 110 kV Ô Môn - Thốt Nốt", "Trạm 220 kV Ô Môn",
     [(105.64, 10.13), (105.58, 10.20), (105.505, 10.285)]),
    ("Đường dây 110 kV Cái Răng - Vị Thanh", "Trạm 110 kV Cái Răng",
     [(105.765, 9.985), (105.62, 9.89), (105.46, 9.765)]),
]


def _subset(seg: Segments, idx: np.ndarray) -> Segments:
    return Segments(*(getattr(seg, f)[idx] for f in ("x0", "y0", "x1", "y1", "width",
                                                     "vertical", "ward", "name")))


def _street(seg_names: np.ndarray) -> np.ndarray:
    return np.array([s[6:] if s.startswith("đường ") else s for s in seg_names], dtype=object)


def write_telecom(outdir: Path, rng: np.random.Generator, seg: Segments) -> dict[str, int]:
    n = len(seg)
    carried = np.flatnonzero(rng.random(n) < 0.6)
    sub = _subset(seg, carried)
    m = len(sub)
    underground = sub.width >= 24
    lines = sub.offset_lines(0.42)
    lcols = {
        "MaTuyen": numbered("VT", sub.ward, 5),
        "NhaMang": np.asarray(OPERATORS, dtype=object)[rng.integers(0, 5, m)],
        "LoaiCap": np.where(rng.random(m) < 0.8, "Cáp quang", "Cáp đồng").astype(object),
        "HinhThuc": np.where(underground, "Ngầm", "Treo").astype(object),
        "SoSoi": rng.choice([12, 24, 48, 96], m),
        "ChieuDai": np.round(sub.length, 1), "NamXD": rng.integers(2005, 2025, m),
        "TenDuong": _street(sub.name), "TenXa": ward_names(sub.ward),
        "TinhTrang": np.where(rng.random(m) < 0.9, "Đang khai thác", "Chờ ngầm hóa"
                              ).astype(object),
    }
    write_shapefile(outdir / "vien_thong" / "tuyen_cap.shp",
                    shapely.multilinestrings(lines[:, None]), lcols,
                    geometry_type="MultiLineString", encode=cp1258.encode, cpg="1258",
                    date=dt.date(2024, 10, 15))
    overhead = _subset(sub, np.flatnonzero(~underground))
    x, y, s = overhead.points_along(40.0, 0.42, rng)
    k = len(x)
    permit = rng.random(k) < 0.7
    dates = np.datetime64("2018-01-01") + rng.integers(0, 2400, k)
    pcols = {
        "MaCot": numbered("CVT", overhead.ward[s], 6),
        "NhaMang": lcols["NhaMang"][np.flatnonzero(~underground)][s],
        "LoaiCot": np.where(rng.random(k) < 0.7, "Cột bê tông ly tâm", "Cột thép").astype(
            object),
        "ChieuCao": rng.choice([7.5, 8.5, 10.0, 12.0], k),
        "DungChung": rng.random(k) < 0.35,
        "SoGP": np.where(permit, rng.integers(100, 999, k).astype(str).astype(object)
                         + "/GP-SXD", "").astype(object),
        "NgayGP": np.where(permit, dates, np.datetime64("NaT")),
        "TenDuong": _street(overhead.name[s]), "TenXa": ward_names(overhead.ward[s]),
        "TinhTrang": np.where(rng.random(k) < 0.92, "Tốt", "Nghiêng, cần chỉnh").astype(object),
    }
    write_shapefile(outdir / "vien_thong" / "cot_vien_thong.shp", shapely.points(x, y), pcols,
                    geometry_type="Point", encode=cp1258.encode, cpg="1258",
                    date=dt.date(2024, 10, 15))
    return {"tuyen_cap": m, "cot_vien_thong": k}


def write_power(path: Path, rng: np.random.Generator, city: City, seg: Segments) -> int:
    hv = np.array([plane_lines(course) for *_, course in HV_LINES], dtype=object)
    src, hward, hpieces = city.split_by_ward(hv)
    feeders = np.flatnonzero(seg.width >= 12)
    sub = _subset(seg, feeders)
    mv = sub.offset_lines(-0.42)
    n_hv, n_mv = len(hpieces), len(mv)
    geoms = np.r_[hpieces, mv]
    ward = np.r_[hward, sub.ward]
    n = len(geoms)
    names = np.r_[np.array([h[0] for h in HV_LINES], dtype=object)[src],
                  "Tuyến 22 kV " + _street(sub.name)]
    feeder = np.r_[np.full(n_hv, "", dtype=object),
                   "47" + rng.integers(1, 9, n_mv).astype(str).astype(object)]
    station = np.r_[np.array([h[1] for h in HV_LINES], dtype=object)[src],
                    np.asarray(("Trạm 110 kV Ninh Kiều", "Trạm 110 kV Cái Răng",
                                "Trạm 110 kV Trà Nóc", "Trạm 110 kV Bình Thủy"),
                               dtype=object)[rng.integers(0, 4, n_mv)]]
    cols = {
        "MaTuyen": numbered("DL", ward, 5), "TenTuyen": names,
        "CapDienAp": np.r_[np.full(n_hv, 110.0), np.full(n_mv, 22.0)],
        "LoaiDZ": np.r_[np.full(n_hv, "Đường dây trên không", dtype=object),
                        np.where(sub.width >= 24, "Cáp ngầm", "Đường dây trên không")
                        ].astype(object),
        "LoaiDay": np.r_[np.full(n_hv, "ACSR-240", dtype=object),
                         np.where(sub.width >= 24, "Cu/XLPE 3x240", "AC-95")].astype(object),
        "TietDien": np.r_[np.full(n_hv, 240.0), np.where(sub.width >= 24, 240.0, 95.0)],
        "SoMach": np.r_[rng.choice([1, 2], n_hv), np.ones(n_mv, dtype=np.int64)],
        "XuatTuyen": feeder, "TramNguon": station,
        "ChieuDai": np.round(shapely.length(geoms), 1),
        "NamVH": rng.integers(1998, 2024, n), "TenXa": ward_names(ward),
        "TinhTrang": np.full(n, "Đang vận hành", dtype=object),
    }
    geoms, kept = as_multi(geoms, 1)
    cols = {k: np.asarray(v)[kept] for k, v in cols.items()}
    write_shapefile(path, geoms, cols, geometry_type="MultiLineString", encode=tcvn3.encode,
                    cpg=None, date=dt.date(2024, 6, 30))
    return len(geoms)


def write_trees(path: Path, rng: np.random.Generator, seg: Segments) -> int:
    planted = _subset(seg, np.flatnonzero((seg.width >= 10)
                                          & np.array([WARDS[w].type == "Phường"
                                                      for w in seg.ward])))
    x, y, s = planted.points_along(25.0, 0.40, rng)
    n = len(x)
    sp = rng.integers(0, len(TREES), n)
    hmax = np.array([t[2] for t in TREES], dtype=float)[sp]
    height = np.round(rng.uniform(0.2, 1.0, n) * hmax + 2.0, 1)
    trunk = np.round(height * rng.uniform(2.0, 3.5, n), 0)
    cols = {
        "MaCay": numbered("CX", planted.ward[s], 6),
        "TenCay": np.array([t[0] for t in TREES], dtype=object)[sp],
        "TenKhoaHoc": np.array([t[1] for t in TREES], dtype=object)[sp],
        "ChieuCao": height, "DuongKinh": trunk,
        "DKTan": np.round(height * rng.uniform(0.3, 0.6, n), 1),
        "LoaiCayCao": np.select([height < 6, height <= 12], ["Loại 1", "Loại 2"],
                                "Loại 3").astype(object),
        "CayDiSan": (trunk > 80) & (rng.random(n) < 0.2),
        "NamTrong": rng.integers(1975, 2024, n),
        "TenDuong": _street(planted.name[s]), "TenXa": ward_names(planted.ward[s]),
        "TinhTrang": np.asarray(("Tốt", "Tốt", "Tốt", "Sâu bệnh", "Nghiêng", "Cần cắt tỉa"),
                                dtype=object)[rng.integers(0, 6, n)],
    }
    write_shapefile(path, shapely.points(x, y), cols, geometry_type="Point",
                    encode=tcvn3.encode, cpg="UTF-8", date=dt.date(2024, 12, 20))
    return n
