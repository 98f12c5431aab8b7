"""OGC API - Features Part 2: the CRSs served, their URIs, axis order and the SQL to reach them.

Data are stored in WGS 84 (SRID 4326, lon/lat). VN-2000 output goes through the official
EPSG:6960 Helmert set: PostGIS's ``ST_Transform(geom, from_proj, to_proj)`` is given a PROJ CRS
string whose ``+towgs84`` carries exactly the EPSG:6960 parameters (position-vector signs,
``gis.crs.vn2000.HELMERT_PV``), so PROJ cannot pick its default EPSG:5194 set. The tests check
the result against the regression points of shared/reference/vn2000.md at 1 mm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql

from gis.crs.vn2000 import HELMERT_PV
from services.ogc.errors import InvalidParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
WGS84_PROJ = "+proj=longlat +datum=WGS84 +no_defs +type=crs"
_TOWGS84 = ",".join(repr(v) for v in HELMERT_PV)  # = EPSG:6960 (position-vector signs)


def _vn2000(base: str) -> str:
    return f"{base} +ellps=WGS84 +towgs84={_TOWGS84} +units=m +no_defs +type=crs"


@dataclass(frozen=True)
class ServedCRS:
    uri: str
    label: str
    lat_first: bool = False  # EPSG axis order latitude, longitude (EPSG:4326, EPSG:4756)
    srid: int | None = None  # PostGIS SRID to transform to (3857)
    proj: str | None = None  # PROJ CRS string (VN-2000 through EPSG:6960)
    decimals: int = 9  # GeoJSON digits: 1e-9 degree or 0.1 mm
    geographic: bool = True

    @property
    def is_wgs84(self) -> bool:
        return self.srid is None and self.proj is None

    def output(self, geom: sql.Composable) -> sql.Composable:
        """SQL turning a WGS 84 (SRID 4326) geometry into this CRS, in its axis order."""
        out = geom
        if self.srid is not None:
            out = sql.SQL("ST_Transform({}, {})").format(out, sql.Literal(self.srid))
        elif self.proj is not None:
            out = sql.SQL("ST_Transform({}, {}, {})").format(
                out, sql.Literal(WGS84_PROJ), sql.Literal(self.proj))
        if self.lat_first:
            out = sql.SQL("ST_FlipCoordinates({})").format(out)
        return out

    def input(self, geom: sql.Composable, densify: bool = False) -> sql.Composable:
        """SQL turning a geometry given in this CRS (its axis order) into WGS 84, SRID 4326."""
        g = geom
        if self.lat_first:
            g = sql.SQL("ST_FlipCoordinates({})").format(g)
        if self.srid is not None:
            return sql.SQL("ST_Transform(ST_SetSRID({}, {}), 4326)").format(
                g, sql.Literal(self.srid))
        if self.proj is not None:
            if densify and not self.geographic:  # straight lines in the plane stay close
                g = sql.SQL("ST_Segmentize({}, 50.0)").format(g)
            return sql.SQL("ST_SetSRID(ST_Transform({}, {}, {}), 4326)").format(
                g, sql.Literal(self.proj), sql.Literal(WGS84_PROJ))
        return sql.SQL("ST_SetSRID({}, 4326)").format(g)


SERVED: dict[str, ServedCRS] = {c.uri: c for c in (
    ServedCRS(CRS84, "WGS 84 (lon, lat)"),
    ServedCRS(EPSG_URI.format(4326), "WGS 84 (lat, lon)", lat_first=True),
    ServedCRS(EPSG_URI.format(3857), "WGS 84 / Pseudo-Mercator", srid=3857, decimals=3,
              geographic=False),
    ServedCRS(EPSG_URI.format(5897), "VN-2000 / TM-3 105°00' (Cần Thơ, Hậu Giang)",
              proj=_vn2000("+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0"),
              decimals=4, geographic=False),
    ServedCRS(EPSG_URI.format(9209), "VN-2000 / TM-3 105°30' (Sóc Trăng)",
              proj=_vn2000("+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0"),
              decimals=4, geographic=False),
    ServedCRS(EPSG_URI.format(3405), "VN-2000 / UTM zone 48N",
              proj=_vn2000("+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9996 +x_0=500000 +y_0=0"),
              decimals=4, geographic=False),
    ServedCRS(EPSG_URI.format(4756), "VN-2000 (lat, lon)", lat_first=True,
              proj=_vn2000("+proj=longlat"), decimals=10),
)}
CRS_LIST = list(SERVED)

_EPSG_RE = re.compile(
    r"^(?:\[?EPSG:(\d+)\]?|urn:ogc:def:crs:EPSG:[\d.]*:(\d+)|"
    r"https?://www\.opengis\.net/def/crs/EPSG/0/(\d+))$", re.IGNORECASE)
_CRS84_RE = re.compile(r"^(?:\[?OGC:CRS84\]?|CRS84|urn:ogc:def:crs:OGC:1\.3:CRS84|"
                       r"https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)$", re.IGNORECASE)


def parse_crs(value: str | None, param: str) -> ServedCRS:
    """A CRS parameter (URI, CURIE or EPSG:n) -> the served CRS; anything else is a 400."""
    if value is None or value == "":
        return SERVED[CRS84]
    v = value.strip()
    if _CRS84_RE.match(v):
        return SERVED[CRS84]
    m = _EPSG_RE.match(v)
    if m:
        uri = EPSG_URI.format(next(g for g in m.groups() if g))
        if uri in SERVED:
            return SERVED[uri]
    raise InvalidParameter(
        f"{param}={value!r} is not a CRS this service offers; use one of: "
        + ", ".join(CRS_LIST))


def content_crs_header(crs: ServedCRS) -> str:
    return f"<{crs.uri}>"
