"""One search box: parcels by ward + sheet + parcel number, addresses with or without
diacritics (new 2025 ward names and the old ones), ward names, and coordinates in WGS 84 or
VN-2000 (TM-3 105°00', northing-first or easting-first).

How each kind stays fast on 200 000+ rows:
- parcels (the layer with planning role ``parcels``): ``commune_code, sheet_no, parcel_no`` is
  its natural key, so every version table has a unique B-tree index on it; the ward text
  resolves to commune codes through the layer with role ``wards`` (its names and old names are
  matched in Python);
- addresses: every layer whose file declares ``search.fields``; the search key of those fields
  (``gis.loader.searchindex``) has a trigram GIN index on each version table, made by the load;
  every query word must appear in the key (``LIKE '%word%'``, answered by the index);
- coordinates: a point-in-polygon through the GiST index of the geometry.

Nothing here writes: the indexes belong to the loader.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
from psycopg import sql

from gis.crs import AxisOrder, detect_axis_order, to_wgs84
from gis.loader.searchindex import key_expression
from gis.text import fold_diacritics
from services.access import visible_columns
from services.audit import note_read
from services.catalog import LayerInfo
from services.ogc.http import Ctx
from services.planning.common import optional_layer, role_layer, table
from services.planning.info import parcel_label

log = logging.getLogger("services.planning")
VN2000_ZONE = "vn2000-cantho"  # TM-3 105°00'
MAX_RESULTS = 20


# the order kinds of hits are searched and listed in: a named place ("Chợ nổi Cái Răng") is
# what a short text most likely means; addresses, far more numerous, fill the rest
KIND_ORDER = {"place": 0, "parcel": 1, "address": 2}


def searchable(c: Ctx) -> list[LayerInfo]:
    """The visible layers whose file declares search fields, places first, then by id."""
    return [layer for layer in sorted(c.layers.values(), key=lambda lyr: (
                KIND_ORDER.get(lyr.definition.search.kind, 9) if lyr.definition.search else 0,
                lyr.id))
            if layer.definition.search is not None and optional_layer(c, layer.id)]

_NUM = r"[-+]?\d+(?:[.,]\d+)?"
_COORD = re.compile(
    rf"^\s*(?:(?P<l1>[a-z]{{1,3}})\s*[=:]?\s*)?(?P<a>{_NUM})\s*[,;\s]\s*"
    rf"(?:(?P<l2>[a-z]{{1,3}})\s*[=:]?\s*)?(?P<b>{_NUM})\s*$", re.IGNORECASE)
_SHEET = re.compile(r"\b(?:to(?:\s+ban\s+do)?|sheet|t)\s*(?:so\s*)?[:.#]?\s*(\d+)\b")
_PARCEL = re.compile(r"\b(?:thua(?:\s+dat)?|parcel|th)\s*(?:so\s*)?[:.#]?\s*(\d+)\b")
_THREE = re.compile(r"^\s*(\d{5})\s*[-/,.\s]\s*(\d+)\s*[-/,.\s]\s*(\d+)\s*$")
_WARD_WORDS = re.compile(r"\b(?:phuong|xa|thi tran|dac khu|p\.|x\.|ward|commune)\s*")


@dataclass
class ParsedParcel:
    sheet: int
    parcel: int
    ward: str  # folded ward text, may be empty
    code: str | None = None  # a 5-digit commune code given as such


def parse_parcel(q: str) -> ParsedParcel | None:
    m = _THREE.match(q)
    if m:
        return ParsedParcel(int(m.group(2)), int(m.group(3)), "", m.group(1))
    key = fold_diacritics(q)
    s, p = _SHEET.search(key), _PARCEL.search(key)
    if not (s and p):
        return None
    rest = _SHEET.sub(" ", _PARCEL.sub(" ", key))
    code = re.search(r"\b(\d{5})\b", rest)
    rest = re.sub(r"\b\d{5}\b", " ", rest)
    ward = " ".join(_WARD_WORDS.sub(" ", re.sub(r"[,;/()-]", " ", rest)).split())
    return ParsedParcel(int(s.group(1)), int(p.group(1)), ward,
                        code.group(1) if code else None)


def _num(s: str) -> float:
    return float(s.replace(",", "."))


def parse_coordinates(q: str) -> dict | None:
    """{"lon", "lat", "crs", "order", "input"} for "10.03, 105.78" (either order) or a VN-2000
    TM-3 105°00' pair (X=N Y=E as surveyors write it, or E N: detected by where it lands)."""
    text = q.strip()
    m = _COORD.match(text.replace(", ", " ") if text.count(",") > 1 else text)
    if not m:
        return None
    a, b = _num(m.group("a")), _num(m.group("b"))
    if abs(a) <= 180 and abs(b) <= 180:
        if abs(a) <= 90 and (abs(b) > 90 or a < b):  # lat first: Vietnam lat 8-24, lon 102-110
            lat, lon, order = a, b, "lat, lon"
        else:
            lon, lat, order = a, b, "lon, lat"
        if not (100 <= lon <= 112 and 5 <= lat <= 25):  # "12 153" is not a place in Vietnam
            return None
        return {"lon": lon, "lat": lat, "crs": "WGS 84", "order": order}
    if min(abs(a), abs(b)) < 1000:
        return None
    op = to_wgs84(VN2000_ZONE)
    guess = detect_axis_order(np.array([a]), np.array([b]), op)
    east, north = (a, b) if guess.order is AxisOrder.EASTING_FIRST else (b, a)
    lon, lat = op.transform(np.array([east]), np.array([north]))
    return {"lon": float(lon[0]), "lat": float(lat[0]),
            "crs": "VN-2000 / TM-3 105°00' (EPSG:5897, EPSG:6960)",
            "order": "easting, northing" if guess.order is AxisOrder.EASTING_FIRST
            else "northing, easting", "easting": east, "northing": north}


