"""Code lists referenced by layer fields (``codelist: land_use`` in a layer definition).

``LAND_USE`` holds the land-use type codes (mã loại đất) of Circular 08/2024/TT-BTNMT,
Appendix II, and the older codes still found in data made under Circulars 28/2014/TT-BTNMT and
27/2018/TT-BTNMT (e.g. LUN, BHK, NHK). Every entry says which code-list version(s) it belongs
to, so a loader can keep where a value comes from instead of silently "upgrading" it.

Look-ups ignore case, surrounding/doubled whitespace and Unicode composition (NFC vs NFD), and
also accept the Vietnamese or English name of an entry (``"Đất ở tại đô thị"`` -> ``ODT``).
A multi-purpose land-use value as written on cadastral maps (``"ONT+CLN"``) validates when every
part does.

Colours: ``CodeEntry.color`` follows the ministry's legend convention for land-use status maps
(bản đồ hiện trạng sử dụng đất: LUC light yellow, ODT pink, NTS/SON light cyan, DGT orange...)
*approximately*; they are for default map styles, not a normative legend.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

TT08_2024 = "TT08/2024"  # Circular 08/2024/TT-BTNMT (in force 1 Aug 2024, Land Law 2024)
TT27_2018 = "TT27/2018"  # Circular 27/2018/TT-BTNMT
TT28_2014 = "TT28/2014"  # Circular 28/2014/TT-BTNMT
LAND_USE_VERSIONS = (TT08_2024, TT27_2018, TT28_2014)  # newest first

AGRICULTURAL = "agricultural"  # nhóm đất nông nghiệp (NNP)
NON_AGRICULTURAL = "non_agricultural"  # nhóm đất phi nông nghiệp (PNN)
UNUSED = "unused"  # nhóm đất chưa sử dụng (CSD)


@dataclass(frozen=True)
class CodeEntry:
    code: str
    vi: str  # Vietnamese name, with diacritics
    en: str
    versions: tuple[str, ...] = ()  # code-list versions the code belongs to (newest first)
    group: str | None = None  # land use: agricultural / non_agricultural / unused
    parent: str | None = None  # the code of the summary category it belongs to
    aggregate: bool = False  # a summary category (e.g. LUA = LUC + LUK), not a leaf type
    color: str | None = None  # "#RRGGBB" map colour (land use: ministry convention, approx.)
    aliases: tuple[str, ...] = ()  # other spellings that mean this entry

    @property
    def version(self) -> str | None:
        """The newest code-list version the code belongs to."""
        return self.versions[0] if self.versions else None



def _missing(value: Any) -> bool:
    """None, NaN, pandas NA/NaT: an empty value, not an invalid one."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # containers
        return False


def _norm(value: Any) -> str:
    """Comparison key: NFC, whitespace collapsed, case-folded."""
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split()).casefold()


class ValidationResult(NamedTuple):
    codes: Any  # normalised codes (None where the value is empty or invalid)
    versions: Any  # code-list version per value (None where empty or invalid)
    invalid: list  # the distinct invalid values exactly as given, in order of first appearance


