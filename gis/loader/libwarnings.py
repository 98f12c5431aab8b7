"""Library warnings (GDAL through pyogrio, pandas, pyproj) caught during a load and turned
into one line each for the summary, in Vietnamese and English, never a raw Python warning.

GDAL repeats a warning for every open and read of a file; the summary shows each distinct
message once, with how often it came.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

_KNOWN: list[tuple[re.Pattern, str, str]] = [
    (re.compile(r"Cannot find iconv encoding corresponding to MapInfo (\S+) charset"),
     "GDAL không biết bảng mã MapInfo {0}: văn bản được đọc nguyên byte, bảng mã do bộ "
     "nhận dạng tiếng Việt quyết định (xem dòng 'text')",
     "GDAL does not know the MapInfo charset {0}: text read byte for byte, its encoding "
     "decided by the Vietnamese text detection (see the 'text' rows)"),
    (re.compile(r"Cannot find MapInfo charset corresponding to iconv (\S+) encoding"),
     "GDAL không có bảng mã MapInfo tương ứng với {0}",
     "GDAL has no MapInfo charset for the encoding {0}"),
    (re.compile(r"One or several characters couldn't be converted correctly from (\S+) to "
                r"(\S+)"),
     "GDAL không đổi được một số ký tự từ {0} sang {1}; bảng mã do bộ nhận dạng tiếng Việt "
     "quyết định",
     "GDAL could not convert some characters from {0} to {1}; the text detection decides the "
     "encoding"),
    (re.compile(r"Measured \(M\) geometry types are not supported"),
     "Tọa độ M (số đo) bị bỏ qua", "Measure (M) coordinates were dropped"),
    (re.compile(r"organizePolygons\(\)"),
     "GDAL đã tự sắp xếp lại vòng của đa giác (vòng trong/ngoài không đúng thứ tự)",
     "GDAL re-organised polygon rings (inner/outer rings out of order)"),
]


@dataclass
class LibraryWarnings:
    counts: Counter = field(default_factory=Counter)  # (library, message) -> times

    def add(self, library: str, message: str) -> None:
        self.counts[(library, " ".join(message.split()))] += 1

    def lines(self) -> list[dict]:
        """[{library, vi, en, count, message}], one per distinct message."""
        out = []
        for (library, message), count in self.counts.items():
            vi, en = f"Cảnh báo của {library}: {message}", f"{library} warning: {message}"
            for pattern, vi_t, en_t in _KNOWN:
                m = pattern.search(message)
                if m:
                    vi, en = vi_t.format(*m.groups()), en_t.format(*m.groups())
                    break
            out.append({"library": library, "vi": vi, "en": en, "count": count,
                        "message": message})
        return out


def _library(w: warnings.WarningMessage) -> str:
    where = (w.filename or "").replace("\\", "/")
    for name, label in (("pyogrio", "GDAL"), ("fiona", "GDAL"), ("osgeo", "GDAL"),
                        ("pyproj", "PROJ"), ("shapely", "GEOS"), ("pandas", "pandas"),
                        ("numpy", "numpy")):
        if f"/{name}/" in where:
            return label
    return type(w.message).__name__ if isinstance(w.message, Warning) else "Python"


@contextmanager
def caught(into: LibraryWarnings | None = None) -> Iterator[LibraryWarnings]:
    """Collect every warning raised inside the block instead of printing it."""
    collected = into if into is not None else LibraryWarnings()
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            yield collected
        finally:
            for w in records:
                collected.add(_library(w), str(w.message))
