"""What every layer definition has, whatever its kind: identity, titles, owner, domain,
access, licence, keywords, the catalogue metadata (``metadata``: ISO 19115 topic, update
frequency, contact, lineage) and how the web map and the planning panel use the layer
(``map``, ``planning``). The format is documented in ``layers/README.md``."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

Domain = Literal["land", "planning", "utility", "address", "boundary", "transport",
                 "environment", "social"]
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
HEX = re.compile(r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$")


# the OGC API - Records collection of dataset records (/ogc/collections/<id>): no layer may
# take its id
CATALOGUE_ID = "catalog"
# the styles of several layers (/ogc/styles/<id>): no layer may take their ids either
COMPOSED_STYLE_IDS = ("base", "basemap")


def check_layer_id(v: str) -> str:
    """Layer ids are table and URL names: lower_snake_case, no dots, not the catalogue's."""
    if not ID_RE.match(v):
        raise ValueError(f"layer id {v!r} must be lower_snake_case (a-z, 0-9, _), no dots")
    if v == CATALOGUE_ID:
        raise ValueError(f"layer id {v!r} is reserved for the catalogue of dataset records "
                         "(/ogc/collections/catalog); choose another id")
    if v in COMPOSED_STYLE_IDS:
        raise ValueError(f"layer id {v!r} is reserved for the style of several layers "
                         f"(/ogc/styles/{v}); choose another id")
    return v


def check_colour(v: str) -> str:
    if not HEX.match(v):
        raise ValueError(f"colour {v!r} must be #rrggbb or #rrggbbaa")
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in Vietnamese and English."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Access(Strict):
    level: Literal["public", "internal", "restricted"] = "public"
    departments: list[str] = []  # for restricted layers: department codes allowed

    @model_validator(mode="after")
    def _restricted_needs_departments(self) -> Access:
        if self.level == "restricted" and not self.departments:
            raise ValueError("a restricted layer must name the departments allowed to see it")
        return self


class MapOptions(Strict):
    """How the web map shows the layer."""

    visible: bool = False  # drawn when the map opens (no layers in the URL)
    # part of the city base map, drawn in increasing order (vector: a layer of the "base"
    # style; raster: a backdrop offered by the web map's base-map switcher); none: not base
    base: int | None = Field(default=None, ge=0, le=1000)


PlanningRoleName = Literal["parcels", "wards", "overlap", "nearest", "flood_depth"]


class Planning(Strict):
    """The layer's part in a parcel's planning information and in search.

    ``parcels``: the parcels the panel is about; ``wards``: the wards and communes (search by
    ward name, the parcel's ward); ``overlap``: zones cut with the parcel (area, share);
    ``nearest``: the nearest feature and its distance; ``flood_depth``: a raster of flood
    depths summarised over the parcel."""

    role: PlanningRoleName
    section: str | None = None  # key of the panel section (overlap, nearest)
    title: Text | None = None  # heading of the panel section (overlap, nearest)
    order: int = 0  # sections in increasing order
    code_field: str | None = None  # overlap: the field summarising a zone (meaning shown)
    touching: bool = False  # overlap: features that only touch the parcel count too

    @model_validator(mode="after")
    def _section(self) -> Planning:
        if self.role in ("overlap", "nearest"):
            if not self.section or self.title is None:
                raise ValueError(f"planning role {self.role!r} needs a section and a title")
            if not ID_RE.match(self.section):
                raise ValueError(f"section {self.section!r} must be lower_snake_case")
        elif self.section or self.title or self.code_field or self.touching:
            raise ValueError(f"planning role {self.role!r} takes no section, title, "
                             "code_field or touching")
        return self


# ISO 19115 MD_TopicCategoryCode
TopicCategory = Literal[
    "farming", "biota", "boundaries", "climatologyMeteorologyAtmosphere", "economy",
    "elevation", "environment", "geoscientificInformation", "health",
    "imageryBaseMapsEarthCover", "intelligenceMilitary", "inlandWaters", "location", "oceans",
    "planningCadastre", "society", "structure", "transportation", "utilitiesCommunication"]
# ISO 19115 MD_MaintenanceFrequencyCode
UpdateFrequency = Literal[
    "continual", "daily", "weekly", "fortnightly", "monthly", "quarterly", "biannually",
    "annually", "asNeeded", "irregular", "notPlanned", "unknown"]
NonEmpty = Annotated[str, Field(min_length=1)]


class Contact(Strict):
    """The office answering questions about the data (usually the owner's GIS unit)."""

    name: Text
    email: EmailStr
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ().-]{6,25}$")


class Metadata(Strict):
    """Catalogue metadata (ISO 19115 / DCAT): what harvesters and dataset pages show."""

    topic: TopicCategory
    update_frequency: UpdateFrequency
    contact: Contact
    lineage: Text  # how the owner produces the data and delivers it to the platform


class LayerBase(Strict):
    """Keys shared by every kind of layer."""

    id: str
    title: Text
    description: Text  # the abstract of the catalogue record
    domain: Domain
    owner: Text  # owner department
    owner_code: str  # short department code used by access rules
    licence: str = "CC-BY-4.0"
    keywords: list[NonEmpty] = Field(min_length=1)
    metadata: Metadata
    access: Access = Access()
    map: MapOptions = MapOptions()
    planning: Planning | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_layer_id(v)
