"""`gis load`: one department delivery into a layer's PostGIS table, atomically and versioned.

Flow (one direction): read in batches -> decode text -> repair/unify geometry (source plane)
-> exact CRS transformation to WGS 84 -> plausibility -> map to the layer's schema -> COPY into
a staging table -> checks -> new version table and view swap in one transaction.
"""

from __future__ import annotations

import getpass
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from psycopg import sql

from gis import db
from gis.catalog import sync_layer
from gis.crs import resolve_crs, to_wgs84
from gis.crs.axes import orient
from gis.crs.errors import CRSError
from gis.errors import SPPError
from gis.layerdef import LayerDef, get_layer_def
from gis.loader import store
from gis.loader.areas import plane_and_geodesic_areas
from gis.loader.geometry import prepare
from gis.loader.plausibility import (
    WARD_CODE_FIELD,
    PlausibilityGate,
    previous_version_reference,
    ward_polygons,
)
from gis.loader.schema import coerce, map_fields
from gis.loader.source import Source, iter_batches, open_source
from gis.loader.textcols import TextDecoder
from gis.settings import get_settings

MAX_REJECTS_KEPT = 1000  # reject rows listed in the version row


class LoadError(SPPError):
    exit_code = 2


@dataclass
class LoadOptions:
    source_crs: str | None = None
    encoding: str | None = None
    mode: str = "replace"
    dry_run: bool = False
    force: bool = False
    source_layer: str | None = None
    field_map: dict[str, str] = field(default_factory=dict)
    axis_order: str | None = None  # auto | xy | yx (CSV coordinate columns)
    x_field: str | None = None
    y_field: str | None = None
    batch_size: int = 50_000
    operator: str | None = None


@dataclass
class LoadResult:
    layer_id: str
    version: int | None
    status: str  # current | dry_run | unchanged
    source: str
    sha256: str
    crs: dict
    axis: str | None
    encodings: dict
    count_read: int = 0
    count_loaded: int = 0
    count_repaired: int = 0
    count_rejected: int = 0
    count_empty: int = 0
    feature_count: int | None = None
    rejects: list[tuple[int, str]] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)
    code_lists: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""


def _operator(options: LoadOptions) -> str:
    return options.operator or get_settings().operator or getpass.getuser()


def resolve_source_crs(src: Source, layer: LayerDef, given: str | None):
    """--source-crs, else the file's own CRS; CSV tables (no CRS slot) use the layer default."""
    spec, origin = given, "--source-crs"
    if spec is None and src.crs_text:
        spec, origin = src.crs_text, "the source file"
    if spec is None and src.is_csv and layer.source.crs:
        spec, origin = layer.source.crs, f"layers/{layer.id}.yaml (CSV has no CRS)"
    if spec is None:
        raise LoadError(f"{src.label}: the source has no coordinate reference system (no .prj "
                        "or CRS in the file). Give it with --source-crs, e.g. --source-crs "
                        "vn2000-cantho (TM-3 105°00'), vn2000-soctrang (TM-3 105°30'), "
                        "vn2000-utm48 or EPSG:4326.")
    try:
        op = to_wgs84(resolve_crs(spec))
    except CRSError as exc:
        raise LoadError(f"{src.label}: CRS from {origin}: {exc}") from exc
    return op, origin


def _copy_frame(coerced: pd.DataFrame, layer: LayerDef, extra: pd.DataFrame | None,
                codes: dict[str, pd.Series], areas, geoms: np.ndarray,
                rows: np.ndarray) -> tuple[io.StringIO, list[str]]:
    out = coerced.copy()
    for name, series in codes.items():
        out[f"{name}_codelist"] = series.to_numpy()
    if layer.plane_area:
        out["area_plane_m2"], out["area_geodesic_m2"] = areas
    if extra is not None and len(extra.columns):
        lines = extra.to_json(orient="records", lines=True, force_ascii=False,
                              date_format="iso").splitlines()
        out["extra"] = lines if len(lines) == len(out) else None
    else:
        out["extra"] = None
    out["source_row"] = rows
    out["geom"] = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    buf = io.StringIO()
    out.to_csv(buf, index=False, header=False, na_rep="\\N")
    return buf, list(out.columns)


