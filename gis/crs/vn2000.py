"""VN-2000 facts (Decision 05/2007/QĐ-BTNMT, EPSG v11): datum shift, zones and presets."""

from __future__ import annotations

import re

# Official 7 parameters, coordinate-frame convention (as printed in the Decision = EPSG:6960).
HELMERT_CF = (-191.90441429, -39.30318279, -111.45032835, -0.00928836, 0.01975479, -0.00427372,
              0.252906278)
# The same set in the position-vector convention used by +towgs84 / WKT1 TOWGS84.
HELMERT_PV = HELMERT_CF[:3] + tuple(-r for r in HELMERT_CF[3:6]) + HELMERT_CF[6:]

HELMERT_STEP = (
    "+step +proj=helmert +x={} +y={} +z={} +rx={} +ry={} +rz={} +s={} "
    "+convention=coordinate_frame".format(*HELMERT_CF)
)
# z is pushed/popped: heights in Vietnam are Hòn Dấu normal heights, not ellipsoidal heights,
# so the shift is horizontal only (this is how PROJ applies EPSG:6960 between 2D CRSs).
DATUM_SHIFT_STEPS = (
    "+step +proj=push +v_3 +step +proj=cart +ellps=WGS84 " + HELMERT_STEP
    + " +step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3"
)
WGS84_A, WGS84_RF = 6378137.0, 298.257223563
OFFICIAL_OPERATION = "EPSG:6960"

# Central meridian (degrees) -> EPSG code of the VN-2000 / TM-3 projected CRS.
TM3_ZONES = {
    102.0: 5896, 103.0: 9205, 104.0: 9206, 104.5: 9207, 104.75: 9208, 105.0: 5897, 105.5: 9209,
    105.75: 9210, 106.0: 9211, 106.25: 9212, 106.5: 9213, 107.0: 9214, 107.25: 9215,
    107.5: 9216, 107.75: 5899, 108.0: 5898, 108.25: 9217, 108.5: 9218,
}
UTM_ZONES = {105.0: 3405, 111.0: 3406}
# Deprecated EPSG codes with false easting/northing swapped -> their replacement.
DEPRECATED = {6956: 5896, 6957: 5897, 6958: 5898, 6959: 5899}


def _tm3_name(lon_0: float) -> str:
    deg, minutes = int(lon_0), round((lon_0 % 1) * 60)
    return f"vn2000-tm3-{deg:03d}{minutes:02d}"


PRESETS: dict[str, int] = {_tm3_name(cm): code for cm, code in TM3_ZONES.items()}
PRESETS.update({
    "vn2000-cantho": 5897, "vn2000-haugiang": 5897, "vn2000-soctrang": 9209,
    "vn2000-utm48": 3405, "vn2000-utm49": 3406, "vn2000-geographic": 4756,
    "wgs84": 4326, "wgs84-utm48": 32648,
})
# The names we suggest in messages, most specific first.
PREFERRED_PRESET = {5897: "vn2000-cantho", 9209: "vn2000-soctrang", 3405: "vn2000-utm48",
                    4756: "vn2000-geographic", 4326: "wgs84", 32648: "wgs84-utm48"}
for _name, _code in PRESETS.items():
    PREFERRED_PRESET.setdefault(_code, _name)

NAME_HINT = re.compile(r"vn[-_ ]?2000|viet[-_ ]?nam[-_ ]?2000", re.IGNORECASE)


def preset_for(code: int | None) -> str | None:
    """The preset name users should type for an EPSG code, if there is one."""
    return PREFERRED_PRESET.get(code) if code is not None else None


def is_tm3_grid(lon_0: float, k: float, x_0: float, y_0: float) -> bool:
    """True for a VN-2000 TM-3 projection: k0 0.9999, FE 500 000, FN 0, CM on the 15' grid."""
    on_grid = 102.0 <= lon_0 <= 108.5 and abs(lon_0 * 4 - round(lon_0 * 4)) < 1e-9
    return on_grid and abs(k - 0.9999) < 1e-9 and abs(x_0 - 500000) < 1e-3 and abs(y_0) < 1e-3


def dms_label(lon_0: float) -> str:
    """105.5 -> "105°30'"."""
    return f"{int(lon_0)}°{round((lon_0 % 1) * 60):02d}'"
