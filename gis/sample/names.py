"""Word lists for the sample: fake but plausible people, real street names, land-use codes."""

from __future__ import annotations

import numpy as np

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi",
            "Đặng", "Đỗ", "Ngô", "Hồ", "Dương", "Lâm", "Lý", "Châu", "Thạch", "Tăng", "Quách")
SURNAME_WEIGHTS = (30, 11, 9, 7, 7, 3, 5, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1)
MIDDLE = ("Văn", "Thị", "Thanh", "Minh", "Hoàng", "Ngọc", "Quốc", "Hữu", "Kim", "Thành",
          "Phước", "Hồng", "Bảo", "Gia", "Tấn")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Hùng", "Hải", "Hạnh", "Hoa", "Hương", "Khánh", "Lan",
         "Linh", "Long", "Mai", "Nam", "Nga", "Nhung", "Phúc", "Phương", "Quân", "Sơn", "Tâm",
         "Thảo", "Thủy", "Tiến", "Trang", "Trí", "Trúc", "Tuấn", "Út", "Vân", "Việt", "Xuân",
         "Yến", "Đức", "Lộc", "Nghĩa", "Thắng", "Kiệt", "Hiếu", "Ánh", "Diễm", "Hậu", "Lợi")

STREETS = ("Đường 30 Tháng 4", "Nguyễn Văn Cừ", "Trần Hưng Đạo", "Mậu Thân", "Đường 3 Tháng 2",
           "Cách Mạng Tháng 8", "Hùng Vương", "Nguyễn Trãi", "Hòa Bình", "Trần Phú",
           "Lý Tự Trọng", "Phan Đình Phùng", "Nguyễn Văn Linh", "Võ Văn Kiệt", "Trần Văn Khéo",
           "Lê Hồng Phong", "Nguyễn Thị Minh Khai", "Ngô Quyền", "Hai Bà Trưng",
           "Trần Quang Diệu", "Võ Nguyên Giáp", "Quang Trung", "Lê Lợi", "Phạm Ngũ Lão",
           "Nguyễn An Ninh", "Huỳnh Cương", "Tầm Vu", "Lý Thường Kiệt", "Nguyễn Việt Hồng",
           "Trần Vĩnh Kiết", "Lê Bình", "Trần Ngọc Quế", "Xô Viết Nghệ Tĩnh", "Đồng Khởi",
           "Ngô Gia Tự", "Bùi Hữu Nghĩa", "Lê Văn Sô", "Đinh Công Chánh", "Huỳnh Phan Hộ",
           "Nguyễn Văn Trỗi", "Đoàn Thị Điểm", "Phạm Hùng", "Tỉnh lộ 923", "Quốc lộ 91",
           "Quốc lộ 1A", "Lộ Vòng Cung")


def street_label(name: str) -> str:
    """Street names are written with "đường" unless they already are a road name."""
    lowered = name.lower()
    if lowered.startswith(("đường", "quốc lộ", "tỉnh lộ", "lộ ")):
        return name
    return f"đường {name}"


# Land-use codes of Circular 08/2024 (and older LUN, BHK, NHK) with rough urban-fringe weights.
PARCEL_LAND_USE = (("ODT", 46), ("ONT", 12), ("CLN", 12), ("LUC", 6), ("HNK", 4), ("TMD", 3),
                   ("SKC", 1), ("DGD", 1), ("TSC", 1), ("NTS", 3), ("LUK", 2), ("TON", 1),
                   ("NTD", 1), ("LUN", 4), ("BHK", 2), ("NHK", 1))
PLAN_LAND_USE = (("ODT", 40), ("TMD", 10), ("DGT", 6), ("DGD", 4), ("DYT", 2), ("DVH", 3),
                 ("TSC", 2), ("CAN", 1), ("SKC", 4), ("CLN", 12), ("LUC", 8), ("ONT", 6),
                 ("DTL", 1), ("NTD", 1))


def weighted(pairs, rng: np.random.Generator, n: int) -> np.ndarray:
    values, weights = zip(*pairs, strict=True)
    p = np.asarray(weights, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p / p.sum())]


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Vietnamese full names: surname, middle name (Thị more often for women), given name."""
    w = np.asarray(SURNAME_WEIGHTS, dtype=float)
    sur = np.asarray(SURNAMES, dtype=object)[rng.choice(len(SURNAMES), n, p=w / w.sum())]
    mid = np.asarray(MIDDLE, dtype=object)[rng.integers(0, len(MIDDLE), n)]
    given = np.asarray(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    return sur + " " + mid + " " + given


def id_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """12-digit citizen ID numbers of the right shape (province of birth 092, century/sex digit,
    year of birth, 6 random digits). Fake: the numbers are random."""
    sex = rng.integers(0, 2, n)  # 0 male, 1 female (born 1900s); 2/3 for the 2000s
    year = rng.integers(1945, 2006, n)
    century = np.where(year >= 2000, 2, 0) + sex
    rest = rng.integers(0, 1_000_000, n)
    return np.char.add(np.char.add("092", century.astype(str)),
                       np.char.add(np.char.zfill((year % 100).astype(str), 2),
                                   np.char.zfill(rest.astype(str), 6))).astype(object)
