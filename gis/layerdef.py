"""Layer definitions: one YAML file a layer in ``layers/``, validated into pydantic models.

The format is documented in ``layers/README.md``. A malformed file is rejected with the file,
the line and what is wrong (``LayerDefinitionError``). ``kind: raster`` files are raster layers
(``gis.rasterdef.RasterLayerDef``); without ``kind`` (or ``kind: vector``) a file is a vector
layer (``LayerDef``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gis.errors import SPPError
from gis.settings import get_settings

Domain = Literal["land", "planning", "utility", "address", "boundary", "transport",
                 "environment", "social"]
FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
GeometryType = Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                       "MultiPolygon"]
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def check_layer_id(v: str) -> str:
    """Layer ids (vector and raster) are table and URL names: lower_snake_case, no dots."""
    if not ID_RE.match(v):
        raise ValueError(f"layer id {v!r} must be lower_snake_case (a-z, 0-9, _), no dots")
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in Vietnamese and English."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class FieldDef(Strict):
    name: str
    type: FieldType = "string"
    label: Text
    description: Text | None = None
    required: bool = False
    personal: bool = False  # personal data (Decree 13/2023): never public
    unit: str | None = None
    codelist: str | None = None  # name of a code list in gis.codelists
    aliases: list[str] = []  # source field names that map here (case-insensitive)
    max_length: int | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"field name {v!r} must be lower_snake_case (a-z, 0-9, _)")
        return v


class SourceDefaults(Strict):
    format: str | None = None  # a GDAL driver name or a short name (shapefile, gpkg, csv...)
    crs: str | None = None  # EPSG code or preset, e.g. vn2000-cantho
    encoding: str = "auto"
    layer: str | None = None  # layer inside a multi-layer source (GeoPackage, FileGDB)
    axis_order: Literal["auto", "xy", "yx"] = "auto"
    x_field: str | None = None  # CSV coordinate columns
    y_field: str | None = None
    field_map: dict[str, str] = {}  # source field name -> layer field name


class Access(Strict):
    level: Literal["public", "internal", "restricted"] = "public"
    departments: list[str] = []  # for restricted layers: department codes allowed

    @model_validator(mode="after")
    def _restricted_needs_departments(self) -> Access:
        if self.level == "restricted" and not self.departments:
            raise ValueError("a restricted layer must name the departments allowed to see it")
        return self


class Checks(Strict):
    margin_m: float = 2000.0  # plausibility: allowed distance outside the city extent
    max_rejected_share: float = Field(default=0.01, ge=0, le=1)
    # a replace may not remove more than this share of the current version's features
    # (matched by natural key) unless `gis load --allow-shrink`
    max_removed_share: float = Field(default=0.1, ge=0, le=1)
    # a re-delivery whose matched features all moved by more than this (median, metres) is a
    # CRS mistake (UTM/TM-3, zone, datum), not a re-survey
    max_shift_m: float = Field(default=5.0, gt=0)


class TileOptions(Strict):
    min_zoom: int = Field(default=10, ge=0, le=22)
    max_zoom: int = Field(default=22, ge=0, le=24)
    fields: list[str] | None = None  # attributes carried in vector tiles (None: all public)


class LayerDef(Strict):
    kind: Literal["vector"] = "vector"
    id: str
    title: Text
    description: Text | None = None
    domain: Domain
    owner: Text  # owner department
    owner_code: str  # short department code used by access rules
    licence: str = "CC-BY-4.0"
    keywords: list[str] = []
    access: Access = Access()
    geometry: GeometryType
    natural_key: list[str] = []
    time_field: str | None = None  # field holding the feature's date, for `datetime` queries
    plane_area: bool = False  # compute the area in the VN-2000 plane at load
    fields: list[FieldDef]
    source: SourceDefaults = SourceDefaults()
    checks: Checks = Checks()
    tiles: TileOptions = TileOptions()
    style: str | None = None  # file name in styles/ (without .json)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_layer_id(v)

    @model_validator(mode="after")
    def _consistent(self) -> LayerDef:
        names = [f.name for f in self.fields]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"duplicate field names: {', '.join(sorted(dupes))}")
        reserved = {"fid", "geom", "extra", "source_row"} & set(names)
        if reserved:
            raise ValueError(f"field names reserved by the platform: {', '.join(reserved)}")
        for key in self.natural_key:
            if key not in names:
                raise ValueError(f"natural_key field {key!r} is not among the fields")
        for target in self.source.field_map.values():
            if target not in names:
                raise ValueError(f"source.field_map maps to unknown field {target!r}")
        if self.time_field and self.time_field not in names:
            raise ValueError(f"time_field {self.time_field!r} is not among the fields")
        return self

    @property
    def field(self) -> dict[str, FieldDef]:
        return {f.name: f for f in self.fields}

    @property
    def personal_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.personal]

    @property
    def is_polygon(self) -> bool:
        return self.geometry.endswith("Polygon")


class LayerDefinitionError(SPPError):
    exit_code = 2


# -- YAML with line numbers -------------------------------------------------------------
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


def _cross_field_problems(data: dict) -> list[tuple[tuple, str]]:
    """Checks across keys, located at the offending key (LayerDef repeats them without
    locations for definitions built in code)."""
    fields = data.get("fields")
    if not isinstance(fields, list):
        return []
    names = [f.get("name") if isinstance(f, dict) else None for f in fields]
    problems: list[tuple[tuple, str]] = []
    for i, name in enumerate(names):
        if name is not None and name in names[:i]:
            problems.append((("fields", i, "name"), f"duplicate field names: {name}"))
    known = {n for n in names if n}
    for j, key in enumerate(data.get("natural_key") or []):
        if key not in known:
            problems.append((("natural_key", j), f"natural_key field {key!r} is not among the "
                                                 "fields"))
    time_field = data.get("time_field")
    if time_field and time_field not in known:
        problems.append((("time_field",), f"time_field {time_field!r} is not among the fields"))
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    for src, target in (source.get("field_map") or {}).items():
        if target not in known:
            problems.append((("source", "field_map", src),
                             f"source.field_map maps to unknown field {target!r}"))
    return problems


def parse_layer_file(path: Path) -> LayerDef:  # or a RasterLayerDef for kind: raster
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LayerDefinitionError(
            f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except OSError as exc:
        raise LayerDefinitionError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        node = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise LayerDefinitionError(f"{path}{where}: invalid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise LayerDefinitionError(f"{path}:1: a layer definition must be a YAML mapping")
    lines = _line_index(node)
    model: type[BaseModel] = LayerDef
    if data.get("kind") == "raster":
        from gis.rasterdef import RasterLayerDef

        model = RasterLayerDef
    located = _cross_field_problems(data) if model is LayerDef else []
    if located:
        raise LayerDefinitionError("\n".join(
            f"{path}:{_line_for(loc, lines)}: {'.'.join(map(str, loc))}: {msg}"
            for loc, msg in located))
    try:
        layer = model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            dotted = ".".join(str(p) for p in loc) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{path}:{_line_for(loc, lines)}: {dotted}: {msg}")
        raise LayerDefinitionError("\n".join(problems)) from exc
    if layer.id != path.stem:
        raise LayerDefinitionError(
            f"{path}:{_line_for(('id',), lines)}: id {layer.id!r} must match the file name "
            f"({path.stem!r}); rename the file or the id"
        )
    return layer


def load_layer_defs(directory: Path | None = None) -> dict[str, LayerDef]:
    """All layer definitions, by id. Every malformed file is reported, not only the first."""
    directory = layers_folder(directory)
    defs: dict[str, LayerDef] = {}
    errors: list[str] = []
    paths = sorted(directory.glob("*.y*ml"))
    if not paths:
        raise LayerDefinitionError(f"no layer definitions (*.yaml) in {directory}: point "
                                   "SPP_LAYERS_DIR at the folder of layer files")
    for path in paths:
        try:
            layer = parse_layer_file(path)
        except LayerDefinitionError as exc:
            errors.append(str(exc))
            continue
        defs[layer.id] = layer
    if errors:
        raise LayerDefinitionError("\n".join(errors))
    return defs


def layers_folder(directory: Path | None = None) -> Path:
    """The folder of layer files (SPP_LAYERS_DIR); a missing one is an error, not 0 layers."""
    directory = Path(directory or get_settings().layers_dir)
    if not directory.is_dir():
        raise LayerDefinitionError(f"the layer definitions folder {directory} does not exist: "
                                   "set SPP_LAYERS_DIR to the folder of layer files")
    return directory


def get_layer_def(layer_id: str, directory: Path | None = None) -> LayerDef:
    directory = layers_folder(directory)
    for ext in (".yaml", ".yml"):
        path = directory / f"{layer_id}{ext}"
        if path.exists():
            return parse_layer_file(path)
    known = sorted(p.stem for p in directory.glob("*.y*ml"))
    raise LayerDefinitionError(
        f"unknown layer id {layer_id!r}: no {directory}/{layer_id}.yaml. "
        f"Known layers: {', '.join(known) or '(none)'}"
    )
