"""Resolve what a user or a file says about the source CRS into a pyproj CRS."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from gis.crs.errors import CRSError
from gis.crs.vn2000 import DEPRECATED, PRESETS, preset_for

_EPSG = re.compile(r"^\s*(?:epsg\s*:\s*)?(\d{4,6})\s*$", re.IGNORECASE)
_HELP = ("Use an EPSG code (e.g. 5897), a preset (vn2000-cantho, vn2000-soctrang, vn2000-utm48, "
         "vn2000-tm3-10530, ...), a .prj file or a WKT/PROJ string.")


@dataclass(frozen=True)
class SourceCRS:
    """A resolved source CRS plus what it was resolved from (kept for the version table)."""

    crs: CRS
    given: str  # what the user passed: "vn2000-soctrang", "EPSG:5897", a path or the text
    text: str | None = None  # raw WKT/PROJ text when the CRS came from text or a .prj file
    epsg: int | None = None  # EPSG code when given as one or identified with full confidence

    @property
    def label(self) -> str:
        """Short human name: preset or EPSG code if known, else the CRS name."""
        preset = preset_for(self.epsg)
        if preset:
            return f"{preset} (EPSG:{self.epsg})"
        return f"EPSG:{self.epsg}" if self.epsg else self.crs.name

    @property
    def suggestion(self) -> str:
        """What to type after --source-crs to get this CRS again."""
        return preset_for(self.epsg) or (f"EPSG:{self.epsg}" if self.epsg else self.given)


def _from_epsg(code: int, given: str) -> SourceCRS:
    if code in DEPRECATED:
        raise CRSError(
            f"EPSG:{code} given as source CRS is deprecated (its false easting and northing are "
            f"swapped). Use --source-crs EPSG:{DEPRECATED[code]} "
            f"({preset_for(DEPRECATED[code])}) instead.")
    try:
        crs = CRS.from_epsg(code)
    except ProjCRSError as exc:
        raise CRSError(f"EPSG:{code} given as source CRS is not in the EPSG database "
                       f"shipped with PROJ. {_HELP}") from exc
    return SourceCRS(crs, given, epsg=code)


def _read_prj(path: Path) -> str:
    if not path.is_file():
        raise CRSError(f"Projection file {path} does not exist. Point --source-crs at the .prj "
                       f"next to the data, or give the CRS directly. {_HELP}")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1258", "latin-1"):  # ArcGIS/MapInfo on Windows: cp1258
        try:
            return raw.decode(encoding).strip()
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")


def _is_file(text: str) -> bool:
    if "[" in text or text.startswith("+") or "\n" in text:  # WKT or PROJ text, not a path
        return False
    try:
        return Path(text).is_file()
    except OSError:
        return False


def _from_text(text: str, given: str) -> SourceCRS:
    try:
        crs = CRS.from_user_input(text)
    except ProjCRSError as exc:
        shown = given if len(given) <= 120 else given[:117] + "..."
        raise CRSError(f"Cannot read a CRS from {shown!r}: {exc}. {_HELP}") from exc
    # Keep the EPSG code only when PROJ is certain, so the version table never claims more.
    return SourceCRS(crs, given, text=text, epsg=crs.to_epsg(min_confidence=100))


def resolve_crs(source: SourceCRS | CRS | int | str | Path) -> SourceCRS:
    """Resolve an EPSG code, a preset name, a .prj path, or WKT/PROJ text (ArcGIS, QGIS,
    MapInfo, MicroStation exports) into a SourceCRS. Raises CRSError naming the input."""
    if isinstance(source, SourceCRS):
        return source
    if isinstance(source, CRS):
        return SourceCRS(source, source.name, text=source.to_wkt(),
                         epsg=source.to_epsg(min_confidence=100))
    if isinstance(source, bool) or source is None:
        raise CRSError(f"Source CRS {source!r} is not a CRS. {_HELP}")
    if isinstance(source, int):
        return _from_epsg(source, f"EPSG:{source}")
    if isinstance(source, Path):
        return _from_text(_read_prj(source), str(source))
    text = str(source).strip()
    if not text:
        raise CRSError(f"Empty source CRS. {_HELP}")
    match = _EPSG.match(text)
    if match:
        return _from_epsg(int(match.group(1)), f"EPSG:{match.group(1)}")
    key = text.lower().replace("_", "-")
    if key in PRESETS:
        code = PRESETS[key]
        return SourceCRS(CRS.from_epsg(code), key, epsg=code)
    if key.endswith(".prj") or _is_file(text):
        return _from_text(_read_prj(Path(text)), text)
    if re.fullmatch(r"[a-z0-9-]+", key):
        close = difflib.get_close_matches(key, PRESETS, n=4, cutoff=0.6)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise CRSError(f"Unknown CRS preset {text!r}.{hint} {_HELP}")
    return _from_text(text, text)
