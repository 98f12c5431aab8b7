"""`gis load`: one department delivery into a layer's PostGIS table, atomically and versioned.

Flow (one direction): read in batches -> decode text -> repair/unify geometry (source plane)
-> exact CRS transformation to WGS 84 -> plausibility -> map to the layer's schema -> COPY into
the new version's table (not yet visible) -> checks -> indexes and the view swap, all in one
transaction.
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gis import changefeed, db, labelpoint, naming, sfc, versions
from gis.crs import resolve_crs, to_wgs84
from gis.crs.errors import CRSError
from gis.errors import SPPError
from gis.layerdef import KeyRule, LayerDef, get_layer_def
from gis.layerdef.keys import key_rule_problems
from gis.loader import changes as diff
from gis.loader import matching, nativemem, searchindex, segments, tables
from gis.loader.batch import process_batch
from gis.loader.copier import BackgroundCopy, csv_bytes
from gis.loader.fieldmatch import suggest_for_extras
from gis.loader.keys import FeatureIds
from gis.loader.libwarnings import LibraryWarnings, caught
from gis.loader.plausibility import (
    PlausibilityGate,
    check_matched_shift,
    previous_key_points,
    previous_version_reference,
    ward_polygons,
)
from gis.loader.prefetch import ReadAhead
from gis.loader.profile import resolve_profile
from gis.loader.schema import map_fields
from gis.loader.source import Source, iter_batches, open_source
from gis.loader.textcols import TextDecoder
from gis.settings import get_settings
from gis.text import UnknownEncodingError

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
    batch_size: int = 25_000  # with read-ahead and the COPY queue, ~5 batches are in memory
    operator: str | None = None
    allow_shrink: bool = False  # a replace may remove more than checks.max_removed_share
    allow_shift: bool = False  # skip the position check against the current version
    profile: str | None = None  # a delivery profile of the layer (sources.<name>)
    key_rule: KeyRule | None = None  # instead of the layer's (and the profile's) keys:


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
    changes: dict | None = None  # added/changed/removed against the current version
    fields: dict = field(default_factory=dict)  # every source field accounted for
    profile: str | None = None
    declared_charset: str | None = None  # what the file claims (.cpg, MapInfo Charset)
    library_warnings: list[dict] = field(default_factory=list)  # GDAL & co., one per message
    seconds: float = 0.0
    message: str = ""


def _operator(options: LoadOptions) -> str:
    return options.operator or get_settings().operator or getpass.getuser()


def _crs_name(text: str) -> str:
    """A short description of a file's CRS (MapInfo CoordSys often comes back "unnamed")."""
    try:
        crs = resolve_crs(text).crs
    except CRSError:
        return "unreadable"
    if crs.name and crs.name.lower() not in ("unnamed", "unknown", "undefined"):
        return crs.name
    parts = [crs.datum.name if crs.datum else "", crs.ellipsoid.name if crs.ellipsoid else ""]
    op = crs.coordinate_operation
    if op is not None:
        values = {p.name.lower(): p.value for p in op.params}
        lon = next((v for k, v in values.items() if "longitude" in k), None)
        k0 = next((v for k, v in values.items() if "scale" in k), None)
        parts.append(op.method_name + (f" {lon:g}°" if lon is not None else "") +
                     (f" k={k0:g}" if k0 is not None else ""))
    return ", ".join(p for p in parts if p) or "unnamed"


