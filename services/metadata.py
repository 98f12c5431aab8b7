"""A dataset's whole metadata, from its one source: the layer definition (``layers/<id>.yaml``:
titles, abstract, keywords, ISO topic, owner, contact, licence, update frequency, lineage
statement, data dictionary) and the catalog's facts about its loads (extent, feature count,
current version, last load time, CRS operation, rejected rows).

``dataset_metadata`` is what every catalogue output reads — OGC API - Records, DCAT-AP, ISO
19139, the dataset pages — so they never disagree. It takes the caller (``Principal``): the
data dictionary and the temporal extent leave out the fields the caller may not see; whether
the caller may see the dataset at all is asked first (``services.access.visible_layers``).
``dataset_links`` gives the API and download links of a dataset, the same for every output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gis.layerdef import Contact, FieldDef, RasterLayerDef, Text, VectorLayerDef
from services.access import PUBLIC, Principal, visible_columns
from services.catalog import LayerInfo, Lineage

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"  # how every layer is stored and served


@dataclass(frozen=True)
class DatasetMetadata:
    """Everything a catalogue says of one dataset (vector or raster layer)."""

    id: str
    kind: str  # vector | raster
    title: Text
    description: Text  # the abstract
    keywords: list[str]
    topic: str  # ISO 19115 MD_TopicCategoryCode
    update_frequency: str  # ISO 19115 MD_MaintenanceFrequencyCode
    contact: Contact
    lineage_statement: Text  # how the owner produces and delivers the data
    owner: Text
    owner_code: str
    licence: str | None  # SPDX id (CC-BY-4.0) or "proprietary"
    domain: str
    access_level: str  # public | internal | restricted
    geometry_type: str  # Point ... MultiPolygon, or Raster
    bbox: list[float] | None  # [min lon, min lat, max lon, max lat], WGS 84
    temporal: tuple[str | None, str | None] | None  # time field's [first, last] (ISO dates)
    feature_count: int | None  # None for rasters
    version: int  # the current version
    updated: datetime | None  # when the current version was made current (last load)
    created: datetime | None  # the first successful load
    load: Lineage  # how the current version was loaded (CRS operation, counts...)
    fields: list[FieldDef]  # the data dictionary, as far as the caller may see it
    definition: VectorLayerDef | RasterLayerDef
    crs: str = CRS84

    @property
    def is_open(self) -> bool:
        """Open data: public and under an open licence (what the national portal harvests)."""
        return self.access_level == "public" and (self.licence or "") != "proprietary"

    @property
    def licence_url(self) -> str | None:
        if not self.licence or self.licence == "proprietary":
            return None
        return f"https://spdx.org/licenses/{self.licence}.html"

    @property
    def rejected_share(self) -> float | None:
        """Share of the delivered features the current version's load rejected."""
        read, rejected = self.load.count_read, self.load.count_rejected
        return None if not read or rejected is None else rejected / read


def dataset_metadata(info: LayerInfo, who: Principal = PUBLIC) -> DatasetMetadata:
    """The metadata of the dataset ``info`` (a catalog entry) as ``who`` may read it."""
    layer = info.definition
    fields: list[FieldDef] = []
    temporal = None
    if isinstance(layer, VectorLayerDef):
        seen = visible_columns(who, info)
        fields = [f for f in layer.fields if f.name in seen]
        if info.time_field in seen and info.temporal:
            temporal = (info.temporal[0], info.temporal[1])
    md = layer.metadata
    return DatasetMetadata(
        id=info.id, kind=info.kind, title=layer.title, description=layer.description,
        keywords=list(layer.keywords), topic=md.topic, update_frequency=md.update_frequency,
        contact=md.contact, lineage_statement=md.lineage, owner=layer.owner,
        owner_code=layer.owner_code, licence=layer.licence, domain=layer.domain,
        access_level=layer.access.level, geometry_type=info.geometry_type, bbox=info.bbox,
        temporal=temporal, feature_count=info.feature_count, version=info.current_version,
        updated=info.updated_at, created=info.lineage.first_loaded_at or info.updated_at,
        load=info.lineage, fields=fields, definition=layer)


@dataclass(frozen=True)
class Link:
    rel: str
    type: str
    title: str
    href: str
    kind: str  # api | download | metadata | page: what a distribution it is

    def as_dict(self) -> dict:
        return {"rel": self.rel, "type": self.type, "title": self.title, "href": self.href}


OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0"
DOWNLOADS = {"csv": ("text/csv", "CSV"),
             "gpkg": ("application/geopackage+sqlite3", "GeoPackage"),
             "shp": ("application/zip", "Shapefile (zip)")}


def dataset_links(md: DatasetMetadata, url) -> list[Link]:
    """The API, download and metadata links of a dataset; ``url(path, params=None)`` makes an
    absolute URL (``services.ogc.http.Ctx.url``)."""
    base = f"/ogc/collections/{md.id}"
    out = [Link("collection", "application/json", "Collection (OGC API)", url(base), "api"),
           Link("alternate", "text/html", "Collection (HTML)", url(base, {"f": "html"}), "page")]
    if md.kind == "vector":
        out += [Link("items", "application/geo+json", "Features (OGC API - Features, GeoJSON)",
                     url(f"{base}/items"), "api"),
                Link(f"{OGC_REL}/tilesets-vector", "application/json",
                     "Vector tiles (OGC API - Tiles, MVT)", url(f"{base}/tiles"), "api"),
                Link(f"{OGC_REL}/style", "application/vnd.mapbox.style+json",
                     "Style (MapLibre; also f=sld, f=qml)",
                     url(f"/ogc/styles/{md.id}", {"f": "mapbox"}), "api")]
        out += [Link("enclosure", mime, f"Download: {label}", url(f"{base}/items", {"f": f}),
                     "download") for f, (mime, label) in DOWNLOADS.items()]
    else:
        out += [Link(f"{OGC_REL}/tilesets-map", "application/json", "Map tiles (PNG)",
                     url(f"{base}/map/tiles/WebMercatorQuad"), "api"),
                Link("enclosure", "image/tiff; application=geotiff",
                     "Download: GeoTIFF (coverage, EPSG:4326)",
                     url(f"{base}/coverage", {"f": "tif"}), "download")]
    out.append(Link("describedby", "application/xml",
                    "ISO 19115 metadata (ISO 19139 XML)", url(f"{base}/metadata.xml"),
                    "metadata"))
    if md.licence_url:
        out.append(Link("license", "text/html", md.licence or "", md.licence_url, "metadata"))
    return out
