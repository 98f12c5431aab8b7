"""One batch of a delivery, from source rows to the rows of the layer table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from gis.codelists import validate as validate_codes
from gis.crs.axes import orient
from gis.layerdef import LayerDef
from gis.loader.areas import plane_and_geodesic_areas
from gis.loader.geometry import prepare
from gis.loader.plausibility import key_strings
from gis.loader.profile import apply_profile
from gis.loader.schema import coerce
from gis.loader.source import Batch


@dataclass
class BatchOutcome:
    typed: pd.DataFrame  # layer columns (fields, *_codelist, areas, extra) of the kept rows
    geoms: np.ndarray  # WGS 84 geometries of the kept rows
    rows: np.ndarray  # source row numbers of the kept rows
    rejects: list[tuple[int, str]] = field(default_factory=list)
    repaired: int = 0
    empty: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    code_lists: dict[str, int] = field(default_factory=dict)
    axis: str | None = None
    samples: dict[str, list] = field(default_factory=dict)  # extra field -> a few values


def _points_from_columns(batch: Batch, op, axis: str | None):
    first, second = batch.coords
    ok = np.isfinite(first) & np.isfinite(second)
    x, y, guess = orient(first[ok], second[ok], op, axis or "auto")
    geoms = np.full(len(first), None, dtype=object)
    geoms[ok] = shapely.points(x, y)
    used = "yx" if guess.order == "northing_first" else "xy"
    return geoms, used, f"{guess.order} ({guess.reason})"


def _readable(value) -> str | None:
    """A CSV cell read byte-preserving (latin1), shown as UTF-8 when it is."""
    if value is None:
        return None
    try:
        return str(value).encode("latin1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return str(value)


def _empty_reason(batch: Batch, i: int) -> str:
    if batch.coord_text is not None:
        x, y = (_readable(t[i]) for t in batch.coord_text)
        return f"coordinates {x!r}, {y!r} are not numbers"
    return "no geometry (missing, empty or unreadable in the file)"


def _validate_codes(typed: pd.DataFrame, layer: LayerDef, out: BatchOutcome) -> None:
    for f in layer.fields:
        if not f.codelist:
            continue
        raw = typed[f.name].tolist()
        norm, versions, invalid = validate_codes(f.codelist, raw)
        # An unknown code is kept as delivered (and reported), never blanked.
        typed[f.name] = pd.array([n if n is not None else r
                                  for n, r in zip(norm, raw, strict=True)], dtype="string")
        typed[f"{f.name}_codelist"] = pd.array(versions, dtype="string")
        for value in invalid:
            key = f"{f.name}: code {value!r} not in any known code list"
            out.warnings[key] = out.warnings.get(key, 0) + sum(1 for r in raw if r == value)
        for v in versions:
            if v:
                out.code_lists[v] = out.code_lists.get(v, 0) + 1


def _samples(frame: pd.DataFrame, columns: list[str], n: int = 3) -> dict[str, list]:
    """A few distinct values of each column, for suggestions (never stored)."""
    out = {}
    for col in columns:
        values = frame[col].dropna().astype(str).str.strip()
        out[col] = [v for v in values[values != ""].unique()[:n].tolist()]
    return out


def process_batch(batch: Batch, layer: LayerDef, op, mapping, decoder, gate,
                  axis: str | None, optional: frozenset[str] = frozenset(),
                  profile=None) -> BatchOutcome:
    frame = decoder.decode(batch.frame)
    frame, made_bad = apply_profile(frame, mapping, profile, layer)
    axis_used, axis_note = "xy", None
    if batch.coords is not None:  # CSV: points from coordinate columns
        geoms, axis_used, axis_note = _points_from_columns(batch, op, axis)
    else:
        geoms = batch.geoms
    prepared = prepare(geoms, layer.geometry)
    rejects = [(int(batch.rows[i]), why) for i, why in prepared.reasons.items()]
    # A feature without a usable geometry is a reject like any other: a file whose rows
    # cannot be read must not pass as a smaller delivery.
    rejects += [(int(batch.rows[i]), _empty_reason(batch, i))
                for i in np.flatnonzero(prepared.empty)]

    coerced = coerce(frame, mapping, layer, optional)
    for i, why in made_bad.items():
        coerced.bad_rows.setdefault(i, why)
    keep = prepared.keep.copy()
    ward_field = gate.wards.field if gate.wards is not None else None
    expected = (coerced.frame[ward_field].to_numpy()[keep]
                if ward_field in coerced.frame else None)
    source_geoms = prepared.geoms[keep]
    keys = (key_strings(coerced.frame.iloc[np.flatnonzero(keep)], gate.key_fields)
            if gate.key_fields and gate.previous is not None and not gate.checked else None)
    checked = gate.transform_and_check(source_geoms, batch.rows[keep], rejects, axis_used,
                                       expected, keys)
    candidates = np.flatnonzero(keep)
    keep[candidates[~checked.keep]] = False
    for i, why in coerced.bad_rows.items():
        if keep[i]:
            rejects.append((int(batch.rows[i]), why))
            keep[i] = False
    # positions among the features that passed the geometry and extent checks
    passed = candidates[checked.keep]
    final = np.isin(passed, np.flatnonzero(keep))
    wgs = checked.geoms[final]
    sel = passed[final]

    typed = coerced.frame.iloc[sel].reset_index(drop=True)
    out = BatchOutcome(typed, wgs, batch.rows[sel], rejects,
                       repaired=int(prepared.repaired[sel].sum()),
                       empty=int(prepared.empty.sum()), warnings=dict(coerced.warnings),
                       axis=axis_note, samples=_samples(frame, mapping.extra))
    _validate_codes(typed, layer, out)
    if layer.plane_area:
        src_kept = source_geoms[checked.keep][final]
        typed["area_plane_m2"], typed["area_geodesic_m2"] = plane_and_geodesic_areas(
            src_kept, wgs, op)
    if mapping.extra:
        extra = frame[mapping.extra].iloc[sel].reset_index(drop=True)
        typed["extra"] = extra.to_json(orient="records", lines=True, force_ascii=False,
                                       date_format="iso").splitlines() if len(extra) else []
    else:
        typed["extra"] = None
    return out
