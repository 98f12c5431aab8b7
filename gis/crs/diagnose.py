"""Plausibility of a load: does it land in Cần Thơ, and if not (or if a reference fits
another reading clearly better), which classic mistake explains it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gis.crs.candidates import Candidate, candidates
from gis.crs.errors import ImplausibleCoordinatesError
from gis.crs.extent import CANTHO_EXTENT, DEFAULT_MARGIN_M, Extent
from gis.crs.messages import compose
from gis.crs.operation import CRSOperation, to_wgs84
from gis.crs.reference import as_reference


@dataclass(frozen=True)
class Score:
    inside_extent: float  # share of points inside the extent + margin
    fit: float | None = None  # share fitting the reference (polygons / callable)
    median_offset_m: float | None = None  # median distance to the previous version


@dataclass(frozen=True)
class Diagnosis:
    ok: bool
    cause: str  # "ok", "unknown", or causes joined by "+", e.g. "swapped_axes+wrong_zone"
    message_en: str
    message_vi: str
    declared: str
    suggested_source_crs: str | None = None
    suggested_axis_order: str | None = None
    suggested_assume_vn2000: bool | None = None
    scores: dict[str, Score] = field(default_factory=dict)
    also_consistent: tuple[str, ...] = ()


def _metric(score: Score | None) -> float:
    """Higher is better for every reference kind."""
    if score is None:
        return -np.inf
    if score.median_offset_m is not None:
        return -score.median_offset_m
    return score.fit if score.fit is not None else score.inside_extent


def _clearly_better(a: Score, b: Score, min_fit_gain: float, min_offset_gain_m: float) -> bool:
    if a.median_offset_m is not None and b.median_offset_m is not None:
        return (a.median_offset_m <= 0.5 * b.median_offset_m
                and b.median_offset_m - a.median_offset_m >= min_offset_gain_m)
    if a.fit is not None and b.fit is not None:
        return a.fit - b.fit >= min_fit_gain and (1 - a.fit) <= 0.5 * (1 - b.fit)
    return False


def diagnose(x, y, declared, *, extent: Extent = CANTHO_EXTENT,
             margin_m: float = DEFAULT_MARGIN_M, reference=None, min_inside: float = 0.99,
             axis_order_used: str = "easting_first", max_points: int = 10_000,
             min_fit_gain: float = 0.02, min_offset_gain_m: float = 2.0) -> Diagnosis:
    """Score the declared reading of (x, y) and the usual wrong ones.

    declared: anything resolve_crs/to_wgs84 accepts, or a CRSOperation. reference: ward
    polygons (PolygonReference, optionally with expected codes per point), a PreviousVersion,
    or a callable f(lon, lat) -> per-point score. Without a reference only the extent is
    checked, which cannot see UTM/TM-3 (≈333 m) or datum (≈225 m) mix-ups."""
    op = declared if isinstance(declared, CRSOperation) else to_wgs84(declared)
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.size == 0:
        return Diagnosis(True, "ok", "No coordinates to check.", "Không có tọa độ để kiểm tra.",
                         op.source.label)
    idx = (np.arange(x.size) if x.size <= max_points
           else np.linspace(0, x.size - 1, max_points).astype(np.intp))
    xs, ys = x[idx], y[idx]
    ref = as_reference(reference)
    cands = candidates(op, xs, ys)
    scores: dict[str, Score] = {}
    for cand in cands:
        lon, lat = cand.op.transform(*((ys, xs) if cand.swap else (xs, ys)))
        inside = float(extent.contains(lon, lat, margin_m).mean()) if xs.size else 0.0
        score = Score(inside)
        declared_inside = scores["declared"].inside_extent if scores else inside
        if ref is not None and (inside >= min_inside or inside >= declared_inside):
            value = ref.evaluate(lon, lat, idx)
            score = (Score(inside, median_offset_m=value) if ref.metric == "offset_m"
                     else Score(inside, fit=value))
        scores[cand.label] = score
    decl = scores["declared"]
    declared_ok = decl.inside_extent >= min_inside
    ranked = sorted(cands[1:], key=lambda c: (scores[c.label].inside_extent >= min_inside,
                                               _metric(scores[c.label]), -c.prior), reverse=True)
    best = ranked[0] if ranked else None
    best_score = scores[best.label] if best else None
    found = best is not None and best_score.inside_extent >= min_inside and (
        not declared_ok or _clearly_better(best_score, decl, min_fit_gain, min_offset_gain_m))
    if found and not declared_ok and ref is None and best_score.inside_extent <= decl.inside_extent:
        found = False
    chosen: Candidate | None = best if found else None
    also = tuple(c.label for c in ranked[1:] if chosen is not None
                 and scores[c.label].inside_extent >= min_inside
                 and abs(_metric(scores[c.label]) - _metric(best_score)) < 1e-9)
    ok = declared_ok and chosen is None
    text = compose(op, chosen, ok, decl, best_score if chosen else None, also, extent,
                   margin_m, axis_order_used)
    return Diagnosis(ok=ok, declared=op.source.label, scores=scores, also_consistent=also,
                     **text)


def check_plausible(x, y, declared, **kwargs) -> Diagnosis:
    """diagnose(), raising ImplausibleCoordinatesError (with the diagnosis) unless ok."""
    result = diagnose(x, y, declared, **kwargs)
    if not result.ok:
        raise ImplausibleCoordinatesError(result)
    return result
