"""Digital address points as the address platform exports them for a ward office: a UTF-8 CSV
with VN-2000 TM-3 105°00' coordinates written the Vietnamese survey way, northing first
(column ``X`` ≈ 1 1xx xxx is the northing, ``Y`` ≈ 5xx xxx the easting).

One point per residential or commercial parcel with a valid geometry, 3 m behind the middle of
its street front; the ward is the 2025 ward, the old ward one of the units merged into it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from gis.sample.cadastre import ParcelTable
from gis.sample.layout import Parcels
from gis.sample.wards import WARDS, old_district, old_units

ADDRESSED_USES = ("ODT", "ONT", "TMD")
POSTCODE_PREFIX = "94"  # Cần Thơ postcodes: 5 digits starting with 94
COLUMNS = ("MaDiaChi", "SoNha", "TenDuong", "KhuVuc", "MaXa", "PhuongXa", "PhuongCu",
           "QuanCu", "DiaChi", "MaBuuChinh", "LoaiDoiTuong", "NgayCap", "X", "Y")


def write_addresses(path: Path, rng: np.random.Generator, parcels: Parcels, table: ParcelTable
                    ) -> int:
    cols = table.columns
    n_all = len(parcels.corners)
    bad = np.zeros(n_all, dtype=bool)
    bad[np.r_[table.invalid, table.duplicates, table.nulls].astype(np.int64)] = True
    keep = np.flatnonzero(np.isin(cols["MucDich"], ADDRESSED_USES) & ~bad)
    c = parcels.corners[keep]
    front = (c[:, 0] + c[:, 1]) / 2
    back = (c[:, 2] + c[:, 3]) / 2
    inward = (back - front) / np.linalg.norm(back - front, axis=1)[:, None]
    pt = np.round(front + 3.0 * inward, 3)
    ward = parcels.ward[keep]
    codes = cols["MaXa"][keep]
    # address codes numbered inside each ward, in parcel order
    order = np.argsort(ward, kind="stable")
    ws = ward[order]
    start = np.r_[0, np.flatnonzero(ws[1:] != ws[:-1]) + 1]
    seq = np.empty(len(keep), dtype=np.int64)
    seq[order] = np.arange(len(keep)) - np.repeat(start, np.diff(np.r_[start, len(keep)])) + 1
    address = cols["DiaChi"][keep]
    number = [a[3:].split(",", 1)[0] for a in address]
    street = [a.split(", ")[1] for a in address]
    area = rng.integers(1, 9, len(keep))
    sheet = cols["SoTo"][keep]
    kind = np.where(cols["MucDich"][keep] == "TMD", "Cơ sở kinh doanh", "Nhà ở")
    issued = np.datetime64("2021-03-01") + rng.integers(0, 1300, len(keep))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(COLUMNS)
        for i in range(len(keep)):
            w = WARDS[ward[i]]
            olds = old_units(w.code)
            out.writerow((
                f"{w.code}{seq[i]:07d}", number[i], street[i].removeprefix("đường "),
                f"Khu vực {area[i]}", codes[i], w.full_name, olds[sheet[i] % len(olds)],
                old_district(w.code), f"{address[i]}, thành phố Cần Thơ",
                f"{POSTCODE_PREFIX}{int(w.code) % 1000:03d}", kind[i],
                str(issued[i]), f"{pt[i, 1]:.3f}", f"{pt[i, 0]:.3f}",
            ))
    return len(keep)
