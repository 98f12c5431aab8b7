"""Segments merged into one feature a code (``keys.merge_segments_by``), in the version table
inside the load transaction: a road delivered as one row a segment, every segment carrying the
road's code, becomes one MultiLineString (PostGIS ST_LineMerge, so touching segments join).

Fields in ``keys.merge_sum`` are added up; every other field takes the value most segments
carry, and a road whose segments disagree is reported (the field, how many roads, some codes)
with each segment's value kept in the feature's unpublished ``extra.segment_values`` (and
unmapped source fields that differ in ``extra.segment_extra``): nothing delivered is dropped.
Lists go in the order of the segments' geometries, not of the rows, so the same road delivered
in another row order is the same feature. Segments with an empty code are left as they are."""

from __future__ import annotations

from psycopg import sql

from gis import sfc
from gis.layerdef import LayerDef
from gis.loader import tables

EXAMPLES = 5  # codes named a disagreeing field in the summary


def merge(conn, layer: LayerDef, table: str) -> dict:
    """Merge the segments of ``data.table``; {segments, features, disagree: {field: {roads,
    examples}}} of the codes on more than one row."""
    by = layer.keys.merge_segments_by
    summed = set(layer.keys.merge_sum)
    t = sql.Identifier("data", table)
    ident = {n: sql.Identifier(n) for n, _ in tables.data_columns(layer)}
    keyed = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(ident[k]) for k in by)
    group = sql.SQL(", ").join(ident[k] for k in by)
    compared = [f.name for f in layer.fields if f.name not in by and f.name not in summed]

    picks: list[sql.Composable] = []
    for name, _ in tables.data_columns(layer):
        col = ident[name]
        if name in by:
            picks.append(col)
        elif name in summed or name.startswith("area_"):
            picks.append(sql.SQL("sum({0}) AS {0}").format(col))
        elif name == "source_row":
            picks.append(sql.SQL("min(source_row) AS source_row"))
        elif name == "extra":
            # unpublished source fields: shared ones as they are, else every segment's
            picks.append(sql.SQL(
                "CASE WHEN count(DISTINCT extra) > 1 THEN jsonb_build_object('segment_extra', "
                "jsonb_agg(extra ORDER BY geom, source_row)) ELSE (array_agg(extra ORDER BY "
                "geom, source_row))[1] END AS extra"))
        else:  # the most common value; ties go to the first in sort order (deterministic)
            picks.append(sql.SQL("mode() WITHIN GROUP (ORDER BY {0}) AS {0}").format(col))
    # one {field: [value a segment]} entry a disagreeing field
    disagree = [sql.SQL("CASE WHEN count(DISTINCT {0}) > 1 THEN jsonb_build_object({1}, "
                        "jsonb_agg({0} ORDER BY geom, source_row)) ELSE '{{}}'::jsonb END"
                        ).format(
                            ident[n], sql.Literal(n)) for n in compared]
    values = sql.SQL(" || ").join(disagree) if disagree else sql.SQL("'{}'::jsonb")
    flags = sql.SQL(", ").join(
        sql.SQL("count(DISTINCT {}) > 1 AS {}").format(ident[n], sql.Identifier(f"d_{n}"))
        for n in compared) if compared else sql.SQL("false AS d_none")
    conn.execute(sql.SQL(
        "CREATE TEMP TABLE _merged ON COMMIT DROP AS SELECT min(fid) AS fid, {picks}, "
        "count(*) AS segments, "
        "{values} AS segment_values, {flags}, "
        "ST_Multi(ST_LineMerge(ST_CollectionExtract(ST_Collect(geom ORDER BY geom, "
        "source_row), 2))) AS geom FROM {t} WHERE {keyed} GROUP BY {group} "
        "HAVING count(*) > 1").format(
            picks=sql.SQL(", ").join(picks), values=values, flags=flags, t=t, keyed=keyed,
            group=group))
    # a code on one row only is left exactly as delivered
    stats = conn.execute(sql.SQL(
        "SELECT count(*) AS features, coalesce(sum(segments), 0) AS segments FROM _merged")
    ).fetchone()
    report = {"segments": int(stats["segments"]), "features": int(stats["features"]),
              "disagree": {}}
    for n in compared:
        rows = conn.execute(sql.SQL(
            "SELECT concat_ws(' ', {}) AS code FROM _merged WHERE {} ORDER BY 1").format(
                sql.SQL(", ").join(ident[k] for k in by),
                sql.Identifier(f"d_{n}"))).fetchall()
        if rows:
            report["disagree"][n] = {"roads": len(rows),
                                     "examples": [r["code"] for r in rows[:EXAMPLES]]}
    names = [n for n, _ in tables.data_columns(layer)]
    cols = sql.SQL(", ").join(map(sql.Identifier, ["fid", *names, "geom"]))
    # the segment count and disagreeing values, not source rows: those move between
    # deliveries without the road changing
    extra = sql.SQL("coalesce(extra, '{}'::jsonb) || "
                    "jsonb_build_object('segments', segments) || "
                    "CASE WHEN segment_values <> '{}'::jsonb THEN jsonb_build_object("
                    "'segment_values', segment_values) ELSE '{}'::jsonb END")
    chosen = sql.SQL(", ").join(extra if n == "extra" else sql.Identifier(n)
                                for n in ["fid", *names, "geom"])
    conn.execute(sql.SQL("DELETE FROM {} t WHERE ({}) IN (SELECT {} FROM _merged)").format(
        t, sql.SQL(", ").join(sql.SQL("t.{}").format(ident[k]) for k in by), group))
    # merged roads go in the curve's bucket (gis.sfc): their extent is a whole road's
    conn.execute(sql.SQL("INSERT INTO {} ({}, {}) SELECT {}, {} FROM _merged").format(
        t, cols, sql.Identifier(sfc.COLUMN), chosen, sql.Literal(sfc.BUCKET)))
    conn.execute("DROP TABLE _merged")
    return report


def describe(report: dict) -> dict[str, int]:
    """{summary warning: merged features} for the fields whose segments disagree."""
    return {f"{name}: segments of merged features disagree (kept the most common value, every "
            f"segment's in extra.segment_values; e.g. {', '.join(d['examples'])})": d["roads"]
            for name, d in report.get("disagree", {}).items()}
