"""The search-key index of a layer version: made by the load (owner role, inside its
transaction) when the layer file declares ``search.fields``, so the web tier only reads.

The key is ``spp.search_key(...)`` (migration 0003, the SQL twin of
``gis.text.fold_diacritics``) of the fields joined with spaces; a trigram GIN index on it
answers ``LIKE '%word%'``. ``key_expression`` is shared with the search queries
(``services.planning.search``), so the query matches the indexed expression exactly.
"""

from __future__ import annotations

import hashlib

from psycopg import sql

from gis.layerdef import LayerDefinition, VectorLayerDef


def key_expression(fields: list[str], alias: str | None = None) -> sql.Composable:
    parts = [sql.SQL("coalesce({}, '')").format(
        sql.Identifier(alias, f) if alias else sql.Identifier(f)) for f in fields]
    return sql.SQL("spp.search_key({})").format(sql.SQL(" || ' ' || ").join(parts))


# the table a layer's view shows
VIEW_TABLE_SQL = (
    "SELECT DISTINCT c.relname FROM pg_rewrite r JOIN pg_depend d ON d.objid = r.oid "
    "JOIN pg_class c ON c.oid = d.refobjid WHERE r.ev_class = to_regclass(%s) "
    "AND d.refobjid <> r.ev_class AND c.relkind = 'r'")


def index_name(table: str, fields: list[str]) -> str:
    """Named after the fields, so a changed ``search.fields`` makes a new index, not a stale
    one that ``IF NOT EXISTS`` would keep."""
    return f"{table}_skey_{hashlib.sha256(','.join(fields).encode()).hexdigest()[:8]}"


def ensure_current(conn, defs: dict) -> list[str]:
    """Index the current version of every layer with search fields (versions loaded before
    the layer file declared them or changed them); run by `gis layers` as the owner role,
    concurrently, so searches are never blocked."""
    made = []
    for layer in defs.values():
        if not isinstance(layer, VectorLayerDef) or layer.search is None:
            continue
        rows = conn.execute(VIEW_TABLE_SQL, (f"data.{layer.id}",)).fetchall()
        if len(rows) == 1:
            table = rows[0]["relname"] if isinstance(rows[0], dict) else rows[0][0]
            create(conn, layer, table, concurrently=True)
            made.append(table)
    return made


def create(conn, layer: LayerDefinition, table: str, concurrently: bool = False) -> bool:
    """Index the search key of ``data.<table>`` when the layer has search fields (and drop an
    index of fields it no longer searches). ``concurrently`` needs an autocommit connection."""
    if not isinstance(layer, VectorLayerDef) or layer.search is None:
        return False
    fields = list(layer.search.fields)
    name = index_name(table, fields)
    how = sql.SQL("CONCURRENTLY ") if concurrently else sql.SQL("")
    stale = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'data' AND "
                         "tablename = %s AND indexname LIKE %s AND indexname <> %s",
                         (table, table.replace("_", r"\_") + r"\_skey%", name)).fetchall()
    for r in stale:
        conn.execute(sql.SQL("DROP INDEX {}IF EXISTS {}").format(
            how, sql.Identifier("data", r["indexname"] if isinstance(r, dict) else r[0])))
    # the operator class is named with the schema pg_trgm was installed in (it follows the
    # migrating user's search_path)
    row = conn.execute("SELECT extnamespace::regnamespace::text AS s FROM pg_extension "
                       "WHERE extname = 'pg_trgm'").fetchone()
    schema = row["s"] if isinstance(row, dict) else row[0]
    conn.execute(sql.SQL("CREATE INDEX {}IF NOT EXISTS {} ON {} USING gin (({}) {})").format(
        how, sql.Identifier(name), sql.Identifier("data", table), key_expression(fields),
        sql.Identifier(schema, "gin_trgm_ops")))
    return True