def resolve_source_crs(src: Source, layer: LayerDef, given: str | None, profile=None,
                       profile_name: str | None = None):
    """--source-crs; else a profile's crs when it replaces the file's (crs_overrides_file);
    else the file's own CRS; else the profile's crs; else, for CSV tables (no CRS slot), the
    layer default."""
    spec, origin = given, "--source-crs"
    p_crs = profile.crs if profile else None
    if spec is None and p_crs and profile.crs_overrides_file:
        spec, origin = p_crs, f"profile {profile_name}" + (
            f"; the file's own CRS ({_crs_name(src.crs_text)}) replaced" if src.crs_text else "")
    if spec is None and src.crs_text:
        spec, origin = src.crs_text, "the source file"
        if p_crs:
            origin += (f"; profile {profile_name}'s crs {p_crs} not used (the file declares "
                       "its own; crs_overrides_file: true replaces it)")
    if spec is None and p_crs:
        spec, origin = p_crs, f"profile {profile_name}"
    if spec is None and src.is_csv and layer.source.crs:
        spec, origin = layer.source.crs, f"layers/{layer.id}.yaml (CSV has no CRS)"
    if spec is None:
        raise LoadError(f"{src.label}: the source has no coordinate reference system (no .prj "
                        "or CRS in the file). Give it with --source-crs, e.g. --source-crs "
                        "vn2000-cantho (TM-3 105°00'), vn2000-soctrang (TM-3 105°30'), "
                        "vn2000-utm48 or EPSG:4326, or in a delivery profile's crs.")
    try:
        op = to_wgs84(resolve_crs(spec))
    except CRSError as exc:
        raise LoadError(f"{src.label}: CRS from {origin}: {exc}") from exc
    return op, origin


def load(source_path: Path | str, layer_id: str, options: LoadOptions | None = None,
         progress: Callable[[int, int | None], None] | None = None,
         notify: Callable[[str], None] | None = None) -> LoadResult:
    """Load a delivery; library warnings are collected for the summary, never printed."""
    nativemem.bound()
    collected = LibraryWarnings()
    with caught(collected):
        result = _load(source_path, layer_id, options, progress, notify)
    result.library_warnings = collected.lines()
    return result


def _load(source_path: Path | str, layer_id: str, options: LoadOptions | None,
          progress, notify) -> LoadResult:
    options = options or LoadOptions()
    if options.mode not in ("replace", "append", "upsert"):
        raise LoadError(f"unknown --mode {options.mode!r}: use replace, append or upsert")
    started = time.monotonic()
    layer = get_layer_def(layer_id)
    profile = resolve_profile(layer, options.profile)
    layer = with_key_rule(layer, options.key_rule or (profile.keys if profile else None))
    if options.mode == "upsert" and not layer.natural_key:
        raise LoadError(f"layer {layer_id!r} has no natural_key in its definition, so "
                        "--mode upsert cannot match features; use replace or append")
    pick = _pick(options, profile, layer)
    src = open_source(Path(source_path), pick("source_layer", "layer"), pick("x_field"),
                      pick("y_field"))
    op, crs_origin = resolve_source_crs(src, layer, options.source_crs, profile,
                                        options.profile)
    ignore = tuple(src.coord_fields or ())
    keyed = _keyed(layer, options)
    optional = frozenset(layer.natural_key if keyed and layer.keys.generated == "allow" else ())
    mapping = map_fields(src.fields, layer, options.field_map, src.label, ignore, profile,
                         options.profile, optional=optional)
    encoding = pick("encoding")
    try:
        decoder = TextDecoder(None if encoding == "auto" else encoding, src.raw_text)
    except UnknownEncodingError as exc:
        raise LoadError(f"--encoding: {exc}") from exc
    operator = _operator(options)
    crs_info = {**op.describe(), "origin": crs_origin}
    result = LoadResult(layer.id, None, "loading", src.label, src.sha256, crs_info, None, {},
                        profile=options.profile, declared_charset=src.declared_charset)
    result.fields = mapping.describe()

    conn = db.ready_connection()
    batches = None
    try:
        current = versions.begin(conn, layer, notify)
        same = versions.unchanged(conn, layer.id, src.sha256, options.mode)
        if same and not options.force and not options.dry_run:
            result.status, result.version = "unchanged", current["version"]
            result.feature_count = current["feature_count"]
            result.message = (f"{src.label} is identical (SHA-256) to the source of v{same}, "
                              f"already in the current version v{current['version']}: nothing "
                              "to do. Use --force to load it again"
                              + (" (e.g. after changing the profile)." if profile else "."))
            return result
        version = versions.start(
            conn, layer.id, current, crs_info, mode=options.mode, operator=operator,
            source_name=str(src.path.name), source_sha256=src.sha256, source_bytes=src.size,
            source_format=src.driver, source_layer=src.layer)
        result.version = version
        # the file is read from here on, while the checks below query the current version
        batches = ReadAhead(iter_batches(src, options.batch_size))
        key_fields = _shift_key_fields(conn, layer, keyed)
        gate = PlausibilityGate(
            layer, op, src.label,
            reference=previous_version_reference(conn, layer)
            if options.mode in ("replace", "upsert") else None,
            wards=ward_polygons(conn, layer),
            previous=previous_key_points(conn, layer, key_fields)
            if options.mode != "append" and not options.allow_shift else None,
            key_fields=key_fields)
        try:
            _load_into_version(conn, layer, src, batches, op, options, mapping, decoder, gate,
                               result, current, version, operator, progress, optional,
                               profile)
        except _DryRun as dry:  # everything ran; the transaction was rolled back on purpose
            with conn.transaction():
                versions.update_version(conn, layer.id, version,
                                        **{**dry.lineage, "table_name": None})
            result.status = "dry_run"
        except BaseException as exc:
            versions.fail(layer.id, version, exc, count_read=result.count_read,
                          count_rejected=result.count_rejected)
            raise
        if not options.dry_run:
            with conn.transaction():
                versions.prune(conn, versions.TABLES, layer.id, get_settings().keep_versions)
    finally:
        if batches is not None:
            batches.close()
        conn.close()  # also releases the layer's advisory lock
    result.seconds = time.monotonic() - started
    return result


