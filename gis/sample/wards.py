"""Facts about the 103 commune-level units of the new Thành phố Cần Thơ (2025), embedded.

Derived once from the reference polygons (shared/data/cantho-wards-2025.geojson, not shipped):
code, name, type, an approximate interior centroid (lon, lat, WGS 84) and the area in km² in the
VN-2000 TM-3 105°00' plane of those simplified polygons. No geometry is embedded. The former
district of the units merged in 2025 is given for the old Cần Thơ city; the old unit names and
codes in OLD_UNITS are plausible, not authoritative: sample data only.
"""

from __future__ import annotations

from typing import NamedTuple


class Ward(NamedTuple):
    code: str
    name: str
    type: str  # "Phường" or "Xã"
    lon: float
    lat: float
    area_km2: float

    @property
    def full_name(self) -> str:
        return f"{self.type} {self.name}"


WARDS: tuple[Ward, ...] = tuple(Ward(*row) for row in (
    ('31120', 'Cái Khế', 'Phường', 105.7813, 10.0516, 8.06),
    ('31135', 'Ninh Kiều', 'Phường', 105.7774, 10.0331, 5.41),
    ('31147', 'Tân An', 'Phường', 105.7595, 10.0259, 8.03),
    ('31150', 'An Bình', 'Phường', 105.7370, 10.0090, 18.11),
    ('31153', 'Ô Môn', 'Phường', 105.6246, 10.1246, 54.56),
    ('31157', 'Thới Long', 'Phường', 105.5831, 10.1702, 54.08),
    ('31162', 'Phước Thới', 'Phường', 105.6627, 10.0921, 53.23),
    ('31168', 'Bình Thủy', 'Phường', 105.7517, 10.0712, 16.78),
    ('31174', 'Thới An Đông', 'Phường', 105.7015, 10.0815, 24.88),
    ('31183', 'Long Tuyền', 'Phường', 105.7253, 10.0432, 28.73),
    ('31186', 'Cái Răng', 'Phường', 105.7614, 9.9875, 26.91),
    ('31201', 'Hưng Phú', 'Phường', 105.8033, 9.9941, 40.82),
    ('31207', 'Thốt Nốt', 'Phường', 105.5039, 10.2917, 23.79),
    ('31213', 'Tân Lộc', 'Phường', 105.5745, 10.2474, 33.50),
    ('31217', 'Trung Nhứt', 'Phường', 105.5096, 10.2337, 30.85),
    ('31228', 'Thuận Hưng', 'Phường', 105.5624, 10.2262, 30.99),
    ('31231', 'Thạnh An', 'Xã', 105.2897, 10.1853, 86.08),
    ('31232', 'Vĩnh Thạnh', 'Xã', 105.4302, 10.2178, 66.06),
    ('31237', 'Vĩnh Trinh', 'Xã', 105.4643, 10.2688, 50.91),
    ('31246', 'Thạnh Quới', 'Xã', 105.3480, 10.2075, 103.75),
    ('31249', 'Thạnh Phú', 'Xã', 105.4046, 10.1294, 99.25),
    ('31255', 'Trung Hưng', 'Xã', 105.4988, 10.1767, 60.97),
    ('31258', 'Thới Lai', 'Xã', 105.5506, 10.0412, 50.79),
    ('31261', 'Cờ Đỏ', 'Xã', 105.4157, 10.0678, 44.70),
    ('31264', 'Thới Hưng', 'Xã', 105.5185, 10.1240, 69.95),
    ('31273', 'Đông Hiệp', 'Xã', 105.4994, 10.0800, 46.22),
    ('31282', 'Đông Thuận', 'Xã', 105.4687, 10.0238, 61.01),
    ('31288', 'Trường Thành', 'Xã', 105.5946, 10.0563, 59.19),
    ('31294', 'Trường Xuân', 'Xã', 105.5246, 9.9791, 67.92),
    ('31299', 'Phong Điền', 'Xã', 105.6685, 10.0279, 45.49),
    ('31309', 'Trường Long', 'Xã', 105.6179, 9.9801, 31.03),
    ('31315', 'Nhơn Ái', 'Xã', 105.6819, 9.9774, 38.20),
    ('31321', 'Vị Thanh', 'Phường', 105.4590, 9.7602, 22.08),
    ('31333', 'Vị Tân', 'Phường', 105.4536, 9.7915, 36.97),
    ('31338', 'Hỏa Lựu', 'Xã', 105.4012, 9.7173, 59.82),
    ('31340', 'Ngã Bảy', 'Phường', 105.8205, 9.8018, 25.12),
    ('31342', 'Tân Hòa', 'Xã', 105.6171, 9.9186, 58.52),
    ('31348', 'Trường Long Tây', 'Xã', 105.5723, 9.9434, 50.55),
    ('31360', 'Thạnh Xuân', 'Xã', 105.6960, 9.9338, 40.18),
    ('31366', 'Châu Thành', 'Xã', 105.8667, 9.9422, 46.91),
    ('31369', 'Đông Phước', 'Xã', 105.7635, 9.9341, 40.61),
    ('31378', 'Phú Hữu', 'Xã', 105.8274, 9.8984, 60.74),
    ('31393', 'Hòa An', 'Xã', 105.6351, 9.7809, 61.61),
    ('31396', 'Hiệp Hưng', 'Xã', 105.7414, 9.7678, 69.31),
    ('31399', 'Tân Bình', 'Xã', 105.6456, 9.8642, 66.10),
    ('31408', 'Thạnh Hòa', 'Xã', 105.7276, 9.8769, 81.31),
    ('31411', 'Đại Thành', 'Phường', 105.8203, 9.8448, 53.07),
    ('31420', 'Phụng Hiệp', 'Xã', 105.7141, 9.8162, 66.77),
    ('31426', 'Phương Bình', 'Xã', 105.6876, 9.7157, 86.02),
    ('31432', 'Tân Phước Hưng', 'Xã', 105.7953, 9.7464, 57.77),
    ('31441', 'Vị Thủy', 'Xã', 105.5359, 9.7602, 49.89),
    ('31453', 'Vĩnh Thuận Đông', 'Xã', 105.5032, 9.7171, 72.20),
    ('31459', 'Vĩnh Tường', 'Xã', 105.5767, 9.8125, 66.94),
    ('31465', 'Vị Thanh 1', 'Xã', 105.5300, 9.8495, 71.21),
    ('31471', 'Long Mỹ', 'Phường', 105.6091, 9.6862, 51.33),
    ('31473', 'Long Bình', 'Phường', 105.5849, 9.7228, 40.17),
    ('31480', 'Long Phú 1', 'Phường', 105.6391, 9.6521, 57.72),
    ('31489', 'Vĩnh Viễn', 'Xã', 105.4320, 9.6749, 68.89),
    ('31492', 'Lương Tâm', 'Xã', 105.4278, 9.6200, 60.53),
    ('31495', 'Xà Phiên', 'Xã', 105.5268, 9.6319, 100.61),
    ('31507', 'Sóc Trăng', 'Phường', 105.9908, 9.6272, 41.47),
    ('31510', 'Phú Lợi', 'Phường', 105.9853, 9.5918, 26.88),
    ('31528', 'Kế Sách', 'Xã', 105.9441, 9.7706, 61.45),
    ('31531', 'An Lạc Thôn', 'Xã', 105.9118, 9.8738, 85.04),
    ('31537', 'Phong Nẫm', 'Xã', 105.9530, 9.8963, 17.33),
    ('31540', 'Thới An Hội', 'Xã', 105.9793, 9.8255, 60.06),
    ('31552', 'Nhơn Mỹ', 'Xã', 106.0245, 9.7621, 79.54),
    ('31561', 'Đại Hải', 'Xã', 105.8807, 9.7986, 70.49),
    ('31567', 'Mỹ Tú', 'Xã', 105.7924, 9.5996, 86.66),
    ('31569', 'Phú Tâm', 'Xã', 105.9437, 9.7138, 48.95),
    ('31570', 'Hồ Đắc Kiện', 'Xã', 105.8570, 9.7071, 72.58),
    ('31579', 'Long Hưng', 'Xã', 105.7651, 9.6740, 79.44),
    ('31582', 'Thuận Hòa', 'Xã', 105.9344, 9.6765, 45.89),
    ('31591', 'Mỹ Hương', 'Xã', 105.8610, 9.5898, 104.68),
    ('31594', 'An Ninh', 'Xã', 105.9112, 9.6310, 68.83),
    ('31603', 'Mỹ Phước', 'Xã', 105.7212, 9.5879, 97.01),
    ('31615', 'An Thạnh', 'Xã', 106.1481, 9.6846, 95.08),
    ('31633', 'Cù Lao Dung', 'Xã', 106.2250, 9.5751, 145.74),
    ('31639', 'Long Phú', 'Xã', 106.1229, 9.5956, 76.75),
    ('31645', 'Đại Ngãi', 'Xã', 106.0801, 9.7004, 37.81),
    ('31654', 'Trường Khánh', 'Xã', 106.0286, 9.6880, 58.24),
    ('31666', 'Tân Thạnh', 'Xã', 106.0636, 9.6230, 70.68),
    ('31673', 'Trần Đề', 'Xã', 106.1758, 9.5141, 89.34),
    ('31675', 'Liêu Tú', 'Xã', 106.0996, 9.4813, 83.19),
    ('31679', 'Lịch Hội Thượng', 'Xã', 106.1481, 9.4652, 48.78),
    ('31684', 'Mỹ Xuyên', 'Phường', 105.9453, 9.5548, 48.32),
    ('31687', 'Tài Văn', 'Xã', 106.0494, 9.5427, 67.95),
    ('31699', 'Thạnh Thới An', 'Xã', 106.0066, 9.4826, 87.35),
    ('31708', 'Nhu Gia', 'Xã', 105.8549, 9.4704, 75.49),
    ('31717', 'Hòa Tú', 'Xã', 105.8882, 9.4164, 66.95),
    ('31723', 'Ngọc Tố', 'Xã', 105.9389, 9.4767, 112.95),
    ('31726', 'Gia Hòa', 'Xã', 105.8003, 9.4318, 77.04),
    ('31732', 'Ngã Năm', 'Phường', 105.6121, 9.5861, 95.13),
    ('31741', 'Tân Long', 'Xã', 105.6686, 9.5225, 102.25),
    ('31753', 'Mỹ Quới', 'Phường', 105.5799, 9.4866, 84.14),
    ('31756', 'Phú Lộc', 'Xã', 105.7109, 9.4352, 80.21),
    ('31759', 'Lâm Tân', 'Xã', 105.7727, 9.5069, 91.04),
    ('31777', 'Vĩnh Lợi', 'Xã', 105.6430, 9.4381, 76.58),
    ('31783', 'Vĩnh Châu', 'Phường', 106.0344, 9.3480, 103.73),
    ('31789', 'Khánh Hòa', 'Phường', 106.0110, 9.4007, 130.28),
    ('31795', 'Vĩnh Hải', 'Xã', 106.1339, 9.3734, 78.17),
    ('31804', 'Vĩnh Phước', 'Phường', 105.9116, 9.3202, 105.18),
    ('31810', 'Lai Hòa', 'Xã', 105.8437, 9.2980, 54.68),
))
BY_CODE = {w.code: w for w in WARDS}
PROVINCE_CODE = "92"

