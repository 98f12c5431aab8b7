"""Query parameters of /items and /items/{featureId}: declared once (``ITEMS``, ``ITEM``:
parsing and the OpenAPI document), parsed and validated into an ItemsQuery, or a clear 400."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from services.catalog import Column
from services.ogc.crs import ServedCRS, parse_crs
from services.ogc.errors import InvalidParameter
from services.ogc.paramspec import Formats, Param, Params, integer, text
from services.ogc.values import parse_instant, parse_value

MAX_SORT_KEYS = 8  # the keyset condition of a next page nests one level (and values) a key
FORMATS = {"json": "geojson", "geojson": "geojson", "html": "html", "csv": "csv",
           "gpkg": "gpkg", "shp": "shp"}
_CRS = "CRS of the response geometries: a URI such as " \
       "http://www.opengis.net/def/crs/EPSG/0/6960 (default CRS84)"
ITEMS = Params(
    Formats(FORMATS),
    integer("limit", "Features a page holds at most", 1, 10_000, 10,
            "; page through larger results with the 'next' links"),
    Param("bbox", "minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs",
          {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
          extra={"style": "form", "explode": False}),
    text("bbox-crs", "CRS of bbox (default CRS84)"),
    text("crs", _CRS),
    text("datetime", "An instant or an interval (a/b, ../b, a/..) of the time property"),
    text("filter", "CQL2 filter (text or JSON, see filter-lang)"),
    text("filter-lang", "Language of filter", enum=["cql2-text", "cql2-json"]),
    text("filter-crs", "CRS of the filter's geometries (default CRS84)"),
    text("sortby", "Properties to sort by, comma-separated, each +name or -name"),
    text("properties", "Properties to return, comma-separated"),
    text("cursor", "Paging token from a 'next' link"))
JSON_OR_HTML = {"json": "geojson", "geojson": "geojson", "html": "html"}
ITEM = Params(Formats(JSON_OR_HTML), text("crs", _CRS))
DOCUMENT = Params(Formats(JSON_OR_HTML), strict=False)  # landing page, conformance


@dataclass
class ItemsQuery:
    limit: int = ITEMS["limit"].schema["default"]
    limit_given: bool = False
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: ServedCRS | None = None
    crs: ServedCRS | None = None
    interval: tuple[date | datetime | None, date | datetime | None] | None = None
    equals: dict[str, object] = field(default_factory=dict)
    filter: dict | None = None  # CQL2 JSON
    filter_crs: ServedCRS | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    properties: list[str] | None = None
    cursor: list | None = None
    curve: bool = False  # paged along the layer's curve (gis.sfc): a CRS84 bbox, no sortby

    @property
    def has_filter(self) -> bool:
        return bool(self.bbox or self.interval or self.equals or self.filter)

    @property
    def order(self) -> list[tuple[str, bool]]:
        """The paging order: sortby, or the curve key under a bbox (then fid either way)."""
        return [CURVE_ORDER] if self.curve else self.sortby


CURVE_ORDER = ("_sfc", False)  # gis.sfc.COLUMN, ascending (never a property: hidden)
CURVE_KEY = Column("_sfc", "integer", "curve key", "khoá đường cong")  # its cursor value


def parse_format(value: str | None, allowed: set[str]) -> str | None:
    """``f`` of a route not declared with ``Params`` yet (``http.negotiate``)."""
    return Formats({k: v for k, v in FORMATS.items() if v in allowed}).parse(value)


def parse_bbox(value: str, crs: ServedCRS) -> tuple[float, float, float, float]:
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter(f"bbox={value!r}: give 4 numbers (minx,miny,maxx,maxy) or 6 with "
                               "heights")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InvalidParameter(f"bbox={value!r}: every value must be a number") from None
    if not all(math.isfinite(n) for n in nums):
        raise InvalidParameter(f"bbox={value!r}: NaN and infinite values are not allowed")
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    x0, y0, x1, y1 = nums
    if crs.geographic and not crs.lat_first and x0 > x1 and y0 <= y1:
        raise InvalidParameter(f"bbox={value!r}: minx > maxx, a box crossing the antimeridian; "
                               "not supported (Cần Thơ is far from it): send minx <= maxx")
    if x0 > x1 or y0 > y1:
        raise InvalidParameter(f"bbox={value!r}: the lower corner must come first "
                               "(min <= max on both axes)")
    if crs.geographic:
        lat = (x0, x1) if crs.lat_first else (y0, y1)
        lon = (y0, y1) if crs.lat_first else (x0, x1)
        if min(lat) < -90 or max(lat) > 90 or min(lon) < -180 or max(lon) > 180:
            order = "lat,lon" if crs.lat_first else "lon,lat"
            raise InvalidParameter(f"bbox={value!r}: outside the valid range of {crs.uri} "
                                   f"(axis order {order})")
    return x0, y0, x1, y1


def parse_datetime(value: str) -> tuple[date | datetime | None, date | datetime | None]:
    """An instant (returned as (t, t)) or an interval a/b with '..' or '' for open ends."""
    if "/" in value:
        a, b = value.split("/", 1)
        lo = None if a in ("", "..") else parse_instant(a, "datetime")
        hi = None if b in ("", "..") else parse_instant(b, "datetime")
        if lo is None and hi is None:
            raise InvalidParameter("datetime: an interval needs at least one end")
        if lo is not None and hi is not None and _as_dt(lo, False) > _as_dt(hi, True):
            raise InvalidParameter(f"datetime={value!r}: the start is after the end")
        return lo, hi
    t = parse_instant(value, "datetime")
    return t, t


def _as_dt(v: date | datetime, end: bool) -> datetime:
    if isinstance(v, datetime):
        return v
    d = datetime.combine(v, time.min, tzinfo=UTC)
    return d + timedelta(days=1) - timedelta(microseconds=1) if end else d


def parse_sortby(value: str, columns: dict[str, Column]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    terms = value.split(",")
    if len(terms) > MAX_SORT_KEYS:
        raise InvalidParameter(f"sortby: at most {MAX_SORT_KEYS} properties, not {len(terms)}")
    for raw in terms:
        item = raw.strip()
        if not item:
            continue
        desc = item.startswith("-")
        name = item.lstrip("+-").strip()
        if name.endswith(" A") or name.endswith(" D"):  # "name A" / "name D" spelling
            desc, name = name.endswith(" D"), name[:-2].strip()
        if name not in columns:
            raise unknown_property(name, columns, "sortby")
        if any(n == name for n, _d in out):
            raise InvalidParameter(f"sortby: property {name!r} is given more than once")
        out.append((name, desc))
    return out


def parse_properties(value: str, columns: dict[str, Column]) -> list[str]:
    names = [p.strip() for p in value.split(",") if p.strip()]
    for n in names:
        if n not in columns:
            raise unknown_property(n, columns, "properties")
    return names


def unknown_property(name: str, columns: dict[str, Column], where: str) -> InvalidParameter:
    return InvalidParameter(f"{where}: unknown property {name!r}; the properties of this "
                            f"collection are: {', '.join(columns) or '(none)'}")


def parse_items_query(params, columns: dict[str, Column], *, has_time: bool,
                      layer_id: str, curve: bool = False, sample=None) -> ItemsQuery:
    """Validate every parameter of an items request (``params``: Starlette QueryParams) but
    ``f``, which ``ITEMS.format`` parsed. ``curve``: the layer's version has curve keys
    (a bbox in CRS84 without sortby may then be paged along the curve); ``sample``: its
    ``CurveSample`` (services.ogc.curvesample), which keeps boxes of few features in id
    order; a cursor continues in the order of the page that made it."""
    given = ITEMS.given(params, columns)
    get = given.get
    q = ItemsQuery()
    q.limit_given = "limit" in given
    q.limit = ITEMS["limit"].integer(get("limit"))
    q.crs = parse_crs(get("crs"), "crs")
    q.bbox_crs = parse_crs(get("bbox-crs"), "bbox-crs")
    if get("bbox") is not None:
        q.bbox = parse_bbox(given["bbox"], q.bbox_crs)
    if get("datetime") is not None:
        if not has_time:
            raise InvalidParameter("datetime: this collection has no time property")
        q.interval = parse_datetime(given["datetime"])
    for name, value in given.items():
        col = columns.get(name)
        if col is not None:
            q.equals[name] = parse_value(value, col.type, name)
    q.filter_crs = parse_crs(get("filter-crs"), "filter-crs")
    if get("filter") is not None:
        from services.ogc.cql import parse_filter

        q.filter = parse_filter(given["filter"], get("filter-lang"))
    elif get("filter-lang") is not None:
        parse_filter_lang(given["filter-lang"])
    if get("sortby") is not None:
        q.sortby = parse_sortby(given["sortby"], columns)
    if get("properties") is not None:
        q.properties = parse_properties(given["properties"], columns)
    q.curve = (curve and q.bbox is not None and not q.sortby and q.bbox_crs.is_wgs84
               and not q.bbox_crs.lat_first)
    if get("cursor") is not None:
        q.cursor = _page_cursor(q, given["cursor"], layer_id, columns)
    elif q.curve and sample is not None:
        q.curve = sample.many(q.bbox)
    return q


def _page_cursor(q: ItemsQuery, token: str, layer_id: str, columns: dict[str, Column]) -> list:
    """The cursor's key; under a bbox that may go along the curve, the order of the page
    that made it (the curve's (key, fid) or the id's), whichever the token opens with."""
    from services.ogc.cursor import decode_cursor

    if not q.curve:
        return decode_cursor(token, layer_id, q.order, columns)
    try:
        return decode_cursor(token, layer_id, q.order, {**columns, CURVE_KEY.name: CURVE_KEY})
    except InvalidParameter:
        q.curve = False  # a page of a box of few features: by id
        return decode_cursor(token, layer_id, q.order, columns)


def parse_filter_lang(value: str | None) -> str:
    lang = (value or "cql2-text").lower()
    if lang not in ("cql2-text", "cql2-json"):
        raise InvalidParameter(f"filter-lang={value!r}: use cql2-text or cql2-json")
    return lang