def words(q: str) -> list[str]:
    """Folded query words, punctuation dropped ("Số 42, Lý Thường Kiệt" -> 42 so ly ...)."""
    return [w for w in re.split(r"[^0-9a-z]+", fold_diacritics(q)) if w]


# -- wards ------------------------------------------------------------------------------------
_WARDS_CACHE: dict[tuple, list[dict]] = {}


async def _wards(c: Ctx) -> list[dict]:
    layer = role_layer(c, "wards")
    if layer is None:
        return []
    vis = visible_columns(c.who, layer)
    note_read(c.who, layer, vis)
    if "name" not in vis or "code" not in vis:
        return []
    key = (layer.current_version, layer.definition_sha, "old_names" in vis)
    if key not in _WARDS_CACHE:
        old = sql.SQL("old_names") if "old_names" in vis else sql.SQL("NULL::text")
        stmt = sql.SQL("SELECT fid, code, name, {old} AS old_names, ST_XMin(geom) AS x0, "
                       "ST_YMin(geom) AS y0, ST_XMax(geom) AS x1, ST_YMax(geom) AS y1, "
                       "ST_X(ST_PointOnSurface(geom)) AS cx, ST_Y(ST_PointOnSurface(geom)) AS cy "
                       "FROM {t}").format(old=old, t=table(layer))
        rows = await (await c.conn.execute(stmt)).fetchall()
        for r in rows:
            r["key"] = _strip_type(fold_diacritics(r["name"] or ""))
            r["old_keys"] = [_strip_type(fold_diacritics(n)) for n in
                             re.split(r"[;|]", r["old_names"] or "") if n.strip()]
        _WARDS_CACHE.clear()
        _WARDS_CACHE[key] = rows
    return _WARDS_CACHE[key]


def _strip_type(k: str) -> str:
    return " ".join(_WARD_WORDS.sub(" ", k).split())


def match_wards(wards: list[dict], ward: str) -> list[tuple[dict, bool]]:
    """Wards whose current name (True) or one of whose old names (False) is ``ward``."""
    if not ward:
        return []
    out = [(w, True) for w in wards if w["key"] == ward]
    out += [(w, False) for w in wards if ward in w["old_keys"] and w["key"] != ward]
    return out


# -- the search -------------------------------------------------------------------------------
async def search(c: Ctx, q: str, limit: int = 10) -> dict:
    q = (q or "").strip()
    out: dict = {"query": q, "results": []}
    if not q:
        return out
    coords = parse_coordinates(q)
    if coords is not None:
        out["interpretation"] = "coordinates"
        out["results"] = await _at_point(c, coords)
        return out
    parsed = parse_parcel(q)
    if parsed is not None:
        out["interpretation"] = "parcel"
        out["results"] = await _parcels(c, parsed, limit)
        return out
    out["interpretation"] = "text"
    results = await _ward_results(c, q)
    wards = {r["label"]["vi"] for r in results}
    # the place names list the wards too: the ward hit already stands for them
    results += [r for r in await _addresses(c, q, limit)
                if not (r["kind"] == "place" and r["label"]["vi"] in wards)]
    out["results"] = results[:limit]
    return out


