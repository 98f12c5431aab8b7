"""Vector layers (``kind: vector``, the default): a table of features with typed fields.
Besides the data dictionary the definition carries how the layer is drawn (``style``) and
searched (``search``); ``styles/build.py`` and ``services/planning`` read them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gis.layerdef.base import ID_RE, LayerBase, Strict, Text, check_colour
from gis.layerdef.keys import KeyRule, key_rule_problems
from gis.layerdef.profiles import Profiles, profile_problems
from gis.layerdef.submissions import Submissions, submission_problems

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
GeometryType = Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                       "MultiPolygon"]
RESERVED = {"fid", "geom", "extra", "source_row", "geom_3857", "label_3857"}  # table columns


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


class Reference(Strict):
    """This layer's polygons are the reference other layers are checked against at load:
    a feature of a layer with the field ``field`` must lie in the polygon whose ``key``
    equals its value (e.g. wards: ``commune_code`` -> ``code``)."""

    field: str  # the field of the checked layers
    key: str  # the field of this layer holding the same code


class Checks(Strict):
    margin_m: float = 2000.0  # plausibility: allowed distance outside the city extent
    max_rejected_share: float = Field(default=0.01, ge=0, le=1)
    # a replace may not remove more than this share of the current version's features
    # (matched by natural key) unless `gis load --allow-shrink`
    max_removed_share: float = Field(default=0.1, ge=0, le=1)
    # a re-delivery whose matched features all moved by more than this (median, metres) is a
    # CRS mistake (UTM/TM-3, zone, datum), not a re-survey
    max_shift_m: float = Field(default=5.0, gt=0)
    reference_for: Reference | None = None


class TileOptions(Strict):
    """Zooms drawn, attributes carried, and the overview of the zooms before ``full_zoom``.

    From ``min_zoom`` to ``full_zoom - 1`` a tile is an overview whose cost is bounded whatever
    the number of features: lines and polygons narrower and lower than ``min_size`` pixels (of
    a tile drawn 512 px wide, as MapLibre draws vector tiles) are left out, and a tile carries
    at most ``max_features`` features of the layer, the largest (points: the first by id).
    From ``full_zoom`` on every feature is drawn. Unset ``full_zoom``: every zoom is full."""

    min_zoom: int = Field(default=10, ge=0, le=22)
    max_zoom: int = Field(default=22, ge=0, le=24)
    fields: list[str] | None = None  # attributes carried in vector tiles (None: all public)
    full_zoom: int | None = Field(default=None, ge=0, le=24)
    min_size: float = Field(default=1.0, ge=0, le=512)
    max_features: int = Field(default=10_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _zooms(self) -> TileOptions:
        if self.min_zoom > self.max_zoom:
            raise ValueError(f"tiles.min_zoom {self.min_zoom} is above max_zoom {self.max_zoom}")
        if self.full_zoom is not None and not self.min_zoom <= self.full_zoom <= self.max_zoom:
            raise ValueError(f"tiles.full_zoom {self.full_zoom} is not between min_zoom "
                             f"{self.min_zoom} and max_zoom {self.max_zoom}")
        return self

    def overview(self, z: int) -> bool:
        """Whether tiles of zoom ``z`` are overviews (thinned, at most max_features)."""
        return self.full_zoom is not None and z < self.full_zoom


class StyleClass(Strict):
    """Features whose ``style.property`` is one of ``values`` get this colour and label."""

    values: list[str | int | float] = Field(min_length=1)
    color: str
    label: Text
    width: int | float | None = None  # lines: width in pixels

    @field_validator("color")
    @classmethod
    def _colour(cls, v: str) -> str:
        return check_colour(v)


class ClassesFrom(Strict):
    """Classes made from a code list's entries that have a colour (``gis.codelists``)."""

    codelist: str
    show_code: bool = True  # legend text "ODT — Đất ở tại đô thị" rather than the meaning only

    @field_validator("codelist")
    @classmethod
    def _known(cls, v: str) -> str:
        from gis.codelists import CODELISTS

        if v not in CODELISTS:
            raise ValueError(f"unknown code list {v!r} (known: {', '.join(sorted(CODELISTS))})")
        return v


class LabelStyle(Strict):
    """Map labels: the text of ``field`` (or of the ``text`` template,
    ``"{sheet_no}/{parcel_no}"``), from ``min_zoom``; along lines (``along_line``) or at the
    feature; regular or bold type."""

    field: str | None = None
    text: str | None = None
    min_zoom: int = Field(default=14, ge=0, le=24)
    color: str = "#333333"
    size: int | float = Field(default=11, gt=0, le=64)
    along_line: bool = False
    font: Literal["regular", "bold"] = "regular"
    halo: str = "#FFFFFF"

    @field_validator("color", "halo")
    @classmethod
    def _colour(cls, v: str) -> str:
        return check_colour(v)

    @model_validator(mode="after")
    def _one_text(self):
        if (self.field is None) == (self.text is None):
            raise ValueError("a label has either `field` (one field's value) or `text` (a "
                             "template such as \"{sheet_no}/{parcel_no}\"), not both or neither")
        if self.text is not None and not LABEL_FIELD.search(self.text):
            raise ValueError(f"label text {self.text!r} names no field: write {{field}}")
        return self

    @property
    def fields(self) -> list[str]:
        """The fields the label shows."""
        return [self.field] if self.field else LABEL_FIELD.findall(self.text or "")