def load(source_path: Path | str, layer_id: str, options: LoadOptions | None = None,
         progress: Callable[[int, int | None], None] | None = None) -> LoadResult:
    options = options or LoadOptions()
    if options.mode not in ("replace", "append", "upsert"):
        raise LoadError(f"unknown --mode {options.mode!r}: use replace, append or upsert")
    started = time.monotonic()
    layer = get_layer_def(layer_id)
    if options.mode == "upsert" and not layer.natural_key:
        raise LoadError(f"layer {layer_id!r} has no natural_key in its definition, so "
                        "--mode upsert cannot match features; use replace or append")
    src = open_source(Path(source_path), options.source_layer or layer.source.layer,
                      options.x_field or layer.source.x_field,
                      options.y_field or layer.source.y_field)
    op, crs_origin = resolve_source_crs(src, layer, options.source_crs)
    ignore = src.coord_fields or ()
    mapping = map_fields([f for f in src.fields if f not in ignore], layer, options.field_map,
                         src.label)
    decoder = TextDecoder(options.encoding or (None if layer.source.encoding == "auto"
                                               else layer.source.encoding), src.raw_text)
    operator = _operator(options)
    crs_info = {**op.describe(), "origin": crs_origin}
    result = LoadResult(layer.id, None, "loading", src.label, src.sha256, crs_info, None, {})

    conn = db.ready_connection()
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (store.lock_key(layer.id),))
        with conn.transaction():
            store.mark_interrupted(conn, layer.id)
            sync_layer(conn, layer)
            current = store.current_version(conn, layer.id)
        if (current and current["source_sha256"] == src.sha256 and options.mode == "replace"
                and not options.force and not options.dry_run):
            result.status, result.version = "unchanged", current["version"]
            result.feature_count = current["feature_count"]
            result.message = (f"{src.label} is identical (SHA-256) to the source of the current "
                              f"version v{current['version']}: nothing to do. Use --force to "
                              "load it again.")
            return result
        with conn.transaction():
            version = store.next_version(conn, layer.id)
            store.insert_version(conn, layer.id, version, {
                "mode": options.mode, "parent_version": current["version"] if current else None,
                "source_name": str(src.path.name), "source_sha256": src.sha256,
                "source_bytes": src.size, "source_format": src.driver,
                "source_layer": src.layer, "source_crs": crs_info["source_crs"],
                "crs_case": crs_info["datum_case"], "operation": crs_info["operation"],
                "pipeline": crs_info["pipeline"], "operator": operator})
        result.version = version
        gate = PlausibilityGate(
            layer, op, src.label,
            reference=previous_version_reference(conn, layer)
            if options.mode in ("replace", "upsert") else None,
            wards=ward_polygons(conn, layer))
        try:
            _load_into_version(conn, layer, src, op, options, mapping, decoder, gate, result,
                               current, version, operator, progress)
        except _DryRun as dry:  # everything ran; the transaction was rolled back on purpose
            with conn.transaction():
                store.update_version(conn, layer.id, version, **{**dry.lineage,
                                                                 "table_name": None})
            result.status = "dry_run"
        except BaseException as exc:
            reason = "interrupted by the user" if isinstance(exc, KeyboardInterrupt) else str(exc)
            # A fresh connection: this one may be mid-COPY after an interrupt.
            with db.connect() as other:
                store.update_version(other, layer.id, version, status="failed",
                                     finished_at=pd.Timestamp.now(tz="UTC").to_pydatetime(),
                                     message=reason[:2000], count_read=result.count_read,
                                     count_rejected=result.count_rejected)
            raise
        if not options.dry_run:
            with conn.transaction():
                store.drop_old_versions(conn, layer.id, get_settings().keep_versions)
    finally:
        conn.close()  # also releases the layer's advisory lock
    result.seconds = time.monotonic() - started
    return result


