"""Does a delivery land where it should? Refuse it, naming the likely cause, if not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import shapely
from psycopg import sql

from gis.crs import CANTHO_EXTENT, transform_geometries
from gis.crs.diagnose import diagnose
from gis.crs.extent import metres_per_degree
from gis.crs.reference import PolygonReference, PreviousVersion
from gis.errors import SPPError
from gis.layerdef import LayerDef, load_layer_defs, references

REFERENCE_SAMPLE = 20_000  # features of the previous version used as a reference
# A reading must put this many more features in their ward to overrule the declared CRS:
# real deliveries have a few miscoded parcels, a zone mix-up moves many more.
MIN_FIT_GAIN = 0.05
# Matched features needed before the previous version (by natural key) judges the CRS.
MIN_MATCHED = 20
# Share of matched features that must move alike for a shift to count as systematic.
MIN_CONSISTENT = 0.5


SHIFT_OVERRIDE = (" If it is the current version that is misplaced (or the whole survey was "
                  "re-adjusted), load with --allow-shift to skip the comparison with it.")


class ImplausibleLoadError(SPPError):
    exit_code = 2


@dataclass
class Transformed:
    geoms: np.ndarray  # WGS 84 geometries of the kept features
    keep: np.ndarray  # bool over the input: inside the city extent (+ margin)


def previous_version_reference(conn, layer: LayerDef):
    """A sample of the current version, to compare a re-delivery against (None if none)."""
    exists = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s",
                          (layer.id,)).fetchone()
    if not exists or not exists["current_version"]:
        return None
    rows = conn.execute(sql.SQL(
        "SELECT ST_AsBinary(geom) AS g FROM data.{} ORDER BY fid LIMIT %s").format(
        sql.Identifier(layer.id)), (REFERENCE_SAMPLE,)).fetchall()
    if not rows:
        return None
    return PreviousVersion(shapely.from_wkb([r["g"] for r in rows]))


def key_strings(frame, fields: list[str]) -> np.ndarray:
    """One string a feature from the values of ``fields``, its natural key or, under a key
    rule that generates keys, its compared attributes (same form as previous_key_points)."""
    parts = [frame[k].astype("string").fillna("").to_numpy(dtype=object) for k in fields]
    return np.array(["\x1f".join(map(str, t)) for t in zip(*parts, strict=True)], dtype=object)


def previous_key_points(conn, layer: LayerDef, fields: list[str] | None = None):
    """The centroids of the current version by key (PreviousKeyPoints), or None; the key is
    the values of ``fields`` (default: the natural key)."""
    fields = layer.natural_key if fields is None else fields
    exists = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s",
                          (layer.id,)).fetchone()
    if not fields or not exists or not exists["current_version"]:
        return None
    return PreviousKeyPoints(conn, layer, fields)


class PreviousKeyPoints:
    """{key: (lon, lat) of the centroid} of the current version's features, for the keys
    only one feature has, fetched for the keys asked: the check needs those of the first
    batch only, not a map of the whole layer."""

    def __init__(self, conn, layer: LayerDef, fields: list[str]):
        self.conn, self.layer = conn, layer
        self.key = sql.SQL("concat_ws(E'\\x1f', {})").format(sql.SQL(", ").join(
            sql.SQL("coalesce({}::text, '')").format(sql.Identifier(k)) for k in fields))

    def lookup(self, keys) -> dict:
        rows = self.conn.execute(sql.SQL(
            "SELECT k, ST_X(min(c)) AS x, ST_Y(min(c)) AS y FROM (SELECT {} AS k, "
            "ST_Centroid(geom) AS c FROM data.{} WHERE {} = ANY(%s)) s GROUP BY 1 "
            "HAVING count(*) = 1").format(self.key, sql.Identifier(self.layer.id), self.key),
            (list(dict.fromkeys(keys)),)).fetchall()
        return {r["k"]: (r["x"], r["y"]) for r in rows}


class WardReference(NamedTuple):
    polygons: np.ndarray
    codes: np.ndarray  # the reference layer's key of each polygon
    field: str  # the field of the loaded layer holding that key


def ward_polygons(conn, layer: LayerDef, defs: dict | None = None) -> WardReference | None:
    """The polygons of the loaded reference layer (a layer file with
    ``checks.reference_for``, e.g. wards) whose ``field`` the layer carries; else None."""
    defs = load_layer_defs() if defs is None else defs
    for ref in references(layer, defs):
        rf = ref.checks.reference_for
        loaded = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s",
                              (ref.id,)).fetchone()
        if not loaded or not loaded["current_version"]:
            continue
        rows = conn.execute(sql.SQL("SELECT {} AS code, ST_AsBinary(geom) AS g FROM {}").format(
            sql.Identifier(rf.key), sql.Identifier("data", ref.id))).fetchall()
        return WardReference(shapely.from_wkb([r["g"] for r in rows]),
                             np.array([str(r["code"]) for r in rows]), rf.field)
    return None


class PlausibilityGate:
    """Transforms each batch to WGS 84; the first batch is diagnosed as a whole."""

    def __init__(self, layer: LayerDef, op, label: str, reference=None, wards=None,
                 previous=None, key_fields: list[str] | None = None):
        self.layer, self.op, self.label = layer, op, label
        # the fields `previous` is keyed by (default: the natural key)
        self.key_fields = layer.natural_key if key_fields is None else key_fields
        self.reference = reference  # e.g. the previous version
        self.wards = wards  # (polygons, codes): each feature must lie in its own ward
        self.previous = previous  # PreviousKeyPoints of the current version
        self.margin = layer.checks.margin_m
        self.checked = False
        self.diagnosis = None

    def _matched(self, coords: np.ndarray, keys):
        """(source coords, previous lon/lat) of the features the current version also has."""
        if self.previous is None or keys is None or len(keys) != len(coords):
            return None
        points = self.previous.lookup(keys)
        hit = [points.get(k) for k in keys]
        found = np.array([h is not None for h in hit], dtype=bool)
        if found.sum() < MIN_MATCHED:
            return None
        before = np.array([h for h in hit if h is not None], dtype=np.float64)
        return coords[found], before

    def _diagnose(self, geoms: np.ndarray, axis_order_used: str, expected, keys=None) -> None:
        # One point a feature: a parcel on a ward boundary has vertices on both sides, but
        # its centre is in the ward its code names.
        coords = shapely.get_coordinates(shapely.centroid(geoms))
        if not len(coords):
            return
        reference = self.reference
        matched = self._matched(coords, keys)
        if matched is not None:
            # The same features before: the most exact reference there is (metres, not wards).
            coords, before = matched
            reference = PreviousVersion((before[:, 0], before[:, 1]), paired=True)
        elif self.wards is not None and expected is not None:
            codes = np.asarray(expected, dtype=object)
            known = np.isin(codes.astype(str), self.wards[1])
            if known.mean() > 0.5:  # the delivery uses the new ward codes: check against them
                reference = PolygonReference(self.wards[0], self.wards[1], codes.astype(str))
        result = diagnose(coords[:, 0], coords[:, 1], self.op, extent=CANTHO_EXTENT,
                          margin_m=self.margin, reference=reference,
                          min_inside=0.5, axis_order_used=axis_order_used,
                          min_fit_gain=MIN_FIT_GAIN)
        self.diagnosis = result
        if not result.ok:
            fix = []
            if result.suggested_source_crs:
                fix.append(f"--source-crs {result.suggested_source_crs}")
            if result.suggested_axis_order:
                fix.append(f"--axis-order {result.suggested_axis_order}")
            raise ImplausibleLoadError(
                f"{self.label}: coordinates do not fit Cần Thơ as declared "
                f"({result.declared}); cause: {result.cause}.\n{result.message_en}\n"
                f"{result.message_vi}" + (f"\nFix: {' '.join(fix)}" if fix else "") +
                "\nNothing was changed." + (SHIFT_OVERRIDE if matched is not None else ""))
        if matched is not None:
            self._check_shift(coords, matched[1])

    def _check_shift(self, coords: np.ndarray, before: np.ndarray) -> None:
        """No other reading explains it, but the same features moved alike: still refuse."""
        lon, lat = self.op.transform(coords[:, 0], coords[:, 1])
        scale = np.array(metres_per_degree(float(np.nanmean(before[:, 1]))))
        moved = (np.column_stack([lon, lat]) - before) * scale
        refusal = shift_refusal(moved, self.layer.checks.max_shift_m, self.label,
                                ", ".join(self.key_fields))
        if refusal:
            raise ImplausibleLoadError(refusal)

    def transform_and_check(self, geoms: np.ndarray, rows: np.ndarray, rejects: list,
                            axis_order_used: str = "xy", expected=None,
                            keys=None) -> Transformed:
        if not self.checked and len(geoms):
            self._diagnose(geoms, axis_order_used, expected, keys)
            self.checked = True
        wgs = transform_geometries(geoms, self.op)
        b = shapely.bounds(wgs)
        ok = (CANTHO_EXTENT.contains(b[:, 0], b[:, 1], self.margin)
              & CANTHO_EXTENT.contains(b[:, 2], b[:, 3], self.margin))
        for i in np.flatnonzero(~ok):
            rejects.append((int(rows[i]), f"outside {CANTHO_EXTENT} + {self.margin:.0f} m "
                                          f"(at {b[i, 0]:.5f}, {b[i, 1]:.5f})"))
        return Transformed(wgs[ok], ok)


def shift_refusal(moved: np.ndarray, limit: float, label: str, matched_by: str) -> str | None:
    """The refusal of a delivery whose matched features (``moved``: metres east, north a
    feature) moved alike by more than ``limit``; None when in place or a partial re-survey."""
    if len(moved) < MIN_MATCHED:
        return None
    median = np.nanmedian(moved, axis=0)
    size = float(np.hypot(*median))
    alike = np.hypot(*(moved - median).T) <= max(limit, 0.25 * size)
    if size <= limit or alike.mean() < MIN_CONSISTENT:
        return None  # in place, or a re-survey of some features
    return (
        f"{label}: {alike.sum():,} of {len(moved):,} features also in the current "
        f"version (matched by {matched_by}) moved alike by "
        f"{size:.1f} m ({median[0]:+.1f} m east, {median[1]:+.1f} m north), more than "
        f"checks.max_shift_m ({limit:g} m). A whole delivery moving together is a "
        f"coordinate system mistake, not a re-survey: UTM 48N read as TM-3 (or the "
        f"reverse, ≈26 m E-W and ≈333 m N-S), the wrong TM-3 zone, or VN-2000 without its "
        f"datum shift (≈225 m). Nothing was changed. Fix: load again with the --source-crs "
        f"the file was really made in (vn2000-cantho, vn2000-soctrang, vn2000-utm48, "
        f"EPSG:4326...)." + SHIFT_OVERRIDE)


def check_matched_shift(conn, layer: LayerDef, table: str, current_table: str, label: str,
                        matched_by: str) -> None:
    """The shift check once ids are given (features of both versions with the same fid):
    for deliveries whose features only exist whole after the load merged them."""
    rows = conn.execute(sql.SQL(
        "SELECT ST_X(a) AS x1, ST_Y(a) AS y1, ST_X(b) AS x0, ST_Y(b) AS y0 FROM (SELECT "
        "ST_Centroid(n.geom) AS a, ST_Centroid(c.geom) AS b FROM {} n JOIN {} c USING (fid)) "
        "s").format(sql.Identifier("data", table), sql.Identifier("data", current_table))
    ).fetchall()
    if len(rows) < MIN_MATCHED:
        return
    xy = np.array([[r["x1"], r["y1"], r["x0"], r["y0"]] for r in rows], dtype=np.float64)
    scale = np.array(metres_per_degree(float(np.nanmean(xy[:, 3]))))
    refusal = shift_refusal((xy[:, :2] - xy[:, 2:]) * scale, layer.checks.max_shift_m, label,
                            matched_by)
    if refusal:
        raise ImplausibleLoadError(refusal)
