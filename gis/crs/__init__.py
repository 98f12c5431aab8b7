"""Coordinate-system layer: resolve a source CRS, transform VN-2000 through EPSG:6960 (never
PROJ's default EPSG:5194), check that a load lands in Cần Thơ and say why not."""

from gis.crs.area import area_geodesic, area_vn2000
from gis.crs.axes import AxisOrder, AxisOrderGuess, detect_axis_order, orient
from gis.crs.datum import DatumCase, DatumReport, classify_datum
from gis.crs.diagnose import Diagnosis, Score, check_plausible, diagnose
from gis.crs.errors import CRSError, ImplausibleCoordinatesError
from gis.crs.extent import CANTHO_EXTENT, DEFAULT_MARGIN_M, Extent
from gis.crs.geometry import transform_geometries
from gis.crs.operation import CRSOperation, from_wgs84, to_wgs84
from gis.crs.reference import CallableReference, PolygonReference, PreviousVersion
from gis.crs.source import SourceCRS, resolve_crs
from gis.crs.vn2000 import PRESETS

__all__ = [
    "AxisOrder", "AxisOrderGuess", "CANTHO_EXTENT", "CRSError", "CRSOperation",
    "CallableReference", "DEFAULT_MARGIN_M", "DatumCase", "DatumReport", "Diagnosis",
    "Extent", "ImplausibleCoordinatesError", "PRESETS", "PolygonReference", "PreviousVersion",
    "Score", "SourceCRS", "area_geodesic", "area_vn2000", "check_plausible", "classify_datum",
    "detect_axis_order", "diagnose", "from_wgs84", "orient", "resolve_crs", "to_wgs84",
    "transform_geometries",
]
