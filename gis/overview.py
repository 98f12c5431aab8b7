"""Which features an overview tile may draw: lines and polygons at least ``tiles.min_size``
pixels wide or high at a zoom below ``tiles.full_zoom`` (gis.layerdef.vector.TileOptions).

One SQL condition a zoom, on the bounding box of the stored Web Mercator copy (``geom_3857``):
in Web Mercator a pixel is the same number of metres everywhere on a tile, so the threshold is
a constant of the zoom. The loader makes a partial GiST index with this condition for each
overview zoom (``gis.loader.tables.index_geometry``) and the tile statement carries the very
same text (``services.tiles.mvt``): PostgreSQL uses a partial index only when it can prove the
query implies the index's condition, so an overview tile then reads only the features big
enough to be drawn, whatever the number of small ones. A version without these indexes (loaded
before them, or whose layer file changed the zooms or size since) gets the same rows through
the full index, only slower.
"""

from __future__ import annotations

from psycopg import sql

from gis.layerdef.vector import TileOptions

WORLD_M = 40075016.685578488  # Web Mercator world width, metres
TILE_PX = 512  # MapLibre draws a vector tile 512 px wide


def min_metres(opts: TileOptions, z: int) -> float:
    """``min_size`` pixels of zoom ``z``, in Web Mercator metres."""
    return opts.min_size * WORLD_M / TILE_PX / (1 << z)


def indexed_zooms(opts: TileOptions, geometry: str) -> list[int]:
    """The overview zooms of a layer that get a partial index (none for points, chosen by id,
    nor when every feature is drawn: ``min_size`` 0)."""
    if opts.full_zoom is None or opts.min_size <= 0 or "Point" in geometry:
        return []
    return list(range(opts.min_zoom, opts.full_zoom))


def big_enough(opts: TileOptions, z: int, box: sql.Composable) -> sql.Composable:
    """The condition on ``box`` (a Web Mercator box2d) for zoom ``z``, its threshold inlined.
    Index and tile statement must use the same text: keep them both on this function."""
    m = sql.Literal(min_metres(opts, z))
    return sql.SQL("(ST_XMax({b}) - ST_XMin({b}) >= {m} OR ST_YMax({b}) - ST_YMin({b}) >= {m})"
                   ).format(b=box, m=m)


def stored_box() -> sql.Composable:
    """The box of the stored Web Mercator copy, as the partial indexes name it."""
    return sql.SQL("Box2D(geom_3857)")
