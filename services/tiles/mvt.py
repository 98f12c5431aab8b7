"""Mapbox Vector Tiles made by PostGIS, one SQL round trip a tile, and the on-disk tile cache.

A tile of one or more layers is one statement: the tile envelope is computed once (CTE), each
layer's rows are found through the GiST index on the WGS 84 geometry (``geom && envelope`` in
4326; for points widened by the MVT buffer), read in Web Mercator from the version table's
stored copy, clipped and snapped by ``ST_AsMVTGeom`` and encoded by ``ST_AsMVT``; the layers'
MVT blobs are concatenated (a vector tile is a sequence of layer messages). Python only passes
bytes on: the statement's text is made once per layers and zoom and runs on the asyncpg page
connections.

Below a layer's ``tiles.full_zoom`` a tile is an overview whose cost is bounded whatever the
number of features (``gis.layerdef.vector.TileOptions``): the rows are chosen by their bounding
boxes alone (at least ``min_size`` pixels, the ``max_features`` largest) before any geometry
work, read through a partial index holding only the features that big (``gis.overview``).

Which attributes a tile carries is ``tiles.fields`` of the layer definition (all fields when
unset) intersected with what the caller may see (``services.access.visible_columns``): personal
fields are never in a tile for the public. ``fid`` is the feature id, never an attribute.

Each layer is read from its *version table* (``data."<id>__v<N>"``) named by the catalog, not
from the view, so a tile's bytes always belong to the versions its ETag and cache key name.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis import overview
from gis.layerdef import VectorLayerDef
from gis.layerdef.vector import TileOptions
from gis.naming import version_table
from gis.settings import get_settings
from services.access import Principal, visible_columns
from services.catalog import LayerInfo
from services.tiles.labels import label_points

log = logging.getLogger(__name__)
EXTENT = 4096  # MVT grid units per tile side
BUFFER = 64  # grid units drawn beyond the tile edge (strokes and circles across edges)
MVT = "application/vnd.mapbox-vector-tile"
WORLD_M = overview.WORLD_M
SIMPLIFY_BELOW = 14  # zooms below this pre-simplify lines and polygons to one grid unit


class TileSettings(BaseSettings):
    """Tile settings (environment variables, documented in the README)."""

    model_config = SettingsConfigDict(env_prefix="SPP_", extra="ignore")

    tile_cache: bool = False  # SPP_TILE_CACHE: keep public tiles in $SPP_DATA_DIR/tiles
    tile_max_age: int = 60  # SPP_TILE_MAX_AGE: Cache-Control max-age of tiles, seconds
    # SPP_TILE_STORED_MERCATOR=0: transform every feature to Web Mercator per tile instead of
    # reading the version table's stored copy (the peer servers' work; for benchmarks)
    tile_stored_mercator: bool = True
    # SPP_GLYPHS_URL: font glyphs of the MapLibre styles (labels). Unset: this server's
    # /fonts/{fontstack}/{range}.pbf (made from a Debian font; nothing fetched from outside).
    glyphs_url: str | None = None


@functools.cache
def tile_settings() -> TileSettings:
    """The tile settings, read once a process (reading the environment costs about as much as
    rendering a small tile)."""
    return TileSettings()


@dataclass(frozen=True)
class TileLayer:
    """One layer of a tile as this caller may see it."""

    layer: LayerInfo
    fields: tuple[str, ...]

    @property
    def key(self) -> tuple:
        lyr = self.layer
        return (lyr.id, lyr.current_version, lyr.definition_sha, self.fields)


def tile_fields(who: Principal, layer: LayerInfo) -> tuple[str, ...]:
    """Attributes of the layer's tiles for this caller, in schema order."""
    visible = visible_columns(who, layer)
    wanted = layer.definition.tiles.fields
    if wanted is None:
        return tuple(n for n, c in visible.items() if not n.endswith("_codelist"))
    return tuple(n for n in wanted if n in visible)


def tile_layer(who: Principal, layer: LayerInfo) -> TileLayer:
    return TileLayer(layer, tile_fields(who, layer))


def is_vector(layer: LayerInfo) -> bool:
    """Vector layers make vector tiles; raster layers (``kind: raster``) do not."""
    return isinstance(layer.definition, VectorLayerDef)


def in_zoom(layer: LayerInfo, z: int) -> bool:
    t = layer.definition.tiles
    return t.min_zoom <= z <= t.max_zoom


