"""A delivery profile applied to one batch: derived fields, value maps and constants.

The values a profile makes go into their own frame columns (``schema.made_column``), so the
source columns stay as delivered for the `extra` JSON and for other expressions. Every value
made here is checked like a delivered one and more strictly: one that is not a valid value of
its field (an expression error, a code outside the field's code list) rejects its row.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pandas as pd

from gis.codelists import lookup
from gis.errors import SPPError
from gis.layerdef import LayerDef
from gis.layerdef.expression import EvaluationError
from gis.layerdef.profiles import DeliveryProfile
from gis.loader.schema import FieldMapping, made_column


class ProfileError(SPPError):
    exit_code = 2


def resolve_profile(layer: LayerDef, name: str | None) -> DeliveryProfile | None:
    if name is None:
        return None
    profile = layer.sources.get(name)
    if profile is None:
        known = ", ".join(layer.sources) or "(none: add a `sources:` entry, see gis profile " \
                                            "suggest)"
        raise ProfileError(f"layer {layer.id!r} has no delivery profile {name!r} in "
                           f"layers/{layer.id}.yaml. Its profiles: {known}")
    return profile


def _clean(v: Any) -> Any:
    try:
        return None if pd.isna(v) else v
    except (TypeError, ValueError):  # containers
        return v


def _norm(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return " ".join(unicodedata.normalize("NFC", str(v)).split()).casefold()


def apply_profile(frame: pd.DataFrame, mapping: FieldMapping, profile: DeliveryProfile | None,
                  layer: LayerDef) -> tuple[pd.DataFrame, dict[int, str]]:
    """(frame with the profile's columns, position -> why the row is rejected)."""
    if profile is None or not mapping.strict:
        return frame, {}
    out = frame.copy()
    bad: dict[int, str] = {}
    n = len(frame)
    for target in mapping.derived:
        expr = profile.expression(target)
        names = mapping.derived_inputs[target]
        columns = [[_clean(v) for v in frame[names[k]].tolist()] for k in expr.fields] \
            if expr.fields else []
        memo: dict[tuple, tuple[Any, str | None]] = {}
        values: list[Any] = []
        for i in range(n):
            key = tuple(c[i] for c in columns)
            try:
                value, error = memo[key]
            except (KeyError, TypeError):
                try:
                    value, error = expr(dict(zip(expr.fields, key, strict=True))), None
                except EvaluationError as exc:
                    value, error = None, str(exc)
                try:
                    memo[key] = (value, error)
                except TypeError:
                    pass
            if error:
                bad.setdefault(i, f"{target}: derived value: {error}")
            values.append(value)
        out[made_column(target)] = pd.Series(values, index=frame.index, dtype=object)
    for target, value in mapping.constants.items():
        out[made_column(target)] = pd.Series([value] * n, index=frame.index, dtype=object)
    for target in mapping.value_maps:
        table = {_norm(k): v for k, v in profile.value_maps[target].items()}
        column = made_column(target)
        source = out[column] if column in out else out[_source_of(mapping, target)]
        out[column] = pd.Series([None if _clean(v) is None else table.get(_norm(v), v)
                                 for v in source.tolist()], index=out.index, dtype=object)
    _check_codes(out, mapping, layer, bad)
    return out, bad


def _source_of(mapping: FieldMapping, target: str) -> str:
    return next(s for s, d in mapping.to_layer.items() if d == target)


def _check_codes(frame: pd.DataFrame, mapping: FieldMapping, layer: LayerDef,
                 bad: dict[int, str]) -> None:
    """A code a profile made must be in the field's code list (a delivered unknown code is
    kept and reported; a made one means the profile is wrong for this delivery)."""
    for target in mapping.strict:
        f = layer.field[target]
        if not f.codelist:
            continue
        memo: dict[str, bool] = {}
        for i, v in enumerate(frame[made_column(target)].tolist()):
            if _clean(v) is None or i in bad:
                continue
            key = _norm(v)
            if key not in memo:
                memo[key] = lookup(f.codelist, v) is not None
            if not memo[key]:
                how = ("derived" if target in mapping.derived else
                       "value map" if target in mapping.value_maps else "constant")
                bad[i] = (f"{target}: {how} value {v!r} is not a code of {f.codelist} (fix the "
                          f"profile {mapping.profile!r} or the source value)")
