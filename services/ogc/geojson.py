"""GeoJSON made by PostGIS: one statement returns a page's features as one JSON text.

Python never builds geometry objects here: it only wraps the text PostGIS produced in the
FeatureCollection envelope (links, numberReturned, ...).
"""

from __future__ import annotations

from psycopg import sql

from services.catalog import Column
from services.ogc.crs import ServedCRS
from services.ogc.query import SQLQuery, page_cte

MAX_PAIRS = 50  # json_build_object takes at most 100 arguments


def properties_sql(columns: dict[str, Column], prefix: str = "") -> sql.Composable:
    if not columns:
        return sql.SQL("'{}'::text")
    names = list(columns)
    chunks = []
    for i in range(0, len(names), MAX_PAIRS):
        args = []
        for n in names[i:i + MAX_PAIRS]:
            args += [sql.Literal(n), sql.Identifier(n) if not prefix else
                     sql.Identifier(prefix, n)]
        chunks.append(sql.SQL("json_build_object({})").format(sql.SQL(", ").join(args)))
    if len(chunks) == 1:
        return sql.SQL("{}::text").format(chunks[0])
    return sql.SQL("({})::text").format(sql.SQL(" || ").join(
        sql.SQL("{}::jsonb").format(c) for c in chunks))


def feature_sql(columns: dict[str, Column], crs: ServedCRS) -> sql.Composable:
    """Text of one GeoJSON Feature from a row having fid, the columns and geom (SRID 4326)."""
    return sql.SQL(
        "'{{\"type\":\"Feature\",\"id\":' || fid || ',\"geometry\":' || "
        "ST_AsGeoJSON({geom}, {dec}) || ',\"properties\":' || {props} || '}}'").format(
        geom=crs.output(sql.SQL("geom")), dec=sql.Literal(crs.decimals),
        props=properties_sql(columns))


def page_sql(s: SQLQuery, cursor: list | None, crs: ServedCRS) -> sql.Composable:
    """One row: n (features returned), features (the comma-joined features as JSON text),
    last (key of the last row as JSON text, for the next link)."""
    keys = [sql.Identifier(f"_k{i}") for i in range(len(s.order))] + [sql.SQL("fid")]
    return sql.SQL(
        "WITH page AS ({cte}) SELECT count(*)::int AS n, "
        "coalesce(string_agg({feature}, ',' ORDER BY {order}), '') AS features, "
        "(array_agg(json_build_array({keys})::text ORDER BY {rev}))[1] AS last FROM page"
    ).format(cte=page_cte(s, True, cursor), feature=feature_sql(s.columns, crs),
             order=s.order_sql(alias=True), keys=sql.SQL(", ").join(keys),
             rev=s.order_sql(alias=True, reverse=True))


def one_feature_sql(s: SQLQuery, fid: int, crs: ServedCRS, token: sql.Composable
                    ) -> sql.Composable:
    """The feature (GeoJSON text) and its content token (``gis.edits.token_sql``)."""
    return sql.SQL("SELECT {feature} AS feature, {token} AS token FROM {table} WHERE "
                   "fid = {fid}").format(feature=feature_sql(s.columns, crs), token=token,
                                         table=s.table, fid=s.param(fid, "bigint"))
