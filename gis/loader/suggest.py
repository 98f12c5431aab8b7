"""`gis profile suggest`: a starting delivery profile (YAML) for a delivery, made from its
fields — names and aliases, fuzzy matches, value samples as comments, constants for required
fields the file lacks — for GIS staff to review before it goes into the layer file."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from gis.codelists import CODELISTS, lookup
from gis.layerdef import LayerDef, get_layer_def
from gis.loader.fieldmatch import best_matches
from gis.loader.libwarnings import LibraryWarnings, caught
from gis.loader.schema import SchemaError, _key
from gis.loader.source import iter_batches, open_source
from gis.loader.textcols import TextDecoder

SAMPLE_ROWS = 500


def _q(value) -> str:
    """A YAML scalar (JSON strings are YAML double-quoted scalars)."""
    return json.dumps(value, ensure_ascii=False)


def profile_name_for(path: Path) -> str:
    decomposed = unicodedata.normalize("NFD", path.stem.translate(str.maketrans("đĐ", "dD")))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    name = re.sub(r"[^a-z0-9]+", "_", plain).strip("_") or "delivery"
    return name if name[0].isalpha() else f"d_{name}"


def _samples(src) -> tuple[dict[str, list[str]], dict, int]:
    """A few distinct decoded values per field, the detected encodings, rows sampled."""
    decoder = TextDecoder(None, src.raw_text)
    batch = next(iter_batches(src, SAMPLE_ROWS), None)
    if batch is None:
        return {}, {}, 0
    frame = decoder.decode(batch.frame)
    out = {}
    for col in frame.columns:
        values = frame[col].dropna().astype(str).str.strip()
        out[str(col)] = values[values != ""].unique()[:20].tolist()
    return out, decoder.report(), len(frame)


def _assign(fields: list[str], layer: LayerDef, samples: dict) -> dict[str, tuple[str, str, bool]]:
    """source field -> (layer field, why, needs review). Names and aliases first, then fuzzy
    matches, best first, one source field per layer field."""
    out: dict[str, tuple[str, str, bool]] = {}
    by_key = {_key(f): f for f in fields}
    for f in layer.fields:
        for kind, cand in (("name", f.name), *(("alias", a) for a in f.aliases)):
            actual = by_key.get(_key(cand))
            if actual and actual not in out:
                out[actual] = (f.name, f"{kind} {cand}" if kind == "alias" else "same name",
                               False)
                break
    taken = {t for t, _, _ in out.values()}
    fuzzy = []
    for src in fields:
        if src in out:
            continue
        for m in best_matches(src, layer, samples.get(src, [])[:5], exclude=taken, limit=3):
            fuzzy.append((m.score, src, m))
    for _score, src, m in sorted(fuzzy, key=lambda t: -t[0]):
        if src in out or m.field in taken:
            continue
        out[src] = (m.field, f"fuzzy match {m.score:.2f} ({m.why})", True)
        taken.add(m.field)
    return out


def _sample_note(values: list[str], personal: bool) -> str:
    if personal:
        return "samples not shown: personal data"
    if not values:
        return "no values in the sample"
    shown = ", ".join(_q(v if len(v) <= 40 else v[:37] + "...") for v in values[:3])
    return f"samples: {shown}"


def suggest_profile(path: Path, layer_id: str, name: str | None = None,
                    source_layer: str | None = None) -> tuple[str, LibraryWarnings]:
    """(YAML text, library warnings met while reading)."""
    layer = get_layer_def(layer_id)
    if not isinstance(layer, LayerDef):
        raise SchemaError(f"layer {layer_id!r} is a raster layer; delivery profiles are for "
                          "vector layers")
    name = name or profile_name_for(Path(path))
    collected = LibraryWarnings()
    with caught(collected):
        src = open_source(Path(path), source_layer or layer.source.layer,
                          layer.source.x_field, layer.source.y_field)
        personal = set(layer.personal_fields)
        samples, encodings, sampled = _samples(src)
    coords = list(src.coord_fields or ())
    fields = [f for f in src.fields if f not in coords]
    assigned = _assign(fields, layer, samples)
    lines = [
        f"# Delivery profile suggested by `gis profile suggest` for layer {layer.id} from "
        f"{Path(path).name}",
        f"# ({src.driver}, {src.feature_count if src.feature_count is not None else '?'} "
        f"features; samples from the first {sampled} rows). REVIEW every line marked REVIEW,",
        f"# then put the entry under `sources:` in layers/{layer.id}.yaml and load with",
        f"#   gis load {Path(path).name} --layer {layer.id} --profile {name}",
        "sources:",
        f"  {name}:",
        f"    format: {_q(src.driver)}",
    ]
    if src.crs_text:
        from gis.loader.load import _crs_name

        lines.append(f"    # the file declares its CRS ({_crs_name(src.crs_text)}); set crs "
                     "and crs_overrides_file: true only if that is known to be wrong")
    else:
        crs = layer.source.crs or "vn2000-cantho"
        lines.append(f"    crs: {crs}  # REVIEW: the file declares no CRS "
                     "(vn2000-cantho = TM-3 105°00', vn2000-soctrang = TM-3 105°30')")
    detected = ", ".join(f"{k}: {v['encoding']}" for k, v in encodings.items()
                         if v.get("encoding") not in ("ascii", "unicode"))
    note = "; ".join(x for x in (f"detected {detected}" if detected else "",
                                 f"the file says {src.declared_charset}"
                                 if src.declared_charset else "") if x)
    lines.append("    encoding: auto" + (f"  # {note}" if note else ""))
    if coords:
        lines.append(f"    x_field: {_q(coords[0])}")
        lines.append(f"    y_field: {_q(coords[1])}")
    lines.append("    field_map:")
    mapped_any = False
    for src_field in fields:
        if src_field not in assigned:
            continue
        target, why, review = assigned[src_field]
        note = _sample_note(samples.get(src_field, []), target in personal)
        lines.append(f"      {_q(src_field)}: {target}  # {'REVIEW: ' if review else ''}"
                     f"{why}; {note}")
        mapped_any = True
    if not mapped_any:
        lines[-1] = "    field_map: {}  # REVIEW: no field matched; map them by hand"
    filled = {t for t, _, _ in assigned.values()}
    lines += _constants(layer, filled)
    lines += _value_maps(layer, assigned, samples)
    unmapped = [f for f in fields if f not in assigned]
    if unmapped:
        lines.append("    # not mapped: kept unpublished in `extra`. To leave them out, uncomment:")
        lines.append(f"    # drop: [{', '.join(_q(f) for f in unmapped)}]")
        for f in unmapped:
            lines.append(f"    #   {f}: {_sample_note(samples.get(f, []), False)}")
    return "\n".join(lines) + "\n", collected


def _constants(layer: LayerDef, filled: set[str]) -> list[str]:
    out = []
    for f in layer.fields:
        if not f.required or f.name in filled:
            continue
        if f.codelist in CODELISTS:
            codes = CODELISTS[f.codelist].codes
            if not out:
                out.append("    constants:")
            out.append(f"      {f.name}: {_q(codes[0])}  # REVIEW: required and not in the "
                       f"file; one of {', '.join(codes[:12])}; or derive it, e.g. from a "
                       "name prefix (see layers/README.md, Delivery profiles)")
        else:
            out.append(f"    # REVIEW: required field {f.name} ({f.label.vi} / {f.label.en}) "
                       "is not in the file: map a source field, or set it under constants: "
                       "or derived:")
    return out


def _value_maps(layer: LayerDef, assigned: dict, samples: dict) -> list[str]:
    """Sampled values of code-list fields that are no code: a value map to fill in."""
    out = []
    for src_field, (target, _, _) in assigned.items():
        f = layer.field[target]
        if not f.codelist:
            continue
        unknown = [v for v in samples.get(src_field, []) if lookup(f.codelist, v) is None]
        if unknown:
            out.append(f"    # REVIEW: values of {src_field} that are no {f.codelist} code; "
                       "translate them with a value map:")
            out.append("    # value_maps:")
            pairs = ", ".join(f"{_q(v)}: {_q('?')}" for v in unknown[:10])
            out.append(f"    #   {target}: {{{pairs}}}")
    return out
