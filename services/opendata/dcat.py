"""The DCAT-AP 3 catalogue of the datasets a caller may see, built as an rdflib graph (the
routes serialise it as JSON-LD, Turtle or RDF/XML).

One ``dcat:Dataset`` per layer, its ``dcat:Distribution``s the downloads of
``services.ogc.exports`` and the APIs (OGC API - Features pages, vector tiles; for rasters the
GeoTIFF coverage and map tiles), and one ``dcat:DataService`` per API. What a CKAN harvest
(ckanext-dcat's DCAT-AP profiles) reads is there: titles and descriptions per language,
keywords, themes, identifier, version, modified, frequency, provenance, access rights, contact
point (vCard name and e-mail), publisher (foaf:name), temporal (dcat:startDate/endDate), spatial
(dcat:bbox and dcat:centroid as WKT, a GeoJSON bbox), and per distribution access/download
URL, title, format, media type and licence (CKAN takes a dataset's licence from its
distributions).

Vocabulary values (EU data themes, frequencies, languages, file types, access rights) are typed
in the graph with their scheme, as the DCAT-AP SHACL shapes check them without the EU
vocabularies loaded. ``locn:geometry`` is left out on purpose: DCAT-AP 3 wants a node there,
and ckanext-dcat's parser fails on anything but a literal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from gis.layerdef import Text
from gis.layerdef.vocab import DATA_THEME, EU, FREQUENCIES, THEMES, themes
from services.catalog import LayerInfo
from services.metadata import DatasetMetadata, dataset_metadata
from services.ogc.exports import MEDIA
from services.ogc.http import Ctx

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
IANA = "https://www.iana.org/assignments/media-types/"
GEOJSON_LITERAL = URIRef(IANA + "application/vnd.geo+json")  # GeoDCAT-AP's GeoJSON datatype
EPSG_4326 = URIRef("http://www.opengis.net/def/crs/EPSG/0/4326")
PREFIXES = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "vcard": VCARD, "skos": SKOS,
            "dcatap": DCATAP, "gsp": GSP, "adms": ADMS, "xsd": XSD, "rdf": RDF, "rdfs": RDFS}
# JSON-LD: compact keys with these prefixes, no remote context to fetch
JSONLD_CONTEXT = {k: str(v) for k, v in PREFIXES.items()}

NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # no XML character
CITY = Text(vi="Ủy ban nhân dân thành phố Cần Thơ", en="People's Committee of Cần Thơ City")
TITLE = Text(vi="Danh mục dữ liệu mở không gian thành phố Cần Thơ",
             en="Cần Thơ city open spatial data catalogue")
ABSTRACT = Text(
    vi="Các lớp dữ liệu không gian của các sở, ngành thành phố Cần Thơ trên Nền tảng quy hoạch "
       "không gian (SPP): tải về (CSV, GeoPackage, Shapefile) và dịch vụ OGC API - Features, "
       "Tiles (WGS 84).",
    en="Spatial data layers of the departments of Cần Thơ city on the Spatial Planning "
       "Platform (SPP): downloads (CSV, GeoPackage, Shapefile) and OGC API - Features and Tiles "
       "services (WGS 84).")
CATALOGUE_LICENCE = "CC-BY-4.0"
ACCESS_RIGHTS = {"public": "PUBLIC", "internal": "NON_PUBLIC", "restricted": "RESTRICTED"}
# EU file types of the export formats of services.ogc.exports (a test checks every one is here)
EXPORT_FILE_TYPES = {"csv": ("CSV", "CSV"), "gpkg": ("GPKG", "GeoPackage"),
                     "shp": ("SHP", "Shapefile (zip)")}


@dataclass(frozen=True)
class Dist:
    """One way to get a dataset: a path under its collection and what it yields."""

    key: str  # fragment of the distribution's IRI
    title: Text
    description: Text
    path: str  # under /ogc/collections/{id}
    params: dict | None
    media: str  # IANA media type
    file_type: str | None  # EU file-type code (none known for vector tiles)
    download: bool  # the whole dataset in one file (else an API to page or tile)
    service: str | None  # key of the DataService it is served by


WGS84 = Text(vi="Tọa độ WGS 84 (kinh độ, vĩ độ).", en="WGS 84 coordinates (longitude, latitude).")


def _vector_dists() -> list[Dist]:
    out = [Dist("geojson", Text(vi="GeoJSON qua OGC API - Features (theo trang)",
                                en="GeoJSON through OGC API - Features (paged)"),
                Text(vi="Các đối tượng theo trang (tham số limit, bbox, datetime, filter CQL2); "
                        "tùy chọn crs cho VN-2000.",
                     en="Features page by page (limit, bbox, datetime, CQL2 filter "
                        "parameters); crs for VN-2000 output."),
                "/items", None, "application/geo+json", "GEOJSON", False, "features")]
    for fmt, media in MEDIA.items():
        code, label = EXPORT_FILE_TYPES[fmt]
        out.append(Dist(fmt, Text(vi=f"Tải về toàn bộ: {label}", en=f"Full download: {label}"),
                        Text(vi=f"Toàn bộ lớp dữ liệu trong một tệp {label}. {WGS84.vi}",
                             en=f"The whole layer in one {label} file. {WGS84.en}"),
                        "/items", {"f": fmt}, media.split(";")[0], code, True, None))
    out.append(Dist("tiles", Text(vi="Tile vector (OGC API - Tiles, MVT)",
                                  en="Vector tiles (OGC API - Tiles, MVT)"),
                    Text(vi="Tile vector Mapbox (WebMercatorQuad) cho bản đồ web.",
                         en="Mapbox vector tiles (WebMercatorQuad) for web maps."),
                    "/tiles", None, "application/vnd.mapbox-vector-tile", None, False, "tiles"))
    return out


RASTER_DISTS = [
    Dist("geotiff", Text(vi="Tải về: GeoTIFF", en="Download: GeoTIFF"),
         Text(vi="Lưới giá trị GeoTIFF (EPSG:4326); cắt theo tham số bbox.",
              en="The grid as GeoTIFF (EPSG:4326); subset with the bbox parameter."),
         "/coverage", {"f": "tif"}, "image/tiff", "GEOTIFF", True, None),
    Dist("map-tiles", Text(vi="Tile bản đồ PNG (OGC API - Tiles)",
                           en="PNG map tiles (OGC API - Tiles)"),
         Text(vi="Tile ảnh PNG đã tô màu (WebMercatorQuad).",
              en="Coloured PNG image tiles (WebMercatorQuad)."),
         "/map/tiles/WebMercatorQuad", None, "image/png", "PNG", False, "tiles"),
]


def distributions(kind: str) -> list[Dist]:
    return RASTER_DISTS if kind == "raster" else _vector_dists()


SERVICES = {
    "features": (Text(vi="OGC API - Features", en="OGC API - Features"),
                 "http://www.opengis.net/spec/ogcapi-features-1/1.0", ["OGC API", "Features"]),
    "tiles": (Text(vi="OGC API - Tiles", en="OGC API - Tiles"),
              "http://www.opengis.net/spec/ogcapi-tiles-1/1.0", ["OGC API", "Tiles", "MVT"]),
}
# SPDX licence -> its name (a harvester may match licences by title) and ADMS licence types
LICENCES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International", ("Attribution",)),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal", ("PublicDomain",)),
    "CC-BY-SA-4.0": ("Creative Commons Attribution Share Alike 4.0 International",
                     ("Attribution", "ShareAlike")),
    "ODbL-1.0": ("Open Data Commons Open Database License v1.0", ("Attribution", "ShareAlike")),
}


def load_notes(md: DatasetMetadata) -> Text | None:
    """What the current version's load did (format, CRS operation, counts), for version notes."""
    load = md.load
    if load.count_loaded is None:
        return None
    src = ", ".join(x for x in (load.source_format, load.source_crs) if x)
    op = f"; {load.operation}" if load.operation else ""
    return Text(
        vi=f"Phiên bản {md.version}: nạp {load.count_loaded} đối tượng"
           f"{f' từ {src}' if src else ''}{op}; loại {load.count_rejected or 0}.",
        en=f"Version {md.version}: {load.count_loaded} features loaded"
           f"{f' from {src}' if src else ''}{op}; {load.count_rejected or 0} rejected.")


