"""The applied coordinate operation: VN-2000 via EPSG:6960, anything else via PROJ's best."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.enums import TransformDirection

from gis.crs.datum import DatumCase, DatumReport, classify_datum
from gis.crs.pipeline import vn2000_pipeline
from gis.crs.source import SourceCRS, resolve_crs
from gis.crs.vn2000 import OFFICIAL_OPERATION

WGS84 = CRS.from_epsg(4326)


@lru_cache(maxsize=256)
def _pipeline_transformer(pipeline: str) -> Transformer:
    return Transformer.from_pipeline(pipeline)  # pyproj >= 3.1 transformers are thread-safe


@dataclass(frozen=True)
class CRSOperation:
    """Source CRS -> WGS 84 (lon, lat), or the reverse when ``forward`` is False."""

    source: SourceCRS
    datum: DatumReport
    operation: str  # e.g. "EPSG:6960 via explicit pipeline (TM-3 105°00' k0=0.9999)"
    pipeline: str  # exact PROJ string of the forward direction
    transformer: Transformer
    accuracy_m: float | None = None
    forward: bool = True
    z_passthrough: bool = True  # VN-2000 heights are normal heights: the shift is horizontal

    @property
    def inverse(self) -> CRSOperation:
        """WGS 84 (lon, lat) -> source CRS (easting, northing or lon, lat)."""
        return CRSOperation(self.source, self.datum, self.operation, self.pipeline,
                            self.transformer, self.accuracy_m, not self.forward,
                            self.z_passthrough)

    def transform(self, x, y, z=None):
        """Transform whole arrays; x/y are easting/northing or lon/lat (lon first), output of
        the forward direction is WGS 84 (lon, lat[, z]). Non-finite input gives inf/nan."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        direction = TransformDirection.FORWARD if self.forward else TransformDirection.INVERSE
        if z is None:
            return self.transformer.transform(x, y, direction=direction)
        z = np.asarray(z, dtype=np.float64)
        if self.z_passthrough:  # same as the pipeline's push/pop of v_3, and NaN-safe
            xo, yo = self.transformer.transform(x, y, direction=direction)
            return xo, yo, z.copy()
        return self.transformer.transform(x, y, z, direction=direction)

    def describe(self) -> dict[str, object]:
        """Fields for the version table: enough to reproduce and audit the load."""
        src = f"EPSG:{self.source.epsg}" if self.source.epsg else self.source.crs.to_wkt()
        return {
            "source_input": self.source.given,
            "source_crs": src,
            "source_epsg": self.source.epsg,
            "target_crs": "EPSG:4326",
            "direction": "forward" if self.forward else "inverse",
            "operation": self.operation,
            "pipeline": self.pipeline,
            "datum_case": str(self.datum.case),
            "datum_message_en": self.datum.message_en,
            "datum_message_vi": self.datum.message_vi,
            "accuracy_m": self.accuracy_m,
        }


def to_wgs84(source, *, assume_vn2000: bool = True) -> CRSOperation:
    """The operation from ``source`` (anything resolve_crs accepts) to WGS 84 lon/lat.
    Every VN-2000 based source goes through EPSG:6960, never PROJ's default (EPSG:5194).
    assume_vn2000=False reads a "VN-2000 nội bộ" (no-shift) CRS literally as WGS 84 based."""
    src = resolve_crs(source)
    report = classify_datum(src)
    literal = report.case is DatumCase.NO_DATUM_SHIFT and not assume_vn2000
    if report.is_vn2000 and not literal:
        pipe, label = vn2000_pipeline(src.crs)
        op = f"{OFFICIAL_OPERATION} via explicit pipeline ({label})"
        return CRSOperation(src, report, op, pipe, _pipeline_transformer(pipe), 1.0)
    tr = Transformer.from_crs(src.crs, WGS84, always_xy=True)
    acc = tr.accuracy if tr.accuracy is not None and tr.accuracy >= 0 else None
    z_pass = not src.crs.is_compound and len(src.crs.axis_info) < 3
    return CRSOperation(src, report, tr.description, tr.to_proj4() or tr.definition, tr, acc,
                        z_passthrough=z_pass)


def from_wgs84(target, *, assume_vn2000: bool = True) -> CRSOperation:
    """WGS 84 lon/lat -> ``target`` (e.g. "vn2000-soctrang"), the exact inverse of to_wgs84."""
    return to_wgs84(target, assume_vn2000=assume_vn2000).inverse
