"""Routes of the open-data metadata: the DCAT-AP catalogue (/catalog.jsonld, /catalog.ttl,
/catalog.rdf, and /catalog by the Accept header) and one ISO 19139 record per dataset
(/ogc/collections/{collectionId}/metadata.xml). Both list only what the caller may see: the
public gets the public layers; a hidden layer's record is a 404 like its collection."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.access import LayerHidden, layer_for, visible_layers
from services.catalog import LayerInfo
from services.ogc.collections import CollectionId
from services.ogc.http import Ctx, cache_headers, conditional, etag_for, file_ctx
from services.opendata.dcat import JSONLD_CONTEXT, catalogue_graph
from services.opendata.iso19139 import iso_record

router = APIRouter(tags=["Open data"])

# format -> (rdflib serialiser, media type)
RDF_FORMATS = {"jsonld": ("json-ld", "application/ld+json"),
               "ttl": ("turtle", "text/turtle; charset=utf-8"),
               "rdf": ("pretty-xml", "application/rdf+xml")}
ACCEPTED = {"application/ld+json": "jsonld", "application/json": "jsonld",
            "text/turtle": "ttl", "application/x-turtle": "ttl",
            "application/rdf+xml": "rdf", "application/xml": "rdf"}
XML = "application/xml"


JSONLD_SCHEMA = {"type": "object", "required": ["@context"],
                 "properties": {"@context": {"type": "object"}}}


def _content(*types: str) -> dict:
    return {200: {"content": {t: {"schema": JSONLD_SCHEMA if t == "application/ld+json"
                                  else {"type": "string"}} for t in types}}}


def _datasets(c: Ctx) -> list[LayerInfo]:
    found = visible_layers(c.who, c.layers) + visible_layers(c.who, c.raster_layers())
    return sorted(found, key=lambda x: x.id)


async def _catalogue(request: Request, c: Ctx, fmt: str) -> Response:
    datasets = _datasets(c)
    etag = etag_for("dcat", fmt, c.who.cache_scope, c.url(""),
                    *(f"{x.id}:{x.current_version}:{x.definition_sha}" for x in datasets))
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    serialiser, media = RDF_FORMATS[fmt]
    graph = catalogue_graph(c, datasets)
    options = {"context": JSONLD_CONTEXT, "auto_compact": True} if fmt == "jsonld" else {}
    # a few hundred triples a layer: serialised off the event loop all the same
    body = await asyncio.to_thread(graph.serialize, format=serialiser, encoding="utf-8",
                                   **options)
    return Response(body, media_type=media, headers=cache_headers(c.who, etag, 60))


@router.get("/catalog.jsonld", summary="DCAT-AP 3 catalogue of the datasets (JSON-LD)",
            response_class=Response, responses=_content("application/ld+json"))
async def catalogue_jsonld(request: Request, c: Ctx = Depends(file_ctx)):
    return await _catalogue(request, c, "jsonld")


@router.get("/catalog.ttl", summary="DCAT-AP 3 catalogue of the datasets (Turtle)",
            response_class=Response, responses=_content("text/turtle"))
async def catalogue_turtle(request: Request, c: Ctx = Depends(file_ctx)):
    return await _catalogue(request, c, "ttl")


@router.get("/catalog.rdf", summary="DCAT-AP 3 catalogue of the datasets (RDF/XML)",
            response_class=Response, responses=_content("application/rdf+xml"))
async def catalogue_rdfxml(request: Request, c: Ctx = Depends(file_ctx)):
    return await _catalogue(request, c, "rdf")


@router.get("/catalog", summary="DCAT-AP 3 catalogue, in the format the Accept header asks "
            "for (JSON-LD, Turtle or RDF/XML; Turtle by default)", response_class=Response,
            responses=_content("text/turtle", "application/ld+json", "application/rdf+xml"))
async def catalogue(request: Request, c: Ctx = Depends(file_ctx)):
    return await _catalogue(request, c, negotiate_rdf(request.headers.get("accept", "")))


def negotiate_rdf(accept: str) -> str:
    """The RDF format the Accept header prefers (highest q, then its order); Turtle when it
    names none of ours. Only the first 50 entries are read."""
    best, best_q = "ttl", 0.0
    for entry in accept.split(",")[:50]:
        media, _, params = entry.strip().partition(";")
        fmt = ACCEPTED.get(media.strip().lower())
        if fmt is None:
            continue
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:  # nan, inf and out-of-range weights count as 0
                    q = 0.0
        if q > best_q:
            best, best_q = fmt, q
    return best


@router.get("/ogc/collections/{collectionId}/metadata.xml",
            summary="ISO 19115 metadata of a collection (ISO 19139 XML)",
            response_class=Response, responses=_content(XML))
async def iso_metadata(request: Request, collection_id: str = CollectionId,
                       c: Ctx = Depends(file_ctx)):
    try:
        info = layer_for(c.who, c.raster_layers(), collection_id)
    except LayerHidden:
        info = c.layer(collection_id)  # a 404 for a missing or hidden layer
    etag = etag_for("iso19139", info.id, info.current_version, info.definition_sha,
                    c.who.cache_scope, c.url(""))
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    return Response(iso_record(c, info), media_type=XML, headers=cache_headers(c.who, etag, 60))