def issued(md: DatasetMetadata) -> datetime | None:
    """When the dataset was first published: its first load, never after its last change (the
    first version's finish time is taken in the loader, the layer's update time at the start of
    the transaction making it current, so for one load the first may come out later)."""
    stamps = [t for t in (md.created, md.updated) if t]
    return min(stamps) if stamps else None


def dataset_iri(c: Ctx, layer_id: str) -> URIRef:
    """A dataset's IRI: its collection (dereferenceable; a harvester's identifier for it)."""
    return URIRef(c.url(f"/ogc/collections/{layer_id}"))


def catalogue_graph(c: Ctx, datasets: list[LayerInfo]) -> Graph:
    g = _Builder(c).catalogue(datasets)
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, replace=True)
    return g


class _Builder:
    def __init__(self, c: Ctx):
        self.c = c
        self.g = Graph()
        self.catalogue_iri = URIRef(c.url("/catalog"))

    def url(self, path: str, params: dict | None = None) -> URIRef:
        return URIRef(self.c.url(path, params))

    def text(self, subject, predicate, text: Text | None) -> None:
        if text is not None:
            for lang in ("vi", "en"):  # RDF/XML is XML: no control characters
                value = NOT_XML.sub("", getattr(text, lang))
                self.g.add((subject, predicate, Literal(value, lang=lang)))

    def catalogue(self, datasets: list[LayerInfo]) -> Graph:
        g, cat = self.g, self.catalogue_iri
        g.add((cat, RDF.type, DCAT.Catalog))
        self.text(cat, DCTERMS.title, TITLE)
        self.text(cat, DCTERMS.description, ABSTRACT)
        g.add((cat, DCTERMS.publisher, self.city()))
        home = self.url("/")
        g.add((cat, FOAF.homepage, home))
        g.add((home, RDF.type, FOAF.Document))
        for lang in self.languages():
            g.add((cat, DCTERMS.language, lang))
        g.add((cat, DCTERMS.spatial, self.country()))
        g.add((cat, DCTERMS.license, self.licence(CATALOGUE_LICENCE)))
        g.add((cat, DCAT.themeTaxonomy, self.scheme(DATA_THEME, "Data theme")))
        mds = [dataset_metadata(info, self.c.who) for info in datasets]
        if stamps := [md.updated for md in mds if md.updated]:
            g.add((cat, DCTERMS.modified, Literal(max(stamps))))
        if stamps := [issued(md) for md in mds if issued(md)]:
            g.add((cat, DCTERMS.issued, Literal(min(stamps))))
        services = {key: self.service(key) for key in SERVICES}
        for md in mds:
            g.add((cat, DCAT.dataset, self.dataset(md, services)))
        for svc in services.values():
            g.add((cat, DCAT.service, svc))
        return g

    # agents and vocabularies -------------------------------------------------------------
    def city(self) -> URIRef:
        agent = URIRef(f"{self.catalogue_iri}#publisher")
        if self.agent(agent, CITY):
            kind = self.concept(URIRef("http://purl.org/adms/publishertype/LocalAuthority"),
                                self.scheme("http://purl.org/adms/publishertype/1.0",
                                            "Publisher type"),
                                Text(vi="Chính quyền địa phương", en="Local Authority"))
            self.g.add((agent, DCTERMS.type, kind))
        return agent

    def agent(self, agent: URIRef, name: Text) -> bool:
        """An organisation (owners have no type: some are companies, and the layer model does
        not say which); False when already in the graph."""
        if (agent, RDF.type, FOAF.Agent) in self.g:
            return False
        self.g.add((agent, RDF.type, FOAF.Agent))
        self.g.add((agent, RDF.type, FOAF.Organization))
        self.text(agent, FOAF.name, name)
        return True

    def scheme(self, iri: str, title: str) -> URIRef:
        s = URIRef(iri)
        self.g.add((s, RDF.type, SKOS.ConceptScheme))
        self.g.add((s, DCTERMS.title, Literal(title, lang="en")))
        return s

    def concept(self, iri: URIRef, scheme: URIRef, label: Text | None, *types) -> URIRef:
        """A value of a controlled vocabulary, with its scheme (and labels)."""
        self.g.add((iri, SKOS.inScheme, scheme))
        for t in types:
            self.g.add((iri, RDF.type, t))
        if label is not None:
            self.g.add((iri, RDF.type, SKOS.Concept))
            self.text(iri, SKOS.prefLabel, label)
        return iri

    def eu(self, vocabulary: str, code: str, label: Text | None, *types) -> URIRef:
        return self.concept(URIRef(f"{EU}/{vocabulary}/{code}"),
                            URIRef(f"{EU}/{vocabulary}"), label, *types)

    def country(self) -> URIRef:
        return self.eu("country", "VNM", Text(vi="Việt Nam", en="Viet Nam"), DCTERMS.Location)

    def languages(self) -> list[URIRef]:
        return [self.eu("language", "VIE", None, DCTERMS.LinguisticSystem),
                self.eu("language", "ENG", None, DCTERMS.LinguisticSystem)]

    def licence(self, spdx: str) -> URIRef:
        doc = URIRef(f"https://spdx.org/licenses/{spdx}")
        self.g.add((doc, RDF.type, DCTERMS.LicenseDocument))
        self.g.add((doc, DCTERMS.identifier, Literal(spdx)))
        name, kinds = LICENCES.get(spdx, (spdx, ()))
        self.g.add((doc, DCTERMS.title, Literal(name)))
        scheme = "http://purl.org/adms/licencetype/1.0"
        for kind in kinds:
            self.g.add((doc, DCTERMS.type, self.concept(
                URIRef(f"http://purl.org/adms/licencetype/{kind}"),
                self.scheme(scheme, "Licence type"), Text(vi=kind, en=kind))))
        return doc

    # datasets ----------------------------------------------------------------------------
    def dataset(self, md: DatasetMetadata, services: dict[str, URIRef]) -> URIRef:
        g = self.g
        ds = dataset_iri(self.c, md.id)
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(md.id)))
        self.text(ds, DCTERMS.title, md.title)
        self.text(ds, DCTERMS.description, md.description)
        for word in md.keywords:
            g.add((ds, DCAT.keyword, Literal(word)))
        for code in themes(md.domain, md.topic):
            g.add((ds, DCAT.theme, self.eu("data-theme", code, THEMES[code])))
        owner = URIRef(f"{self.catalogue_iri}#org-{md.owner_code}")
        self.agent(owner, md.owner)
        g.add((ds, DCTERMS.publisher, owner))
        g.add((ds, DCAT.contactPoint, self.contact(md)))
        g.add((ds, DCTERMS.accessRights, self.eu(
            "access-right", ACCESS_RIGHTS[md.access_level], None, DCTERMS.RightsStatement)))
        code, label = FREQUENCIES[md.update_frequency]
        g.add((ds, DCTERMS.accrualPeriodicity, self.eu("frequency", code, label,
                                                        DCTERMS.Frequency)))
        provenance = BNode()
        g.add((provenance, RDF.type, DCTERMS.ProvenanceStatement))
        self.text(provenance, RDFS.label, md.lineage_statement)  # what CKAN shows
        g.add((ds, DCTERMS.provenance, provenance))
        if notes := load_notes(md):
            self.text(ds, ADMS.versionNotes, notes)
        g.add((ds, DCTERMS.conformsTo, EPSG_4326))
        g.add((EPSG_4326, RDF.type, DCTERMS.Standard))
        for lang in self.languages():
            g.add((ds, DCTERMS.language, lang))
        g.add((ds, DCAT.version, Literal(str(md.version))))
        if when := issued(md):
            g.add((ds, DCTERMS.issued, Literal(when)))
        if md.updated:
            g.add((ds, DCTERMS.modified, Literal(md.updated)))
        page = self.url(f"/datasets/{md.id}")  # the dataset's readable page (vi/en)
        g.add((ds, DCAT.landingPage, page))
        g.add((page, RDF.type, FOAF.Document))
        self.spatial(ds, md.bbox)
        self.temporal(ds, md.temporal)
        for dist in distributions(md.kind):
            g.add((ds, DCAT.distribution, self.distribution(ds, md, dist, services)))
            if dist.service:
                g.add((services[dist.service], DCAT.servesDataset, ds))
                for theme in g.objects(ds, DCAT.theme):
                    g.add((services[dist.service], DCAT.theme, theme))
        return ds

    def contact(self, md: DatasetMetadata) -> BNode:
        g, contact = self.g, md.contact
        card = BNode()
        g.add((card, RDF.type, VCARD.Kind))  # what DCAT-AP checks (no subclass reasoning)
        g.add((card, RDF.type, VCARD.Organization))
        self.text(card, VCARD.fn, contact.name)
        g.add((card, VCARD.hasEmail, URIRef(f"mailto:{contact.email}")))
        if contact.phone:
            g.add((card, VCARD.hasTelephone, URIRef("tel:" + "".join(
                ch for ch in contact.phone if ch.isdigit() or ch == "+"))))
        return card

    def spatial(self, ds: URIRef, bbox: list[float] | None) -> None:
        """The country (EU country list: what the portal facets by) and the extent's box."""
        self.g.add((ds, DCTERMS.spatial, self.country()))
        if not bbox:
            return
        x0, y0, x1, y1 = bbox
        wkt = BNode()
        self.g.add((wkt, RDF.type, DCTERMS.Location))
        self.g.add((wkt, DCAT.bbox, Literal(
            f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))",
            datatype=GSP.wktLiteral)))
        self.g.add((wkt, DCAT.centroid, Literal(f"POINT({(x0 + x1) / 2} {(y0 + y1) / 2})",
                                                datatype=GSP.wktLiteral)))
        self.g.add((ds, DCTERMS.spatial, wkt))
        geojson = BNode()  # the same box as GeoJSON (one dcat:bbox per dct:Location)
        self.g.add((geojson, RDF.type, DCTERMS.Location))
        self.g.add((geojson, DCAT.bbox, Literal(json.dumps(
            {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1],
                                                 [x0, y0]]]}), datatype=GEOJSON_LITERAL)))
        self.g.add((geojson, DCAT.centroid, Literal(json.dumps(
            {"type": "Point", "coordinates": [(x0 + x1) / 2, (y0 + y1) / 2]}),
            datatype=GEOJSON_LITERAL)))
        self.g.add((ds, DCTERMS.spatial, geojson))

    def temporal(self, ds: URIRef, temporal) -> None:
        """The time field's range (``dataset_metadata`` leaves it out when the caller may not
        see that field)."""
        if not temporal or not any(temporal):  # no time field, or no value in it
            return
        period = BNode()
        self.g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        for predicate, value in zip((DCAT.startDate, DCAT.endDate), temporal, strict=True):
            if value:
                self.g.add((period, predicate, _time(value)))
        self.g.add((ds, DCTERMS.temporal, period))

    def distribution(self, ds: URIRef, md: DatasetMetadata, dist: Dist,
                     services: dict[str, URIRef]) -> URIRef:
        g = self.g
        node = URIRef(f"{ds}#{dist.key}")
        url = self.url(f"/ogc/collections/{md.id}{dist.path}", dist.params)
        g.add((node, RDF.type, DCAT.Distribution))
        self.text(node, DCTERMS.title, dist.title)
        self.text(node, DCTERMS.description, dist.description)
        g.add((node, DCATAP.availability, self.eu("planned-availability", "STABLE", Text(
            vi="Ổn định", en="stable"))))
        g.add((node, DCAT.accessURL, url))
        if dist.download:
            g.add((node, DCAT.downloadURL, url))
        media = URIRef(IANA + dist.media)
        g.add((media, RDF.type, DCTERMS.MediaType))
        g.add((node, DCAT.mediaType, media))
        if dist.file_type:
            g.add((node, DCTERMS["format"], self.eu("file-type", dist.file_type, None,
                                                    DCTERMS.MediaTypeOrExtent)))
        if md.licence and md.licence != "proprietary":
            g.add((node, DCTERMS.license, self.licence(md.licence)))
        g.add((node, DCTERMS.conformsTo, EPSG_4326))
        if md.updated:
            g.add((node, DCTERMS.modified, Literal(md.updated)))
        if dist.service:
            g.add((node, DCAT.accessService, services[dist.service]))
        return node

    def service(self, key: str) -> URIRef:
        g = self.g
        title, spec, keywords = SERVICES[key]
        svc = URIRef(self.c.url("/ogc") + f"#{key}")
        g.add((svc, RDF.type, DCAT.DataService))
        self.text(svc, DCTERMS.title, title)
        for word in keywords:
            g.add((svc, DCAT.keyword, Literal(word)))
        for prop, url in ((DCAT.endpointURL, self.url("/ogc")),
                          (DCAT.endpointDescription, self.url("/ogc/openapi"))):
            g.add((svc, prop, url))
            g.add((url, RDF.type, RDFS.Resource))
        g.add((svc, DCTERMS.conformsTo, URIRef(spec)))
        g.add((URIRef(spec), RDF.type, DCTERMS.Standard))
        g.add((svc, DCTERMS.publisher, self.city()))
        return svc


def _time(value: str) -> Literal:
    """A time field's bound (a date, or a PostgreSQL timestamp text) as an xsd literal."""
    if len(value) == 10:
        return Literal(value, datatype=XSD.date)
    return Literal(datetime.fromisoformat(value.replace(" ", "T")))