def _pick(options: LoadOptions, profile, layer: LayerDef):
    """A reading option: the command line, else the profile, else the layer's source."""
    def pick(name: str, key: str | None = None):
        key = key or name
        given = getattr(options, name)
        if given is not None:
            return given
        if profile is not None and getattr(profile, key) is not None:
            return getattr(profile, key)
        return getattr(layer.source, key)
    return pick


def with_key_rule(layer: LayerDef, rule: KeyRule | None) -> LayerDef:
    """The layer under another key rule (a delivery profile's), checked against its fields."""
    if rule is None:
        return layer
    problems = key_rule_problems(rule, [f.name for f in layer.fields], layer.geometry,
                                 numeric=[f.name for f in layer.fields
                                          if f.type in ("integer", "number")])
    if problems:
        raise LoadError(f"key rule for layer {layer.id!r}: " + "; ".join(problems))
    return layer.model_copy(update={"keys": rule})


def _keyed(layer: LayerDef, options: LoadOptions) -> bool:
    """Ids given once the delivery is whole (gis.loader.matching): a key rule is set and the
    delivery replaces the layer (append and upsert keep matching by natural key)."""
    return layer.keys.active and options.mode == "replace"


def _shift_key_fields(conn, layer: LayerDef, keyed: bool) -> list[str]:
    """The fields the shift check pairs features by, before ids are given: the natural key,
    or under a key rule the compared attributes the current version has."""
    if not keyed:
        return layer.natural_key
    if layer.keys.merge_segments_by:
        return []  # segments are whole features only after the merge: checked then
    # text and integer attributes read the same in the file and in the database
    kinds = {f.name: f.type for f in layer.fields}
    return [f for f in matching.match_fields(layer, matching.columns(conn, layer.id))
            if kinds[f] in ("string", "integer")]


def _curve_kept(conn, current: dict) -> bool:
    """Whether the current version's curve keys can be copied: it has them and its pad."""
    return current.get("sfc_pad") is not None and tables.has_column(
        conn, current["table_name"], sfc.COLUMN)


