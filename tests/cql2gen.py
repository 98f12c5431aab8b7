"""A small random generator of CQL2-text filters from the grammar (OGC 21-065r2), for fuzzing:
comparisons, LIKE, BETWEEN, IN, IS NULL, spatial S_* predicates with WKT, temporal T_*,
CASEI/ACCENTI, AND/OR/NOT nesting; mostly well-typed against a property list, sometimes not,
and then deep nesting and garbage mutations. Deterministic for a given random.Random."""

from __future__ import annotations

import random

SPATIAL = ["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT", "S_EQUALS", "S_TOUCHES",
           "S_CROSSES", "S_OVERLAPS"]
TEMPORAL = ["T_AFTER", "T_BEFORE", "T_DURING", "T_EQUALS", "T_INTERSECTS", "T_DISJOINT",
            "T_MEETS", "T_OVERLAPS"]
ODD_NUMBERS = ["0", "-1", "1e300", "-1e308", "1e400", "NaN", "9" * 30, "0.5", "-0", "1e-320"]
ODD_TEXT = ["''", "'%'", "'_'", "'it''s'", "'\\'", "'Số 1 đường 30/4'", "'a\u0000b'",
            "'\U0001F525'", "'" + "x" * 300 + "'", "'2024-13-45'"]
GARBAGE = list("()[]{}',\"=<>!%*;\\-+/.") + [" AND ", " OR ", " NOT ", "(", ")", "''", "\u0000",
                                             "²", "S_INTERSECTS(", "CASEI(", "POINT(", "--"]


class Gen:
    def __init__(self, rnd: random.Random, props: dict[str, str]):
        self.r = rnd
        self.props = props  # name -> integer | number | string | date

    def pick(self, seq):
        return self.r.choice(seq)

    # -- values ---------------------------------------------------------------------------
    def number(self) -> str:
        if self.r.random() < 0.15:
            return self.pick(ODD_NUMBERS)
        return self.pick([str(self.r.randint(-5, 3000)), f"{self.r.uniform(-1e6, 1e6):.3f}"])

    def text(self) -> str:
        if self.r.random() < 0.2:
            return self.pick(ODD_TEXT)
        return "'" + self.pick(["ONT", "CLN", "An Hòa", "Số 12", "TN-1", "x"]) + "'"

    def date(self) -> str:
        y, m, d = self.r.randint(1900, 2100), self.r.randint(1, 12), self.r.randint(1, 28)
        if self.r.random() < 0.5:
            return f"DATE('{y:04d}-{m:02d}-{d:02d}')"
        return f"TIMESTAMP('{y:04d}-{m:02d}-{d:02d}T0{self.r.randint(0, 9)}:00:00Z')"

    def value(self, kind: str) -> str:
        if self.r.random() < 0.1:  # the wrong kind on purpose
            kind = self.pick(["integer", "string", "date", "boolean"])
        if kind in ("integer", "number"):
            return self.number()
        if kind == "date":
            return self.date()
        if kind == "boolean":
            return self.pick(["TRUE", "FALSE"])
        return self.text()

    def prop(self, kind: str | None = None) -> tuple[str, str]:
        names = [n for n, k in self.props.items() if kind is None or k == kind] or list(self.props)
        if self.r.random() < 0.05:
            return self.pick(["nosuch", '"address"', "owner_id_no", "geom"]), "string"
        name = self.pick(names)
        return name, self.props[name]

    def wkt(self) -> str:
        def pt():
            if self.r.random() < 0.05:
                return f"{self.pick(ODD_NUMBERS)} {self.pick(ODD_NUMBERS)}"
            return f"{105.7 + self.r.random() * 0.2:.5f} {9.9 + self.r.random() * 0.2:.5f}"

        kind = self.r.randint(0, 5)
        if kind == 0:
            return f"POINT({pt()})"
        if kind == 1:
            return f"LINESTRING({pt()}, {pt()})"
        if kind == 2:
            a = pt()
            return f"POLYGON(({a}, {pt()}, {pt()}, {a}))"
        if kind == 3:
            return f"BBOX({', '.join(self.number() for _ in range(4))})"
        if kind == 4:
            return f"MULTIPOINT(({pt()}), ({pt()}))"
        return f"POLYGON(({pt()}, {pt()}))"  # not closed

    # -- predicates -----------------------------------------------------------------------
    def predicate(self) -> str:
        kind = self.r.randint(0, 9)
        name, t = self.prop()
        if kind <= 2:
            op = self.pick(["=", "<>", "<", "<=", ">", ">="])
            rhs = self.prop(t)[0] if self.r.random() < 0.15 else self.value(t)
            return f"{self.wrap(name, t)} {op} {rhs}"
        if kind == 3:
            name, t = self.prop("string")
            neg = "NOT " if self.r.random() < 0.2 else ""
            return f"{self.wrap(name, t)} {neg}LIKE {self.text()}"
        if kind == 4:
            return f"{name} BETWEEN {self.value(t)} AND {self.value(t)}"
        if kind == 5:
            items = ", ".join(self.value(t) for _ in range(self.r.randint(0, 5)))
            return f"{name} {'NOT ' if self.r.random() < 0.2 else ''}IN ({items})"
        if kind == 6:
            return f"{name} IS {'NOT ' if self.r.random() < 0.3 else ''}NULL"
        if kind == 7:
            return f"{self.pick(SPATIAL)}(geom, {self.wkt()})"
        if kind == 8:
            return f"S_DWITHIN(geom, {self.wkt()}, {self.number()})"
        name, _t = self.prop("date")
        rhs = self.date() if self.r.random() < 0.6 else (
            f"INTERVAL('{self.pick(['..', '2001-01-01'])}', '{self.pick(['..', '2030-01-01'])}')")
        return f"{self.pick(TEMPORAL)}({name}, {rhs})"

    def wrap(self, name: str, t: str) -> str:
        if t == "string" and self.r.random() < 0.3:
            return f"{self.pick(['CASEI', 'ACCENTI'])}({name})"
        return name

    def condition(self, depth: int = 0) -> str:
        roll = self.r.random()
        if depth > 4 or roll < 0.4:
            return self.predicate()
        if roll < 0.75:
            op = self.pick([" AND ", " OR "])
            return op.join(self.condition(depth + 1) for _ in range(self.r.randint(2, 4)))
        if roll < 0.9:
            return f"NOT ({self.condition(depth + 1)})"
        return f"({self.condition(depth + 1)})"

    # -- hostile shapes -------------------------------------------------------------------
    def deep(self) -> str:
        n = self.r.choice([25, 60, 400, 1600, 2100])
        inner = self.predicate()
        return self.pick([("(" * n + inner + ")" * n), "NOT " * n + inner,
                          "CASEI(" * n + "address" + ")" * n + " = 'x'",
                          f"sheet_no IN ({'(' * n}1{')' * n})", f"sheet_no = {'-' * n}1"])

    def mutate(self, text: str) -> str:
        chars = list(text)
        for _ in range(self.r.randint(1, 4)):
            at = self.r.randint(0, len(chars))
            roll = self.r.random()
            if roll < 0.4:
                chars.insert(at, self.pick(GARBAGE))
            elif roll < 0.7 and chars:
                del chars[min(at, len(chars) - 1)]
            else:
                chars = chars[:at]
        return "".join(chars)

    def case(self) -> str:
        roll = self.r.random()
        if roll < 0.6:
            return self.condition()
        if roll < 0.85:
            return self.mutate(self.condition())
        return self.deep()
