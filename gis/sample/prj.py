"""The .prj files Vietnamese ArcGIS users write for VN-2000 TM-3 zones.

ESRI WKT1 with the official 7 parameters typed into the datum as TOWGS84, in the
position-vector convention (rotation signs flipped from Decision 05/2007), the way the
Ministry's guidance for ArcGIS users sets the custom transformation.
"""

from __future__ import annotations

from gis.crs.vn2000 import HELMERT_PV


def _num(v: float) -> str:
    return repr(float(v))


def tm3_prj(central_meridian: float) -> str:
    deg, minutes = int(central_meridian), round((central_meridian % 1) * 60)
    towgs84 = ",".join(_num(v) for v in HELMERT_PV)
    return (
        f'PROJCS["VN_2000_TM3_{deg}_{minutes:02d}",'
        'GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
        'SPHEROID["WGS_1984",6378137.0,298.257223563],'
        f'TOWGS84[{towgs84}]],'
        'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
        'PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
        f'PARAMETER["Central_Meridian",{_num(central_meridian)}],'
        'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],'
        'UNIT["Meter",1.0]]'
    )
