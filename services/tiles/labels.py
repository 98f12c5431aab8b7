"""Label points of polygon layers: one point a feature, so a ward's or a plan zone's name is
drawn once, not once on every tile its polygon crosses (MapLibre labels each tile's piece).

The point is the centre of the polygon's largest inscribed circle (inside the polygon, on its
widest part, where a reader looks for the name), computed from the whole geometry, so every
tile agrees on it; it is sent only by the tile it falls in. Versions store it with the row
(gis.labelpoint); where they have none the tile computes it (``ST_MaximumInscribedCircle``).
Points go into the layer's own features in the tile (same source layer and id, only the
label's fields), which keeps a label's click on its feature; the style's label layer draws
points only (``gis.styles.labels_at_points``)."""

from __future__ import annotations

from psycopg import sql

from gis import labelpoint
from gis.styles import labels_at_points


def label_points(t, z: int, table: sql.Composable, extent: int, stored: bool = True
                 ) -> sql.Composable:
    """``UNION ALL`` the label points of the tile (parameters of ``mvt.tile_query``) with the
    same columns as the layer's features, or nothing when the layer has no label here.
    ``stored``: read the stored Web Mercator copy, as ``mvt.tile_query``."""
    lyr = t.layer
    layer = lyr.definition
    if not labels_at_points(layer) or z < layer.style.label.min_zoom:
        return sql.SQL("")
    wanted = set(layer.style.label.fields)
    cols = []
    for name in t.fields:
        ident = sql.Identifier(name)
        if name not in wanted:
            cols.append(sql.SQL("NULL AS {}").format(ident))  # MVT leaves nulls out
        elif lyr.columns[name].type in ("date", "datetime"):
            cols.append(sql.SQL("d.{0}::text AS {0}").format(ident))
        else:
            cols.append(sql.SQL("d.{}").format(ident))
    geom = sql.SQL("d.geom_3857" if lyr.mercator and stored else "ST_Transform(d.geom, 3857)")
    point = sql.SQL("(ST_MaximumInscribedCircle({})).center").format(geom)
    if lyr.labelled:  # the stored point; computed only where a writer left none
        point = sql.SQL("coalesce(d.{}, {})").format(sql.Identifier(labelpoint.COLUMN), point)
    return sql.SQL(
        " UNION ALL SELECT {cols} FROM {table} d, LATERAL (SELECT {point} AS p) lp "
        "WHERE d.geom && (SELECT e4326 FROM env) AND lp.p && (SELECT e FROM env)").format(
        cols=sql.SQL(", ").join([sql.SQL("d.fid"), *cols, sql.SQL(
            "ST_AsMVTGeom(lp.p, (SELECT e FROM env), {}, 0, true) AS geom").format(
            sql.Literal(extent))]), table=table, point=point)