# Former districts of the old Cần Thơ city (codes below 31321); Hậu Giang and Sóc Trăng units
# are labelled with their former province only.
_OLD_DISTRICT = {
    "Quận Ninh Kiều": ("31120", "31135", "31147", "31150"),
    "Quận Bình Thủy": ("31168", "31174", "31183"),
    "Quận Cái Răng": ("31186", "31201"),
    "Quận Ô Môn": ("31153", "31157", "31162"),
    "Quận Thốt Nốt": ("31207", "31213", "31217", "31228"),
    "Huyện Vĩnh Thạnh": ("31231", "31232", "31237", "31246"),
    "Huyện Cờ Đỏ": ("31249", "31255", "31261", "31264", "31273"),
    "Huyện Thới Lai": ("31258", "31282", "31288", "31294"),
    "Huyện Phong Điền": ("31299", "31309", "31315"),
}
OLD_DISTRICT = {code: name for name, codes in _OLD_DISTRICT.items() for code in codes}

# Plausible former units merged into the main urban wards (sample data, not the resolution).
OLD_UNITS = {
    "31135": ("Phường Tân An", "Phường Thới Bình", "Phường Xuân Khánh"),
    "31120": ("Phường Cái Khế", "Phường An Hòa", "Phường Bùi Hữu Nghĩa"),
    "31147": ("Phường An Khánh", "Phường Hưng Lợi"),
    "31150": ("Phường An Bình", "Xã Mỹ Khánh"),
    "31168": ("Phường Bình Thủy", "Phường Trà An", "Phường Trà Nóc", "Phường An Thới"),
    "31183": ("Phường Long Tuyền", "Phường Long Hòa"),
    "31186": ("Phường Lê Bình", "Phường Thường Thạnh", "Phường Ba Láng", "Phường Hưng Thạnh"),
    "31201": ("Phường Hưng Phú", "Phường Phú Thứ", "Phường Tân Phú"),
    "31153": ("Phường Châu Văn Liêm", "Phường Thới Hòa", "Phường Thới An"),
    "31207": ("Phường Thốt Nốt", "Phường Thới Thuận", "Phường Thuận An"),
}


def old_district(code: str) -> str:
    if code in OLD_DISTRICT:
        return OLD_DISTRICT[code]
    return "Tỉnh Hậu Giang (cũ)" if int(code) < 31507 else "Tỉnh Sóc Trăng (cũ)"


def old_units(code: str) -> tuple[str, ...]:
    """Former unit names (with their type) of a 2025 unit; one unit keeps its own name."""
    return OLD_UNITS.get(code, (BY_CODE[code].full_name,))


def old_codes(code: str) -> tuple[str, ...]:
    """Synthetic former codes in the national list's step of 3, the first being the new code."""
    return tuple(str(int(code) - 3 * i) for i in range(len(old_units(code))))
