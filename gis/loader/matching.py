"""Feature ids for a whole delivery under a key rule (``keys:``), in PostGIS inside the load
transaction, after the COPY wrote every row with a provisional negative id.

- The natural key is usable (every row has one, none repeated): each feature takes the id of
  the current feature with the same key, as loads without a key rule do.
- Otherwise, with ``generated: allow``: features are matched to the current version by
  geometry and attributes. Candidate pairs come from one spatial join (GiST index); a pair
  counts when the geometries are within ``same_within_m`` (Hausdorff distance; the attributes
  may have changed) or the compared attributes are equal and within ``moved_within_m`` (moved).
  Pairs are ranked (same place and attributes, then moved, then changed; nearer first; then
  the lower current id and source row, so ties resolve the same way every time) and taken
  greedily one to one, as rounds of mutual best pairs (each round takes at least the best
  remaining pair; the result is the greedy matching).
- Features left unmatched take new ids from the layer's sequence in source-row order."""

from __future__ import annotations

import math

from psycopg import sql

from gis.errors import SPPError
from gis.layerdef import LayerDef

LISTED = 1000  # moved / changed features kept by name in the lineage
MAX_ROUNDS = 10_000
M_PER_DEG = 111_320.0


class KeyRuleError(SPPError):
    exit_code = 2


def key_state(conn, layer: LayerDef, table: str) -> dict:
    """{rows, empty, repeated} of the natural key in ``data.table``."""
    if not layer.natural_key:
        n = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(
            sql.Identifier("data", table))).fetchone()["n"]
        return {"rows": n, "empty": n, "repeated": 0}
    keys = [sql.Identifier(k) for k in layer.natural_key]
    present = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(k) for k in keys)
    row = conn.execute(sql.SQL(
        "SELECT count(*) AS rows, count(*) FILTER (WHERE NOT ({0})) AS empty, "
        "count(*) FILTER (WHERE {0}) - count(DISTINCT ({1})) FILTER (WHERE {0}) AS repeated "
        "FROM {2}").format(present, sql.SQL(", ").join(keys),
                           sql.Identifier("data", table))).fetchone()
    return dict(row)


def match_fields(layer: LayerDef, present: set[str] | None = None) -> list[str]:
    """The compared attributes; of them, with ``present``, those the current version has
    (a field added to the layer file since is not compared)."""
    fields = layer.keys.match_fields or [f.name for f in layer.fields]
    return fields if present is None else [f for f in fields if f in present]


def columns(conn, table: str) -> set[str]:
    """The columns of ``data.table`` (a version table or a layer's view)."""
    return {r["column_name"] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'data' AND "
        "table_name = %s", (table,)).fetchall()}


def rule_text(layer: LayerDef, generated: bool) -> str:
    rule = layer.keys
    merged = (f"segments merged by {', '.join(rule.merge_segments_by)}, "
              if rule.merge_segments_by else "")
    if not generated:
        return merged + "natural key (" + ", ".join(layer.natural_key) + ")"
    return (merged + f"generated key: geometry within {rule.same_within_m:g} m, or equal "
            f"attributes within {rule.moved_within_m:g} m")


def assign(conn, layer: LayerDef, table: str, current_table: str | None,
           sequence: str, label: str) -> dict:
    """Give every row of ``data.table`` its id; {rule, generated, matched, moved,
    attributes_changed, added, removed, moved_features, changed_features, key}."""
    state = key_state(conn, layer, table)
    usable = bool(layer.natural_key) and not state["empty"] and not state["repeated"]
    if not usable and layer.keys.generated != "allow":
        raise KeyRuleError(_refusal(layer, label, state))
    out = {"rule": rule_text(layer, not usable), "generated": not usable,
           "key": {"fields": layer.natural_key, "empty": state["empty"],
                   "repeated": state["repeated"]},
           "matched": 0, "moved": 0, "attributes_changed": 0,
           "moved_features": [], "changed_features": []}
    if current_table:
        if usable:
            _by_natural_key(conn, layer, table, current_table)
        else:
            out.update(_by_geometry(conn, layer, table, current_table))
    _fresh_ids(conn, table, sequence)
    return out


def _refusal(layer: LayerDef, label: str, state: dict) -> str:
    key = " + ".join(layer.natural_key) or "(none)"
    return (f"{label}: after merging segments by {', '.join(layer.keys.merge_segments_by)}, "
            f"{state['empty']:,} features have an empty {key} and {state['repeated']:,} repeat "
            f"one, so features cannot be told apart. Nothing was changed. Fix the codes in the "
            f"source, or allow generated keys with `keys: {{generated: allow}}` in "
            f"layers/{layer.id}.yaml.")


def _by_natural_key(conn, layer: LayerDef, table: str, current_table: str) -> None:
    keys = [sql.Identifier(k) for k in layer.natural_key]
    cols = sql.SQL(", ").join(keys)
    on = sql.SQL(" AND ").join(sql.SQL("n.{0} = c.{0}").format(k) for k in keys)
    # DISTINCT ON: a current version loaded with generated keys may repeat a key
    conn.execute(sql.SQL(
        "UPDATE {n} n SET fid = c.fid FROM (SELECT DISTINCT ON ({cols}) fid, {cols} FROM {c} "
        "ORDER BY {cols}, fid) c WHERE {on}").format(
            n=sql.Identifier("data", table), c=sql.Identifier("data", current_table),
            cols=cols, on=on))


