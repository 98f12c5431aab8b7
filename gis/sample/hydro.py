"""Rivers, canals and water surfaces of the city, as the geographic base database delivers them
(Shapefiles, VN-2000 TM-3 105°00', TCVN3 .dbf without a .cpg).

The named rivers and canals follow their real courses roughly (hand-placed lon/lat points:
plausible, not surveyed); each commune also gets a few straight irrigation canals. Lines and
surfaces are cut at ward boundaries, one feature per waterway and ward, as the database keeps
them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from gis.crs import from_wgs84
from gis.sample.city import ZONE, City, as_multi, numbered, plane_lines, ward_in_text, ward_names
from gis.sample.shp import write_shapefile
from gis.sample.wards import WARDS
from gis.text import tcvn3

# the Ninh Kiều reaches of the Hậu, Cần Thơ, Cái Khế and Cái Răng follow the flood rasters' rivers
# name, class, width (m), navigation grade, manager, lon/lat course
NAMED: list[tuple[str, str, float, str, str, list[tuple[float, float]]]] = [
    ("Sông Hậu", "Sông", 1600.0, "Đặc biệt", "Cục Đường thủy nội địa Việt Nam",
     [(105.46, 10.37), (105.53, 10.305), (105.595, 10.245), (105.635, 10.18), (105.69, 10.125),
      (105.745, 10.09), (105.785, 10.062), (105.7982, 10.0456), (105.8009, 10.0184),
      (105.815, 9.99), (105.85, 9.955), (105.90, 9.935), (105.965, 9.915), (106.02, 9.86),
      (106.065, 9.80), (106.125, 9.70), (106.165, 9.62), (106.21, 9.53), (106.26, 9.45)]),
    ("Sông Cần Thơ", "Sông", 220.0, "III", "Sở Xây dựng",
     [(105.60, 9.93), (105.65, 9.96), (105.70, 9.975), (105.7315, 9.9806), (105.7497, 9.9878),
      (105.7616, 10.0004), (105.7735, 10.0067), (105.7854, 10.0176), (105.7954, 10.0248)]),
    ("Kênh Xáng Xà No", "Kênh xáng", 60.0, "III", "Sở Xây dựng",
     [(105.7542, 9.9598), (105.70, 9.925), (105.63, 9.88), (105.55, 9.825), (105.459, 9.770)]),
    ("Kênh Cái Răng", "Kênh", 28.0, "", "UBND phường Cái Răng",
     [(105.7542, 9.9598), (105.7679, 9.9751), (105.7789, 9.9923)]),
    ("Rạch Cái Khế", "Rạch", 36.0, "", "UBND phường Cái Khế",
     [(105.759, 10.0411), (105.7708, 10.0311), (105.7826, 10.0266)]),
    ("Rạch Bình Thủy", "Rạch", 30.0, "", "UBND phường Bình Thủy",
     [(105.745, 10.082), (105.72, 10.07), (105.69, 10.05)]),
    ("Sông Ô Môn", "Sông", 90.0, "IV", "Sở Xây dựng",
     [(105.64, 10.135), (105.60, 10.12), (105.55, 10.10), (105.48, 10.08)]),
    ("Kênh Thốt Nốt", "Kênh", 40.0, "V", "Sở Xây dựng",
     [(105.53, 10.29), (105.45, 10.24), (105.38, 10.19), (105.30, 10.14)]),
    ("Kênh Cái Sắn", "Kênh xáng", 60.0, "III", "Sở Xây dựng",
     [(105.585, 10.21), (105.50, 10.205), (105.43, 10.215), (105.30, 10.22)]),
    ("Kênh Quản Lộ - Phụng Hiệp", "Kênh", 50.0, "III", "Sở Xây dựng",
     [(105.82, 9.80), (105.75, 9.72), (105.68, 9.65), (105.612, 9.586), (105.55, 9.50)]),
    ("Sông Cái Côn", "Sông", 70.0, "IV", "Sở Xây dựng",
     [(105.82, 9.80), (105.88, 9.835), (105.95, 9.87), (106.00, 9.88)]),
    ("Kênh Maspero", "Kênh", 25.0, "", "UBND phường Sóc Trăng",
     [(105.95, 9.66), (105.975, 9.62), (106.00, 9.58)]),
    ("Sông Mỹ Thanh", "Sông", 200.0, "III", "Sở Xây dựng",
     [(105.97, 9.55), (106.03, 9.47), (106.10, 9.40), (106.16, 9.35)]),
    ("Sông Cái Lớn", "Sông", 150.0, "III", "Sở Xây dựng",
     [(105.40, 9.85), (105.44, 9.78), (105.42, 9.70), (105.36, 9.62)]),
    ("Kênh Nàng Mau", "Kênh", 30.0, "", "UBND xã Vị Thủy",
     [(105.53, 9.76), (105.55, 9.70), (105.58, 9.64)]),
]
MINOR = ("Kênh Thầy Ký", "Kênh Ba Thước", "Kênh Mới", "Kênh Tắt", "Kênh Ranh", "Kênh Hậu",
         "Rạch Bần", "Rạch Sung", "Rạch Cam", "Rạch Ông Tường", "Kênh Lái Hiếu",
         "Kênh Tám Ngàn", "Kênh Năm Ngàn", "Rạch Gòi", "Kênh Xẻo Tre", "Kênh Thủy Lợi",
         "Rạch Cái Tắc", "Kênh Giữa", "Rạch Nhum", "Kênh Ngang")
LAKES = [("Hồ Xáng Thổi", 105.7765, 10.0356, 160.0), ("Hồ Búng Xáng", 105.7648, 10.0265, 120.0),
         ("Hồ Nam Sông Hậu", 105.745, 10.005, 140.0), ("Hồ Bình Thủy", 105.748, 10.075, 110.0)]


def named_lines() -> tuple[np.ndarray, list[tuple]]:
    return (np.array([plane_lines(course) for *_, course in NAMED], dtype=object),
            [row[:5] for row in NAMED])


def minor_canals(rng: np.random.Generator, city: City) -> np.ndarray:
    """Two straight irrigation canals across each commune (xã), cut to the commune."""
    rural = np.flatnonzero([w.type == "Xã" for w in WARDS])
    ward = np.repeat(rural, 2)
    cx, cy = city.random_points(rng, ward)
    angle = rng.uniform(0, np.pi, len(ward))
    half = 6000.0
    dx, dy = half * np.cos(angle), half * np.sin(angle)
    lines = shapely.linestrings(np.stack([np.stack([cx - dx, cy - dy], 1),
                                          np.stack([cx + dx, cy + dy], 1)], 1))
    return shapely.intersection(lines, city.wards[ward]), ward


@dataclass
class Hydrography:
    lines: np.ndarray  # the named rivers and canals, whole, in the plane (order of NAMED)
    widths: np.ndarray
    water: shapely.Geometry  # every water surface, united
    counts: dict[str, int]

    @property
    def named(self) -> list[tuple[str, shapely.LineString]]:
        return [(row[0], g) for row, g in zip(NAMED, self.lines, strict=True)]


def write_hydrography(outdir: Path, rng: np.random.Generator, city: City) -> Hydrography:
    lines, attrs = named_lines()
    src, ward, pieces = city.split_by_ward(lines)
    minor, mward = minor_canals(rng, city)
    keep = ~shapely.is_empty(minor) & (shapely.length(minor) > 50)
    minor, mward = minor[keep], mward[keep]
    n_minor = len(minor)
    names = np.asarray(MINOR, dtype=object)[rng.integers(0, len(MINOR), n_minor)]
    cls = np.where(np.char.startswith(names.astype(str), "Rạch"), "Rạch", "Kênh").astype(object)
    width = np.round(rng.uniform(8, 20, n_minor), 1)
    geoms = np.r_[pieces, minor]
    w_all = np.r_[ward, mward]
    a = np.array(attrs, dtype=object)
    cols = {
        "maNhanDang": numbered("TV", w_all, 4),
        "ten": np.r_[a[src, 0], names],
        "loaiThuyHe": np.r_[a[src, 1], cls],
        "chieuRong": np.r_[a[src, 2].astype(float), width],
        "CapKyThuat": np.r_[a[src, 3], np.full(n_minor, "", dtype=object)],
        "ChieuDai": np.round(shapely.length(geoms), 1),
        "DonViQL": np.r_[a[src, 4], "UBND " + ward_in_text(mward)],
        "TenXa": ward_names(w_all),
    }
    geoms, kept = as_multi(geoms, 1)
    cols = {k: v[kept] for k, v in cols.items()}
    write_shapefile(outdir / "thuy_he" / "song_kenh.shp", geoms, cols,
                    geometry_type="MultiLineString", encode=tcvn3.encode, cpg=None,
                    date=dt.date(2024, 12, 10))

    # surfaces: the wide rivers and canals as bands, the lakes, and ponds in the communes
    wide = np.array([row[2] >= 40 for row in NAMED])
    bands = shapely.buffer(lines[wide], a[wide, 2].astype(float) / 2, cap_style="flat")
    bsrc = np.flatnonzero(wide)
    lx, ly = zip(*[plane_xy(lon, lat) for _, lon, lat, _ in LAKES], strict=True)
    lakes = shapely.buffer(shapely.points(lx, ly), [r for *_, r in LAKES], quad_segs=6)
    n_ponds = 3 * sum(w.type == "Xã" for w in WARDS)
    pward = rng.choice(np.flatnonzero([w.type == "Xã" for w in WARDS]), n_ponds)
    px, py = city.random_points(rng, pward)
    ponds = shapely.polygons(_rect(px, py, rng.uniform(30, 90, n_ponds),
                                   rng.uniform(20, 60, n_ponds), rng.uniform(0, np.pi, n_ponds)))
    sgeoms = np.r_[bands, lakes, ponds]
    sname = np.r_[a[bsrc, 0], [n for n, *_ in LAKES], np.full(n_ponds, "", dtype=object)]
    sclass = np.r_[np.where(a[bsrc, 1] == "Sông", "Sông", "Kênh"), np.full(len(LAKES), "Hồ"),
                   np.full(n_ponds, "Ao")].astype(object)
    ssrc, sward, spieces = city.split_by_ward(sgeoms)
    spieces, keep = as_multi(shapely.make_valid(spieces), 3)
    ssrc, sward = ssrc[keep], sward[keep]
    scols = {
        "maNhanDang": numbered("MN", sward, 4),
        "ten": sname[ssrc],
        "loaiThuyHe": sclass[ssrc],
        "DienTich": np.round(shapely.area(spieces), 1),
        "TenXa": ward_names(sward),
    }
    write_shapefile(outdir / "thuy_he" / "mat_nuoc.shp", spieces, scols,
                    geometry_type="MultiPolygon", encode=tcvn3.encode, cpg=None,
                    date=dt.date(2024, 12, 10))
    return Hydrography(lines, a[:, 2].astype(float), shapely.union_all(spieces),
                       {"song_kenh": len(geoms), "mat_nuoc": len(spieces)})


def plane_xy(lon: float, lat: float) -> tuple[float, float]:
    return from_wgs84(ZONE).transform(lon, lat)


def _rect(cx, cy, w, h, angle) -> np.ndarray:
    """Corner rings (n, 4, 2) of rectangles w x h centred on (cx, cy), turned by angle."""
    ux, uy = np.cos(angle), np.sin(angle)
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        dx, dy = sx * w / 2, sy * h / 2
        corners.append(np.stack([cx + dx * ux - dy * uy, cy + dx * uy + dy * ux], 1))
    return np.round(np.stack(corners, 1), 3)
