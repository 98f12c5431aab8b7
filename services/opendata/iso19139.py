"""One dataset's ISO 19115 metadata as ISO 19139 XML (``gmd:MD_Metadata``), the record
GeoNetwork-style catalogues and QGIS's metadata search harvest.

Built with lxml (elements, never strings pasted together) in the element order of the ISO 19139
schemas (2007-04-17, GML 3.2); the tests validate it against them. Vietnamese is the record's
language; English texts are its second locale (``PT_FreeText``)."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree
from lxml.builder import ElementMaker

from gis.layerdef import Text
from gis.layerdef.vocab import THEMES, themes
from services.catalog import LayerInfo
from services.metadata import DatasetMetadata, dataset_metadata
from services.ogc.http import Ctx
from services.opendata.dcat import NOT_XML, distributions, issued, load_notes

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
GML = "http://www.opengis.net/gml/3.2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"gmd": GMD, "gco": GCO, "gml": GML, "xsi": XSI}
SCHEMA_LOCATION = f"{GMD} http://schemas.opengis.net/iso/19139/20070417/gmd/gmd.xsd"
CODELISTS = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
LANGUAGES = "http://www.loc.gov/standards/iso639-2/"
EN = "#locale-eng"

G = ElementMaker(namespace=GMD, nsmap=NSMAP)
C = ElementMaker(namespace=GCO, nsmap=NSMAP)
M = ElementMaker(namespace=GML, nsmap=NSMAP)
GEOMETRY_OBJECTS = {"Point": "point", "MultiPoint": "point", "LineString": "curve",
                    "MultiLineString": "curve", "Polygon": "surface", "MultiPolygon": "surface"}
PLACE = Text(vi="Thành phố Cần Thơ, Việt Nam", en="Cần Thơ City, Viet Nam")
RESTRICTION = {"public": None, "internal": "restricted", "restricted": "restricted"}


def xml_text(value: object) -> str:
    """``value`` as text XML can hold: control characters (which a YAML escape can put in a
    layer file) dropped instead of failing the whole record."""
    return NOT_XML.sub("", str(value))


def _s(value: object) -> etree._Element:
    return C.CharacterString(xml_text(value))


def _text(tag: str, text: Text) -> etree._Element:
    """``gmd:<tag>`` with the Vietnamese text and its English translation."""
    el = G(tag, _s(text.vi),
           G.PT_FreeText(G.textGroup(G.LocalisedCharacterString(xml_text(text.en), locale=EN))))
    el.set(f"{{{XSI}}}type", "gmd:PT_FreeText_PropertyType")
    return el


def _code(name: str, value: str) -> etree._Element:
    return G(name, value, codeList=f"{CODELISTS}#{name}", codeListValue=value)


def _language(code: str, label: str) -> etree._Element:
    return G.LanguageCode(label, codeList=LANGUAGES, codeListValue=code)


def _utf8(tag: str = "characterSet") -> etree._Element:
    return G(tag, _code("MD_CharacterSetCode", "utf8"))


def _party(name: Text, role: str, email: str | None = None, phone: str | None = None,
           url: str | None = None) -> etree._Element:
    contact = []
    if phone:
        contact.append(G.phone(G.CI_Telephone(G.voice(_s(phone)))))
    if email:
        contact.append(G.address(G.CI_Address(G.electronicMailAddress(_s(email)))))
    if url:
        contact.append(G.onlineResource(G.CI_OnlineResource(G.linkage(G.URL(url)))))
    return G.CI_ResponsibleParty(_text("organisationName", name),
                                 G.contactInfo(G.CI_Contact(*contact)),
                                 G.role(_code("CI_RoleCode", role)))


def _stamp(when: datetime | None) -> str:
    return (when or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def iso_record(c: Ctx, info: LayerInfo) -> bytes:
    """The ISO 19139 document of one layer the caller may see."""
    md = dataset_metadata(info, c.who)
    stamp = _stamp(md.updated)
    root = G.MD_Metadata(
        G.fileIdentifier(_s(md.id)),
        G.language(_language("vie", "Tiếng Việt")),
        _utf8(),
        G.hierarchyLevel(_code("MD_ScopeCode", "dataset")),
        G.contact(_contact(md)),
        G.dateStamp(C.DateTime(stamp)),
        G.metadataStandardName(_s("ISO 19115:2003/19139")),
        G.metadataStandardVersion(_s("1.0")),
        G.dataSetURI(_s(c.url(f"/ogc/collections/{md.id}"))),
        G.locale(G.PT_Locale(G.languageCode(_language("eng", "English")),
                             _utf8("characterEncoding"), id="locale-eng")),
    )
    if md.kind == "vector" and md.geometry_type in GEOMETRY_OBJECTS:
        objects = [G.geometricObjectType(_code("MD_GeometricObjectTypeCode",
                                               GEOMETRY_OBJECTS[md.geometry_type]))]
        if md.feature_count is not None:
            objects.append(G.geometricObjectCount(C.Integer(str(md.feature_count))))
        root.append(G.spatialRepresentationInfo(G.MD_VectorSpatialRepresentation(
            G.topologyLevel(_code("MD_TopologyLevelCode", "geometryOnly")),
            G.geometricObjects(G.MD_GeometricObjects(*objects)))))
    root.append(G.referenceSystemInfo(G.MD_ReferenceSystem(G.referenceSystemIdentifier(
        G.RS_Identifier(G.code(_s("4326")), G.codeSpace(_s("EPSG")))))))
    root.append(G.identificationInfo(_identification(md, stamp)))
    root.append(G.distributionInfo(_distribution(c, md)))
    lineage = G.LI_Lineage(_text("statement", md.lineage_statement))
    if notes := load_notes(md):
        step = G.LI_ProcessStep(_text("description", notes))
        if md.load.finished_at:
            step.append(G.dateTime(C.DateTime(_stamp(md.load.finished_at))))
        lineage.append(G.processStep(step))
    root.append(G.dataQualityInfo(G.DQ_DataQuality(
        G.scope(G.DQ_Scope(G.level(_code("MD_ScopeCode", "dataset")))),
        G.lineage(lineage))))
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _contact(md: DatasetMetadata) -> etree._Element:
    return _party(md.contact.name, "pointOfContact", md.contact.email, md.contact.phone)


def _date(when: datetime, kind: str) -> etree._Element:
    return G.date(G.CI_Date(G.date(C.DateTime(_stamp(when))),
                            G.dateType(_code("CI_DateTypeCode", kind))))


def _identification(md: DatasetMetadata, stamp: str) -> etree._Element:
    created = issued(md)
    dates = [_date(created, "creation")] if created else []
    dates.append(G.date(G.CI_Date(G.date(C.DateTime(stamp)),
                                  G.dateType(_code("CI_DateTypeCode", "revision")))))
    citation = G.CI_Citation(
        _text("title", md.title), *dates,
        G.edition(_s(md.version)),
        G.identifier(G.MD_Identifier(G.code(_s(md.id)))))
    ident = G.MD_DataIdentification(
        G.citation(citation),
        _text("abstract", md.description),
        G.status(_code("MD_ProgressCode", "onGoing")),
        G.pointOfContact(_contact(md)),
        G.pointOfContact(_party(md.owner, "owner")),
        G.resourceMaintenance(G.MD_MaintenanceInformation(G.maintenanceAndUpdateFrequency(
            _code("MD_MaintenanceFrequencyCode", md.update_frequency)))),
        G.descriptiveKeywords(G.MD_Keywords(
            *(G.keyword(_s(k)) for k in md.keywords),
            G.type(_code("MD_KeywordTypeCode", "theme")))),
        G.descriptiveKeywords(G.MD_Keywords(
            _text("keyword", PLACE), G.type(_code("MD_KeywordTypeCode", "place")))),
        G.descriptiveKeywords(G.MD_Keywords(
            *(_text("keyword", THEMES[t]) for t in themes(md.domain, md.topic)),
            G.type(_code("MD_KeywordTypeCode", "theme")),
            G.thesaurusName(G.CI_Citation(
                G.title(_s("EU Vocabularies: Data theme")),
                G.date(G.CI_Date(G.date(C.Date("2015-10-01")),
                                 G.dateType(_code("CI_DateTypeCode", "publication")))))))),
        G.resourceConstraints(_constraints(md)),
        G.spatialRepresentationType(_code("MD_SpatialRepresentationTypeCode",
                                          "grid" if md.kind == "raster" else "vector")),
        G.language(_language("vie", "Tiếng Việt")),
        G.language(_language("eng", "English")),
        _utf8(),
        G.topicCategory(G.MD_TopicCategoryCode(md.topic)),
    )
    extent = _extent(md)
    if extent is not None:
        ident.append(G.extent(extent))
    return ident


def _constraints(md: DatasetMetadata) -> etree._Element:
    legal = G.MD_LegalConstraints()
    restriction = RESTRICTION[md.access_level]
    if restriction:
        legal.append(G.accessConstraints(_code("MD_RestrictionCode", restriction)))
    legal.append(G.useConstraints(_code("MD_RestrictionCode", "license")))
    licence = md.licence or "proprietary"
    url = f" https://spdx.org/licenses/{licence}" if md.licence_url else ""
    legal.append(G.otherConstraints(_s(f"{licence}{url}")))
    return legal


def _extent(md: DatasetMetadata) -> etree._Element | None:
    parts = []
    if md.bbox:
        x0, y0, x1, y1 = md.bbox
        parts.append(G.geographicElement(G.EX_GeographicBoundingBox(
            G.westBoundLongitude(C.Decimal(repr(x0))), G.eastBoundLongitude(C.Decimal(repr(x1))),
            G.southBoundLatitude(C.Decimal(repr(y0))), G.northBoundLatitude(C.Decimal(repr(y1))))))
    if md.temporal and all(md.temporal):  # left out when the caller may not see the field
        lo, hi = (v.replace(" ", "T") for v in md.temporal)
        parts.append(G.temporalElement(G.EX_TemporalExtent(G.extent(M.TimePeriod(
            M.beginPosition(lo), M.endPosition(hi), **{f"{{{GML}}}id": f"t-{md.id}"})))))
    return G.EX_Extent(*parts) if parts else None


def _distribution(c: Ctx, md: DatasetMetadata) -> etree._Element:
    formats, online = [], []
    seen = set()
    for dist in distributions(md.kind):
        name = dist.file_type or dist.media
        if name not in seen:
            seen.add(name)
            formats.append(G.distributionFormat(G.MD_Format(G.name(_s(name)),
                                                            G.version(_s("-")))))
        url = c.url(f"/ogc/collections/{md.id}{dist.path}", dist.params)
        online.append(G.onLine(G.CI_OnlineResource(
            G.linkage(G.URL(url)),
            G.protocol(_s("WWW:DOWNLOAD-1.0-http--download" if dist.download
                          else "OGC API")),
            G.name(_s(dist.title.en)),
            _text("description", dist.description),
            G.function(_code("CI_OnLineFunctionCode",
                             "download" if dist.download else "information")))))
    online.append(G.onLine(G.CI_OnlineResource(
        G.linkage(G.URL(c.url(f"/datasets/{md.id}"))),
        G.protocol(_s("WWW:LINK-1.0-http--link")),
        G.name(_s("Dataset page")),
        _text("description", Text(vi="Trang dữ liệu (mô tả, bản đồ, từ điển dữ liệu, chất "
                                     "lượng, tải về)", en="Dataset page (description, map, "
                                     "data dictionary, quality, downloads)")),
        G.function(_code("CI_OnLineFunctionCode", "information")))))
    return G.MD_Distribution(*formats, G.transferOptions(G.MD_DigitalTransferOptions(*online)))
