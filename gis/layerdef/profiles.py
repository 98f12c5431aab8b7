"""Delivery profiles: how one kind of delivery maps onto the layer (``sources:`` of a layer
file), so a department's monthly file loads with ``gis load FILE --layer ID --profile NAME``
and no source edits or repeated ``--map`` flags.

A profile names the source CRS and encoding, maps source fields to layer fields, sets
constants for fields the delivery lacks, translates old codes (value maps), derives fields
with the small expression language of ``gis.layerdef.expression``, drops fields on purpose,
and may set the layer's key rule for its deliveries. Nothing in a profile relaxes a check:
a value map or constant must give valid values of the field, and a derived value that is
not valid rejects its row.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, field_validator

from gis.layerdef.base import ID_RE, Strict, Text
from gis.layerdef.expression import Expression, ExpressionError, parse_expression
from gis.layerdef.keys import KeyRule

Scalar = str | int | float | bool


def _profile_name(v: str) -> str:
    if not ID_RE.match(v):
        raise ValueError(f"profile name {v!r} must be lower_snake_case (a-z, 0-9, _)")
    return v


def _expression(v: str) -> str:
    try:
        compiled_expression(v)
    except ExpressionError as exc:
        raise ValueError(f"derived expression: {exc}") from None
    return v


def _text_keys(v: Any) -> Any:
    """YAML reads `1: phuong` with an integer key; value maps compare text."""
    if isinstance(v, dict):
        return {_scalar_text(k): val for k, val in v.items()}
    return v


def _scalar_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


ProfileName = Annotated[str, AfterValidator(_profile_name)]
ValueMap = Annotated[dict[str, Scalar], BeforeValidator(_text_keys)]
DerivedExpression = Annotated[str, AfterValidator(_expression)]


@lru_cache(maxsize=256)
def compiled_expression(text: str) -> Expression:
    return parse_expression(text)


class DeliveryProfile(Strict):
    """One kind of delivery of a layer (``sources.<name>`` of the layer file)."""

    description: Text | None = None
    format: str | None = None  # informative, like source.format
    crs: str | None = None  # the deliveries' CRS (EPSG code, preset, WKT)
    # the file's own CRS is wrong in this kind of delivery (e.g. a MapInfo CoordSys with a
    # placeholder datum): use `crs` even when the file declares one
    crs_overrides_file: bool = False
    encoding: str | None = None  # auto or an encoding name; none: the layer's
    layer: str | None = None  # layer inside a multi-layer source
    axis_order: Literal["auto", "xy", "yx"] | None = None
    x_field: str | None = None
    y_field: str | None = None
    field_map: dict[str, str] = {}  # source field -> layer field
    constants: dict[str, Scalar] = {}  # layer field -> value, for fields the delivery lacks
    value_maps: dict[str, ValueMap] = {}  # layer field -> {delivered value: value}
    derived: dict[str, DerivedExpression] = {}  # layer field -> expression over source fields
    drop: list[str] = []  # source fields dropped on purpose (not kept in `extra`)
    keys: KeyRule | None = None  # the key rule for these deliveries (default: the layer's)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        from gis.text import UnknownEncodingError, canonical_encoding

        if v is None or v == "auto":
            return v
        try:
            canonical_encoding(v)
        except UnknownEncodingError as exc:
            raise ValueError(f"{exc} (or auto)") from None
        return v

    @field_validator("crs")
    @classmethod
    def _crs(cls, v: str | None) -> str | None:
        from gis.crs import CRSError, resolve_crs

        if v is not None:
            try:
                resolve_crs(v)
            except CRSError as exc:
                raise ValueError(str(exc)) from None
        return v

    def expression(self, field: str) -> Expression:
        return compiled_expression(self.derived[field])


Profiles = dict[ProfileName, DeliveryProfile]


def value_problem(field: dict, value: Any) -> str | None:
    """Why `value` is not a valid value of the layer field `field` (a FieldDef as a dict)."""
    from gis.codelists import CODELISTS, lookup

    kind = field.get("type") or "string"
    if value is None:
        return "an empty value"
    if field.get("codelist") in CODELISTS:
        if lookup(field["codelist"], value) is None:
            codes = ", ".join(CODELISTS[field["codelist"]].codes[:12])
            return (f"{value!r} is not a code of the code list {field['codelist']!r} "
                    f"(codes: {codes}{', ...' if len(CODELISTS[field['codelist']]) > 12 else ''})")
        return None
    if kind in ("integer", "number"):
        try:
            n = float(str(value).replace(",", "."))
        except ValueError:
            return f"{value!r} is not a {kind}"
        if kind == "integer" and not n.is_integer():
            return f"{value!r} is not an integer"
    elif kind == "boolean" and not isinstance(value, bool):
        return f"{value!r} is not true or false"
    elif kind in ("date", "datetime"):
        import pandas as pd

        if pd.isna(pd.to_datetime(str(value), errors="coerce", format="ISO8601")):
            return f"{value!r} is not an ISO date (YYYY-MM-DD)"
    max_length = field.get("max_length")
    if max_length and len(str(value)) > max_length:
        return f"{value!r} is longer than the field's max_length {max_length}"
    return None


def profile_problems(fields: list, sources: Any) -> list[tuple[tuple, str]]:
    """Problems of the profiles against the layer's fields, located at the offending key:
    unknown target fields, constants and mapped values that are not valid values of their
    field, a field given two ways."""
    if not isinstance(sources, dict) or not isinstance(fields, list):
        return []
    by_name = {f.get("name"): f for f in fields if isinstance(f, dict)}
    out: list[tuple[tuple, str]] = []

    def known(loc: tuple, name: Any, key: str) -> bool:
        if isinstance(name, str) and name not in by_name:
            out.append((loc, f"{key} field {name!r} is not among the fields"))
            return False
        return isinstance(name, str)

    for pname, p in sources.items():
        if not isinstance(p, dict):
            continue
        at = ("sources", pname)
        for src, target in (p.get("field_map") or {}).items():
            known((*at, "field_map", src), target, f"sources.{pname}.field_map")
        constants = p.get("constants") if isinstance(p.get("constants"), dict) else {}
        for target, value in constants.items():
            if known((*at, "constants", target), target, f"sources.{pname}.constants"):
                why = value_problem(by_name[target], value)
                if why:
                    out.append(((*at, "constants", target), f"constant of {target}: {why}"))
        maps = p.get("value_maps") if isinstance(p.get("value_maps"), dict) else {}
        for target, mapping in maps.items():
            if not known((*at, "value_maps", target), target, f"sources.{pname}.value_maps"):
                continue
            for old, new in (mapping.items() if isinstance(mapping, dict) else ()):
                why = value_problem(by_name[target], new)
                if why:
                    out.append(((*at, "value_maps", target, old),
                                f"value map of {target}: {old!r} -> {why}"))
        rule = p.get("keys") if isinstance(p.get("keys"), dict) else {}
        for key in ("match_fields", "merge_segments_by"):
            for j, name in enumerate(rule.get(key) or []):
                known((*at, "keys", key, j), name, f"sources.{pname}.keys.{key}")
        derived = p.get("derived") if isinstance(p.get("derived"), dict) else {}
        for target in derived:
            known((*at, "derived", target), target, f"sources.{pname}.derived")
        mapped = set((p.get("field_map") or {}).values()) if isinstance(
            p.get("field_map"), dict) else set()
        for target in derived:
            if target in constants:
                out.append(((*at, "derived", target), f"field {target!r} is both derived and a "
                            "constant; keep one"))
            if target in mapped:
                out.append(((*at, "derived", target), f"field {target!r} is both derived and "
                            "the target of field_map; keep one"))
    return out
