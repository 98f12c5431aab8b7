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


def made_column(field: str) -> str:
    """The frame column holding a profile's values for a layer field (no source has it)."""
    return f"\x00profile:{field}"


@dataclass
class FieldMapping:
    to_layer: dict[str, str]  # source field -> layer field
    extra: list[str]  # source fields kept in the `extra` JSON column
    missing: list[str] = field(default_factory=list)  # optional layer fields not in the source
    how: dict[str, str] = field(default_factory=dict)  # source field -> why it maps (alias...)
    inputs: dict[str, str] = field(default_factory=dict)  # layer field -> frame column read
    dropped: list[str] = field(default_factory=list)  # source fields a profile drops
    coordinates: list[str] = field(default_factory=list)  # CSV columns made the geometry
    derived: dict[str, str] = field(default_factory=dict)  # layer field -> expression
    derived_inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # field: name->col
    constants: dict[str, object] = field(default_factory=dict)  # layer field -> value used
    value_maps: list[str] = field(default_factory=list)  # layer fields with a value map used
    profile: str | None = None
    suggestions: dict[str, dict] = field(default_factory=dict)  # extra field -> suggestion
    absent: dict[str, str] = field(default_factory=dict)  # profile field_map entries unused

    def __post_init__(self):
        # built by hand (gis.edits: every layer field by its own name): read what maps
        if not self.inputs:
            self.inputs = {dst: src for src, dst in self.to_layer.items()}

    @property
    def strict(self) -> set[str]:
        """Layer fields whose values a profile makes (derived, constants, value maps): a
        value that is not valid for the field rejects its row instead of being kept."""
        return set(self.derived) | set(self.constants) | set(self.value_maps)

    def describe(self) -> dict:
        return {"mapped": self.to_layer, "extra": self.extra, "missing": self.missing,
                "how": self.how, "dropped": self.dropped, "coordinates": self.coordinates,
                "derived": self.derived, "derived_inputs": self.derived_inputs,
                "constants": self.constants,
                "value_maps": self.value_maps, "profile": self.profile,
                "suggestions": self.suggestions, "absent": self.absent}


