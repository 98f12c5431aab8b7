"""Buildings, place names and social welfare facilities (Shapefiles, VN-2000 TM-3 105°00').

- buildings: one footprint per built parcel (housing, commerce, schools, offices, workshops,
  temples), set back from the street front and 0.2 m in from the side lines, so it lies inside
  its parcel; house number and street from the parcel's address; floors and height by use
  (height empty for some, as in real records). TCVN3 text, no .cpg.
- place names: every ward and commune, its neighbourhoods or hamlets, the named rivers and
  known landmarks (rough real positions). UTF-8 with a .cpg (a newer database export).
- social welfare facilities: UTF-8 with a .cpg.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import shapely

from gis.crs import from_wgs84
from gis.sample.cadastre import ParcelTable
from gis.sample.city import ZONE, City, numbered, ward_names
from gis.sample.layout import Parcels
from gis.sample.shp import write_shapefile
from gis.sample.wards import WARDS, old_units
from gis.text import tcvn3

USE = {  # parcel land use -> building use, floors (low, high), named building template
    "ODT": ("Nhà ở", (1, 5), ""), "ONT": ("Nhà ở", (1, 2), ""),
    "TMD": ("Thương mại dịch vụ", (2, 12), ""), "DGD": ("Giáo dục", (2, 4), "Trường {k} {w}"),
    "TSC": ("Trụ sở", (2, 6), "Trụ sở {k} {w}"), "SKC": ("Công nghiệp", (1, 2), ""),
    "TON": ("Tôn giáo", (1, 2), "{k} {w}"),
}
KINDS = {"DGD": ("Tiểu học", "THCS", "Mầm non", "THPT"),
         "TSC": ("UBND", "Công an", "Đảng ủy", "Trạm y tế"),
         "TON": ("Chùa", "Nhà thờ", "Đình", "Thánh thất")}
HAMLETS = ("Thạnh Lợi", "Tân Phú", "Long Thạnh", "Mỹ Hòa", "Bình Thạnh", "Phú Thành",
           "Tân Thạnh", "Hòa An", "Thới Hòa", "Nhơn Lộc", "Trường Thọ", "Phú Lợi")
LANDMARKS = [  # name, class, group, lon, lat
    ("Bến Ninh Kiều", "Bến tàu", "KX", 105.7880, 10.0343),
    ("Chợ Cần Thơ", "Chợ", "KX", 105.7872, 10.0322),
    ("Chùa Ông", "Di tích", "KX", 105.7868, 10.0312),
    ("Chợ nổi Cái Răng", "Chợ", "KX", 105.7497, 9.9878),
    ("Chợ nổi Phong Điền", "Chợ", "KX", 105.6650, 9.9990),
    ("Cầu Cần Thơ", "Cầu", "KX", 105.8150, 9.9900),
    ("Cầu Hưng Lợi", "Cầu", "KX", 105.7610, 10.0000),
    ("Nhà cổ Bình Thủy", "Di tích", "KX", 105.7500, 10.0730),
    ("Thiền viện Trúc Lâm Phương Nam", "Di tích", "KX", 105.6950, 9.9850),
    ("Chợ nổi Ngã Bảy", "Chợ", "KX", 105.8200, 9.8010),
    ("Chùa Dơi", "Di tích", "KX", 105.9850, 9.5950),
    ("Khu di tích Chiến thắng Chương Thiện", "Di tích", "KX", 105.4600, 9.7650),
    ("Bến phà Đại Ngãi", "Bến phà", "KX", 106.0800, 9.7100),
    ("Sân bay quốc tế Cần Thơ", "Công trình", "KX", 105.7110, 10.0850),
]
FACILITIES = [  # type, name template, ownership, capacity range
    ("Trung tâm công tác xã hội", "Trung tâm Công tác xã hội {w}", "Công lập", (80, 250)),
    ("Nhà dưỡng lão", "Nhà dưỡng lão {w}", "Ngoài công lập", (20, 80)),
    ("Cơ sở bảo trợ xã hội", "Cơ sở Bảo trợ xã hội {w}", "Công lập", (40, 150)),
    ("Cơ sở chăm sóc người khuyết tật", "Cơ sở chăm sóc người khuyết tật {w}",
     "Ngoài công lập", (15, 60)),
    ("Mái ấm trẻ em", "Mái ấm tình thương {w}", "Ngoài công lập", (15, 50)),
]


def _text_parts(address: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """'Số 12, đường X, phường Y' -> ('12', 'X')."""
    number = np.array([a[3:].split(",", 1)[0] for a in address], dtype=object)
    street = np.array([a.split(", ")[1].removeprefix("đường ") for a in address], dtype=object)
    return number, street


def write_buildings(path: Path, rng: np.random.Generator, parcels: Parcels,
                    table: ParcelTable) -> int:
    cols_p = table.columns
    bad = np.zeros(len(parcels.corners), dtype=bool)
    bad[np.r_[table.invalid, table.nulls, table.duplicates].astype(np.int64)] = True  # rejected
    keep = np.flatnonzero(np.isin(cols_p["MucDich"], list(USE)) & ~bad)
    c = parcels.corners[keep]
    front = np.linalg.norm(c[:, 1] - c[:, 0], axis=1)
    depth = np.linalg.norm(c[:, 3] - c[:, 0], axis=1)
    n = len(keep)
    setback = np.minimum(rng.choice([0.1, 0.5, 1.0, 3.0], n, p=[.4, .3, .2, .1]), depth * 0.2)
    back = np.minimum(depth - 1.0, setback + rng.uniform(10.0, 24.0, n))
    # bilinear inside the parcel's quadrilateral (its sides need not be parallel)
    s0 = (0.2 / front)[:, None]
    t0, t1 = (setback / depth)[:, None], (back / depth)[:, None]

    def at(s, t):
        return (1 - t) * ((1 - s) * c[:, 0] + s * c[:, 1]) + t * ((1 - s) * c[:, 3] + s * c[:, 2])

    ring = np.stack([at(s0, t0), at(1 - s0, t0), at(1 - s0, t1), at(s0, t1)], axis=1)
    geoms = shapely.orient_polygons(shapely.polygons(np.round(ring, 3)), exterior_cw=True)
    use = cols_p["MucDich"][keep]
    ward = parcels.ward[keep]
    lo = np.array([USE[x][1][0] for x in use])
    hi = np.array([USE[x][1][1] for x in use])
    central = np.isin(ward, [i for i, w in enumerate(WARDS)
                             if w.code in ("31135", "31120", "31147")])
    floors = np.floor(lo + (hi - lo + 1) * rng.random(n) ** np.where(central, 1.0, 2.0)
                      ).astype(np.int64)
    basement = np.where(floors >= 9, rng.integers(1, 3, n), 0)
    height = np.round(floors * 3.5 + rng.uniform(0.3, 1.5, n), 1)
    height[rng.random(n) < 0.15] = np.nan
    house, street = _text_parts(cols_p["DiaChi"][keep])
    wname = np.array([w.name for w in WARDS], dtype=object)[ward]
    names = np.full(n, "", dtype=object)
    for code, kinds in KINDS.items():
        idx = np.flatnonzero(use == code)
        k = np.asarray(kinds, dtype=object)[rng.integers(0, len(kinds), len(idx))]
        names[idx] = [USE[code][2].format(k=a, w=b) for a, b in zip(k, wname[idx], strict=True)]
    building_use = np.array([USE[x][0] for x in use], dtype=object)
    mixed = (building_use == "Nhà ở") & central & (rng.random(n) < 0.25)
    building_use[mixed] = "Hỗn hợp"
    permit = rng.random(n) < 0.6
    cols = {
        "maNhanDang": numbered("NHA", ward, 6), "ten": names, "SoNha": house,
        "TenDuong": street, "soTang": floors, "SoTangHam": basement, "chieuCao": height,
        "CongNang": building_use,
        "KetCau": np.where(floors >= 2, "Kiên cố", np.where(rng.random(n) < 0.8,
                                                             "Bán kiên cố", "Nhà tạm")
                           ).astype(object),
        "NamXD": rng.integers(1975, 2025, n),
        "SoGPXD": np.where(permit, rng.integers(1, 9999, n).astype(str).astype(object)
                           + "/GPXD", "").astype(object),
        "TenXa": ward_names(ward),
    }
    write_shapefile(path, shapely.multipolygons(geoms[:, None]), cols,
                    geometry_type="MultiPolygon", encode=tcvn3.encode, cpg=None,
                    date=dt.date(2025, 3, 31))
    return n


def write_place_names(path: Path, rng: np.random.Generator, city: City,
                      waterways: list[tuple[str, shapely.LineString]]) -> int:
    """Wards and communes, three neighbourhoods or hamlets each, rivers, landmarks."""
    n_w = len(WARDS)
    wx, wy = city.centroids()
    hw = np.repeat(np.arange(n_w), 3)
    hx, hy = city.random_points(rng, hw)
    urban = np.array([w.type == "Phường" for w in WARDS])[hw]
    k = np.tile([1, 2, 3], n_w)
    hamlet = np.where(urban, "Khu vực " + k.astype(str).astype(object),
                      "Ấp " + np.asarray(HAMLETS, dtype=object)[
                          rng.integers(0, len(HAMLETS), len(hw))]).astype(object)
    lx, ly = from_wgs84(ZONE).transform([m[3] for m in LANDMARKS], [m[4] for m in LANDMARKS])
    mids = shapely.line_interpolate_point([g for _, g in waterways], 0.5, normalized=True)
    x = np.r_[wx, hx, lx, shapely.get_x(mids)]
    y = np.r_[wy, hy, ly, shapely.get_y(mids)]
    ward = np.r_[np.arange(n_w), hw, city.ward_of(np.asarray(lx), np.asarray(ly)),
                 city.ward_of(shapely.get_x(mids), shapely.get_y(mids))]
    names = np.r_[[w.name for w in WARDS], hamlet, [m[0] for m in LANDMARKS],
                  [n for n, _ in waterways]].astype(object)
    cls = np.r_[[w.type for w in WARDS], np.where(urban, "Khu vực", "Ấp"),
                [m[1] for m in LANDMARKS], ["Sông" if n.startswith("Sông") else "Kênh"
                                            for n, _ in waterways]].astype(object)
    group = np.r_[np.full(n_w + len(hw), "DC"), [m[2] for m in LANDMARKS],
                  np.full(len(waterways), "TV")].astype(object)
    old = np.full(len(x), "", dtype=object)
    old[:n_w] = ["; ".join(old_units(w.code)) if len(old_units(w.code)) > 1 else ""
                 for w in WARDS]
    cols = {"maNhanDang": numbered("DD", ward, 4), "diaDanh": names, "PhanLoai": cls,
            "NhomDT": group, "TenCu": old, "TenXa": ward_names(ward)}
    write_shapefile(path, shapely.points(np.round(x, 3), np.round(y, 3)), cols,
                    geometry_type="Point", encode=lambda s: s.encode("utf-8"), cpg="UTF-8",
                    date=dt.date(2025, 8, 15))
    return len(x)


def write_social_welfare(path: Path, rng: np.random.Generator, city: City) -> int:
    """A facility in every second ward or commune, five in the central wards."""
    picks = np.r_[np.arange(0, len(WARDS), 2), [1, 0, 2, 7, 10]]
    x, y = city.random_points(rng, picks)
    n = len(picks)
    kind = rng.integers(0, len(FACILITIES), n)
    wname = np.array([w.full_name for w in WARDS], dtype=object)[picks]
    names = np.array([FACILITIES[k][1].format(w=w) for k, w in zip(kind, wname, strict=True)],
                     dtype=object)
    dup = np.unique(names, return_index=True)[1]
    seen = np.zeros(n, dtype=bool)
    seen[dup] = True
    names[~seen] = names[~seen] + " (cơ sở 2)"
    lo = np.array([FACILITIES[k][3][0] for k in kind])
    hi = np.array([FACILITIES[k][3][1] for k in kind])
    capacity = rng.integers(lo, hi + 1)
    house = rng.integers(1, 300, n)
    cols = {
        "MaCS": numbered("BTXH", picks, 3), "TenCS": names,
        "LoaiHinh": np.array([FACILITIES[k][0] for k in kind], dtype=object),
        "SoHuu": np.array([FACILITIES[k][2] for k in kind], dtype=object),
        "QuyMo": capacity, "SoDoiTuong": np.round(capacity * rng.uniform(0.5, 1.0, n)
                                                  ).astype(np.int64),
        "DiaChi": ("Số " + house.astype(str).astype(object) + ", " + wname
                   + ", thành phố Cần Thơ"),
        "TenXa": wname,
        "DienThoai": "0292 3" + np.char.zfill(rng.integers(0, 999999, n).astype(str), 6
                                               ).astype(object),
        "SoGP": rng.integers(10, 999, n).astype(str).astype(object) + "/GP-SYT",
        "NgayGP": np.datetime64("2012-01-01") + rng.integers(0, 4700, n),
    }
    write_shapefile(path, shapely.points(x, y), cols, geometry_type="Point",
                    encode=lambda s: s.encode("utf-8"), cpg="UTF-8", date=dt.date(2025, 1, 6))
    return n