def _load_into_version(conn, layer: LayerDef, src: Source, batches: ReadAhead, op,
                       options: LoadOptions, mapping, decoder, gate, result: LoadResult,
                       current: dict | None, version: int, operator: str, progress,
                       optional: frozenset[str], profile=None) -> None:
    rejects: list[tuple[int, str]] = []
    samples: dict[str, list] = {}
    table = naming.version_table(layer.id, version)
    columns = ["fid", *(n for n, _ in tables.data_columns(layer)), "geom", sfc.COLUMN]
    if labelpoint.wanted(layer):
        columns.append(labelpoint.COLUMN)
    curve = sfc.Keyer()
    axis = _pick(options, profile, layer)("axis_order")
    keyed = _keyed(layer, options)
    with conn.transaction():
        tables.create_version_table(conn, layer, table)
        ids = FeatureIds(conn, layer, current["table_name"] if current else None, options.mode,
                         provisional=keyed)
        copier = BackgroundCopy(conn, table, columns)
        try:
            for batch in batches:
                result.count_read += len(batch.frame)
                out = process_batch(batch, layer, op, mapping, decoder, gate, axis, optional,
                                    profile)
                for col, values in out.samples.items():
                    if values and col not in samples:
                        samples[col] = values
                fids, keep, dupes = ids.assign(out.typed, out.rows)
                rejects += out.rejects + dupes
                result.count_empty += out.empty
                result.count_repaired += out.repaired
                result.axis = out.axis or result.axis
                for target, src_counts in ((result.warnings, out.warnings),
                                           (result.code_lists, out.code_lists)):
                    for k, v in src_counts.items():
                        target[k] = target.get(k, 0) + v
                if not keep.all():
                    out.typed = out.typed[keep].reset_index(drop=True)
                    fids, out.rows, out.geoms = fids[keep], out.rows[keep], out.geoms[keep]
                copier.put_later(csv_bytes, out.typed, columns, fids, out.rows, out.geoms,
                                 curve)
                result.count_loaded += len(fids)
                if progress:
                    progress(len(batch.frame), src.feature_count)
            copier.close()
        finally:
            copier.abort()
        ids.finish()
        result.count_rejected = len(rejects)
        result.rejects = sorted(rejects)
        result.encodings = decoder.report()
        mapping.suggestions = suggest_for_extras(layer, mapping, samples)
        result.fields = mapping.describe()
        _check_rejects(layer, src, result)
        if result.count_loaded == 0 and options.mode == "replace":
            raise LoadError(f"{src.label}: no feature could be loaded; nothing was changed")

        keys = _give_ids(conn, layer, src, options, table, current, result) if keyed else None
        tables.index_keys(conn, layer, table, unique=not (keys and keys["generated"]))
        if current and options.mode in ("append", "upsert"):
            kept = _curve_kept(conn, current)
            tables.merge_current_rows(conn, layer, table, current["table_name"], options.mode,
                                      keep_keys=kept)
            if kept:
                curve.pad = max(curve.pad, current["sfc_pad"])
        searchindex.create(conn, layer, table)  # the web role cannot make it later
        tables.index_geometry(conn, layer, table)
        count, bbox = tables.table_stats(conn, table)
        sample, every = tables.curve_sample(conn, table, count)
        # the change feed's diff (by feature id, kept by natural key or the key rule's
        # matching) gives the counts too; without either only counts can be compared (ids are
        # new each load)
        diffed = bool(current and (layer.natural_key or keys))
        if current:
            if diffed:
                result.changes = diff.from_feed(
                    changefeed.diff_tables(conn, current["table_name"], table),
                    tables.table_stats(conn, current["table_name"])[0]
                    if current["feature_count"] is None else current["feature_count"], layer,
                    matched_by=keys["rule"] if keys else None)
            else:
                result.changes = diff.compare(conn, layer, table, current["table_name"])
            result.changes["against"] = current["version"]
            if options.mode == "replace":
                diff.check_shrink(layer, src.label, result.changes, current["version"],
                                  options.allow_shrink)
        else:
            result.changes = diff.first_version(count)
        if keys:
            result.changes.update(diff.key_counts(keys, result.changes))
        result.changes["allow_shrink"] = options.allow_shrink
        result.changes["allow_shift"] = options.allow_shift
        result.feature_count = count
        lineage = dict(
            status="dry_run" if options.dry_run else "current", table_name=table,
            axis_order=result.axis, encodings=result.encodings,
            count_read=result.count_read, count_loaded=result.count_loaded,
            count_repaired=result.count_repaired, count_rejected=result.count_rejected,
            count_empty=result.count_empty,
            rejects=[{"row": r, "reason": w} for r, w in result.rejects[:MAX_REJECTS_KEPT]],
            feature_count=count, bbox=bbox, sfc_pad=curve.pad, sfc_sample=sample,
            sfc_every=every,
            finished_at=pd.Timestamp.now(tz="UTC").to_pydatetime(),
            message=json.dumps({"warnings": result.warnings, "code_lists": result.code_lists,
                                "fields": mapping.describe(), "changes": result.changes,
                                "profile": options.profile}, ensure_ascii=False,
                               default=str))
        if options.dry_run:
            raise _DryRun(lineage)
        versions.update_version(conn, layer.id, version, **lineage)
        versions.make_current(
            conn, versions.TABLES, layer.id,
            {"version": version, "table_name": table, "feature_count": count, "bbox": bbox},
            operator, "load",
            {"version": version, "mode": options.mode, "source": src.label,
             "sha256": src.sha256, "loaded": result.count_loaded,
             "rejected": result.count_rejected, "changes": diff.brief(result.changes)})
        # the feed and webhook outbox commit with the version, or neither does
        changefeed.record_diff(conn, layer.id, version, operator,
                               current["table_name"] if current else None, table, "load",
                               diffed=diffed)
        result.status = "current"


