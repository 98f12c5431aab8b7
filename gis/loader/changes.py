"""What a new version does to the current one: features added, changed and removed, matched
by the layer's natural key (or, under a key rule, by the ids gis.loader.matching gave: the
change feed's diff by id); a replace that loses a large share of them is refused."""

from __future__ import annotations

from psycopg import sql

from gis.errors import SPPError
from gis.layerdef import LayerDef

# Columns that differ between versions without the feature changing.
IGNORED = ("fid", "source_row", "geom_3857", "_sfc", "label_3857")  # the last: gis.labelpoint


class ShrinkError(SPPError):
    exit_code = 2


def compare(conn, layer: LayerDef, new_table: str, current_table: str) -> dict:
    """{added, changed, removed, current, matched_by} of new_table against current_table.
    Without a natural key only the counts can be compared (changed is None)."""
    new, cur = sql.Identifier("data", new_table), sql.Identifier("data", current_table)
    keys = layer.natural_key
    if not keys:
        row = conn.execute(sql.SQL("SELECT (SELECT count(*) FROM {}) AS n, "
                                   "(SELECT count(*) FROM {}) AS c").format(new, cur)).fetchone()
        return {"added": max(row["n"] - row["c"], 0), "changed": None,
                "removed": max(row["c"] - row["n"], 0), "current": row["c"],
                "matched_by": "count"}
    on = sql.SQL(" AND ").join(sql.SQL("n.{0} = c.{0}").format(
        sql.Identifier(k)) for k in keys)
    strip = sql.SQL("").join(sql.SQL(" - {}").format(sql.Literal(c)) for c in IGNORED)
    row = conn.execute(sql.SQL(
        "SELECT count(*) FILTER (WHERE c.fid IS NULL) AS added, "
        "count(*) FILTER (WHERE n.fid IS NULL) AS removed, "
        "count(*) FILTER (WHERE n.fid IS NOT NULL AND c.fid IS NOT NULL AND "
        "(to_jsonb(n){0} IS DISTINCT FROM to_jsonb(c){0})) AS changed, "
        "count(c.fid) AS current FROM {1} n FULL JOIN {2} c ON {3}").format(
        strip, new, cur, on)).fetchone()
    return {**row, "matched_by": "natural key (" + ", ".join(keys) + ")"}


def key_counts(keys: dict, changes: dict) -> dict:
    """What the key rule adds to the changes: the rule, features matched (kept their id),
    moved and with changed attributes, and which (the first LISTED of each)."""
    return {"key_rule": keys["rule"], "generated": keys["generated"], "key_state": keys["key"],
            "matched": changes["current"] - changes["removed"], "moved": keys["moved"],
            "attributes_changed": keys["attributes_changed"],
            "moved_features": keys["moved_features"],
            "changed_features": keys["changed_features"],
            **({"segments": keys["segments"]} if "segments" in keys else {})}


def brief(changes: dict | None) -> dict | None:
    """The changes without the feature lists (for the audit log; the lineage keeps them)."""
    if not changes:
        return changes
    return {k: v for k, v in changes.items() if k not in ("moved_features", "changed_features")}


def key_note(changes: dict) -> str:
    """Why ids were generated: the natural key empty or repeated in how many features."""
    state = changes.get("key_state") or {}
    if not changes.get("generated") or not state.get("fields"):
        return ""
    return (f" ({' + '.join(state['fields'])} empty in {state.get('empty', 0):,} features, "
            f"repeated in {state.get('repeated', 0):,})")


def from_feed(counts: dict[str, int], current: int, layer: LayerDef,
              matched_by: str | None = None) -> dict:
    """``compare``'s answer from the change feed's diff (gis.changefeed.diff_tables), which
    matches by feature id: a load keeps a feature's id by its natural key (or by the key
    rule's matching, ``matched_by``), so it is the same match, made once for both."""
    return {"added": counts["created"], "changed": counts["updated"],
            "removed": counts["deleted"], "current": current,
            "matched_by": matched_by or "natural key (" + ", ".join(layer.natural_key) + ")"}


def first_version(count: int) -> dict:
    return {"added": count, "changed": 0, "removed": 0, "current": 0,
            "matched_by": "first version", "against": None}


def check_shrink(layer: LayerDef, label: str, changes: dict, current_version: int,
                 allowed: bool) -> None:
    """Refuse a version that removes more than checks.max_removed_share of the current one."""
    limit = layer.checks.max_removed_share
    share = changes["removed"] / max(changes["current"], 1)
    if allowed or share <= limit:
        return
    none = (" Not one feature matched the current version's: renumbered codes, or a delivery "
            "in another coordinate system, look like this." if changes["removed"] ==
            changes["current"] and changes["added"] else "")
    raise ShrinkError(
        f"{label}: this version would remove {changes['removed']:,} of the "
        f"{changes['current']:,} features of the current version v{current_version} "
        f"({share:.1%}, matched by {changes['matched_by']}; {changes['added']:,} added), more "
        f"than the layer allows ({limit:.0%}).{none} Nothing was changed. If the delivery is "
        f"partial or cut short, ask for the whole file; if only some features are re-delivered, "
        f"load with --mode upsert; if the removal is meant, load again with --allow-shrink "
        f"(or raise checks.max_removed_share in layers/{layer.id}.yaml).")


def describe(changes: dict | None) -> str:
    if not changes:
        return ""
    changed = "?" if changes["changed"] is None else f"{changes['changed']:,}"
    how = changes["matched_by"]
    kept = ""
    if "key_rule" in changes:
        how = changes["key_rule"] if how == "first version" else how
        kept = (f"; ={changes['matched']:,} kept their ids, {changes['moved']:,} moved, "
                f"{changes['attributes_changed']:,} with changed attributes"
                if changes["matched"] or changes["current"] else "")
        if "segments" in changes:
            kept += f"; {changes['segments']:,} segments merged"
    return (f"+{changes['added']:,} added, ~{changed} changed, -{changes['removed']:,} removed"
            f" ({how if how == 'first version' else 'by ' + how}){kept}"
            + (", removal accepted with --allow-shrink" if changes.get("allow_shrink") and
               changes["removed"] else ""))