def _by_geometry(conn, layer: LayerDef, table: str, current_table: str) -> dict:
    rule = layer.keys
    n, c = sql.Identifier("data", table), sql.Identifier("data", current_table)
    lat = conn.execute(sql.SQL("SELECT ST_Y(ST_Centroid(ST_Extent(geom)::geometry)) AS y "
                               "FROM {}").format(n)).fetchone()["y"] or 0.0
    scale = math.cos(math.radians(lat))  # true metres a Web Mercator metre, there
    radius_deg = rule.moved_within_m / (M_PER_DEG * scale) * 1.01
    compared = match_fields(layer, columns(conn, current_table))
    same_attrs = sql.SQL(" AND ").join(
        sql.SQL("n.{0} IS NOT DISTINCT FROM c.{0}").format(sql.Identifier(f))
        for f in compared) if compared else sql.SQL("true")
    conn.execute(sql.SQL(
        "CREATE TEMP TABLE _pairs ON COMMIT DROP AS SELECT nf, cf, nrow, dist, same_attrs, "
        "CASE WHEN same_attrs AND dist <= %(same)s THEN 0 WHEN same_attrs THEN 1 ELSE 2 END "
        "AS tier FROM (SELECT n.fid AS nf, c.fid AS cf, n.source_row AS nrow, "
        "ST_HausdorffDistance(n.geom_3857, c.geom_3857) * %(scale)s AS dist, {same} AS "
        "same_attrs FROM {n} n JOIN {c} c ON ST_DWithin(n.geom, c.geom, %(radius)s)) p "
        "WHERE dist <= %(same)s OR (same_attrs AND dist <= %(moved)s)").format(
            same=same_attrs, n=n, c=c),
        {"same": rule.same_within_m, "moved": rule.moved_within_m, "scale": scale,
         "radius": radius_deg})
    conn.execute("CREATE TEMP TABLE _match (nf bigint PRIMARY KEY, cf bigint UNIQUE, "
                 "nrow bigint, dist double precision, same_attrs boolean) ON COMMIT DROP")
    for _ in range(MAX_ROUNDS):
        taken = conn.execute(
            "WITH ranked AS (SELECT *, row_number() OVER (PARTITION BY nf ORDER BY tier, dist, "
            "cf) AS rn, row_number() OVER (PARTITION BY cf ORDER BY tier, dist, nrow, nf) AS "
            "rc FROM _pairs) INSERT INTO _match SELECT nf, cf, nrow, dist, same_attrs FROM "
            "ranked WHERE rn = 1 AND rc = 1").rowcount
        if not taken:
            break
        conn.execute("DELETE FROM _pairs p USING _match m WHERE p.nf = m.nf OR p.cf = m.cf")
    conn.execute(sql.SQL("UPDATE {} t SET fid = m.cf FROM _match m WHERE t.fid = m.nf").format(
        n))
    row = conn.execute(
        "SELECT count(*) AS matched, count(*) FILTER (WHERE dist > %s) AS moved, "
        "count(*) FILTER (WHERE NOT same_attrs) AS changed FROM _match",
        (rule.same_within_m,)).fetchone()
    moved = conn.execute(
        "SELECT cf AS fid, nrow AS row, round(dist::numeric, 2)::float AS moved_m FROM _match "
        "WHERE dist > %s ORDER BY nrow LIMIT %s", (rule.same_within_m, LISTED)).fetchall()
    changed = conn.execute(sql.SQL(
        "SELECT m.cf AS fid, m.nrow AS row, (SELECT array_agg(k ORDER BY k) FROM "
        "jsonb_each(to_jsonb(n)) e(k, v) WHERE k = ANY(%s) AND v IS DISTINCT FROM "
        "to_jsonb(c) -> k) AS fields FROM _match m JOIN {} n ON n.fid = m.cf JOIN {} c ON "
        "c.fid = m.cf WHERE NOT m.same_attrs ORDER BY m.nrow LIMIT %s").format(n, c),
        (compared, LISTED)).fetchall()
    conn.execute("DROP TABLE _pairs, _match")
    return {"matched": row["matched"], "moved": row["moved"],
            "attributes_changed": row["changed"],
            "moved_features": [dict(r) for r in moved],
            "changed_features": [dict(r) for r in changed]}


def _fresh_ids(conn, table: str, sequence: str) -> None:
    """Ids from the layer's sequence for the rows still provisional, in source-row order."""
    seq = sql.Identifier("data", sequence)
    conn.execute(sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(seq))
    state = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(seq)).fetchone()
    first = state["last_value"] + (1 if state["is_called"] else 0)
    t = sql.Identifier("data", table)
    count = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE fid < 0").format(t)
                         ).fetchone()["n"]
    if not count:
        return
    conn.execute(sql.SQL(
        "WITH fresh AS (SELECT fid, %s - 1 + row_number() OVER (ORDER BY source_row, fid DESC) "
        "AS id FROM {0} WHERE fid < 0) UPDATE {0} t SET fid = fresh.id FROM fresh WHERE "
        "t.fid = fresh.fid").format(t), (first,))
    conn.execute("SELECT setval(%s::regclass, %s)", (f'data."{sequence}"', first + count - 1))
