"""OGC API - Features Part 3: CQL2 (text or JSON) -> parameterised SQL.

The ``cql2`` package parses and validates both encodings into CQL2 JSON (in a child process,
after ``cqlscan``'s bounds: see ``cqlworker``); this module walks that tree and emits psycopg
``sql`` compositions: column names only as ``sql.Identifier`` of properties the caller may
see, every literal as a named placeholder. Anything else is a 400 naming the problem.
"""

from __future__ import annotations

import contextlib
import json
import math
from datetime import date, datetime

import shapely
import shapely.geometry
from psycopg import sql

from services.catalog import Column
from services.ogc import cqlscan
from services.ogc.cqlworker import PARSER
from services.ogc.crs import ServedCRS
from services.ogc.errors import InvalidParameter
from services.ogc.params import parse_filter_lang, unknown_property
from services.ogc.values import SQL_TYPES, parse_instant

MAX_DEPTH = 40
MAX_DWITHIN_M = 1_000_000  # 1 000 km: the whole delta and then some
MAX_PROJECTED = 1e8  # metres: larger coordinates are no place on Earth
COMPATIBLE = [{"integer", "number"}, {"date", "datetime"}]
GEOMETRY_NAMES = {"geom", "geometry"}
COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
SPATIAL = {"s_intersects": "ST_Intersects", "s_within": "ST_Within",
           "s_contains": "ST_Contains", "s_disjoint": "ST_Disjoint", "s_equals": "ST_Equals",
           "s_touches": "ST_Touches", "s_crosses": "ST_Crosses", "s_overlaps": "ST_Overlaps"}
TEMPORAL = {"t_after", "t_before", "t_during", "t_equals", "t_intersects", "t_disjoint"}


def parse_filter(text: str, lang: str | None) -> dict:
    """The filter as CQL2 JSON: bounded by ``cqlscan``, then parsed and validated by the cql2
    parser in its own process (``cqlworker``)."""
    lang = parse_filter_lang(lang)
    cqlscan.check(text, lang)
    return PARSER.parse(text, lang)


async def prepare_filter(text: str, lang: str | None) -> None:
    """Parse a filter in a thread, so the round trip to the parser process (and a give-up of
    up to PARSE_TIMEOUT_S) never blocks the event loop; ``parse_filter`` then answers from the
    parser's cache, with the same result or the same 400."""
    import asyncio

    with contextlib.suppress(InvalidParameter):
        await asyncio.to_thread(parse_filter, text, lang)


