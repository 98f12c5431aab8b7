"""Reading one layer file: YAML with line numbers, validated into the layer-definition union;
every problem is reported as ``file:line: key: message``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gis.errors import SPPError
from gis.layerdef.profiles import profile_problems

# libyaml when PyYAML has it: every load and every server start reads all the layer files,
# and the pure-Python parser took ~50 ms a file
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LayerDefinitionError(SPPError):
    exit_code = 2


def _line_index(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict:
    """Map every key path in a composed YAML tree to its 1-based line number."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            _line_index(value, sub, out)
            out[sub] = key.start_mark.line + 1  # report the key's line, not the value's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), out)
    return out


def _line_for(loc: tuple, lines: dict) -> int:
    loc = tuple(loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _get(data: Any, *keys) -> Any:
    for k in keys:
        data = data.get(k) if isinstance(data, dict) else None
    return data


def _field_refs(data: dict) -> list[tuple[tuple, Any, str]]:
    """(location, value, key name) of every key that must name a field of the layer."""
    refs: list[tuple[tuple, Any, str]] = []
    for j, key in enumerate(_get(data, "natural_key") or []):
        refs.append((("natural_key", j), key, "natural_key"))
    for src, target in (_get(data, "source", "field_map") or {}).items():
        refs.append((("source", "field_map", src), target, "source.field_map"))
    for j, name in enumerate(_get(data, "search", "fields") or []):
        refs.append((("search", "fields", j), name, "search.fields"))
    for key in ("match_fields", "merge_segments_by", "merge_sum"):
        for j, name in enumerate(_get(data, "keys", key) or []):
            refs.append((("keys", key, j), name, f"keys.{key}"))
    for i, kind in enumerate(_get(data, "submissions", "kinds") or []):
        for j, name in enumerate(kind.get("fields") or [] if isinstance(kind, dict) else []):
            refs.append((("submissions", "kinds", i, "fields", j), name, "submissions.fields"))
    for path in (("time_field",), ("style", "property"), ("style", "label", "field"),
                 ("planning", "code_field"), ("checks", "reference_for", "key")):
        refs.append((path, _get(data, *path), ".".join(path)))
    return [r for r in refs if r[1]]


def _cross_field_problems(data: dict) -> list[tuple[tuple, str]]:
    """Checks across keys of a vector layer, located at the offending key (the model repeats
    them without locations for definitions built in code)."""
    fields = data.get("fields")
    if not isinstance(fields, list):
        return []
    names = [f.get("name") if isinstance(f, dict) else None for f in fields]
    problems: list[tuple[tuple, str]] = []
    for i, name in enumerate(names):
        if name is not None and name in names[:i]:
            problems.append((("fields", i, "name"), f"duplicate field names: {name}"))
    known = {n for n in names if n}
    for loc, name, key in _field_refs(data):
        if isinstance(name, str) and name not in known:
            problems.append((loc, f"{key} field {name!r} is not among the fields"))
    problems += profile_problems(fields, data.get("sources"))
    tiled = _get(data, "tiles", "fields")
    for path in (("style", "property"), ("style", "label", "field")):
        name = _get(data, *path)
        if isinstance(tiled, list) and name in known and name not in tiled:
            problems.append((path, f"{'.'.join(path)} field {name!r} is not in tiles.fields "
                                   "(the map draws from the tiles)"))
    return problems


def _validation_problems(exc: ValidationError) -> list[tuple[tuple, str]]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "union_tag_invalid":  # an unknown kind
            loc = ("kind",)
        elif loc and loc[0] in ("vector", "raster"):  # the union's tag leads the location
            loc = loc[1:]
        out.append((loc, err["msg"].removeprefix("Value error, ")))
    return out


def read_yaml(path: Path) -> tuple[dict, dict]:
    """(data, line index) of a layer file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LayerDefinitionError(
            f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except OSError as exc:
        raise LayerDefinitionError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        node = yaml.compose(text, Loader=_Loader)  # parsed once: lines from the nodes,
        data: Any = _Loader("").construct_document(node) if node else None  # data too
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise LayerDefinitionError(f"{path}{where}: invalid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise LayerDefinitionError(f"{path}:1: a layer definition must be a YAML mapping")
    return data, _line_index(node)


def line_of(path: Path, loc: tuple) -> int:
    """The line of a key in a (valid) layer file."""
    return _line_for(loc, read_yaml(path)[1])


def parse(path: Path, validate):
    """The definition in ``path``, validated by ``validate`` (the union's validator)."""
    data, lines = read_yaml(path)

    def fail(problems: list[tuple[tuple, str]]):
        return LayerDefinitionError("\n".join(
            f"{path}:{_line_for(loc, lines)}: {'.'.join(map(str, loc)) or '(top level)'}: {m}"
            for loc, m in problems))

    if data.get("kind", "vector") == "vector":
        located = _cross_field_problems(data)
        if located:
            raise fail(located)
    try:
        layer = validate(data)
    except ValidationError as exc:
        raise fail(_validation_problems(exc)) from exc
    if layer.id != path.stem:
        raise LayerDefinitionError(
            f"{path}:{_line_for(('id',), lines)}: id {layer.id!r} must match the file name "
            f"({path.stem!r}); rename the file or the id")
    return layer
