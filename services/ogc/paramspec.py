"""A route's query parameters, declared once: the same declaration parses a request (a clear
400 for anything wrong) and is the route's parameter list in the OpenAPI document (given to
FastAPI as ``openapi_extra``, so FastAPI neither declares nor validates them a second time).
The items hot path (``services.ogc.hotpath``) parses with the same declaration."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from services.ogc.errors import InvalidParameter


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    schema: dict  # OpenAPI 3.0 schema of the value
    hint: str = ""  # appended to the message of an out-of-range integer
    extra: dict = field(default_factory=dict)  # more of the OpenAPI parameter (style, ...)

    def doc(self) -> dict:
        return {"name": self.name, "in": "query", "required": False,
                "description": self.description, "schema": self.schema, **self.extra}

    def integer(self, value: str | None) -> int:
        """The value as an integer within the schema's bounds (its default when absent)."""
        if value is None:
            return self.schema["default"]
        try:
            n = int(value)
        except ValueError:
            raise InvalidParameter(f"{self.name}={value!r} is not an integer") from None
        lo, hi = self.schema["minimum"], self.schema["maximum"]
        if not lo <= n <= hi:
            raise InvalidParameter(f"{self.name}={n} is outside {lo}..{hi}{self.hint}")
        return n


def integer(name: str, description: str, minimum: int, maximum: int, default: int,
            hint: str = "") -> Param:
    return Param(name, description, {"type": "integer", "minimum": minimum, "maximum": maximum,
                                     "default": default}, hint)


def path_integer(name: str, description: str, minimum: int, maximum: int) -> Param:
    """An integer path segment (parsed by its route: a tile's address answers 404 outside
    the matrix, not 400)."""
    return Param(name, description, {"type": "integer", "minimum": minimum,
                                     "maximum": maximum}, extra={"in": "path", "required": True})


def path_text(name: str, description: str, **schema) -> Param:
    return Param(name, description, {"type": "string", **schema},
                 extra={"in": "path", "required": True})


def openapi(*groups: Params) -> dict:
    """The parameter lists of several declarations as one route's ``openapi_extra``."""
    return {"parameters": [p.doc() for g in groups for p in g.by_name.values()]}


def text(name: str, description: str, **schema) -> Param:
    return Param(name, description, {"type": "string", **schema})


class Formats(Param):
    """``f``: a spelling of one of the formats the route offers (case-insensitive)."""

    def __init__(self, spellings: dict[str, str]):
        html = " (default: a browser's text/html in Accept gives HTML)" \
            if "html" in spellings.values() else ""
        super().__init__("f", "Response format: " + " | ".join(spellings) + html,
                         {"type": "string", "enum": list(spellings)})
        object.__setattr__(self, "spellings", spellings)

    def parse(self, value: str | None) -> str | None:
        if value is None:
            return None
        key = self.spellings.get(value.lower())
        if key is None:
            raise InvalidParameter(f"f={value!r} is not offered here; use one of: "
                                   f"{', '.join(sorted(self.spellings))}")
        return key


class Params:
    """The query parameters of one route. ``strict``: any other name is a 400 (but the names
    in ``given``'s ``properties``, a collection's)."""

    def __init__(self, *params: Param, strict: bool = True):
        self.by_name = {p.name: p for p in params}
        self.strict = strict

    def __getitem__(self, name: str) -> Param:
        return self.by_name[name]

    def openapi(self) -> dict:
        return {"parameters": [p.doc() for p in self.by_name.values()]}

    def format(self, query, accept: str, default: str = "geojson") -> str:
        """``f`` when given, else HTML for a browser (text/html in Accept), else ``default``."""
        f = self.by_name["f"].parse(query.get("f"))
        if f:
            return f
        if "html" in self.by_name["f"].spellings.values() and "text/html" in accept:
            return "html"
        return default

    def given(self, query, properties: Collection[str] | None = None) -> dict[str, str]:
        """Each parameter's value (``query``: Starlette QueryParams): NUL, unknown names and a
        name given twice are a 400. ``properties``: names also accepted (equality filters)."""
        extra = properties or ()
        out: dict[str, str] = {}
        for key, value in query.multi_items():
            if "\x00" in key or "\x00" in value:  # PostgreSQL text cannot hold NUL
                raise InvalidParameter(f"parameter {key[:40]!r} contains a NUL character "
                                       "(%00); remove it")
            if self.strict and key not in self.by_name and key not in extra:
                more = "" if properties is None else (
                    f" or a property name: {', '.join(properties) or '(none)'}")
                raise InvalidParameter(f"unknown parameter {key!r}; use "
                                       f"{', '.join(sorted(self.by_name))}{more}")
            if key in out:
                raise InvalidParameter(f"parameter {key!r} is given more than once")
            out[key] = value
        return out
