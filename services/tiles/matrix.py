"""The one tile matrix set served (WebMercatorQuad) and the checks of a tile's address, for
vector tiles (services.tiles.api) and raster map tiles (services.raster.api) alike."""

from __future__ import annotations

import re
from functools import lru_cache

import morecantile

from services.ogc.errors import InvalidParameter, NotFound

TMS_ID = "WebMercatorQuad"
_INT = re.compile(r"^[0-9]{1,9}$")  # ASCII digits only: '²'.isdigit() is True


@lru_cache(maxsize=1)
def tms() -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TMS_ID)


def max_zoom() -> int:
    return len(tms().tileMatrices) - 1


def check_tms(tms_id: str) -> None:
    if tms_id != TMS_ID:
        raise NotFound(f"no tile matrix set {tms_id!r}; this service offers {TMS_ID}")


def parse_tile(z: str, y: str, x: str) -> tuple[int, int, int]:
    """``{tileMatrix}/{tileRow}/{tileCol}`` as integers: 400 when not one, 404 outside."""
    for name, value in (("tileMatrix", z), ("tileRow", y), ("tileCol", x)):
        if not _INT.match(value):
            raise InvalidParameter(f"{name} must be a non-negative integer, not {value!r}")
    zi, yi, xi = int(z), int(y), int(x)
    if zi > max_zoom():
        raise NotFound(f"tileMatrix {zi} is not in {TMS_ID} (0..{max_zoom()})")
    if xi >= 1 << zi or yi >= 1 << zi:
        raise NotFound(f"tile {zi}/{yi}/{xi} is outside tile matrix {zi} of {TMS_ID} "
                       f"(rows and columns 0..{(1 << zi) - 1})")
    return zi, yi, xi
