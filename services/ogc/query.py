"""The SQL of one items query: WHERE (bbox, datetime, equality, CQL2), ORDER BY and keyset.

Paging is keyset on (sort keys..., fid): the next page asks for rows after the last one, so
page 1000 costs what page 1 costs. Nothing here pastes a value into SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from psycopg import sql

from services.catalog import Column, LayerInfo
from services.ogc.crs import SERVED, ServedCRS
from services.ogc.params import ItemsQuery
from services.ogc.values import SQL_TYPES


@dataclass
class SQLQuery:
    layer: LayerInfo
    columns: dict[str, Column]  # properties to output
    where: list[sql.Composable] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)

    def param(self, value, cast: str | None = None) -> sql.Composable:
        name = f"p{len(self.params)}"
        self.params[name] = value
        ph = sql.Placeholder(name)
        return sql.SQL("{}::{}").format(ph, sql.SQL(cast)) if cast else ph

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


def build(layer: LayerInfo, visible: dict[str, Column], q: ItemsQuery) -> SQLQuery:
    """WHERE and ORDER BY of an items request; ``visible``: what the caller may see."""
    out_cols = {n: visible[n] for n in q.properties} if q.properties is not None else visible
    s = SQLQuery(layer, out_cols)
    if q.bbox is not None:
        s.where.append(bbox_condition(s, q.bbox, q.bbox_crs or SERVED_DEFAULT))
    if q.interval is not None:
        s.where.append(interval_condition(s, layer, visible, q.interval))
    for name, value in q.equals.items():
        s.where.append(sql.SQL("{} = {}").format(
            sql.Identifier(name), s.param(value, SQL_TYPES[visible[name].type])))
    if q.filter is not None:
        from services.ogc.cql import Translator

        t = Translator(visible, q.filter_crs or SERVED_DEFAULT, s.params, prefix="f")
        try:
            s.where.append(t.condition(q.filter))
        except (IndexError, KeyError, TypeError, AttributeError) as exc:
            from services.ogc.errors import InvalidParameter

            raise InvalidParameter(f"filter: malformed expression ({type(exc).__name__}); "
                                   "check each operator's arguments") from None
    s.order = list(q.sortby)
    return s


SERVED_DEFAULT: ServedCRS = next(iter(SERVED.values()))


def shape_key(layer: LayerInfo, visible: dict[str, Column], q: ItemsQuery) -> tuple:
    """Everything but the values that decides the SQL text of a page query (no CQL2)."""
    return (layer.id, layer.current_version, layer.definition_sha,
            tuple(q.properties) if q.properties is not None else tuple(visible),
            tuple(q.sortby), None if q.bbox is None else (q.bbox_crs or SERVED_DEFAULT).uri,
            None if q.interval is None else (
                layer.time_field in visible, q.interval[0] is None, q.interval[1] is None),
            tuple(q.equals), q.crs.uri if q.crs else None, bool(q.limit),
            None if q.cursor is None else tuple(v is None for v in q.cursor))


def bound_values(layer: LayerInfo, visible: dict[str, Column], q: ItemsQuery) -> list:
    """The values ``build`` and ``page_cte`` bind for ``q`` (no CQL2), in their order."""
    out: list = []
    if q.bbox is not None:
        out += [float(v) for v in q.bbox]
    if q.interval is not None:
        col = visible.get(layer.time_field) if layer.time_field else None
        if col is not None:
            lo, hi = q.interval
            if col.type == "date":
                out += [_as_date(v) for v in (lo, hi) if v is not None]
            else:
                out += [_as_dt(v, end) for v, end in ((lo, False), (hi, True)) if v is not None]
    out += q.equals.values()
    if q.cursor is not None:
        out.append(int(q.cursor[-1]))
        out += [v for v in reversed(q.cursor[:-1]) if v is not None]
    if q.limit:
        out.append(q.limit)
    return out


def bbox_condition(s: SQLQuery, bbox, crs: ServedCRS) -> sql.Composable:
    x0, y0, x1, y1 = (s.param(float(v)) for v in bbox)
    if crs.is_wgs84 and not crs.lat_first:
        env = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(x0, y0, x1, y1)
    else:
        env = crs.input(sql.SQL("ST_MakeEnvelope({}, {}, {}, {})").format(x0, y0, x1, y1),
                        densify=True)
    return sql.SQL("ST_Intersects(geom, {})").format(env)


def interval_condition(s: SQLQuery, layer: LayerInfo, visible: dict[str, Column], interval):
    tf = layer.time_field
    col = visible.get(tf) if tf else None
    if col is None:  # the time field is not visible to this caller: nothing can match
        return sql.SQL("FALSE")
    lo, hi = interval
    ident = sql.Identifier(tf)
    parts = []
    if col.type == "date":
        if lo is not None:
            parts.append(sql.SQL("{} >= {}").format(ident, s.param(_as_date(lo), "date")))
        if hi is not None:
            parts.append(sql.SQL("{} <= {}").format(ident, s.param(_as_date(hi), "date")))
    else:
        if lo is not None:
            parts.append(sql.SQL("{} >= {}").format(ident, s.param(_as_dt(lo, False),
                                                                    "timestamptz")))
        if hi is not None:
            parts.append(sql.SQL("{} <= {}").format(ident, s.param(_as_dt(hi, True),
                                                                    "timestamptz")))
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
    keys = list(zip(s.order, cursor[:-1], strict=True))
    cond: sql.Composable = sql.SQL("fid > {}").format(s.param(int(cursor[-1]), "bigint"))
    for (name, desc), value in reversed(keys):
        ident = sql.Identifier(name)
        if value is None:
            after = sql.SQL("{} IS NOT NULL").format(ident) if desc else sql.SQL("FALSE")
            equal = sql.SQL("{} IS NULL").format(ident)
        else:
            v = s.param(value, SQL_TYPES[s.layer.columns[name].type])
            after = (sql.SQL("{} < {}").format(ident, v) if desc
                     else sql.SQL("({} > {} OR {} IS NULL)").format(ident, v, ident))
            equal = sql.SQL("{} = {}").format(ident, v)
        cond = sql.SQL("({} OR ({} AND {}))").format(after, equal, cond)
    return cond


def page_cte(s: SQLQuery, limit: int | None, cursor: list | None) -> sql.Composable:
    """``SELECT fid, <keys as _kN>, <properties>, geom FROM ... LIMIT`` in the query's order."""
    where = list(s.where)
    if cursor is not None:
        where.append(keyset_condition(s, cursor))
    cols = [sql.SQL("fid")]
    cols += [sql.SQL("{} AS {}").format(sql.Identifier(n), sql.Identifier(f"_k{i}"))
             for i, (n, _d) in enumerate(s.order)]
    cols += [sql.Identifier(n) for n in s.columns]
    cols.append(sql.SQL("geom"))
    return sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}{}").format(
        sql.SQL(", ").join(cols), s.table,
        sql.SQL(" AND ").join(where) if where else sql.SQL("TRUE"), s.order_sql(),
        sql.SQL(" LIMIT {}").format(s.param(limit, "bigint")) if limit else sql.SQL(""))
