"""The one tile matrix set served (WebMercatorQuad) and the checks of a tile's address, for
vector tiles (services.tiles.api) and raster map tiles (services.raster.api) alike.

A tile's address is declared once (``TILE_PATH``: integers with their bounds in the OpenAPI
document) and parsed by ``tile_address`` from the route's path: 400 for what is not an
integer, 404 for an address outside the matrix. Vector tile routes also take a ``.pbf`` or
``.mvt`` suffix (``TILE_EXT``): GDAL's MVT driver recognises a tile by it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import morecantile

from services.ogc.errors import InvalidParameter, NotFound
from services.ogc.paramspec import Params, path_integer, path_text

TMS_ID = "WebMercatorQuad"
_INT = re.compile(r"^[0-9]{1,9}$")  # ASCII digits only: '²'.isdigit() is True
EXTENSIONS = ("pbf", "mvt")


@lru_cache(maxsize=1)
def tms() -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TMS_ID)


def max_zoom() -> int:
    return len(tms().tileMatrices) - 1


_TOP = max_zoom()
TILE_PATH = Params(
    path_integer("z", f"tileMatrix: the zoom level of {TMS_ID}", 0, _TOP),
    path_integer("y", "tileRow: the row, from the north (0 .. 2^z - 1)", 0, (1 << _TOP) - 1),
    path_integer("x", "tileCol: the column, from the west (0 .. 2^z - 1)", 0,
                 (1 << _TOP) - 1))
TILE_EXT = Params(path_text("ext", "File extension of the tile (GDAL's MVT driver and other "
                                   "clients that name tiles like files)", enum=list(EXTENSIONS)))


def check_tms(tms_id: str) -> None:
    if tms_id != TMS_ID:
        raise NotFound(f"no tile matrix set {tms_id!r}; this service offers {TMS_ID}")


def tile_address(path_params: dict) -> tuple[int, int, int]:
    """``z``, ``y``, ``x`` (and ``ext`` when the route has one) of a tile route's path."""
    ext = path_params.get("ext")
    if ext is not None and ext not in EXTENSIONS:
        raise InvalidParameter(f"tileCol {path_params['x']}.{ext}: a tile is named "
                               f"without an extension or with .pbf or .mvt")
    return parse_tile(path_params["z"], path_params["y"], path_params["x"])


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