class Translator:
    """One filter's translation; ``bind(value, cast, prefix)`` gives the placeholder of a
    value (``query.SQLQuery.param``: the statement's own placeholder syntax)."""

    def __init__(self, columns: dict[str, Column], filter_crs: ServedCRS, bind):
        self.columns = columns
        self.crs = filter_crs
        self.bind = bind
        self.current = "?"  # the property a literal is compared with, for messages

    # -- helpers ------------------------------------------------------------------------
    def param(self, value, cast: str | None = None) -> sql.Composable:
        return self.bind(value, cast, "f")

    def fail(self, message: str) -> InvalidParameter:
        return InvalidParameter(f"filter: {message}")

    def column(self, name: str) -> Column:
        col = self.columns.get(name)
        if col is None:
            raise unknown_property(name, self.columns, "filter")
        return col

    # -- entry --------------------------------------------------------------------------
    def condition(self, node, depth: int = 0) -> sql.Composable:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        if not isinstance(node, dict) or "op" not in node:
            raise self.fail(f"expected a condition, got {json.dumps(node)[:80]}")
        op = str(node["op"]).lower()
        args = node.get("args", [])
        if op in ("and", "or"):
            parts = [self.condition(a, depth + 1) for a in args]
            return sql.SQL("({})").format(sql.SQL(f" {op.upper()} ").join(parts))
        if op == "not":
            return sql.SQL("(NOT {})").format(self.condition(args[0], depth + 1))
        if op in COMPARISONS:
            return self.comparison(op, args)
        if op == "like":
            lhs, ltype = self.scalar(args[0])
            if ltype != "string":
                raise self.fail("LIKE needs a text property")
            pattern, _ = self.scalar(args[1], "string")
            return sql.SQL("({} LIKE {})").format(lhs, pattern)
        if op == "between":
            lhs, ltype = self.scalar(args[0])
            lo, _ = self.scalar(args[1], ltype)
            hi, _ = self.scalar(args[2], ltype)
            return sql.SQL("({} BETWEEN {} AND {})").format(lhs, lo, hi)
        if op == "in":
            lhs, ltype = self.scalar(args[0])
            if not isinstance(args[1], list) or not args[1]:
                raise self.fail("IN needs a non-empty list")
            items = [self.scalar(v, ltype)[0] for v in args[1]]
            return sql.SQL("({} IN ({}))").format(lhs, sql.SQL(", ").join(items))
        if op == "isnull":
            lhs, _ = self.scalar(args[0])
            return sql.SQL("({} IS NULL)").format(lhs)
        if op in SPATIAL:
            a, b = (self.geometry(x) for x in args[:2])
            return sql.SQL("{}({}, {})").format(sql.SQL(SPATIAL[op]), a, b)
        if op == "s_dwithin":
            return self.dwithin(args)
        if op in TEMPORAL:
            return self.temporal(op, args)
        raise self.fail(f"operator {node['op']!r} is not supported; supported: AND, OR, NOT, "
                        "=, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL, CASEI, S_INTERSECTS, "
                        "S_WITHIN, S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_CROSSES, "
                        "S_OVERLAPS, S_DWITHIN, T_AFTER, T_BEFORE, T_DURING, T_EQUALS, "
                        "T_INTERSECTS, T_DISJOINT")

    # -- scalars ------------------------------------------------------------------------
    def comparison(self, op: str, args: list) -> sql.Composable:
        if len(args) != 2:
            raise self.fail(f"{op} needs two arguments")
        lhs, ltype = self.scalar(args[0])
        rhs, _ = self.scalar(args[1], ltype)
        return sql.SQL("({} {} {})").format(lhs, sql.SQL(COMPARISONS[op]), rhs)

    def check_type(self, got: str, expect: str | None, what: str) -> None:
        """Both sides of a comparison must be comparable in SQL (else PostgreSQL refuses the
        whole query: 'operator does not exist')."""
        if expect is None or got == expect or any({got, expect} <= c for c in COMPATIBLE):
            return
        raise self.fail(f"{what} is {got}, it cannot be compared with property "
                        f"{self.current!r} ({expect})")

    def scalar(self, node, expect: str | None = None,
               depth: int = 0) -> tuple[sql.Composable, str | None]:
        """(SQL, type) of a property, literal or CASEI(); literals take the type expected."""
        if isinstance(node, dict) and "property" in node:
            col = self.column(str(node["property"]))
            self.check_type(col.type, expect, f"property {col.name!r}")
            self.current = col.name
            return sql.Identifier(col.name), col.type
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "casei":
            if depth > MAX_DEPTH:
                raise self.fail(f"CASEI nested deeper than {MAX_DEPTH} levels")
            self.check_type("string", expect, "CASEI(...)")
            inner, t = self.scalar(node["args"][0], "string", depth + 1)
            if t not in ("string", None):
                raise self.fail("CASEI needs text")
            return sql.SQL("lower({})").format(inner), "string"
        if isinstance(node, dict) and ("date" in node or "timestamp" in node):
            raw = node.get("date") or node.get("timestamp")
            v = parse_instant(str(raw), "filter")
            t = "date" if isinstance(v, date) and not isinstance(v, datetime) else "datetime"
            self.check_type(t, expect, f"{t.upper()}({raw!r})")
            return self.param(v, SQL_TYPES[expect if expect in ("date", "datetime") else t]), t
        if isinstance(node, dict):
            raise self.fail(f"expected a property or a value, got {json.dumps(node)[:80]}")
        return self.literal(node, expect)

    def literal(self, value, expect: str | None) -> tuple[sql.Composable, str | None]:
        if isinstance(value, bool):
            if expect not in (None, "boolean"):
                raise self.fail(f"{value!r} is a boolean, property {self.current!r} is {expect}")
            return self.param(value, "boolean"), "boolean"
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise self.fail("numbers must be finite")
            if expect not in (None, "integer", "number"):
                raise self.fail(f"{value!r} is a number, property {self.current!r} is {expect}")
            if (expect == "integer" and float(value).is_integer()
                    and -(2**63) <= int(value) < 2**63):  # else compared as a double
                return self.param(int(value), "bigint"), "integer"
            return self.param(float(value), "double precision"), "number"
        if isinstance(value, str):
            if expect in ("date", "datetime"):
                v = parse_instant(value, "filter")
                return self.param(v, SQL_TYPES[expect]), expect
            if expect not in (None, "string"):
                raise self.fail(f"{value!r} is text, property {self.current!r} is {expect}")
            return self.param(value, "text"), "string"
        raise self.fail(f"unsupported value {json.dumps(value)[:80]}")

    # -- spatial ------------------------------------------------------------------------
    def geometry(self, node) -> sql.Composable:
        if isinstance(node, dict) and "property" in node:
            if str(node["property"]) not in GEOMETRY_NAMES:
                raise self.fail(f"{node['property']!r} is not the geometry; name it 'geom' "
                                "or 'geometry'")
            return sql.Identifier("geom")
        if isinstance(node, dict) and "bbox" in node:
            b = node["bbox"]
            if len(b) == 6:
                b = [b[0], b[1], b[3], b[4]]
            if len(b) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in b):
                raise self.fail("BBOX needs 4 (or 6) finite numbers")
            self.check_coordinates([b[0], b[2]], [b[1], b[3]])
            env = sql.SQL("ST_MakeEnvelope({}, {}, {}, {})").format(
                *(self.param(float(v), "double precision") for v in b))
            return self.crs.input(env, densify=True)
        if isinstance(node, dict) and "type" in node:
            try:
                shp = shapely.geometry.shape(node)
            except Exception as exc:  # noqa: BLE001 - any malformed geometry is the client's
                raise self.fail(f"invalid geometry: {exc}") from None
            coords = shapely.get_coordinates(shp)
            if shp.is_empty or not bool(len(coords)) or not math.isfinite(coords.sum()):
                raise self.fail("geometries must be non-empty with finite coordinates")
            self.check_coordinates(coords[:, 0], coords[:, 1])
            g = sql.SQL("ST_GeomFromWKB({})").format(self.param(shapely.to_wkb(shp)))
            return self.crs.input(g, densify=True)
        raise self.fail(f"expected the geometry property or a geometry, got "
                        f"{json.dumps(node)[:80]}")

    def check_coordinates(self, xs, ys) -> None:
        """Coordinates a CRS can hold (a transform or a geography cast of others fails)."""
        if self.crs.geographic:
            lon, lat = (ys, xs) if self.crs.lat_first else (xs, ys)
            if min(lat) < -90 or max(lat) > 90 or min(lon) < -180 or max(lon) > 180:
                order = "lat lon" if self.crs.lat_first else "lon lat"
                raise self.fail(f"coordinates outside the range of {self.crs.uri} (axis "
                                f"order {order}; set filter-crs for other coordinates)")
        elif max(map(abs, [*xs, *ys])) > MAX_PROJECTED:
            raise self.fail(f"coordinates larger than {MAX_PROJECTED:g} m in {self.crs.uri}")

    def dwithin(self, args: list) -> sql.Composable:
        if len(args) != 3 or not isinstance(args[2], int | float) or not math.isfinite(args[2]):
            raise self.fail("S_DWITHIN(geom, geometry, distance in metres)")
        if not 0 <= args[2] <= MAX_DWITHIN_M:
            raise self.fail(f"S_DWITHIN distance must be 0..{MAX_DWITHIN_M} metres, not "
                            f"{args[2]:g}")
        a, b = self.geometry(args[0]), self.geometry(args[1])
        d = self.param(float(args[2]), "double precision")
        # the envelope test uses the GiST index; the geography test is exact, in metres
        return sql.SQL("({a} && ST_Envelope(ST_Buffer({b}::geography, {d} * 1.01 + 1)::geometry)"
                       " AND ST_DWithin({a}::geography, {b}::geography, {d}))").format(
            a=a, b=b, d=d)

    # -- temporal -----------------------------------------------------------------------
    def temporal(self, op: str, args: list) -> sql.Composable:
        if len(args) != 2 or not (isinstance(args[0], dict) and "property" in args[0]):
            raise self.fail(f"{op.upper()}(property, instant or interval)")
        col = self.column(str(args[0]["property"]))
        if col.type not in ("date", "datetime"):
            raise self.fail(f"{col.name!r} is not a date or date-time property")
        prop = sql.Identifier(col.name)
        cast = SQL_TYPES[col.type]
        rhs = args[1]
        if isinstance(rhs, dict) and "interval" in rhs:
            ends = rhs["interval"]
            if not isinstance(ends, list) or len(ends) != 2:
                raise self.fail("INTERVAL needs a start and an end")
            lo = None if ends[0] in ("..", None) else self.instant(ends[0], cast)
            hi = None if ends[1] in ("..", None) else self.instant(ends[1], cast)
        else:
            lo = hi = self.instant(rhs, cast)
        true = sql.SQL("TRUE")
        if op == "t_after":
            if hi is None:
                return sql.SQL("FALSE")
            return sql.SQL("({} > {})").format(prop, hi)
        if op == "t_before":
            if lo is None:
                return sql.SQL("FALSE")
            return sql.SQL("({} < {})").format(prop, lo)
        if op == "t_during":
            a = sql.SQL("{} > {}").format(prop, lo) if lo is not None else true
            b = sql.SQL("{} < {}").format(prop, hi) if hi is not None else true
            return sql.SQL("({} AND {})").format(a, b)
        a = sql.SQL("{} >= {}").format(prop, lo) if lo is not None else true
        b = sql.SQL("{} <= {}").format(prop, hi) if hi is not None else true
        inside = sql.SQL("({} AND {})").format(a, b)
        if op in ("t_equals", "t_intersects"):
            return inside
        return sql.SQL("(NOT {})").format(inside)  # t_disjoint

    def instant(self, node, cast: str) -> sql.Composable:
        raw = node.get("date") or node.get("timestamp") if isinstance(node, dict) else node
        if not isinstance(raw, str):
            raise self.fail(f"expected a DATE or TIMESTAMP, got {json.dumps(node)[:80]}")
        return self.param(parse_instant(raw, "filter"), cast)

