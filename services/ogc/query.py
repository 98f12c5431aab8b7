"""The SQL of one items query: WHERE (bbox, datetime, equality, CQL2), ORDER BY and keyset.

Paging is keyset on (sort keys..., fid): the next page asks for rows after the last one, so
page 1000 costs what page 1 costs. Nothing here pastes a value into SQL text: every value of a
request is named once (``named_values``) and the statement refers to it by name, in the
placeholder syntax of the driver that runs it (psycopg's ``%(name)s`` or asyncpg's ``$n``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from psycopg import sql

from gis import sfc
from services.catalog import Column, LayerInfo
from services.ogc.crs import SERVED, ServedCRS
from services.ogc.params import ItemsQuery
from services.ogc.values import SQL_TYPES


@dataclass
class SQLQuery:
    layer: LayerInfo
    columns: dict[str, Column]  # properties to output
    numbered: bool = False  # asyncpg's $n placeholders, else psycopg's %(name)s
    values: dict = field(default_factory=dict)  # what the statement may bind, by name
    where: list[sql.Composable] = field(default_factory=list)
    params: dict = field(default_factory=dict)  # what it binds: name → value, $n order
    order: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    curve: bool = False  # paged along the curve key (ItemsQuery.curve): a union of ranges

    def ref(self, name: str, cast: str | None = None) -> sql.Composable:
        """The placeholder of value ``name`` of ``values`` (bound where first used)."""
        if name not in self.params:
            self.params[name] = self.values[name]
        if self.numbered:  # $n numbers in order of binding, wherever in the text
            ph: sql.Composable = sql.SQL(f"${list(self.params).index(name) + 1}")
        else:
            ph = sql.Placeholder(name)
        return sql.SQL("{}::{}").format(ph, sql.SQL(cast)) if cast else ph

    def param(self, value, cast: str | None = None, prefix: str = "p") -> sql.Composable:
        """A placeholder of a value named here (CQL2 literals, a feature id)."""
        name = f"{prefix}{len(self.values)}"
        self.values[name] = value
        return self.ref(name, cast)

    @property
    def table(self) -> sql.Composable:
        return sql.Identifier("data", self.layer.id)

    def where_sql(self) -> sql.Composable:
        if not self.where:
            return sql.SQL("TRUE")
        return sql.SQL(" AND ").join(self.where)

    def order_sql(self, alias: bool = False, reverse: bool = False) -> sql.Composable:
        """ORDER BY of the query on the table's columns, or on the page's _kN aliases."""
        parts = []
        for i, (name, desc) in enumerate(self.order):
            d = desc != reverse
            parts.append(sql.SQL("{} {}").format(
                sql.Identifier(f"_k{i}") if alias else sql.Identifier(name),
                sql.SQL("DESC NULLS FIRST" if d else "ASC NULLS LAST")))
        parts.append(sql.SQL("fid DESC" if reverse else "fid"))
        return sql.SQL(", ").join(parts)


def build(layer: LayerInfo, visible: dict[str, Column], q: ItemsQuery, numbered: bool = False,
          values: dict | None = None) -> SQLQuery:
    """WHERE and ORDER BY of an items request; ``visible``: what the caller may see;
    ``values``: ``named_values`` of the request when already at hand."""
    out_cols = {n: visible[n] for n in q.properties} if q.properties is not None else visible
    if values is None:
        values = named_values(layer, visible, q)
    s = SQLQuery(layer, out_cols, numbered, dict(values))
    if q.bbox is not None:
        s.where.append(bbox_condition(s, q.bbox_crs or SERVED_DEFAULT, indexed=not q.curve))
    if q.interval is not None:
        s.where.append(interval_condition(s, layer, visible, q.interval))
    for i, name in enumerate(q.equals):
        s.where.append(sql.SQL("{} = {}").format(
            sql.Identifier(name), s.ref(f"eq{i}", SQL_TYPES[visible[name].type])))
    if q.filter is not None:
        from services.ogc.cql import Translator

        t = Translator(visible, q.filter_crs or SERVED_DEFAULT, s.param)
        try:
            s.where.append(t.condition(q.filter))
        except (IndexError, KeyError, TypeError, AttributeError) as exc:
            from services.ogc.errors import InvalidParameter

            raise InvalidParameter(f"filter: malformed expression ({type(exc).__name__}); "
                                   "check each operator's arguments") from None
    s.order = list(q.order)
    s.curve = q.curve
    return s


SERVED_DEFAULT: ServedCRS = next(iter(SERVED.values()))


def shape_key(layer: LayerInfo, visible: dict[str, Column], q: ItemsQuery) -> tuple:
    """Everything but the values that decides the SQL text of a page query (no CQL2); the
    statement refers to values by name, so equal keys may bind different values."""
    return (layer.id, layer.current_version, layer.definition_sha,
            tuple(q.properties) if q.properties is not None else tuple(visible),
            tuple(q.sortby), None if q.bbox is None else (q.bbox_crs or SERVED_DEFAULT).uri,
            None if q.interval is None else (
                layer.time_field in visible, q.interval[0] is None, q.interval[1] is None),
            tuple(q.equals), q.crs.uri if q.crs else None, bool(q.limit), q.curve,
            q.limit if q.curve else None,  # written into a curve statement (page_cte)
            None if q.cursor is None else tuple(v is None for v in q.cursor))


def named_values(layer: LayerInfo, visible: dict[str, Column], q: ItemsQuery) -> dict:
    """Every value an items statement of ``q`` may bind (CQL2 literals aside), by the name
    the statement refers to it with."""
    out: dict = {}
    if q.bbox is not None:
        out.update(zip(("x0", "y0", "x1", "y1"), map(float, q.bbox), strict=True))
    if q.curve:
        out.update(curve_values(layer, q))
    if q.interval is not None:
        col = visible.get(layer.time_field) if layer.time_field else None
        if col is not None:
            for name, v, end in (("t0", q.interval[0], False), ("t1", q.interval[1], True)):
                if v is not None:
                    out[name] = _as_date(v) if col.type == "date" else _as_dt(v, end)
    for i, value in enumerate(q.equals.values()):
        out[f"eq{i}"] = value
    if q.cursor is not None:
        out["after"] = int(q.cursor[-1])
        for i, v in enumerate(q.cursor[:-1]):
            if v is not None:
                out[f"after{i}"] = v
    out["limit"] = q.limit
    return out


CURVE_BRANCHES = 1 + sfc.MAX_RANGES  # the bucket, then the key ranges
MIN_FID = -(2**63)


def curve_values(layer: LayerInfo, q: ItemsQuery) -> dict:
    """The key ranges of a curve page: ``lo<i>``, ``hi<i>`` (the bucket first, then the ranges
    of ``gis.sfc.ranges``, then empty ones (1, 0): one statement a shape); after a cursor
    (key, fid), each range's first (key, fid) instead (``sk<i>``, ``sf<i>``): the cursor
    inside its range, the range's start after it, and ranges before it emptied, so each index
    scan starts where the page does (one lower bound, not the range's and the cursor's)."""
    ranges = [(sfc.BUCKET, sfc.BUCKET), *sfc.ranges(q.bbox, layer.sfc_pad)]
    ranges += [(1, 0)] * (CURVE_BRANCHES - len(ranges))
    out: dict = {}
    for i, (lo, hi) in enumerate(ranges):
        out[f"hi{i}"] = hi
        if q.cursor is None:
            out[f"lo{i}"] = lo
            continue
        key, fid = int(q.cursor[0]), int(q.cursor[1])
        if hi < key:
            out[f"sk{i}"], out[f"sf{i}"], out[f"hi{i}"] = 1, 0, 0
        elif lo > key:
            out[f"sk{i}"], out[f"sf{i}"] = lo, MIN_FID
        else:
            out[f"sk{i}"], out[f"sf{i}"] = key, fid
    return out


def bbox_condition(s: SQLQuery, crs: ServedCRS, indexed: bool = True) -> sql.Composable:
    """The features meeting the bbox; ``indexed`` False: a condition the GiST index does not
    serve (PostGIS's _ST_Intersects, same result, its own bbox test first), so that a page
    along the curve reads its key ranges in order instead of sorting every match."""
    x0, y0, x1, y1 = (s.ref(n) for n in ("x0", "y0", "x1", "y1"))
    if crs.is_wgs84 and not crs.lat_first:
        env = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(x0, y0, x1, y1)
    else:
        env = crs.input(sql.SQL("ST_MakeEnvelope({}, {}, {}, {})").format(x0, y0, x1, y1),
                        densify=True)
    return sql.SQL("{}(geom, {})").format(
        sql.SQL("ST_Intersects" if indexed else "_ST_Intersects"), env)


def interval_condition(s: SQLQuery, layer: LayerInfo, visible: dict[str, Column], interval):
    tf = layer.time_field
    col = visible.get(tf) if tf else None
    if col is None:  # the time field is not visible to this caller: nothing can match
        return sql.SQL("FALSE")
    lo, hi = interval
    ident = sql.Identifier(tf)
    cast = "date" if col.type == "date" else "timestamptz"
    parts = []
    if lo is not None:
        parts.append(sql.SQL("{} >= {}").format(ident, s.ref("t0", cast)))
    if hi is not None:
        parts.append(sql.SQL("{} <= {}").format(ident, s.ref("t1", cast)))
    return sql.SQL("({})").format(sql.SQL(" AND ").join(parts))


def _as_date(v: date | datetime) -> date:
    return v.astimezone(UTC).date() if isinstance(v, datetime) else v


def _as_dt(v: date | datetime, end: bool) -> datetime:
    if isinstance(v, datetime):
        return v
    d = datetime.combine(v, time.min, tzinfo=UTC)
    return d + timedelta(days=1) - timedelta(microseconds=1) if end else d


def keyset_condition(s: SQLQuery, cursor: list) -> sql.Composable:
    """Rows strictly after the cursor (sort key values..., fid) in the query's order."""
    keys = list(enumerate(zip(s.order, cursor[:-1], strict=True)))
    cond: sql.Composable = sql.SQL("fid > {}").format(s.ref("after", "bigint"))
    for i, ((name, desc), value) in reversed(keys):
        ident = sql.Identifier(name)
        if value is None:
            after = sql.SQL("{} IS NOT NULL").format(ident) if desc else sql.SQL("FALSE")
            equal = sql.SQL("{} IS NULL").format(ident)
        else:
            v = s.ref(f"after{i}", SQL_TYPES[s.layer.columns[name].type])
            after = (sql.SQL("{} < {}").format(ident, v) if desc
                     else sql.SQL("({} > {} OR {} IS NULL)").format(ident, v, ident))
            equal = sql.SQL("{} = {}").format(ident, v)
        cond = sql.SQL("({} OR ({} AND {}))").format(after, equal, cond)
    return cond


def page_cte(s: SQLQuery, limit: bool, cursor: list | None) -> sql.Composable:
    """``SELECT fid, <keys as _kN>, <properties>, geom FROM ... LIMIT`` in the query's order
    (``limit``: whether the statement has one, the named value "limit")."""
    where = list(s.where)
    if cursor is not None and not s.curve:  # the curve's cursor bounds each range instead
        where.append(keyset_condition(s, cursor))
    cols = [sql.SQL("fid")]
    cols += [sql.SQL("{} AS {}").format(sql.Identifier(n), sql.Identifier(f"_k{i}"))
             for i, (n, _d) in enumerate(s.order)]
    cols += [sql.Identifier(n) for n in s.columns]
    cols.append(sql.SQL("geom"))
    lim = sql.SQL("")
    if limit and s.curve:
        # written in, not bound: PostgreSQL's generic plan of a LIMIT parameter assumes 10 %
        # of the rows, so with millions it planned the nine branches again on every page
        # (1.3 ms of a 4 M-parcel page); with the number it keeps one plan per statement
        lim = sql.SQL(" LIMIT {}").format(sql.Literal(int(s.values["limit"])))
    elif limit:
        lim = sql.SQL(" LIMIT {}").format(s.ref("limit", "bigint"))
    if not s.curve:
        return sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}{}").format(
            sql.SQL(", ").join(cols), s.table,
            sql.SQL(" AND ").join(where) if where else sql.SQL("TRUE"), s.order_sql(), lim)
    # Along the curve: the bucket, then each key range read in (key, fid) order from its
    # index and merged (a Merge Append that stops after `limit` rows), so a page reads about
    # `limit` rows whatever the bbox holds (gis.sfc).
    key = sql.Identifier(sfc.COLUMN)
    if cursor is None:
        bounds = [sql.SQL("{} BETWEEN {} AND {}").format(
            key, s.ref(f"lo{i}", "bigint"), s.ref(f"hi{i}", "bigint"))
            for i in range(CURVE_BRANCHES)]
    else:
        bounds = [sql.SQL("({}, fid) > ({}, {}) AND {} <= {}").format(
            key, s.ref(f"sk{i}", "bigint"), s.ref(f"sf{i}", "bigint"), key,
            s.ref(f"hi{i}", "bigint")) for i in range(CURVE_BRANCHES)]
    branches = [sql.SQL("(SELECT {} FROM {} WHERE {} ORDER BY {}{})").format(
        sql.SQL(", ").join(cols), s.table, sql.SQL(" AND ").join([b, *where]), s.order_sql(),
        lim) for b in bounds]
    return sql.SQL("SELECT * FROM ({}) u ORDER BY {}{}").format(
        sql.SQL(" UNION ALL ").join(branches), s.order_sql(alias=True), lim)