def _feature_result(kind: str, layer: str, fid: int, label: dict, r: dict) -> dict:
    return {"kind": kind, "layer": layer, "fid": fid, "label": label,
            "point": [r["cx"], r["cy"]], "bbox": [r["x0"], r["y0"], r["x1"], r["y1"]]}


_GEOM_COLS = sql.SQL("ST_XMin({g}) AS x0, ST_YMin({g}) AS y0, ST_XMax({g}) AS x1, "
                     "ST_YMax({g}) AS y1, ST_X(ST_PointOnSurface({g})) AS cx, "
                     "ST_Y(ST_PointOnSurface({g})) AS cy")


def _geom_cols(alias: str) -> sql.Composable:
    return _GEOM_COLS.format(g=sql.Identifier(alias, "geom"))


async def _parcels(c: Ctx, p: ParsedParcel, limit: int) -> list[dict]:
    layer = role_layer(c, "parcels")
    if layer is None:
        return []
    vis = visible_columns(c.who, layer)
    note_read(c.who, layer, vis)
    if not {"commune_code", "sheet_no", "parcel_no"} <= set(vis):
        return []
    where = [sql.SQL("p.sheet_no = %(sheet)s AND p.parcel_no = %(parcel)s")]
    params: dict = {"sheet": p.sheet, "parcel": p.parcel}
    rank: list[sql.Composable] = []
    if p.code:
        where.append(sql.SQL("p.commune_code = %(code)s"))
        params["code"] = p.code
    elif p.ward:
        matches = match_wards(await _wards(c), p.ward)
        if matches:
            params["codes"] = [w["code"] for w, _ in matches]
            params["current"] = [w["code"] for w, cur in matches if cur]
            where.append(sql.SQL("p.commune_code = ANY(%(codes)s)"))
            rank = [sql.SQL("(p.commune_code = ANY(%(current)s)) DESC")]
        elif "ward_name" in vis:  # no ward layer: the parcel's own ward name
            params["ward"] = f"%{p.ward}%"
            where.append(sql.SQL("spp.search_key(p.ward_name) LIKE %(ward)s"))
        else:
            return []
    ward = sql.SQL("p.ward_name") if "ward_name" in vis else sql.SQL("NULL::text")
    stmt = sql.SQL(
        "SELECT p.fid, p.commune_code, p.sheet_no, p.parcel_no, {ward} AS ward_name, {g} "
        "FROM {t} p WHERE {w} ORDER BY {order} LIMIT {n}").format(
        ward=ward, g=_geom_cols("p"), t=table(layer), w=sql.SQL(" AND ").join(where),
        order=sql.SQL(", ").join([*rank, sql.SQL("p.commune_code, p.fid")]),
        n=sql.Literal(min(limit, MAX_RESULTS)))
    rows = await (await c.conn.execute(stmt, params)).fetchall()
    return [_feature_result("parcel", layer.id, r["fid"], parcel_label(r), r) for r in rows]


async def _ward_results(c: Ctx, q: str) -> list[dict]:
    key = _strip_type(fold_diacritics(q))
    wards = role_layer(c, "wards")
    out = []
    for w, current in match_wards(await _wards(c), key):
        label = {"vi": w["name"], "en": w["name"]}
        if not current:
            label = {"vi": f"{w['name']} (gồm {q})", "en": f"{w['name']} (includes {q})"}
        out.append(_feature_result("ward", wards.id, w["fid"], label, w) | {
            "code": w["code"]})
    return out