LABEL_FIELD = re.compile(r"\{([a-z][a-z0-9_]*)\}")


class Extrude(Strict):
    """3D: polygons raised by the value of ``height`` (metres) or, where it is empty,
    ``floors`` x ``floor_height`` (the web map's 3D view, MapLibre ``fill-extrusion``)."""

    height: str | None = None  # field holding a height in metres
    floors: str | None = None  # field holding a number of floors
    floor_height: float = Field(default=3.3, gt=0, le=20)  # metres a floor
    color: str | None = None  # default: the fill colour of the layer's classes
    opacity: float = Field(default=0.85, ge=0, le=1)  # an envelope (height limit) reads lighter

    @field_validator("color")
    @classmethod
    def _colour(cls, v: str | None) -> str | None:
        return None if v is None else check_colour(v)

    @model_validator(mode="after")
    def _some_height(self) -> Extrude:
        if not self.height and not self.floors:
            raise ValueError("extrude needs a height field, a floors field or both")
        return self


class VectorStyle(Strict):
    """How the layer is drawn (MapLibre, SLD, QML and legends are made from it)."""

    name: str | None = None  # file in styles/ (without .json); default: the layer id
    symbol: Literal["fill", "boundary", "line", "circle"] | None = None  # default: geometry
    property: str | None = None  # the classified field (none: one symbol)
    classes: list[StyleClass] = []
    classes_from: ClassesFrom | None = None  # a code list whose colours are the classes
    color: str = "#888888"  # what no class matches (or every feature)
    legend: Text | None = None  # legend text of `color` (default: Khác / Other)
    outline: str | None = None  # fill: outline colour
    outline_width: int | float | None = None
    opacity: int | float | None = Field(default=None, ge=0, le=1)
    width: int | float | None = None  # line width (px)
    radius: int | float | None = None  # circle radius (px)
    label: LabelStyle | None = None
    extrude: Extrude | None = None  # 3D view: polygons raised by a height (fill-extrusion)

    @field_validator("color", "outline")
    @classmethod
    def _c(cls, v: str | None) -> str | None:
        return None if v is None else check_colour(v)

    @field_validator("classes_from", mode="before")
    @classmethod
    def _short(cls, v):
        return {"codelist": v} if isinstance(v, str) else v  # `classes_from: land_use`

    @model_validator(mode="after")
    def _classes(self) -> VectorStyle:
        if (self.classes or self.classes_from) and not self.property:
            raise ValueError("style classes need a property to classify")
        return self


class Search(Strict):
    """Fields joined into the layer's search key (accents folded, trigram index made at
    load); the search box finds features by any words of them."""

    fields: list[str] = Field(min_length=1)
    # what a hit is called in the results; places (named places: markets, bridges, hamlets)
    # are listed before addresses
    kind: Literal["address", "parcel", "place"] = "address"


class EditRule(Strict):
    """Who may change the layer's features through OGC API - Features Part 4 (create,
    replace, update, delete). Without ``edit`` a layer is read-only: only loads change it."""

    departments: list[str] = Field(min_length=1)  # department codes whose staff may edit
    roles: list[Literal["staff", "admin"]] = Field(default=["staff", "admin"], min_length=1)

    def allows(self, role: str, departments) -> bool:
        """An admin (when ``admin`` is among the roles) edits any editable layer; staff only
        when one of their departments is listed."""
        if role not in self.roles:
            return False
        return role == "admin" or bool(set(departments) & set(self.departments))


class CatalogueFilter(Strict):
    """A filter of the layer's list page: ``choice`` (one of the values found) or ``range``
    (from/to, numbers)."""

    field: str
    kind: Literal["choice", "range"] = "choice"


class Catalogue(Strict):
    """A public list page of the layer's features (services.lists: /lists/{id}), e.g. the
    investment project catalogue: its columns, filters, text search and default order."""

    title: Text | None = None  # default: the layer's title
    columns: list[str] = Field(min_length=1)
    filters: list[CatalogueFilter] = []
    search: list[str] = []  # fields the text box searches (case-insensitive, any part)
    sort: str | None = None  # default order, "+field" or "-field"