def map_fields(source_fields: list[str], layer: LayerDef, overrides: dict[str, str] | None,
               source_name: str, ignore: tuple[str, ...] = (), profile=None,
               profile_name: str | None = None,
               optional: frozenset[str] = frozenset()) -> FieldMapping:
    """Which source field feeds which layer field. Precedence: --map, then the profile's
    field_map, then the layer's source.field_map, then names and aliases. A profile's derived
    fields win over names and aliases; its constants fill fields the delivery lacks."""
    overrides = overrides or {}
    p_map = profile.field_map if profile else {}
    explicit = {**layer.source.field_map, **p_map, **overrides}
    origin = {**dict.fromkeys(layer.source.field_map, "source.field_map"),
              **dict.fromkeys(p_map, f"profile {profile_name}"),
              **dict.fromkeys(overrides, "--map")}
    usable = [f for f in source_fields if f not in ignore]
    by_key = {_key(f): f for f in usable}
    dropped = [f for f in usable if profile and _key(f) in {_key(d) for d in profile.drop}
               and f not in overrides]
    derived = {k: v for k, v in (profile.derived if profile else {}).items()
               if k not in overrides.values()}  # --map wins over a profile's derivation
    to_layer: dict[str, str] = {}
    how: dict[str, str] = {}
    absent: dict[str, str] = {}
    for src, dst in explicit.items():
        if dst not in layer.field:
            raise SchemaError(
                f"{source_name}: field mapping {src}={dst}: the layer {layer.id!r} has no field "
                f"{dst!r}. Its fields: {', '.join(layer.field)}")
        actual = by_key.get(_key(src))
        if actual is None:
            if src not in overrides:
                if src in p_map:
                    absent[src] = dst
                continue  # a layer or profile default that this delivery does not use
            raise SchemaError(
                f"{source_name}: field mapping {src}={dst}: the source has no field {src!r}. "
                f"Its fields: {', '.join(usable)}")
        if dst in derived:
            continue
        to_layer[actual] = dst
        how[actual] = origin[src]
    taken = set(to_layer.values()) | set(derived)
    for f in layer.fields:
        if f.name in taken:
            continue
        for kind, candidate in (("name", f.name), *(("alias", a) for a in f.aliases)):
            actual = by_key.get(_key(candidate))
            if actual and actual not in to_layer and actual not in dropped:
                to_layer[actual] = f.name
                how[actual] = kind if kind == "name" else f"alias {candidate}"
                taken.add(f.name)
                break
    constants = {k: v for k, v in (profile.constants if profile else {}).items()
                 if k not in taken}
    taken |= set(constants)
    derived_inputs = {}
    for target in derived:
        names = {}
        for name in profile.expression(target).fields:
            actual = name if name in usable else by_key.get(_key(name))
            if actual is None:
                raise SchemaError(
                    f"{source_name}: derived field {target} of profile {profile_name!r} reads "
                    f"the source field {name!r}, which this delivery lacks (its fields: "
                    f"{', '.join(usable)}). Nothing was changed. Fix the expression in "
                    f"layers/{layer.id}.yaml or ask for the usual export.")
            names[name] = actual
        derived_inputs[target] = names
    missing_required = [f for f in layer.fields if f.required and f.name not in taken
                        and f.name not in optional]
    if missing_required:
        from gis.loader.fieldmatch import best_matches

        free = [s for s in usable if s not in to_layer and s not in dropped]
        lines = []
        for f in missing_required:
            like = [s for s in free if any(m.field == f.name for m in best_matches(
                s, layer, exclude=taken, limit=2))]
            lines.append(f"  {f.name} ({f.label.vi} / {f.label.en}): looked for "
                         f"{', '.join([f.name, *f.aliases])}" +
                         (f"; perhaps --map {like[0]}={f.name}" if like else ""))
        raise SchemaError(
            f"{source_name}: required fields of layer {layer.id!r} not found in the source "
            f"(its fields: {', '.join(usable)}):\n" + "\n".join(lines) +
            "\nFix: name the source field with --map SOURCE_FIELD=LAYER_FIELD, or keep the "
            "mapping, a constant or a derivation in a delivery profile (gis profile suggest).")
    extra = [s for s in usable if s not in to_layer and s not in dropped]
    missing = [f.name for f in layer.fields if f.name not in taken]
    value_maps = [k for k in (profile.value_maps if profile else {}) if k in taken]
    inputs = {dst: src for src, dst in to_layer.items()}
    inputs |= {f: made_column(f) for f in [*derived, *constants, *value_maps]}
    return FieldMapping(to_layer, extra, missing, how, inputs, dropped, list(ignore),
                        {k: v for k, v in derived.items()}, derived_inputs, constants,
                        value_maps, profile_name, absent=absent)


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
    elif not s.notna().any():  # a column the delivery leaves empty: nothing to parse
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
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
    """The layer's fields, typed. A value that cannot be coerced is set empty with a warning,
    or rejects its row when the field is required or a profile made the value.
    ``optional``: required fields that may be empty (a natural key under a key rule that
    generates keys); a value there that is not of the field's type is still a reject."""
    n = len(frame)
    out = pd.DataFrame(index=frame.index)
    bad = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}
    warnings: dict[str, int] = {}
    source_of = mapping.inputs
    strict = mapping.strict
    for f in layer.fields:
        src = source_of.get(f.name)
        raw = frame[src] if src is not None else pd.Series([None] * n, index=frame.index)
        if f.type == "string" and src is None:  # not delivered: empty, nothing to convert
            col = pd.Series(pd.NA, index=frame.index, dtype="string")
        elif f.type == "string":
            col = raw.astype("string").str.strip().replace("", pd.NA)
            if raw.dtype.kind == "f":  # numbers read as float: 12.0 -> "12"
                col = raw.map(lambda v: None if pd.isna(v) else
                              (str(int(v)) if float(v).is_integer() else str(v))).astype("string")
            if f.max_length:
                col = col.str.slice(0, f.max_length)
        elif f.type in ("integer", "number"):
            num = _to_number(raw)
            num = num.where(np.isfinite(num))  # "inf" is no value (and no integer)
            col = num
            if f.type == "integer":  # a fraction or beyond a bigint's exact range: no value
                frac = num.notna() & ((num % 1 != 0) | (num.abs() > 2**53))
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
        if unusable.any() and (raw.dtype == object or str(raw.dtype) == "string"):
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
        elif f.name in strict:
            for i in np.flatnonzero(unusable & ~bad):
                reasons[int(i)] = (f"{f.name}: value {raw.iloc[i]!r} made by the profile "
                                   f"is not a valid {f.type}")
            bad |= unusable
        elif unusable.any():
            warnings[f"{f.name}: not a valid {f.type}, set empty"] = int(unusable.sum())
        out[f.name] = col
    return Coerced(out, reasons, warnings)