def _give_ids(conn, layer: LayerDef, src: Source, options: LoadOptions, table: str,
              current: dict | None, result: LoadResult) -> dict:
    """Merge segments (keys.merge_segments_by), then give every feature its id: the current
    feature's it matches, or a new one; the shift check on the pairs so made."""
    if layer.keys.merge_segments_by:
        merged = segments.merge(conn, layer, table)
        result.warnings.update(segments.describe(merged))
    keys = matching.assign(conn, layer, table, current["table_name"] if current else None,
                           f"{layer.id}__fid_seq", src.label)
    if layer.keys.merge_segments_by:
        keys["segments"] = merged["segments"]
    if current and not options.allow_shift:
        check_matched_shift(conn, layer, table, current["table_name"], src.label,
                            keys["rule"])
    return keys


def _check_rejects(layer: LayerDef, src: Source, result: LoadResult) -> None:
    share = result.count_rejected / max(result.count_read, 1)
    limit = layer.checks.max_rejected_share
    if share > limit:
        by_reason: dict[str, list[int]] = {}
        for r, why in result.rejects:
            by_reason.setdefault(why, []).append(r)
        reasons = sorted(by_reason.items(), key=lambda kv: -len(kv[1]))
        listing = "; ".join(f"{why} (rows {row_ranges(rows, 8)})" for why, rows in reasons[:5])
        if len(reasons) > 5:
            listing += f"; and {len(reasons) - 5} other reasons"
        raise LoadError(
            f"{src.label}: {result.count_rejected} of {result.count_read} features "
            f"({share:.1%}) were rejected, more than the layer allows ({limit:.1%}). "
            f"Nothing was changed. Rejected rows: {row_ranges([r for r, _ in result.rejects])}."
            f" Why: {listing}. Fix those rows in the source (or raise "
            f"checks.max_rejected_share in layers/{layer.id}.yaml).")


def row_ranges(rows: list[int], limit: int = 30) -> str:
    """'2-44, 50, 61-70' (first `limit` runs, then how many more rows)."""
    runs: list[list[int]] = []
    for r in sorted(set(rows)):
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:limit])
    rest = sum(b - a + 1 for a, b in runs[limit:])
    return text + (f" and {rest:,} more" if rest else "")


class _DryRun(Exception):
    def __init__(self, lineage: dict):
        self.lineage = lineage