def _layer_sql(t: TileLayer, z: int, stored: bool) -> sql.Composable:
    lyr = t.layer
    opts = lyr.definition.tiles
    cols = []
    for name in t.fields:
        ident = sql.Identifier(name)
        if lyr.columns[name].type in ("date", "datetime"):
            cols.append(sql.SQL("d.{0}::text AS {0}").format(ident))
        else:
            cols.append(sql.SQL("d.{}").format(ident))
    # the loader stores the Web Mercator geometry beside the WGS 84 one: no transform a tile
    geom = sql.SQL("d.geom_3857" if lyr.mercator and stored else "ST_Transform(d.geom, 3857)")
    point = lyr.geometry_type in ("Point", "MultiPoint")
    if z < SIMPLIFY_BELOW and not point:
        # Douglas-Peucker of liblwgeom (half the cost of the GEOS topology-preserving one);
        # ST_AsMVTGeom makes the result valid again
        tolerance = WORLD_M / (1 << z) / EXTENT
        geom = sql.SQL("ST_Simplify({}, {}, true)").format(geom, sql.Literal(tolerance))
    select = sql.SQL(", ").join([sql.SQL("d.fid"), *cols, sql.SQL(
        "ST_AsMVTGeom({}, (SELECT e FROM env), {}, {}, true) AS geom").format(
        geom, sql.Literal(EXTENT), sql.Literal(BUFFER))])
    table = sql.Identifier("data", version_table(lyr.id, lyr.current_version))
    env = sql.Identifier("m4326" if point else "e4326")
    if opts.overview(z):
        rows = sql.SQL("({}) d").format(_overview_rows(table, env, z, opts, point, lyr.mercator))
    else:
        rows = sql.SQL("{} d WHERE d.geom && (SELECT {} FROM env)").format(table, env)
    # no "WHERE geom IS NOT NULL" over ST_AsMVTGeom: PostgreSQL would compute it twice a row
    # (filter and output); ST_AsMVT leaves out the rows whose geometry is NULL by itself
    return sql.SQL(
        "(SELECT coalesce(ST_AsMVT(t, {name}, {extent}, 'geom', 'fid'), ''::bytea) FROM "
        "(SELECT {select} FROM {rows}{labels}) t)").format(
        name=sql.Literal(lyr.id), extent=sql.Literal(EXTENT), select=select, rows=rows,
        labels=label_points(t, z, table, EXTENT, stored))


def _overview_rows(table: sql.Composable, env: sql.Composable, z: int, opts: TileOptions,
                   point: bool, mercator: bool) -> sql.Composable:
    """Rows of an overview tile: lines and polygons at least ``min_size`` pixels wide or high,
    the ``max_features`` largest (points: the first by id), chosen by their Web Mercator
    bounding boxes alone (``gis.overview``). With the stored Web Mercator copy the size test is
    the text of the version table's partial index of this zoom, so PostgreSQL reads only the
    features big enough (a table without that index reads them all and filters)."""
    limit = sql.Literal(opts.max_features)
    if point:
        return sql.SQL("SELECT * FROM {} d WHERE d.geom && (SELECT {} FROM env) "
                       "ORDER BY d.fid LIMIT {}").format(table, env, limit)
    if mercator:
        box, keep, outer = overview.stored_box(), overview.big_enough(
            opts, z, overview.stored_box()), sql.SQL("")
    else:  # no stored copy, no index: transformed once a row, then filtered
        box, keep = sql.SQL("Box2D(ST_Transform(d.geom, 3857))"), sql.SQL("true")
        outer = sql.SQL("WHERE {} ").format(overview.big_enough(opts, z, sql.SQL("b")))
    # the box read once a row (OFFSET 0: the subquery is not merged into the outer one, which
    # would compute it once per use); fid breaks ties of size, so which of equal features
    # make the budget does not depend on the plan (partial index or not)
    return sql.SQL(
        "SELECT * FROM (SELECT d.*, {box} AS b FROM {table} d "
        "WHERE d.geom && (SELECT {env} FROM env) AND {keep} OFFSET 0) d {outer}"
        "ORDER BY greatest(ST_XMax(b) - ST_XMin(b), ST_YMax(b) - ST_YMin(b)) DESC, d.fid "
        "LIMIT {limit}").format(box=box, table=table, env=env, keep=keep, outer=outer,
                                limit=limit)


def tile_query(layers: list[TileLayer], z: int, stored: bool = True) -> sql.Composed:
    """One statement for the tile z/x/y (parameters ``z``, ``x``, ``y``) of these layers.

    Points are looked up in the envelope widened by the MVT buffer (a circle or label near the
    edge is drawn from both tiles); lines and polygons in the tile itself (one crossing the
    edge is in both tiles anyway, clipped to the buffer). ``stored``: read the Web Mercator
    copy of the version table where there is one (False: transform every feature, as a
    server without that copy does; SPP_TILE_STORED_MERCATOR=0, for benchmarks)."""
    margin = BUFFER / EXTENT
    parts = sql.SQL(" || ").join(_layer_sql(t, z, stored) for t in layers)
    return sql.SQL(
        "WITH env AS (SELECT e, ST_Transform(e, 4326) AS e4326, "
        "ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {}), 4326) AS m4326 "
        "FROM ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS e) "
        "SELECT {} AS mvt").format(sql.Literal(margin), parts)


