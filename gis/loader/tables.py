"""A vector version's table in PostGIS: its columns, the merge of the current rows (append,
upsert), its indexes and figures.

Every load writes ``data."<id>__v<N>"`` (gis.naming) inside one transaction and, at its end,
makes it current (gis.versions points the view ``data."<id>"`` at it). Readers keep seeing the
previous version until the commit; an interrupted load (Ctrl-C, kill -9, disk full) rolls back
and leaves nothing half-made.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from gis import labelpoint, overview, sfc
from gis.layerdef import LayerDef

PG_TYPES = {"string": "text", "integer": "bigint", "number": "double precision",
            "boolean": "boolean", "date": "date", "datetime": "timestamptz"}


def data_columns(layer: LayerDef) -> list[tuple[str, str]]:
    """(name, SQL type) of a layer table's columns besides fid and geom, in order."""
    cols = [(f.name, PG_TYPES[f.type]) for f in layer.fields]
    cols += [(f"{f.name}_codelist", "text") for f in layer.fields if f.codelist]
    if layer.plane_area:
        cols += [("area_plane_m2", "double precision"), ("area_geodesic_m2", "double precision")]
    cols += [("extra", "jsonb"), ("source_row", "integer")]
    return cols


def create_version_table(conn: psycopg.Connection, layer: LayerDef, table: str) -> None:
    cols = [sql.SQL("fid bigint NOT NULL")]  # primary key added after the bulk COPY
    cols += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
             for n, t in data_columns(layer)]
    cols.append(sql.SQL("geom geometry({}, 4326) NOT NULL").format(sql.SQL(layer.geometry)))
    # the feature's place on the paging curve under a bbox (gis.sfc), written with each row
    cols.append(sql.SQL("{} bigint NOT NULL").format(sql.Identifier(sfc.COLUMN)))
    if labelpoint.has_column(layer.geometry):  # written with the row (gis.labelpoint)
        cols.append(sql.SQL("{} {}").format(sql.Identifier(labelpoint.COLUMN),
                                            sql.SQL(labelpoint.SQL_TYPE)))
    # Web Mercator copy for vector tiles, kept by PostgreSQL itself (never in COPY or merges)
    cols.append(sql.SQL("geom_3857 geometry({}, 3857) GENERATED ALWAYS AS "
                        "(ST_Transform(geom, 3857)) STORED").format(sql.SQL(layer.geometry)))
    conn.execute(sql.SQL("CREATE TABLE data.{} ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(cols)))


def has_column(conn: psycopg.Connection, relation: str, column: str) -> bool:
    """Whether a version's table (or edit view) has a column: the curve's (gis.sfc) or the
    label point's (gis.labelpoint) are missing from versions made before they existed."""
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(format("
        "'data.%%I', %s::text)) AND attname = %s AND NOT attisdropped) AS ok",
        (relation, column)).fetchone()["ok"]


def curve_source(keep_keys: bool) -> sql.Composable:
    """What a copy of current rows writes in the curve column: their keys, or the bucket when
    their version has none (or no pad saying which features they cover)."""
    return sql.Identifier(sfc.COLUMN) if keep_keys else sql.Literal(sfc.BUCKET)


def merge_current_rows(conn: psycopg.Connection, layer: LayerDef, table: str,
                       current_table: str, mode: str, keep_keys: bool = False) -> None:
    """append: keep every current feature; upsert: those whose key was not re-delivered.
    ``keep_keys``: the current version's curve keys are copied (``curve_source``); label
    points are copied when the current version has them (else tiles compute them)."""
    names = ["fid", *(n for n, _ in data_columns(layer)), "geom"]
    if has_column(conn, current_table, labelpoint.COLUMN):
        names.append(labelpoint.COLUMN)
    cols = sql.SQL(", ").join([*map(sql.Identifier, names), sql.Identifier(sfc.COLUMN)])
    keep = sql.SQL("")
    if mode == "upsert":
        join = sql.SQL(" AND ").join(
            sql.SQL("n.{0} = c.{0}").format(sql.Identifier(k)) for k in layer.natural_key)
        keep = sql.SQL(" WHERE NOT EXISTS (SELECT 1 FROM {} n WHERE {})").format(
            sql.Identifier("data", table), join)
    conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {}, {} FROM {} c{}").format(
        sql.Identifier("data", table), cols,
        sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(n)) for n in names),
        curve_source(keep_keys), sql.Identifier("data", current_table), keep))