class VectorLayerDef(LayerBase):
    kind: Literal["vector"] = "vector"
    geometry: GeometryType
    natural_key: list[str] = []
    keys: KeyRule = KeyRule()  # generated keys, segments merged (off by default)
    time_field: str | None = None  # field holding the feature's date, for `datetime` queries
    plane_area: bool = False  # compute the area in the VN-2000 plane at load
    fields: list[FieldDef]
    source: SourceDefaults = SourceDefaults()
    sources: Profiles = {}  # delivery profiles by name (gis load --profile NAME)
    checks: Checks = Checks()
    tiles: TileOptions = TileOptions()
    style: VectorStyle = VectorStyle()
    search: Search | None = None
    submissions: Submissions | None = None  # what the public may report (gis.submissions)
    edit: EditRule | None = None  # who may edit features through the API (none: read-only)
    catalogue: Catalogue | None = None  # a public list page of the features (services.lists)

    @field_validator("style", mode="before")
    @classmethod
    def _style_name(cls, v):
        return {"name": v} if isinstance(v, str) else v  # `style: roads`: the file name only

    @model_validator(mode="after")
    def _consistent(self) -> VectorLayerDef:
        for problem in field_problems(self) + submission_problems(self):
            raise ValueError(problem)
        if self.planning and self.planning.role == "flood_depth":
            raise ValueError("planning role 'flood_depth' is for raster layers")
        return self

    @property
    def field(self) -> dict[str, FieldDef]:
        return {f.name: f for f in self.fields}

    @property
    def personal_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.personal]

    @property
    def title_field(self) -> str | None:
        """The field that titles a feature (map.title_field, else the label, else the key)."""
        return self.map.title_field or (self.style.label and self.style.label.field) or \
            next(iter(self.natural_key), None)

    @property
    def is_polygon(self) -> bool:
        return self.geometry.endswith("Polygon")

    @property
    def style_name(self) -> str:
        return self.style.name or self.id


def field_problems(layer: VectorLayerDef) -> list[str]:
    """Keys that must name fields of the layer (the YAML reader locates them by line)."""
    names = [f.name for f in layer.fields]
    out = []
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        out.append(f"duplicate field names: {', '.join(sorted(dupes))}")
    reserved = RESERVED & set(names)
    if reserved:
        out.append(f"field names reserved by the platform: {', '.join(sorted(reserved))}")
    refs = [("natural_key", k) for k in layer.natural_key]
    refs += [("source.field_map", t) for t in layer.source.field_map.values()]
    refs += [("time_field", layer.time_field), ("style.property", layer.style.property),
             *_label_refs(layer),
             ("planning.code_field", layer.planning and layer.planning.code_field),
             ("checks.reference_for.key",
              layer.checks.reference_for and layer.checks.reference_for.key)]
    refs += [("search.fields", f) for f in (layer.search.fields if layer.search else [])]
    ex = layer.style.extrude
    heights = [("style.extrude.height", ex and ex.height),
               ("style.extrude.floors", ex and ex.floors)]
    refs += heights
    refs.append(("map.title_field", layer.map.title_field))
    cat = layer.catalogue
    if cat is not None:
        refs += [("catalogue.columns", f) for f in cat.columns]
        refs += [("catalogue.filters", f.field) for f in cat.filters]
        refs += [("catalogue.search", f) for f in cat.search]
        refs.append(("catalogue.sort", cat.sort and cat.sort.lstrip("+-")))
    for key, name in refs:
        if name and name not in names:
            out.append(f"{key} field {name!r} is not among the fields")
    numeric = [f.name for f in layer.fields if f.type in ("integer", "number")]
    out += key_rule_problems(layer.keys, names, layer.geometry, numeric=numeric)
    sources = {n: p.model_dump(exclude_defaults=True) for n, p in layer.sources.items()}
    out += [m for _, m in profile_problems([f.model_dump() for f in layer.fields], sources)]
    for n, p in layer.sources.items():
        if p.keys is not None:
            out += key_rule_problems(p.keys, names, layer.geometry, f"sources.{n}.keys",
                                     numeric=numeric)
    if ex and not layer.is_polygon:
        out.append("style.extrude is for polygon layers")
    for key, name in heights:
        if name in names and layer.field[name].type not in ("integer", "number"):
            out.append(f"{key} field {name!r} must be an integer or number field")
    tiled = layer.tiles.fields
    drawn = [("style.property", layer.style.property), *heights,
             *_label_refs(layer)]
    for key, name in drawn:
        if name and tiled is not None and name in names and name not in tiled:
            out.append(f"{key} field {name!r} is not in tiles.fields (the map draws from "
                       "the tiles)")
    return out


def _label_refs(layer: VectorLayerDef) -> list[tuple[str, str]]:
    lb = layer.style.label
    if lb is None:
        return []
    return [("style.label.field" if lb.field else "style.label.text", f) for f in lb.fields]


LayerDef = VectorLayerDef  # the name the loader modules use for a vector definition