class CodeList:
    """A named list of codes, looked up case-insensitively by code, name or alias."""

    def __init__(self, name: str, vi: str, en: str, entries: Iterable[CodeEntry],
                 versions: Sequence[str] = (), multi_separators: str = ""):
        self.name = name
        self.vi = vi
        self.en = en
        self.versions = tuple(versions)  # newest first; empty: the list is not versioned
        self._multi = re.compile(f"\\s*[{re.escape(multi_separators)}]\\s*") \
            if multi_separators else None
        self._entries: dict[str, CodeEntry] = {}
        self._index: dict[str, CodeEntry] = {}
        for entry in entries:
            if entry.code in self._entries:
                raise ValueError(f"code list {name}: duplicate code {entry.code!r}")
            unknown = set(entry.versions) - set(self.versions)
            if unknown:
                raise ValueError(f"code list {name}: {entry.code} has unknown versions {unknown}")
            self._entries[entry.code] = entry
        for entry in self._entries.values():
            for key in (entry.code, entry.vi, entry.en, *entry.aliases):
                k = _norm(key)
                other = self._index.get(k)
                if other is not None and other is not entry:
                    raise ValueError(f"code list {name}: {key!r} names both {other.code} "
                                     f"and {entry.code}")
                self._index[k] = entry

    # -- mapping-like access ------------------------------------------------------------
    def __getitem__(self, code: str) -> CodeEntry:
        entry = self.lookup(code)
        if entry is None:
            raise KeyError(code)
        return entry

    def __contains__(self, code: object) -> bool:
        return self.lookup(code) is not None

    def __iter__(self) -> Iterator[CodeEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"CodeList({self.name!r}, {len(self)} codes)"

    @property
    def codes(self) -> list[str]:
        return list(self._entries)

    def in_version(self, version: str) -> list[CodeEntry]:
        return [e for e in self if version in e.versions]

    # -- look-up and validation ---------------------------------------------------------
    def lookup(self, value: Any) -> CodeEntry | None:
        """The entry for a code (or name/alias); None for empty, unknown or non-text values."""
        if _missing(value):
            return None
        key = _norm(value)
        return self._index.get(key) if key else None

    def _one(self, value: Any) -> tuple[str | None, str | None, bool]:
        """(normalised code, version, is_invalid) of one value."""
        if _missing(value):
            return None, None, False
        text = " ".join(unicodedata.normalize("NFC", str(value)).split())
        if not text:
            return None, None, False
        entry = self.lookup(text)
        if entry is not None:
            return entry.code, entry.version or (self.versions[0] if self.versions else None), \
                False
        if self._multi is None:
            return None, None, True
        parts = [p for p in self._multi.split(text) if p]
        entries = [self.lookup(p) for p in parts]
        if len(parts) < 2 or any(e is None for e in entries):
            return None, None, True
        if not self.versions:
            return "+".join(e.code for e in entries), None, False
        common = [v for v in self.versions if all(v in e.versions for e in entries)]
        if not common:  # codes of different code-list versions mixed in one value
            return None, None, True
        return "+".join(e.code for e in entries), common[0], False

    def validate(self, values: Iterable[Any]) -> ValidationResult:
        """Normalise a sequence of values. Empty values (None, NaN, "") are not invalid."""
        series = values if isinstance(values, pd.Series) else None
        items = list(values)
        memo: dict[Any, tuple[str | None, str | None, bool]] = {}
        codes: list[str | None] = []
        versions: list[str | None] = []
        invalid: list[Any] = []
        seen_invalid: set[Any] = set()
        for v in items:
            try:
                res = memo[v]
            except KeyError:
                res = memo[v] = self._one(v)
            except TypeError:  # unhashable
                res = self._one(v)
            codes.append(res[0])
            versions.append(res[1])
            if res[2]:
                try:
                    hash(v)
                    key = v
                except TypeError:  # unhashable value: compare by its text
                    key = repr(v)
                if key not in seen_invalid:
                    seen_invalid.add(key)
                    invalid.append(v)
        if series is not None:
            return ValidationResult(pd.Series(codes, index=series.index, dtype=object),
                                    pd.Series(versions, index=series.index, dtype=object),
                                    invalid)
        return ValidationResult(codes, versions, invalid)


# -- Land-use types -----------------------------------------------------------------------
_ALL = (TT08_2024, TT27_2018, TT28_2014)
_NEW = (TT08_2024,)
_OLD = (TT27_2018, TT28_2014)
_A, _N, _U = AGRICULTURAL, NON_AGRICULTURAL, UNUSED
_PUBLIC_PINK = "#FFAAA0"  # offices, public services, public works: salmon pink
_PRODUCTION = "#FAAAA0"
_WASTE = "#CDAACD"


def _lu(code, vi, en, versions, group, parent=None, color=None, aggregate=False):
    return CodeEntry(code, vi, en, tuple(versions), group, parent, aggregate, color)


_LAND_USE_ENTRIES = [
    # ---- Nhóm đất nông nghiệp / agricultural land ------------------------------------------
    _lu("NNP", "Nhóm đất nông nghiệp", "Agricultural land", _ALL, _A, None, "#FFFF64", True),
    _lu("SXN", "Đất sản xuất nông nghiệp", "Agricultural production land", _OLD, _A, "NNP",
        "#FFFC78", True),
    _lu("CHN", "Đất trồng cây hằng năm", "Annual crop land", _ALL, _A, "NNP", "#FFFC78", True),
    _lu("LUA", "Đất trồng lúa", "Paddy land", _ALL, _A, "CHN", "#FFFC82", True),
    _lu("LUC", "Đất chuyên trồng lúa", "Specialised wet-rice land", _ALL, _A, "LUA", "#FFFC8C"),
    _lu("LUK", "Đất trồng lúa còn lại", "Other paddy land", _ALL, _A, "LUA", "#FFFC96"),
    _lu("LUN", "Đất trồng lúa nương", "Upland rice land", _OLD, _A, "LUA", "#FFFCB4"),
    _lu("HNK", "Đất trồng cây hằng năm khác", "Other annual crop land", _ALL, _A, "CHN",
        "#FFF0B4"),
    _lu("BHK", "Đất bằng trồng cây hằng năm khác", "Flat land for other annual crops", _OLD,
        _A, "HNK", "#FFF0B4"),
    _lu("NHK", "Đất nương rẫy trồng cây hằng năm khác",
        "Upland swidden land for other annual crops", _OLD, _A, "HNK", "#FFF0B4"),
    _lu("CLN", "Đất trồng cây lâu năm", "Perennial crop land", _ALL, _A, "NNP", "#FFD2A0"),
    _lu("LNP", "Đất lâm nghiệp", "Forestry land", _ALL, _A, "NNP", "#AAFF32", True),
    _lu("RSX", "Đất rừng sản xuất", "Production forest land", _ALL, _A, "LNP", "#B4FFB4"),
    _lu("RSN", "Đất có rừng tự nhiên sản xuất", "Natural production forest", _OLD, _A, "RSX",
        "#B4FFB4"),
    _lu("RST", "Đất có rừng trồng sản xuất", "Planted production forest", _OLD, _A, "RSX",
        "#B4FFB4"),
    _lu("RPH", "Đất rừng phòng hộ", "Protection forest land", _ALL, _A, "LNP", "#BEFF1E"),
    _lu("RPN", "Đất có rừng tự nhiên phòng hộ", "Natural protection forest", _OLD, _A, "RPH",
        "#BEFF1E"),
    _lu("RPT", "Đất có rừng trồng phòng hộ", "Planted protection forest", _OLD, _A, "RPH",
        "#BEFF1E"),
    _lu("RDD", "Đất rừng đặc dụng", "Special-use forest land", _ALL, _A, "LNP", "#6EFF64"),
    _lu("RDN", "Đất có rừng tự nhiên đặc dụng", "Natural special-use forest", _OLD, _A, "RDD",
        "#6EFF64"),
    _lu("RDT", "Đất có rừng trồng đặc dụng", "Planted special-use forest", _OLD, _A, "RDD",
        "#6EFF64"),
    _lu("NTS", "Đất nuôi trồng thủy sản", "Aquaculture land", _ALL, _A, "NNP", "#AAFFFF"),
    _lu("CNT", "Đất chăn nuôi tập trung", "Concentrated livestock farming land", _NEW, _A,
        "NNP", "#E6E682"),
    _lu("LMU", "Đất làm muối", "Salt-making land", _ALL, _A, "NNP", "#FFFFFE"),
    _lu("NKH", "Đất nông nghiệp khác", "Other agricultural land", _ALL, _A, "NNP", "#F5FFB4"),
    # ---- Nhóm đất phi nông nghiệp / non-agricultural land ---------------------------------
    _lu("PNN", "Nhóm đất phi nông nghiệp", "Non-agricultural land", _ALL, _N, None, "#FFC8C8",
        True),
    _lu("OTC", "Đất ở", "Residential land", _ALL, _N, "PNN", "#FFB4FF", True),
    _lu("ONT", "Đất ở tại nông thôn", "Rural residential land", _ALL, _N, "OTC", "#FFD0FF"),
    _lu("ODT", "Đất ở tại đô thị", "Urban residential land", _ALL, _N, "OTC", "#FFA0FF"),
    _lu("CDG", "Đất chuyên dùng", "Special-use land", _OLD, _N, "PNN", "#FFA0AA", True),
    _lu("TSC", "Đất xây dựng trụ sở cơ quan", "Government office land", _ALL, _N, "PNN",
        _PUBLIC_PINK),
    _lu("CQP", "Đất quốc phòng", "Defence land", _ALL, _N, "PNN", "#FF6450"),
    _lu("CAN", "Đất an ninh", "Security land", _ALL, _N, "PNN", "#FF5046"),
    _lu("DSN", "Đất xây dựng công trình sự nghiệp", "Land for public-service facilities", _ALL,
        _N, "PNN", _PUBLIC_PINK, True),
    _lu("DTS", "Đất xây dựng trụ sở của tổ chức sự nghiệp",
        "Land for offices of public-service organisations", _OLD, _N, "DSN", _PUBLIC_PINK),
    _lu("DVH", "Đất xây dựng cơ sở văn hóa", "Cultural facility land", _ALL, _N, "DSN",
        _PUBLIC_PINK),
    _lu("DXH", "Đất xây dựng cơ sở xã hội", "Social-service facility land", _ALL, _N, "DSN",
        _PUBLIC_PINK),
    _lu("DYT", "Đất xây dựng cơ sở y tế", "Health facility land", _ALL, _N, "DSN",
        _PUBLIC_PINK),
    _lu("DGD", "Đất xây dựng cơ sở giáo dục và đào tạo", "Education and training land", _ALL,
        _N, "DSN", _PUBLIC_PINK),
    _lu("DTT", "Đất xây dựng cơ sở thể dục, thể thao", "Sports facility land", _ALL, _N, "DSN",
        _PUBLIC_PINK),
    _lu("DKH", "Đất xây dựng cơ sở khoa học và công nghệ",
        "Science and technology facility land", _ALL, _N, "DSN", _PUBLIC_PINK),
    _lu("DMT", "Đất xây dựng cơ sở môi trường", "Environmental facility land", _NEW, _N, "DSN",
        _PUBLIC_PINK),
    _lu("DKT", "Đất xây dựng cơ sở khí tượng thủy văn", "Hydro-meteorological facility land",
        _NEW, _N, "DSN", _PUBLIC_PINK),
    _lu("DNG", "Đất xây dựng cơ sở ngoại giao", "Diplomatic facility land", _ALL, _N, "DSN",
        _PUBLIC_PINK),
    _lu("DSK", "Đất xây dựng công trình sự nghiệp khác", "Other public-service facility land",
        _ALL, _N, "DSN", _PUBLIC_PINK),
    _lu("CSK", "Đất sản xuất, kinh doanh phi nông nghiệp",
        "Non-agricultural production and business land", _ALL, _N, "PNN", _PRODUCTION, True),
    _lu("SKK", "Đất khu công nghiệp", "Industrial park land", _ALL, _N, "CSK", _PRODUCTION),
    _lu("SKN", "Đất cụm công nghiệp", "Industrial cluster land", _ALL, _N, "CSK", _PRODUCTION),
    _lu("SKT", "Đất khu chế xuất", "Export processing zone land", _OLD, _N, "CSK",
        _PRODUCTION),
    _lu("TMD", "Đất thương mại, dịch vụ", "Commercial and service land", _ALL, _N, "CSK",
        _PRODUCTION),
    _lu("SKC", "Đất cơ sở sản xuất phi nông nghiệp", "Non-agricultural production facility land",
        _ALL, _N, "CSK", _PRODUCTION),
    _lu("SKS", "Đất sử dụng cho hoạt động khoáng sản", "Mining land", _ALL, _N, "CSK", _WASTE),
    _lu("SKX", "Đất sản xuất vật liệu xây dựng, làm đồ gốm",
        "Land for building materials and pottery production", _OLD, _N, "CSK", _WASTE),
    _lu("CCC", "Đất sử dụng vào mục đích công cộng", "Public-purpose land", _ALL, _N, "PNN",
        _PUBLIC_PINK, True),
    _lu("DGT", "Đất công trình giao thông", "Transport land", _ALL, _N, "CCC", "#FFAA32"),
    _lu("DTL", "Đất công trình thủy lợi", "Irrigation and water-control land", _ALL, _N, "CCC",
        "#AAFFFF"),
    _lu("DCT", "Đất công trình cấp nước, thoát nước", "Water supply and drainage works land",
        _NEW, _N, "CCC", "#AAFFFF"),
    _lu("DPC", "Đất công trình phòng, chống thiên tai", "Disaster prevention works land", _NEW,
        _N, "CCC", "#AAFFFF"),
    _lu("DDD", "Đất có di tích lịch sử - văn hóa, danh lam thắng cảnh, di sản thiên nhiên",
        "Historical-cultural relic, scenic spot and natural heritage land", _NEW, _N, "CCC",
        _PUBLIC_PINK),
    _lu("DDT", "Đất có di tích lịch sử - văn hóa", "Historical-cultural relic land", _OLD, _N,
        "CCC", _PUBLIC_PINK),
    _lu("DDL", "Đất danh lam thắng cảnh", "Scenic spot land", _OLD, _N, "CCC", _PUBLIC_PINK),
    _lu("DSH", "Đất sinh hoạt cộng đồng", "Community activity land", _OLD, _N, "CCC",
        _PUBLIC_PINK),
    _lu("DKV", "Đất khu vui chơi, giải trí công cộng, sinh hoạt cộng đồng",
        "Public recreation and community activity land", _ALL, _N, "CCC", _PUBLIC_PINK),
    _lu("DNL", "Đất công trình năng lượng, chiếu sáng công cộng",
        "Energy and public lighting works land", _ALL, _N, "CCC", _PUBLIC_PINK),
    _lu("DBV", "Đất công trình hạ tầng bưu chính, viễn thông, công nghệ thông tin",
        "Postal, telecommunication and IT infrastructure land", _ALL, _N, "CCC", _PUBLIC_PINK),
    _lu("DRA", "Đất công trình xử lý chất thải", "Waste treatment land", _ALL, _N, "CCC",
        _WASTE),
    _lu("DCH", "Đất chợ dân sinh, chợ đầu mối", "Market land", _ALL, _N, "CCC", _PUBLIC_PINK),
    _lu("DCK", "Đất công trình công cộng khác", "Other public works land", _OLD, _N, "CCC",
        _PUBLIC_PINK),
    _lu("TON", "Đất tôn giáo", "Religious land", _ALL, _N, "PNN", _PUBLIC_PINK),
    _lu("TIN", "Đất tín ngưỡng", "Land of belief establishments", _ALL, _N, "PNN",
        _PUBLIC_PINK),
    _lu("NTD", "Đất nghĩa trang, nhà tang lễ, cơ sở hỏa táng; đất cơ sở lưu giữ tro cốt",
        "Cemetery, funeral home, crematorium and columbarium land", _ALL, _N, "PNN", "#D2D2D2"),
    _lu("SON", "Đất sông, ngòi, kênh, rạch, suối", "Rivers, canals and streams", _ALL, _N,
        "PNN", "#A0FFFF"),
    _lu("MNC", "Đất có mặt nước chuyên dùng", "Special-use water surface land", _ALL, _N, "PNN",
        "#B4FFFF"),
    _lu("PNK", "Đất phi nông nghiệp khác", "Other non-agricultural land", _ALL, _N, "PNN",
        _PUBLIC_PINK),
    # ---- Nhóm đất chưa sử dụng / unused land ------------------------------------------------
    _lu("CSD", "Nhóm đất chưa sử dụng", "Unused land", _ALL, _U, None, "#FFFFFE", True),
    _lu("BCS", "Đất bằng chưa sử dụng", "Unused flat land", _ALL, _U, "CSD", "#FFFFFE"),
    _lu("DCS", "Đất đồi núi chưa sử dụng", "Unused hilly land", _ALL, _U, "CSD", "#FFFFFE"),
    _lu("NCS", "Núi đá không có rừng cây", "Rocky mountain without forest", _ALL, _U, "CSD",
        "#E6E6C8"),
]
# Notes on versions. Codes of the older Circular 08/2007 (LNC, LNQ, COC, TSL, TSN, ...) are not
# listed: data in them must be mapped explicitly. SXN and CDG were summary rows of 2014/2018 only;
# the 2024 list splits public works further (DCT, DPC, DDD replaces DDT + DDL, DKV absorbs DSH),
# adds CNT, DMT and DKT, and no longer has SKT, SKX, DTS, DCK, LUN, BHK, NHK or the forest
# sub-rows (rừng tự nhiên / rừng trồng).

LAND_USE = CodeList(
    "land_use", "Mã loại đất", "Land-use type code", _LAND_USE_ENTRIES,
    versions=LAND_USE_VERSIONS, multi_separators="+,;",
)

WARD_TYPES = CodeList("ward_type", "Loại đơn vị hành chính cấp xã",
                      "Commune-level unit type", [
                          CodeEntry("phuong", "Phường", "Ward", aliases=("P", "P.")),
                          CodeEntry("xa", "Xã", "Commune", aliases=("X", "X.")),
                          CodeEntry("dac_khu", "Đặc khu", "Special administrative zone",
                                    aliases=("special zone",)),
                      ])

PLAN_LEVELS = CodeList("plan_level", "Cấp độ quy hoạch xây dựng", "Construction plan level", [
    CodeEntry("chung", "Quy hoạch chung", "General plan",
              aliases=("QHC", "QH chung", "1/10000", "1/25000")),
    CodeEntry("phan_khu", "Quy hoạch phân khu", "Zoning plan",
              aliases=("QHPK", "QH phân khu", "1/2000", "1/5000")),
    CodeEntry("chi_tiet", "Quy hoạch chi tiết", "Detailed plan",
              aliases=("QHCT", "QH chi tiết", "1/500")),
])

# Flood depth classes of the modelled flood maps (project convention, not a legal scale).
FLOOD_DEPTH_CLASSES = CodeList("flood_depth_class", "Cấp độ sâu ngập", "Flood depth class", [
    CodeEntry("D1", "Ngập dưới 0,3 m", "Depth below 0.3 m", color="#C6DBEF"),
    CodeEntry("D2", "Ngập từ 0,3 m đến 0,5 m", "Depth 0.3-0.5 m", color="#9ECAE1"),
    CodeEntry("D3", "Ngập từ 0,5 m đến 1,0 m", "Depth 0.5-1.0 m", color="#6BAED6"),
    CodeEntry("D4", "Ngập từ 1,0 m đến 2,0 m", "Depth 1.0-2.0 m", color="#3182BD"),
    CodeEntry("D5", "Ngập trên 2,0 m", "Depth above 2.0 m", color="#08519C"),
])

CODELISTS: dict[str, CodeList] = {
    cl.name: cl for cl in (LAND_USE, WARD_TYPES, PLAN_LEVELS, FLOOD_DEPTH_CLASSES)
}


def get_codelist(codelist: str | CodeList) -> CodeList:
    if isinstance(codelist, CodeList):
        return codelist
    try:
        return CODELISTS[codelist]
    except KeyError:
        raise KeyError(f"unknown code list {codelist!r}; known: {', '.join(CODELISTS)}") \
            from None


def lookup(codelist: str | CodeList, code: Any) -> CodeEntry | None:
    """The entry of ``code`` in a code list (case-insensitive, whitespace-stripped), or None."""
    return get_codelist(codelist).lookup(code)


def validate(codelist: str | CodeList, values: Iterable[Any]) -> ValidationResult:
    """Validate a sequence of values against a code list.

    Returns ``(codes, versions, invalid)``: the normalised code per value (None if empty or
    invalid), the code-list version per value (the newest version that has the code, e.g.
    "TT08/2024" for LUC, "TT27/2018" for BHK; None if empty or invalid), and the distinct
    invalid values as given. A pandas Series in gives Series (same index) out, else lists.
    """
    return get_codelist(codelist).validate(values)