def _load_into_version(conn, layer: LayerDef, src: Source, op, options: LoadOptions, mapping,
                       decoder, gate, result: LoadResult, current: dict | None, version: int,
                       operator: str, progress) -> None:
    from gis.codelists import validate as validate_codes

    rejects: list[tuple[int, str]] = []
    with conn.transaction():
        stage = store.create_staging_table(conn, layer)
        for batch in iter_batches(src, options.batch_size):
            n = len(batch.frame)
            result.count_read += n
            frame = decoder.decode(batch.frame)
            axis_used = "xy"
            if batch.coords is not None:  # CSV: points from coordinate columns
                axis = options.axis_order or layer.source.axis_order
                first, second = batch.coords
                ok = np.isfinite(first) & np.isfinite(second)
                x, y, guess = orient(first[ok], second[ok], op, axis or "auto")
                axis_used = "yx" if guess.order == "northing_first" else "xy"
                result.axis = f"{guess.order} ({guess.reason})"
                geoms = np.full(n, None, dtype=object)
                geoms[ok] = shapely.points(x, y)
            else:
                geoms = batch.geoms
            prepared = prepare(geoms, layer.geometry)
            result.count_empty += int(prepared.empty.sum())
            for i, why in prepared.reasons.items():
                rejects.append((int(batch.rows[i]), why))
            keep = prepared.keep.copy()
            source_geoms = prepared.geoms[keep]
            coerced = coerce(frame, mapping, layer)
            expected = (coerced.frame[WARD_CODE_FIELD].to_numpy()[keep]
                        if WARD_CODE_FIELD in coerced.frame else None)
            wgs = gate.transform_and_check(source_geoms, batch.rows[keep], rejects, axis_used,
                                           expected)
            inside = wgs.keep
            keep_idx = np.flatnonzero(keep)[inside]
            keep[:] = False
            keep[keep_idx] = True
            for i, why in coerced.bad_rows.items():
                if keep[i]:
                    rejects.append((int(batch.rows[i]), why))
                    keep[i] = False
            for k, v in coerced.warnings.items():
                result.warnings[k] = result.warnings.get(k, 0) + v
            sel = np.flatnonzero(keep)
            geoms_out = wgs.geoms[np.isin(keep_idx, sel)]
            src_geoms_out = source_geoms[inside][np.isin(keep_idx, sel)]
            codes = {}
            typed = coerced.frame.iloc[sel].reset_index(drop=True)
            for f in layer.fields:
                if f.codelist:
                    raw = typed[f.name].tolist()
                    norm, versions, invalid = validate_codes(f.codelist, raw)
                    # An unknown code is kept as delivered (and reported), never blanked.
                    typed[f.name] = pd.array([n if n is not None else r
                                              for n, r in zip(norm, raw, strict=True)],
                                             dtype="string")
                    codes[f.name] = pd.Series(versions, dtype="string")
                    for value in invalid:
                        key = f"{f.name}: code {value!r} not in any known code list"
                        result.warnings[key] = sum(1 for r in raw if r == value)
                    for v in versions:
                        if v:
                            result.code_lists[v] = result.code_lists.get(v, 0) + 1
            areas = plane_and_geodesic_areas(src_geoms_out, geoms_out, op) \
                if layer.plane_area else None
            extra = batch.frame[mapping.extra].iloc[sel].reset_index(drop=True) \
                if mapping.extra else None
            if extra is not None:
                extra = decoder.decode(extra)
            result.count_repaired += int(prepared.repaired[sel].sum())
            buf, cols = _copy_frame(typed, layer, extra, codes, areas, geoms_out,
                                    batch.rows[sel])
            store.copy_csv(conn, stage, cols, buf)
            result.count_loaded += len(sel)
            if progress:
                progress(n, src.feature_count)
        rejects += _duplicate_keys(conn, layer, stage)
        result.count_loaded -= sum(1 for _, why in rejects if why.startswith("duplicate"))
        result.count_rejected = len(rejects)
        result.rejects = sorted(rejects)
        result.encodings = decoder.report()
        share = result.count_rejected / max(result.count_read, 1)
        limit = layer.checks.max_rejected_share
        if share > limit:
            listing = "; ".join(f"row {r}: {w}" for r, w in result.rejects[:10])
            raise LoadError(
                f"{src.label}: {result.count_rejected} of {result.count_read} features "
                f"({share:.1%}) were rejected, more than the layer allows ({limit:.1%}). "
                f"Nothing was changed. First rejects: {listing}. Fix the source or raise "
                f"checks.max_rejected_share in layers/{layer.id}.yaml.")
        if result.count_loaded == 0 and options.mode == "replace":
            raise LoadError(f"{src.label}: no feature could be loaded; nothing was changed")

        table = store.version_table(layer.id, version)
        store.create_version_table(conn, layer, table)
        store.fill_version_table(conn, layer, stage, table,
                                 current["table_name"] if current else None, options.mode)
        store.index_version_table(conn, layer, table)
        count, bbox = store.table_stats(conn, table)
        result.feature_count = count
        lineage = dict(
            status="dry_run" if options.dry_run else "current", table_name=table,
            axis_order=result.axis, encodings=result.encodings,
            count_read=result.count_read, count_loaded=result.count_loaded,
            count_repaired=result.count_repaired, count_rejected=result.count_rejected,
            count_empty=result.count_empty,
            rejects=[{"row": r, "reason": w} for r, w in result.rejects[:MAX_REJECTS_KEPT]],
            feature_count=count, bbox=bbox,
            finished_at=pd.Timestamp.now(tz="UTC").to_pydatetime(),
            message=json.dumps({"warnings": result.warnings, "code_lists": result.code_lists,
                                "fields": mapping.describe()}, ensure_ascii=False))
        if options.dry_run:
            raise _DryRun(lineage)
        store.point_view(conn, layer.id, table)
        if current:
            store.update_version(conn, layer.id, current["version"], status="superseded")
        store.update_version(conn, layer.id, version, **lineage)
        conn.execute("UPDATE spp.layers SET current_version = %s, feature_count = %s, bbox = %s,"
                     " updated_at = now() WHERE id = %s", (version, count, bbox, layer.id))
        store.audit(conn, operator, "load", layer.id,
                    {"version": version, "mode": options.mode, "source": src.label,
                     "sha256": src.sha256, "loaded": result.count_loaded,
                     "rejected": result.count_rejected})
        result.status = "current"


class _DryRun(Exception):
    def __init__(self, lineage: dict):
        self.lineage = lineage


def _duplicate_keys(conn, layer: LayerDef, stage: str) -> list[tuple[int, str]]:
    """Drop later copies of a natural key within one delivery; each is a reported reject."""
    if not layer.natural_key:
        return []
    keys = sql.SQL(", ").join(map(sql.Identifier, layer.natural_key))
    rows = conn.execute(sql.SQL(
        "DELETE FROM {t} s USING (SELECT source_row, first_value(source_row) OVER w AS first "
        "FROM {t} WINDOW w AS (PARTITION BY {k} ORDER BY source_row)) d "
        "WHERE s.source_row = d.source_row AND d.source_row <> d.first "
        "RETURNING s.source_row, d.first").format(t=sql.Identifier(stage), k=keys)).fetchall()
    label = " + ".join(layer.natural_key)
    return [(r["source_row"], f"duplicate {label} (same as row {r['first']}); kept the first")
            for r in rows]
