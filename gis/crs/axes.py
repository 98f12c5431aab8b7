"""Axis order of coordinate tables: Vietnamese surveys write X = northing, Y = easting."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from gis.crs.extent import CANTHO_EXTENT, DEFAULT_MARGIN_M, Extent
from gis.crs.operation import CRSOperation, to_wgs84


class AxisOrder(StrEnum):
    EASTING_FIRST = "easting_first"  # x = easting / longitude (GIS convention)
    NORTHING_FIRST = "northing_first"  # x = northing / latitude (survey tables, EPSG lat/lon)

    @classmethod
    def _missing_(cls, value):  # CLI spellings "xy" / "yx"
        return {"xy": cls.EASTING_FIRST, "yx": cls.NORTHING_FIRST}.get(str(value).lower())


def opposite_spelling(order: str) -> str:
    """The other axis order, in the vocabulary ``order`` was given in ("xy"/"yx" or long)."""
    other = (AxisOrder.EASTING_FIRST if AxisOrder(order) is AxisOrder.NORTHING_FIRST
             else AxisOrder.NORTHING_FIRST)
    if str(order).lower() in ("xy", "yx"):
        return "xy" if other is AxisOrder.EASTING_FIRST else "yx"
    return other.value


@dataclass(frozen=True)
class AxisOrderGuess:
    order: AxisOrder
    confidence: float  # 0.5 = coin toss, 1.0 = certain (or explicitly given)
    reason: str


def _sample(a: np.ndarray, n: int = 5000) -> np.ndarray:
    return a if a.size <= n else a[np.linspace(0, a.size - 1, n).astype(np.intp)]


def detect_axis_order(first, second, source, *, extent: Extent = CANTHO_EXTENT,
                      margin_m: float = DEFAULT_MARGIN_M) -> AxisOrderGuess:
    """Guess whether the first column is easting or northing from where each reading lands;
    if neither lands in ``extent``, fall back to magnitudes (in Vietnam northing > easting
    for every VN-2000 grid, longitude > latitude)."""
    op = source if isinstance(source, CRSOperation) else to_wgs84(source)
    a = _sample(np.asarray(first, dtype=np.float64).ravel())
    b = _sample(np.asarray(second, dtype=np.float64).ravel())
    if a.size == 0:
        return AxisOrderGuess(AxisOrder.EASTING_FIRST, 0.5, "no coordinates")
    as_given = extent.contains(*op.transform(a, b), margin_m).mean()
    swapped = extent.contains(*op.transform(b, a), margin_m).mean()
    if as_given != swapped:
        order = AxisOrder.EASTING_FIRST if as_given > swapped else AxisOrder.NORTHING_FIRST
        conf = 0.5 + 0.5 * abs(as_given - swapped)
        return AxisOrderGuess(order, conf, f"{as_given:.0%} of points land in {extent} as "
                              f"given, {swapped:.0%} with the columns swapped")
    finite = np.isfinite(a) & np.isfinite(b)
    if not finite.any():
        return AxisOrderGuess(AxisOrder.EASTING_FIRST, 0.5, "no finite coordinates")
    ma, mb = np.median(np.abs(a[finite])), np.median(np.abs(b[finite]))
    if ma == mb:
        return AxisOrderGuess(AxisOrder.EASTING_FIRST, 0.5, "columns indistinguishable")
    # geographic: lon (102-110) > lat (8-24); projected: northing (>900 km) > easting
    bigger_is_first = ma > mb
    geographic = op.source.crs.is_geographic
    first_is_east = bigger_is_first if geographic else not bigger_is_first
    order = AxisOrder.EASTING_FIRST if first_is_east else AxisOrder.NORTHING_FIRST
    return AxisOrderGuess(order, 0.6, f"neither order lands in {extent}; guessed from "
                          f"magnitudes (median {ma:.6g} vs {mb:.6g})")


def orient(first, second, source, axis_order: str = "auto", **kwargs):
    """Return (x, y, guess) with x = easting/lon. axis_order: "auto", "easting_first" or
    "northing_first" (explicit override, e.g. from --axis-order)."""
    if axis_order == "auto":
        guess = detect_axis_order(first, second, source, **kwargs)
    else:
        guess = AxisOrderGuess(AxisOrder(axis_order), 1.0, "given explicitly")
    if guess.order is AxisOrder.NORTHING_FIRST:
        return np.asarray(second), np.asarray(first), guess
    return np.asarray(first), np.asarray(second), guess