_SQL_TEXT: dict[tuple, str] = {}  # tile statements made, by layers, zoom and path


def tile_sql(layers: list[TileLayer], z: int, stored: bool = True) -> str:
    """``tile_query`` as text with positional parameters ($1 z, $2 x, $3 y), made once per
    layers (versions, definitions, fields), zoom and path: composing it costs more than a
    small tile's query."""
    key = (tuple((t.key, t.layer.mercator, t.layer.labelled, t.layer.geometry_type)
                 for t in layers), z, stored)
    text = _SQL_TEXT.get(key)
    if text is None:
        if len(_SQL_TEXT) >= 4096:  # versions come and go: old statements are dropped
            _SQL_TEXT.clear()
        text = tile_query(layers, z, stored).as_string(None)
        for i, name in enumerate("zxy", 1):
            text = text.replace(f"%({name})s", f"${i}")
        _SQL_TEXT[key] = text
    return text


async def render(pages, layers: list[TileLayer], z: int, x: int, y: int,
                 stored: bool = True) -> bytes:
    """The tile's bytes, through the page connections (``services.pages``: asyncpg, whose
    statement cache prepares each tile statement once a connection)."""
    row = await pages.fetchrow(tile_sql(layers, z, stored), [z, x, y])
    return bytes(row[0] or b"") if row is not None else b""


def scope_key(layers: list[TileLayer]) -> str:
    """What a tile's bytes depend on besides z/x/y: layers, versions, definitions, fields."""
    text = "\x1f".join(repr(t.key) for t in layers)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class DiskCache:
    remote = False
    """Public tiles under ``$SPP_DATA_DIR/tiles/<scope>/<z>/<x>/<y>.mvt``.

    The scope key names every layer's version and definition and the fields served, so a new
    load or a changed definition writes under a new folder and old tiles are never served.
    Only tiles of the public's scope are kept (shared by everybody who may see more).
    """

    def __init__(self, root: Path):
        self.root = root

    def path(self, scope: str, z: int, x: int, y: int) -> Path:
        return self.root / scope / str(z) / str(x) / f"{y}.mvt"

    def get(self, scope: str, z: int, x: int, y: int) -> bytes | None:
        from services.telemetry import TILE_CACHE

        try:
            data = self.path(scope, z, x, y).read_bytes()
        except OSError:
            TILE_CACHE.labels("miss").inc()
            return None
        TILE_CACHE.labels("hit").inc()
        return data

    def put(self, scope: str, z: int, x: int, y: int, data: bytes) -> None:
        path = self.path(scope, z, x, y)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # atomic: readers see the whole tile or none
        except OSError:
            pass  # a full or read-only disk only costs the cache


class ObjectTileCache:
    """The same cache in S3-compatible object storage, shared by every machine; its look-ups
    are network calls, so the tile route makes them off the event loop (``remote``)."""

    remote = True
    PAUSE_S = 30.0  # after a failed call the cache is skipped this long: the store may be away
    _paused_until = 0.0

    def __init__(self, objects):
        self.objects = objects

    def _failed(self, what: str, exc: Exception) -> None:
        log.warning("tile cache %s failed, cache skipped for %g s: %s", what, self.PAUSE_S, exc)
        ObjectTileCache._paused_until = time.monotonic() + self.PAUSE_S

    def get(self, scope: str, z: int, x: int, y: int) -> bytes | None:
        from services.telemetry import TILE_CACHE

        data = None
        if time.monotonic() >= self._paused_until:
            try:
                data = self.objects.get_bytes(f"tiles/{scope}/{z}/{x}/{y}.mvt")
            except Exception as exc:  # the store away only costs the cache
                self._failed("read", exc)
        TILE_CACHE.labels("hit" if data is not None else "miss").inc()
        return data

    def put(self, scope: str, z: int, x: int, y: int, data: bytes) -> None:
        if time.monotonic() < self._paused_until:
            return
        try:
            self.objects.put_bytes(f"tiles/{scope}/{z}/{x}/{y}.mvt", data)
        except Exception as exc:
            self._failed("write", exc)


@functools.cache
def disk_cache() -> DiskCache | ObjectTileCache | None:
    """The tile cache of this process (None: off), made once."""
    if not tile_settings().tile_cache:
        return None
    from gis.objectstore import cache_store

    objects = cache_store()
    return ObjectTileCache(objects) if objects else DiskCache(get_settings().data_dir / "tiles")