async def _addresses(c: Ctx, q: str, limit: int) -> list[dict]:
    ws = words(q)
    if not ws:
        return []
    results: list[dict] = []
    number = next((w for w in ws if w.isdigit()), None)
    parcels = role_layer(c, "parcels")
    for layer in searchable(c):
        if len(results) >= limit:
            break
        # only fields the caller may see take part; the index matches the expression made of
        # all of them (the public case)
        vis = visible_columns(c.who, layer)
        note_read(c.who, layer, vis)
        present = [f for f in layer.definition.search.fields if f in vis]
        if not present:
            continue
        expr = key_expression(present, "a")
        params: dict = {f"w{i}": f"%{w}%" for i, w in enumerate(ws)}
        params["ordered"] = "%" + "%".join(ws) + "%"
        params["num"] = number
        # the words in the order typed: one LIKE, so the key is computed once a candidate row
        # (the trigram index is lossy: every candidate is rechecked); out of order only when
        # that finds too little
        ordered = sql.SQL("{} LIKE %(ordered)s").format(expr)
        unordered = sql.SQL(" AND ").join(sql.SQL("{} LIKE {}").format(
            expr, sql.Placeholder(f"w{i}")) for i in range(len(ws)))
        first = sql.Identifier("a", present[0])
        # phases, cheapest and best first: the typed house number (a plain column test that
        # runs before the key is computed), then any match without ranking, so LIMIT stops the
        # scan early even for "tran hung dao" (25 000 candidates in a 200 000-address city)
        phases: list[tuple[sql.Composable, bool]] = []
        for cond in (ordered, unordered):
            if number and "house_number" in vis:
                phases.append((sql.SQL("a.house_number = %(num)s AND {}").format(cond), True))
            phases.append((cond, False))
        inside = sql.SQL("NULL::bigint")
        if parcels is not None and layer.id == parcels.id:
            inside = sql.SQL("h.fid")
        elif parcels is not None:
            inside = sql.SQL("(SELECT p.fid FROM {} p WHERE ST_Intersects(p.geom, h.geom) "
                             "ORDER BY p.fid LIMIT 1)").format(table(parcels))
        rows = []
        for cond, ranked in phases:
            want = limit - len(results) - len(rows)
            if want <= 0:
                break
            params["seen"] = [r["fid"] for r in rows]
            stmt = sql.SQL(
                "WITH h AS (SELECT a.fid, a.geom, {first} AS text FROM {t} a WHERE {cond} "
                "AND a.fid <> ALL(%(seen)s) {order} LIMIT {n}) "
                "SELECT h.fid, h.text, {inside} AS parcel_fid, {g} FROM h").format(
                first=first, t=table(layer), cond=cond, n=sql.Literal(want), inside=inside,
                g=_geom_cols("h"), order=sql.SQL("ORDER BY length({}), a.fid").format(first)
                if ranked else sql.SQL(""))
            found = await (await c.conn.execute(stmt, params)).fetchall()
            rows += sorted(found, key=lambda r: (len(r["text"] or ""), r["fid"]))
        for r in rows:
            res = _feature_result(layer.definition.search.kind, layer.id, r["fid"],
                                  {"vi": r["text"], "en": r["text"]}, r)
            if r["parcel_fid"] is not None:
                res["parcel_fid"] = r["parcel_fid"]
            results.append(res)
    return results


async def _at_point(c: Ctx, coords: dict) -> list[dict]:
    lon, lat = coords["lon"], coords["lat"]
    label = {"vi": f"Điểm {lat:.6f}, {lon:.6f} ({coords['crs']}, thứ tự {coords['order']})",
             "en": f"Point {lat:.6f}, {lon:.6f} ({coords['crs']}, order {coords['order']})"}
    point = {"kind": "coordinate", "label": label, "point": [lon, lat],
             "bbox": [lon, lat, lon, lat], "input": coords}
    out = [point]
    parcels = role_layer(c, "parcels")
    if parcels is not None:
        vis = visible_columns(c.who, parcels)
        note_read(c.who, parcels, vis)
        cols = [sql.SQL("{} AS {}").format(sql.Identifier("p", n), sql.Identifier(n))
                if n in vis else sql.SQL("NULL AS {}").format(sql.Identifier(n))
                for n in ("commune_code", "sheet_no", "parcel_no", "ward_name")]
        stmt = sql.SQL(
            "SELECT p.fid, {cols}, {g} FROM {t} p WHERE ST_Intersects(p.geom, "
            "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) ORDER BY p.fid LIMIT 3").format(
            cols=sql.SQL(", ").join(cols), g=_geom_cols("p"), t=table(parcels))
        for r in await (await c.conn.execute(stmt, {"lon": lon, "lat": lat})).fetchall():
            out.append(_feature_result("parcel", parcels.id, r["fid"], parcel_label(r), r))
            point["parcel_fid"] = r["fid"]
    wards = role_layer(c, "wards")
    if wards is not None and "name" in visible_columns(c.who, wards):
        note_read(c.who, wards, ["name"])
        stmt = sql.SQL("SELECT a.name FROM {t} a WHERE ST_Intersects(a.geom, "
                       "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) LIMIT 1").format(
            t=table(wards))
        r = await (await c.conn.execute(stmt, {"lon": lon, "lat": lat})).fetchone()
        if r:
            point["ward"] = r["name"]
    return out
