"""Map a source's fields to a layer's data dictionary and coerce their types."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gis.errors import SPPError
from gis.layerdef import LayerDef


class SchemaError(SPPError):
    exit_code = 2


def _key(name: str) -> str:
    """Comparison key for field names: case, accents, spaces and underscores ignored."""
    s = unicodedata.normalize("NFD", str(name)).replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", s.lower())


@dataclass
class FieldMapping:
    to_layer: dict[str, str]  # source field -> layer field
    extra: list[str]  # source fields kept in the `extra` JSON column
    missing: list[str] = field(default_factory=list)  # optional layer fields not in the source

    def describe(self) -> dict:
        return {"mapped": self.to_layer, "extra": self.extra, "missing": self.missing}


def map_fields(source_fields: list[str], layer: LayerDef, overrides: dict[str, str] | None,
               source_name: str, ignore: tuple[str, ...] = (),
               optional: frozenset[str] = frozenset()) -> FieldMapping:
    explicit = {**layer.source.field_map, **(overrides or {})}
    by_key = {_key(f): f for f in source_fields}
    to_layer: dict[str, str] = {}
    for src, dst in explicit.items():
        if dst not in layer.field:
            raise SchemaError(
                f"{source_name}: field mapping {src}={dst}: the layer {layer.id!r} has no field "
                f"{dst!r}. Its fields: {', '.join(layer.field)}")
        actual = by_key.get(_key(src))
        if actual is None:
            if src in layer.source.field_map and not (overrides and src in overrides):
                continue  # a layer default that this delivery does not use
            raise SchemaError(
                f"{source_name}: field mapping {src}={dst}: the source has no field {src!r}. "
                f"Its fields: {', '.join(source_fields)}")
        to_layer[actual] = dst
    taken = set(to_layer.values())
    for f in layer.fields:
        if f.name in taken:
            continue
        for candidate in (f.name, *f.aliases):
            actual = by_key.get(_key(candidate))
            if actual and actual not in to_layer:
                to_layer[actual] = f.name
                taken.add(f.name)
                break
    missing_required = [f for f in layer.fields if f.required and f.name not in taken
                        and f.name not in optional]
    if missing_required:
        lines = [f"  {f.name} ({f.label.vi} / {f.label.en}): looked for "
                 f"{', '.join([f.name, *f.aliases])}" for f in missing_required]
        raise SchemaError(
            f"{source_name}: required fields of layer {layer.id!r} not found in the source "
            f"(its fields: {', '.join(source_fields)}):\n" + "\n".join(lines) +
            "\nFix: name the source field with --map SOURCE_FIELD=LAYER_FIELD.")
    extra = [s for s in source_fields if s not in to_layer and s not in ignore]
    missing = [f.name for f in layer.fields if f.name not in taken]
    return FieldMapping(to_layer, extra, missing)


@dataclass
class Coerced:
    frame: pd.DataFrame  # layer fields, typed
    bad_rows: dict[int, str]  # position -> why the row is rejected (required value unusable)
    warnings: dict[str, int]  # "field: problem" -> count of values set to NULL


def _to_number(s: pd.Series) -> pd.Series:
    if s.dtype.kind in "if":
        return s.astype("float64")
    text = s.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text.replace("", pd.NA), errors="coerce").astype("float64")


def _to_date(s: pd.Series, kind: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        text = s.astype("string").str.strip().replace("", pd.NA)
        iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
        # Vietnamese documents write dates day first (dd/mm/yyyy).
        vn = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
        out = iso.fillna(vn)
    if kind == "date":
        return out.dt.date.astype(object).where(out.notna(), None)
    return out


def coerce(frame: pd.DataFrame, mapping: FieldMapping, layer: LayerDef,
           optional: frozenset[str] = frozenset()) -> Coerced:
    """``optional``: required fields that may be empty (a natural key under a key rule that
    generates keys); a value there that is not of the field's type is still a reject."""
    n = len(frame)
    out = pd.DataFrame(index=frame.index)
    bad = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}
    warnings: dict[str, int] = {}
    source_of = {dst: src for src, dst in mapping.to_layer.items()}
    for f in layer.fields:
        src = source_of.get(f.name)
        raw = frame[src] if src is not None else pd.Series([None] * n, index=frame.index)
        if f.type == "string":
            col = raw.astype("string").str.strip().replace("", pd.NA)
            if raw.dtype.kind == "f":  # numbers read as float: 12.0 -> "12"
                col = raw.map(lambda v: None if pd.isna(v) else
                              (str(int(v)) if float(v).is_integer() else str(v))).astype("string")
            if f.max_length:
                col = col.str.slice(0, f.max_length)
        elif f.type in ("integer", "number"):
            num = _to_number(raw)
            col = num
            if f.type == "integer":
                frac = num.notna() & (num % 1 != 0)
                num = num.where(~frac)
                col = num.round().astype("Int64")
        elif f.type == "boolean":
            text = raw.astype("string").str.strip().str.lower()
            col = text.map({"1": True, "true": True, "t": True, "y": True, "có": True,
                            "0": False, "false": False, "f": False, "n": False, "không": False},
                           na_action="ignore").astype("boolean")
        else:
            col = _to_date(raw, f.type)
        unusable = pd.isna(col).to_numpy() & pd.notna(raw).to_numpy()
        if raw.dtype == object or str(raw.dtype) == "string":
            unusable &= raw.astype("string").str.strip().fillna("").ne("").to_numpy()
        if f.required:
            missing = pd.isna(col).to_numpy()
            if f.name in optional:
                missing = missing & unusable
            for i in np.flatnonzero(missing & ~bad):
                value = raw.iloc[i]
                reasons[int(i)] = (f"{f.name}: value {value!r} is not a valid {f.type}"
                                   if pd.notna(value) and str(value).strip()
                                   else f"{f.name} ({f.label.vi}) is empty but required")
            bad |= missing
        elif unusable.any():
            warnings[f"{f.name}: not a valid {f.type}, set empty"] = int(unusable.sum())
        out[f.name] = col
    return Coerced(out, reasons, warnings)
