"""Build the explicit EPSG:6960 PROJ pipeline for any VN-2000 based CRS."""

from __future__ import annotations

from pyproj import CRS

from gis.crs.datum import horizontal_crs
from gis.crs.errors import CRSError
from gis.crs.vn2000 import DATUM_SHIFT_STEPS, dms_label

# EPSG parameter codes of the Transverse Mercator method (9807) -> PROJ names.
_TM_PARAMS = {"8801": "lat_0", "8802": "lon_0", "8805": "k", "8806": "x_0", "8807": "y_0"}


def _fmt(value: float) -> str:
    return f"{value:.12g}"


def projection_step(crs: CRS) -> tuple[str, str]:
    """The forward projection of a VN-2000 projected CRS as a PROJ step, plus a short label.
    Only Transverse Mercator exists for VN-2000 (TM-3 zones and UTM)."""
    conv = crs.coordinate_operation
    if conv is None or conv.method_code != "9807":
        method = conv.method_name if conv is not None else "none"
        raise CRSError(f"VN-2000 projection method {method!r} of {crs.name!r} is not supported; "
                       "VN-2000 uses Transverse Mercator (TM-3 zones, UTM 48N/49N).")
    unit = crs.axis_info[0].unit_conversion_factor
    if abs(unit - 1.0) > 1e-12:
        raise CRSError(f"{crs.name!r} is in {crs.axis_info[0].unit_name}, not metres; "
                       "convert the coordinates to metres first.")
    values = {}
    for p in conv.params:
        if p.code in _TM_PARAMS:
            factor = p.unit_conversion_factor
            angle = p.code in ("8801", "8802")
            values[_TM_PARAMS[p.code]] = p.value * factor * (57.29577951308232 if angle else 1)
    if abs(values.get("x_0", 0)) < 1e-3 and abs(values.get("y_0", 0) - 500000) < 1e-3:
        raise CRSError(f"{crs.name!r} has false easting 0 and false northing 500000 (the "
                       "swapped values of deprecated EPSG 6956-6959); use the current code.")
    step = "+proj=tmerc " + " ".join(f"+{k}={_fmt(v)}" for k, v in values.items())
    kind = "UTM" if abs(values["k"] - 0.9996) < 1e-9 else "TM-3"
    return step + " +ellps=WGS84", f"{kind} {dms_label(values['lon_0'])} k0={_fmt(values['k'])}"


def vn2000_pipeline(crs: CRS) -> tuple[str, str]:
    """PROJ pipeline from the VN-2000 CRS (x=easting/lon, y=northing/lat) to WGS 84 lon/lat in
    degrees, through the official Helmert set (EPSG:6960), and a label of the input side."""
    base = horizontal_crs(crs)
    base = base.source_crs if base.is_bound else base
    if base.is_projected:
        step, label = projection_step(base)
        first = f"+step +inv {step}"
    elif base.is_geographic:
        factor = base.axis_info[0].unit_conversion_factor
        if abs(factor - 0.017453292519943295) > 1e-15:
            raise CRSError(f"{base.name!r} is in {base.axis_info[0].unit_name}; only degrees "
                           "are supported for geographic VN-2000.")
        first, label = "+step +proj=unitconvert +xy_in=deg +xy_out=rad", "geographic VN-2000"
    else:
        raise CRSError(f"{base.name!r} is neither geographic nor projected.")
    pipe = (f"+proj=pipeline {first} {DATUM_SHIFT_STEPS} "
            "+step +proj=unitconvert +xy_in=rad +xy_out=deg")
    return pipe, label