def index_keys(conn: psycopg.Connection, layer: LayerDef, table: str,
               unique: bool | None = None) -> None:
    """The primary key and the natural key's index, not unique when the keys were generated
    (codes empty or repeated, see gis.loader.matching); ``unique`` None: unique unless the
    layer allows generated keys and the table repeats a key (a version edited after such a
    load)."""
    ident = sql.Identifier("data", table)
    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(ident))
    if unique is None:
        unique = layer.keys.generated != "allow" or not _repeats_key(conn, layer, table)
    if layer.natural_key:
        conn.execute(sql.SQL("CREATE {}INDEX {} ON {} ({})").format(
            sql.SQL("UNIQUE " if unique else ""),
            sql.Identifier(f"{table}_key"), ident,
            sql.SQL(", ").join(map(sql.Identifier, layer.natural_key))))


def _repeats_key(conn: psycopg.Connection, layer: LayerDef, table: str) -> bool:
    if not layer.natural_key:
        return False
    keys = sql.SQL(", ").join(map(sql.Identifier, layer.natural_key))
    return conn.execute(sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM {} GROUP BY {} HAVING count(*) > 1) AS r").format(
        sql.Identifier("data", table), keys)).fetchone()["r"]


def index_geometry(conn: psycopg.Connection, layer: LayerDef, table: str) -> None:
    ident = sql.Identifier("data", table)
    conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
        sql.Identifier(f"{table}_geom"), ident))
    # overview zooms: only the features big enough to be drawn there (gis.overview), so a
    # low-zoom tile reads what it draws, not every small parcel under it
    for z in _selective_zooms(conn, layer, ident):
        # unnamed: PostgreSQL makes unique names however long the table's
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom) WHERE {}").format(
            ident, overview.big_enough(layer.tiles, z, overview.stored_box())))
    # a bbox page: ranges of the curve read in (key, fid) order (services.ogc.query)
    conn.execute(sql.SQL("CREATE INDEX {} ON {} ({}, fid)").format(
        sql.Identifier(f"{table}_sfc"), ident, sql.Identifier(sfc.COLUMN)))
    conn.execute(sql.SQL("ANALYZE {}").format(ident))


def _selective_zooms(conn: psycopg.Connection, layer: LayerDef,
                     ident: sql.Composable) -> list[int]:
    """The overview zooms whose partial index would leave out at least half of the features:
    where most features are big enough to be drawn, the full index reads about as much and
    building a second one would only lengthen the load (one scan counts them all)."""
    zooms = overview.indexed_zooms(layer.tiles, layer.geometry)
    if not zooms:
        return []
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE {}) AS {}").format(
            overview.big_enough(layer.tiles, z, overview.stored_box()),
            sql.Identifier(f"z{z}")) for z in zooms)
    row = conn.execute(sql.SQL("SELECT count(*) AS n, {} FROM {}").format(
        counts, ident)).fetchone()
    return [z for z in zooms if row[f"z{z}"] * 2 <= row["n"]]


def curve_sample(conn: psycopg.Connection, table: str, count: int) -> tuple[list[int], int]:
    """Every ``every``-th curve key of the table's keyed features in key order, and
    ``every``: what the server estimates the matches of a bbox from (``gis.sfc.estimate``).
    ``count``: the table's features (``table_stats``; the few in the bucket included)."""
    ident = sql.Identifier("data", table)
    every = sfc.sample_every(count)
    row = conn.execute(sql.SQL(
        "SELECT coalesce(array_agg(k ORDER BY k), '{{}}') AS keys FROM (SELECT {0} AS k, "
        "row_number() OVER (ORDER BY {0}) AS i FROM {1} WHERE {0} >= 0) s "
        "WHERE i %% %s = 0").format(sql.Identifier(sfc.COLUMN), ident), (every,)).fetchone()
    return row["keys"], every


def table_stats(conn: psycopg.Connection, table: str) -> tuple[int, list[float] | None]:
    row = conn.execute(sql.SQL(
        "SELECT n, ST_XMin(e) AS x0, ST_YMin(e) AS y0, ST_XMax(e) AS x1, ST_YMax(e) AS y1 "
        "FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM {}) s").format(
        sql.Identifier("data", table))).fetchone()
    if not row["n"]:
        return 0, None
    return row["n"], [row["x0"], row["y0"], row["x1"], row["y1"]]
