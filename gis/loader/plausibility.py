"""Does a delivery land where it should? Refuse it, naming the likely cause, if not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from psycopg import sql

from gis.crs import CANTHO_EXTENT, transform_geometries
from gis.crs.diagnose import diagnose
from gis.crs.reference import PreviousVersion
from gis.errors import SPPError
from gis.layerdef import LayerDef

REFERENCE_SAMPLE = 20_000  # features of the previous version used as a reference


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


class PlausibilityGate:
    """Transforms each batch to WGS 84; the first batch is diagnosed as a whole."""

    def __init__(self, layer: LayerDef, op, label: str, reference=None):
        self.layer, self.op, self.label = layer, op, label
        self.reference = reference
        self.margin = layer.checks.margin_m
        self.checked = False
        self.diagnosis = None

    def _diagnose(self, geoms: np.ndarray, axis_order_used: str) -> None:
        coords = shapely.get_coordinates(geoms)
        if not len(coords):
            return
        result = diagnose(coords[:, 0], coords[:, 1], self.op, extent=CANTHO_EXTENT,
                          margin_m=self.margin, reference=self.reference,
                          min_inside=0.5, axis_order_used=axis_order_used)
        self.diagnosis = result
        if not result.ok:
            fix = []
            if result.suggested_source_crs:
                fix.append(f"--source-crs {result.suggested_source_crs}")
            if result.suggested_axis_order:
                order = "yx" if "northing" in result.suggested_axis_order else "xy"
                fix.append(f"--axis-order {order}")
            raise ImplausibleLoadError(
                f"{self.label}: coordinates do not fit Cần Thơ as declared "
                f"({result.declared}); cause: {result.cause}.\n{result.message_en}\n"
                f"{result.message_vi}" + (f"\nFix: {' '.join(fix)}" if fix else "") +
                "\nNothing was changed.")

    def transform_and_check(self, geoms: np.ndarray, rows: np.ndarray, rejects: list,
                            axis_order_used: str = "easting_first") -> Transformed:
        if not self.checked and len(geoms):
            self._diagnose(geoms, axis_order_used)
            self.checked = True
        wgs = transform_geometries(geoms, self.op)
        b = shapely.bounds(wgs)
        ok = (CANTHO_EXTENT.contains(b[:, 0], b[:, 1], self.margin)
              & CANTHO_EXTENT.contains(b[:, 2], b[:, 3], self.margin))
        for i in np.flatnonzero(~ok):
            rejects.append((int(rows[i]), f"outside {CANTHO_EXTENT} + {self.margin:.0f} m "
                                          f"(at {b[i, 0]:.5f}, {b[i, 1]:.5f})"))
        return Transformed(wgs[ok], ok)
